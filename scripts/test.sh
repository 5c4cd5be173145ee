#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and integration tests on SQLite and on a real
# PostgreSQL. Without TEST_DATABASE_URL it starts a throwaway PostgreSQL cluster (initdb +
# pg_ctl, as an unprivileged user) and stops it afterwards. It installs the OpenID Provider
# the company sign-in tests use (Node.js). Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

cluster=""
cleanup() {
  if [ -n "$cluster" ]; then
    scripts/pg-cluster.sh stop "$cluster"
    rm -rf "$cluster"
  fi
}
trap cleanup EXIT

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  cluster=$(mktemp -d /tmp/conflicto-pg.XXXXXX)
  TEST_DATABASE_URL=$(scripts/pg-cluster.sh start "$cluster" "$(free_port)")
  export TEST_DATABASE_URL
  echo "test PostgreSQL cluster: $TEST_DATABASE_URL"
fi
# The company sign-in tests run against a real OpenID Provider (oidc-provider, from npm,
# pinned by tests/oidc/package-lock.json).
if [ ! -d tests/oidc/node_modules/oidc-provider ]; then
  npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
fi
# PostgreSQL tests must run, never skip, when this script runs them.
export CONFLICTO_REQUIRE_POSTGRES=1
cargo test --all-targets --features toy-kind "$@"
