#!/usr/bin/env python3
"""Checks the IAM policy documents in deploy/terraform (every `aws_iam_policy_document`),
offline, for the rules docs/deployment.md promises about the deploy roles:

- no Allow grants an IAM action that escalates (iam:*, policy versions, users, groups,
  access keys, login profiles, trust policies);
- an Allow that creates or changes a role is limited to the environment's task roles
  (role/conflicto-<env>-*) and carries a condition: the permissions boundary, or the one
  managed policy that may be attached;
- PassRole goes only to ECS tasks;
- a role that GitHub's workflows assume trusts only a job of one environment on `main`
  (the token's subject ends `:environment:<name>:ref:refs/heads/main`);
- with `${each.value}` read as dev, no Allow names a prod resource, and the other way round;
  and each environment's policy that manages roles denies the other's secrets, state and
  roles.

It reads HCL with regular expressions, enough for the plain style of these files.
`--self-test` first feeds it policies that break each rule and fails unless it refuses them.
Exit 1 with one line per problem.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1] / "terraform"

ESCALATING = {
    "iam:*", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy", "iam:PutUserPolicy", "iam:PutGroupPolicy", "iam:CreateAccessKey",
    "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:UpdateAssumeRolePolicy",
    "iam:AddUserToGroup", "iam:CreateUser", "iam:DeleteRolePermissionsBoundary", "*",
}
CHANGES_ROLES = {
    "iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary",
}
ENVIRONMENTS = {"dev": "prod", "prod": "dev"}


def body(text, start):
    """The text between the brace opening at `start` and its match."""
    depth, i = 1, start
    while depth and i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start:i - 1]


def strings_of_list(block, key):
    """The quoted strings of `key = [ ... ]`; brackets inside the strings (`[each.value]`)
    do not end the list."""
    match = re.search(key + r'\s*=\s*\[', block)
    if not match:
        return []
    found, i, depth = [], match.end(), 1
    while i < len(block) and depth:
        if block[i] == '"':
            end = block.index('"', i + 1)
            found.append(block[i + 1:end])
            i = end + 1
            continue
        depth += {"[": 1, "]": -1}.get(block[i], 0)
        i += 1
    return found


def documents(text):
    """(name, statements) of each policy document; a statement is a dict."""
    found = []
    for match in re.finditer(r'data\s+"aws_iam_policy_document"\s+"([^"]+)"\s*\{', text):
        doc = body(text, match.end())
        statements = []
        for stmt in re.finditer(r'\bstatement\s*\{', doc):
            block = body(doc, stmt.end())
            listed = lambda key: strings_of_list(block, key)
            effect = re.search(r'effect\s*=\s*"(\w+)"', block)
            statements.append({
                "sid": (re.search(r'sid\s*=\s*"([^"]+)"', block) or [None, "?"])[1],
                "effect": effect.group(1) if effect else "Allow",
                "actions": listed("actions"),
                "resources": listed("resources"),
                "conditions": re.findall(r'variable\s*=\s*"([^"]+)"', block),
                "subjects": [value for cond in re.finditer(r'\bcondition\s*\{', block)
                             for part in [body(block, cond.end())]
                             if "githubusercontent.com:sub" in part
                             for value in strings_of_list(part, "values")],
            })
        found.append((match.group(1), statements))
    return found


def for_environment(value, env):
    return (value.replace("${each.value}", env)
                 .replace("${local.other_environment[each.value]}", ENVIRONMENTS[env]))


def problems_in(text, where):
    problems = []
    for name, statements in documents(text):
        templated = any("${each.value}" in r for s in statements for r in s["resources"])
        for env in ENVIRONMENTS if templated else [None]:
            label = f"{where}: {name}" + (f" [{env}]" if env else "")
            denied = []
            for s in statements:
                resources = [for_environment(r, env) if env else r for r in s["resources"]]
                if s["effect"] == "Deny":
                    denied += resources
                    continue
                iam = [a for a in s["actions"] if a.startswith("iam:") or a == "*"]
                for action in iam:
                    if action in ESCALATING:
                        problems.append(f"{label} {s['sid']}: allows {action}")
                if set(s["actions"]) & CHANGES_ROLES:
                    if not s["conditions"]:
                        problems.append(f"{label} {s['sid']}: changes roles with no condition")
                    for r in resources:
                        if not re.search(r":role/conflicto-(dev|prod)-\*$", r):
                            problems.append(f"{label} {s['sid']}: changes roles beyond one environment's task roles: {r}")
                if "sts:AssumeRoleWithWebIdentity" in s["actions"] and (
                        not s["subjects"] or not all(
                            re.search(r":environment:[^:]+:ref:refs/heads/main$", v) for v in s["subjects"])):
                    problems.append(f"{label} {s['sid']}: trusts workflows beyond one environment's jobs on main: {s['subjects']}")
                if "iam:PassRole" in s["actions"] and "iam:PassedToService" not in s["conditions"]:
                    problems.append(f"{label} {s['sid']}: passes roles to any service")
                if env:
                    other = ENVIRONMENTS[env]
                    for r in resources:
                        if re.search(rf"conflicto[-/]{other}\b|/{other}/", r):
                            problems.append(f"{label} {s['sid']}: the {env} role is allowed a {other} resource: {r}")
            manages_roles = any(a.startswith("iam:") for st in statements for a in st["actions"])
            if env and manages_roles:
                other = ENVIRONMENTS[env]
                needed = {
                    "secrets": rf"secret:conflicto-{other}/",
                    "state": rf"/conflicto/{other}/",
                    "roles": rf":role/conflicto-{other}-",
                }
                for what, pattern in needed.items():
                    if not any(re.search(pattern, r) for r in denied):
                        problems.append(f"{label}: does not deny the {other} environment's {what}")
    return problems


def self_test():
    bad = {
        "escalation": 'data "aws_iam_policy_document" "x" {\n statement {\n actions = ["iam:CreatePolicyVersion"]\n resources = ["*"]\n }\n}\n',
        "unconditioned role change": 'data "aws_iam_policy_document" "x" {\n statement {\n actions = ["iam:PutRolePolicy"]\n resources = ["arn:aws:iam::1:role/conflicto-prod-*"]\n }\n}\n',
        "every role": 'data "aws_iam_policy_document" "x" {\n statement {\n actions = ["iam:CreateRole"]\n resources = ["arn:aws:iam::1:role/conflicto-*"]\n condition {\n variable = "iam:PermissionsBoundary"\n }\n }\n}\n',
        "pass anywhere": 'data "aws_iam_policy_document" "x" {\n statement {\n actions = ["iam:PassRole"]\n resources = ["arn:aws:iam::1:role/conflicto-prod-*"]\n }\n}\n',
        "dev names prod": 'data "aws_iam_policy_document" "x" {\n statement {\n actions = ["s3:GetObject"]\n resources = ["arn:aws:s3:::b/conflicto/prod/*", "arn:aws:s3:::b/conflicto/${each.value}/*"]\n }\n}\n',
        "any branch": 'data "aws_iam_policy_document" "x" {\n statement {\n actions = ["sts:AssumeRoleWithWebIdentity"]\n condition {\n variable = "token.actions.githubusercontent.com:sub"\n values = ["repo:o/r:environment:dev"]\n }\n }\n}\n',
        "no deny": 'data "aws_iam_policy_document" "x" {\n statement {\n actions = ["iam:GetRole"]\n resources = ["arn:aws:iam::1:role/conflicto-${each.value}-*"]\n }\n}\n',
    }
    failed = [name for name, text in bad.items() if not problems_in(text, "self-test")]
    for name in failed:
        print(f"self-test: a policy with {name} was not refused")
    return not failed


def main():
    if "--self-test" in sys.argv and not self_test():
        sys.exit(1)
    problems = []
    files = sorted(ROOT.rglob("*.tf"))
    for path in files:
        problems += problems_in(path.read_text(), str(path.relative_to(ROOT)))
    for problem in problems:
        print(problem)
    count = sum(len(documents(p.read_text())) for p in files)
    print(f"IAM policies: {count} documents, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
