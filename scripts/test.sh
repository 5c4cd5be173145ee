#!/usr/bin/env bash
# Runs the whole test suite: unit tests, and integration tests on SQLite and on a real
# PostgreSQL. Without TEST_DATABASE_URL it starts a throwaway PostgreSQL cluster (initdb +
# pg_ctl, as an unprivileged user) and stops it afterwards. Extra arguments go to cargo test.
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
# PostgreSQL tests must run, never skip, when this script runs them.
export CONFLICTO_REQUIRE_POSTGRES=1
cargo test --all-targets --features toy-kind "$@"
