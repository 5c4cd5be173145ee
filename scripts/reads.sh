#!/usr/bin/env bash
# Reads at the cost of an empty request: one wrk run each (64 connections, 2 threads, 15 s,
# loopback, SQLite) of
#   GET /api/v1/health/                       (the reference: it pings the database)
#   GET /api/v1/health/live                   (truly empty: no database)
#   GET /api/v1/activities/{id}/results       (a poll with 1,000 votes, as a phone reads it)
#   GET /api/v1/sessions/{id}/status          (as a phone reads it)
#   GET /api/v1/sessions/{id}/snapshot        (what a new stream starts with; a phone's)
#   the same three with If-None-Match         (a client that holds the current copy: 304)
# against a fresh release server. wrk sends every request from 127.0.0.1, far beyond the
# per-address flood guard (20,000 a second), so the guard is off for this run
# (RATE_LIMIT_ADDRESS_PER_SECOND=0); every other setting is as shipped.
#
#   scripts/reads.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
seconds=${1:-15}
command -v wrk >/dev/null || { echo "reads.sh needs wrk (apt-get install wrk)" >&2; exit 1; }
bin=target/release/conflicto
[ -x "$bin" ] || cargo build --release

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL="sqlite://$work/conflicto.db" LOG_LEVEL=warn
export SIGNING_KEY=${SIGNING_KEY:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
"$bin" migrate up >/dev/null
echo "reads-password" | "$bin" organizer create --email reads@example.org --password-stdin >/dev/null
port=$(free_port)
base="http://127.0.0.1:$port"
RATE_LIMIT_ADDRESS_PER_SECOND=0 "$bin" serve --listen-addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fsS "$base/api/v1/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
token=$(organizer_token "$base" reads@example.org reads-password)

# A session with a live poll and 1,000 votes; the last voter's token reads.
read -r session activity phone < <(python3 - "$base" "$token" <<'PY'
import json, sys, urllib.request
base, token = sys.argv[1:3]
def call(method, path, body=None, bearer=token):
    request = urllib.request.Request(base + "/api/v1" + path, json.dumps(body).encode() if body is not None else None,
                                     {"content-type": "application/json", "authorization": f"Bearer {bearer}"}, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None
session = call("POST", "/sessions/", {"title": "reads", "max_participants": 2000})["id"]
call("PATCH", f"/sessions/{session}", {"status": "active"})
poll = call("POST", f"/sessions/{session}/activities", {"kind": "poll", "title": "Lunch", "results_visibility": "live",
            "config": {"question": "Lunch?", "options": ["Pizza", "Sushi", "Salad", "Soup"]}})["id"]
call("POST", f"/activities/{poll}/transition", {"to": "published"})
call("POST", f"/activities/{poll}/transition", {"to": "active"})
for n in range(1000):
    phone = call("POST", f"/sessions/{session}/join", {"nickname": f"reader{n}"}, bearer="")["token"]
    call("POST", f"/activities/{poll}/responses", {"answer": {"options": [n % 4]}}, bearer=phone)
print(session, poll, phone)
PY
)

etag() { curl -fsS -D - -o /dev/null -H "authorization: Bearer $phone" "$base$1" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag" {print $2}'; }
run() {
  local name=$1 path=$2; shift 2
  local out
  out=$(wrk -t2 -c64 -d"${seconds}s" "$@" "$base$path")
  local rps non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '%-34s %10s req/s  %s\n' "$name" "$rps" "${non2xx:+($non2xx non-2xx, 304s included)}"
}
results_path="/api/v1/activities/$activity/results"
status_path="/api/v1/sessions/$session/status"
snapshot_path="/api/v1/sessions/$session/snapshot"
echo "wrk -t2 -c64 -d${seconds}s, 127.0.0.1, SQLite, RATE_LIMIT_ADDRESS_PER_SECOND=0, $(nproc) CPUs, $(date -u +%F)"
run "health" /api/v1/health/
run "health/live" /api/v1/health/live
curl -fsS -o /dev/null -w 'a results read: %{http_code}, %{size_download} bytes\n' -H "authorization: Bearer $phone" "$base$results_path"
run "results (poll, 1,000 votes)" "$results_path" -H "authorization: Bearer $phone"
run "session status" "$status_path" -H "authorization: Bearer $phone"
run "snapshot" "$snapshot_path" -H "authorization: Bearer $phone"
run "results, If-None-Match (304)" "$results_path" -H "authorization: Bearer $phone" -H "if-none-match: $(etag "$results_path")"
run "session status, If-None-Match (304)" "$status_path" -H "authorization: Bearer $phone" -H "if-none-match: $(etag "$status_path")"
run "snapshot, If-None-Match (304)" "$snapshot_path" -H "authorization: Bearer $phone" -H "if-none-match: $(etag "$snapshot_path")"
