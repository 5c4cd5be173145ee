#!/usr/bin/env bash
# Runs `conflicto loadtest` against fresh local servers of the release build, the way
# docs/performance.md records its figures, and stops every process it started.
#
#   scripts/loadtest.sh [--postgres URL] [--instances N] -- LOADTEST_ARGS...
#
# Without --postgres the server uses a new SQLite file in a temporary folder. With it, the
# database named by URL (an admin URL; a new database is created in it) is migrated first.
# --instances N starts N servers on the same database; participants are spread over all of
# them. The servers run as shipped, rate limits included: every simulated phone comes from
# 127.0.0.1, as a whole room behind one NAT does. The servers' logs and their metrics at the
# end are left in target/loadtest-logs/.
# SERVER_BIN=PATH runs that build of the server (migrations, organizer, servers) with this
# checkout's load generator, for comparing two builds run after run.
# Example: scripts/loadtest.sh -- --participants 10000 --vote-within 10
# Homework: scripts/loadtest.sh -- --self-paced --participants 5000 --questions 10
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

postgres=""
instances=1
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) postgres=$2; shift 2 ;;
    --instances) instances=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "loadtest.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

bin=target/release/conflicto
[ -x "$bin" ] || cargo build --release
server_bin=${SERVER_BIN:-$bin}
work=$(mktemp -d /tmp/conflicto-loadtest.XXXXXX)
pids=()
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$postgres" ] && [ -n "${database:-}" ]; then
    psql -q "$postgres" -c "drop database if exists $database" >/dev/null 2>&1 || true
  fi
  # The servers' logs outlive the run, for reading after a failure.
  mkdir -p target/loadtest-logs
  cp "$work"/server-*.log "$work"/server-*.metrics target/loadtest-logs/ 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "$postgres" ]; then
  database="loadtest_$$"
  psql -q "$postgres" -c "create database $database" >/dev/null
  export DATABASE_URL="${postgres%/*}/$database"
  "$server_bin" migrate up >/dev/null
else
  export DATABASE_URL="sqlite://$work/conflicto.db"
  "$server_bin" migrate up >/dev/null
fi
export LOG_FORMAT=json
export SIGNING_KEY=${SIGNING_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
echo "loadtest-password" | "$server_bin" organizer create --email loadtest@example.org --password-stdin >/dev/null

urls=()
for n in $(seq 1 "$instances"); do
  port=$(free_port)
  "$server_bin" serve --listen-addr "127.0.0.1:$port" >"$work/server-$n.log" 2>&1 &
  pids+=($!)
  urls+=("http://127.0.0.1:$port")
done
for url in "${urls[@]}"; do
  for _ in $(seq 1 100); do
    curl -fsS "$url/api/v1/health/ready" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "$url/api/v1/health/ready" >/dev/null
done
token=$(organizer_token "${urls[0]}" loadtest@example.org loadtest-password)

extra=()
for url in "${urls[@]:1}"; do extra+=(--also-url "$url"); done
server_pids=$(IFS=,; echo "${pids[*]}")
status=0
CONFLICTO_TOKEN=$token "$bin" loadtest --url "${urls[0]}" "${extra[@]}" \
  --server-pid "$server_pids" "$@" || status=$?
# Each server's metrics at the end (batch sizes, commit times), kept beside its log.
for i in "${!urls[@]}"; do
  curl -fsS "${urls[$i]}/metrics" >"$work/server-$((i + 1)).metrics" 2>/dev/null || true
done
echo "server logs: $(grep -ch '"level":"ERROR"' "$work"/server-*.log | tr '\n' ' ')(errors per instance)"
exit $status
