#!/usr/bin/env python3
"""Checks what `terraform validate` would, for the parts that cross files, without providers
(which cannot be downloaded here). For every root (deploy/terraform/environments/*,
deploy/terraform/bootstrap) and module:

- every argument given in a `module` block is a variable the module declares, and every
  variable without a default is given;
- every `module.NAME.OUTPUT` is an output that module declares;
- every `var.NAME` is declared in the same folder, every `local.NAME` is defined there;
- every variable without a default in an environment is set in its terraform.tfvars, unless
  the pipeline sets it (image_repository, image_tag, alarm_email).

It reads HCL with regular expressions, which is enough for the plain style of these files.
Exit 1 with one line per problem.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1] / "terraform"
SET_BY_PIPELINE = {"image_repository", "image_tag", "alarm_email"}


def blocks(text, kind):
    """(label, body) of each top-level `kind "label" { ... }` block."""
    found = []
    for match in re.finditer(r'^%s\s+"([^"]+)"\s*\{' % kind, text, re.M):
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        found.append((match.group(1), text[match.end():i - 1]))
    return found


def folder(path):
    text = "\n".join(p.read_text() for p in sorted(path.glob("*.tf")))
    return {
        "text": text,
        "variables": {name: "default" in body for name, body in blocks(text, "variable")},
        "outputs": {name for name, _ in blocks(text, "output")},
        "locals": set(re.findall(r"^\s{2}(\w+)\s*=", "\n".join(
            body for body in re.findall(r"^locals\s*\{(.*?)^\}", text, re.M | re.S)), re.M)),
        "modules": blocks(text, "module"),
    }


def main():
    problems = []
    modules = {p.name: folder(p) for p in sorted((ROOT / "modules").iterdir()) if p.is_dir()}
    roots = [p for p in sorted((ROOT / "environments").iterdir()) if p.is_dir()]
    roots.append(ROOT / "bootstrap")
    for path in [ROOT / "modules" / m for m in modules] + roots:
        here = folder(path)
        where = path.relative_to(ROOT.parent.parent)
        for name in set(re.findall(r"\bvar\.(\w+)", here["text"])) - set(here["variables"]):
            problems.append(f"{where}: var.{name} is not declared")
        for name in set(re.findall(r"\blocal\.(\w+)", here["text"])) - here["locals"]:
            problems.append(f"{where}: local.{name} is not defined")
        calls = {}
        for label, body in here["modules"]:
            source = re.search(r'source\s*=\s*"([^"]+)"', body).group(1)
            module = modules.get(pathlib.Path(source).name)
            if module is None:
                problems.append(f"{where}: module {label} has unknown source {source}")
                continue
            calls[label] = module
            given = set(re.findall(r"^\s*(\w+)\s*=", body, re.M)) - {"source", "depends_on", "providers", "count", "for_each"}
            for name in sorted(given - set(module["variables"])):
                problems.append(f"{where}: module {label} gets {name}, which it does not declare")
            for name, has_default in sorted(module["variables"].items()):
                if not has_default and name not in given:
                    problems.append(f"{where}: module {label} needs {name}")
        for label, output in set(re.findall(r"\bmodule\.(\w+)\.(\w+)", here["text"])):
            if label not in calls:
                problems.append(f"{where}: module.{label} is not called here")
            elif output not in calls[label]["outputs"]:
                problems.append(f"{where}: module {label} has no output {output}")
        tfvars = path / "terraform.tfvars"
        if path.parent.name == "environments":
            given = set(re.findall(r"^(\w+)\s*=", tfvars.read_text(), re.M)) if tfvars.exists() else set()
            for name in sorted(given - set(here["variables"])):
                problems.append(f"{where}/terraform.tfvars sets {name}, which is not declared")
            for name, has_default in sorted(here["variables"].items()):
                if not has_default and name not in given and name not in SET_BY_PIPELINE:
                    problems.append(f"{where}/terraform.tfvars does not set {name}")
    envs = [folder(p) for p in roots if p.parent.name == "environments"]
    if len({frozenset(e["variables"]) for e in envs}) > 1 or len({frozenset(e["outputs"]) for e in envs}) > 1:
        problems.append("the environments declare different variables or outputs")
    for problem in problems:
        print(problem)
    print(f"terraform interfaces: {len(modules)} modules, {len(roots)} roots, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
