#!/usr/bin/env bash
# Rehearses a production deploy on this machine: PostgreSQL, two instances of release N
# behind nginx, and participants voting the whole time. Then the pipeline's promises:
#   1. migrate first (backup, then N+1's migrations, with N still serving on the new schema);
#   2. replace each instance by N+1, one at a time: start the new one, wait until ready,
#      take the old one out of nginx, SIGTERM it and let it drain;
#   3. a database failover: PostgreSQL stopped for 60 s under voting, with every instance's
#      /api/v1/health/live checked each second as the ALB would (decision 0020);
#   4. roll back as ecs.sh rollback does: the kept build of N, no migration, the database
#      decision made first by N's own `migrate status`. First a refusal: with N+1's last
#      migration declared a contract step, N's check must refuse, N must not start, and N+1
#      must go on serving. Then the rollback to N, which keeps running on N+1's schema
#      (the migrations table must be unchanged), and the pipelines' integration suite
#      (scripts/integration.sh) against it.
# It fails unless: no participant request failed, every vote is counted exactly once, live
# streams reconnected, every old instance drained and exited 0, no liveness check failed
# and no instance was replaced during the outage, nginx answered no 5xx (but 503 while the
# database was away), and
# the checks of every migration N+1 adds pass: what each added is used by N+1 and left
# alone by N (after_upgrade_NNNN and after_rollback_NNNN below).
#
# Releases: N+1 is HEAD; N is the newest earlier commit whose migrations HEAD has unchanged,
# and fewer of them (override with REHEARSAL_FROM=REV). Both are built with
# `cargo build --release --locked` in the usual target folder, so dependencies build once; the
# conflicto crate itself is
# cleaned before each build, since cargo would otherwise take one checkout's build for the
# other's (its fingerprint does not depend on where the sources are). Needs git history, nginx,
# initdb/pg_ctl, psql and pg_dump, and python3. Every process it starts is stopped by PID.
#   scripts/rehearse-deploy.sh            # logs stay in target/rehearsal/
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
root=$(pwd)
logs="$root/target/rehearsal"
rm -rf "$logs"
mkdir -p "$logs"
work=$(mktemp -d /tmp/conflicto-rehearsal.XXXXXX)
participants=${REHEARSAL_PARTICIPANTS:-300}

pids=()
nginx_pid=""
cluster=""
worktree=""
# shellcheck disable=SC2317 # run by the EXIT trap
finished=0
cleanup() {
  local status=$?
  [ "$finished" = 1 ] || status=1
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$nginx_pid" ]; then kill -QUIT "$nginx_pid" 2>/dev/null || true; fi
  for pid in "${pids[@]}" $nginx_pid; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "$cluster" ]; then scripts/pg-cluster.sh stop "$cluster" || true; rm -rf "$cluster"; fi
  if [ -n "$worktree" ]; then git worktree remove --force "$worktree" 2>/dev/null || true; fi
  cp "$work"/*.log "$logs/" 2>/dev/null || true
  cp "$work"/nginx/*.log "$logs/" 2>/dev/null || true
  rm -rf "$work"
  if [ "$status" = 0 ]; then echo "rehearsal PASSED (logs in target/rehearsal/)"; else echo "rehearsal FAILED (logs in target/rehearsal/)"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

say() { echo "[$(date -u +%H:%M:%S)] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- The two releases -----------------------------------------------------------------------
for tool in git nginx psql pg_dump python3; do
  command -v "$tool" >/dev/null || fail "$tool is not on PATH"
done
new_rev=$(git rev-parse HEAD)
if [ -n "${REHEARSAL_FROM:-}" ]; then
  old_rev=$(git rev-parse "$REHEARSAL_FROM")
else
  # The newest earlier commit whose migrations are all in HEAD unchanged, and fewer: the
  # release a deploy of HEAD replaces. A migration changed before it was ever released makes
  # the commits that had its first form no release to rehearse from.
  old_rev=""
  for touched in $(git log --format=%H -- migrations/postgres); do
    candidate=$(git rev-parse "$touched^") || fail "no commit before $touched (a shallow clone?)"
    if [ -z "$(git diff --name-only --diff-filter=MDR "$candidate" HEAD -- migrations)" ] \
      && [ -n "$(git diff --name-only --diff-filter=A "$candidate" HEAD -- migrations/postgres)" ]; then
      old_rev=$candidate
      break
    fi
  done
  [ -n "$old_rev" ] || fail "no earlier release whose migrations HEAD keeps unchanged"
fi
say "release N   = $(git log -1 --format='%h %s' "$old_rev")"
say "release N+1 = $(git log -1 --format='%h %s' "$new_rev") (HEAD, with uncommitted changes if any)"
worktree="$work/release-n"
git worktree add --detach --quiet "$worktree" "$old_rev"
say "building release N"
cargo clean --release --quiet -p conflicto
CARGO_TARGET_DIR="$root/target" cargo build --release --locked --quiet --manifest-path "$worktree/Cargo.toml"
cp target/release/conflicto "$work/conflicto-n"
say "building release N+1"
cargo clean --release --quiet -p conflicto
cargo build --release --locked --quiet
cp target/release/conflicto "$work/conflicto-n1"
cmp -s "$work/conflicto-n" "$work/conflicto-n1" && fail "releases N and N+1 built to the same binary"
old="$work/conflicto-n"
new="$work/conflicto-n1"

# --- PostgreSQL and the schema of release N --------------------------------------------------
# Its own folder: PostgreSQL runs as another user, who cannot enter $work (mode 700).
cluster=$(mktemp -d /tmp/conflicto-rehearsal-pg.XXXXXX)
admin=$(scripts/pg-cluster.sh start "$cluster" "$(free_port)")
psql "$admin" -q -c "create database conflicto_rehearsal"
export DATABASE_URL="${admin%/postgres}/conflicto_rehearsal"
export ENVIRONMENT=prod BACKUP_DIR="$work/backups" LOG_FORMAT=json LOG_LEVEL=info
export SHUTDOWN_DRAIN_SECONDS=2 SHUTDOWN_TIMEOUT_SECONDS=15
# Every simulated phone comes from 127.0.0.1, like a room behind one NAT. Releases from
# before decision 0012 limited joins and answers per address; these names switch those
# limits off for release N and mean nothing to later releases, which run as shipped.
export TRUST_FORWARDED_FOR=true RATE_LIMIT_JOIN_PER_MINUTE=0 RATE_LIMIT_SUBMIT_PER_SECOND=0
"$old" migrate up >"$work/migrate-n.log" 2>&1 || { cat "$work/migrate-n.log"; fail "release N could not migrate an empty database"; }
echo "a long rehearsal password" | "$old" organizer create --email rehearsal@example.org --password-stdin >/dev/null

# --- nginx in front of the instances ---------------------------------------------------------
lb_port=$(free_port)
export PUBLIC_BASE_URL="http://127.0.0.1:$lb_port"
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/nginx-error.log warn;
events { worker_connections 8192; }
http {
  log_format brief '\$status \$request_method \$uri \$upstream_addr \$request_time \$msec';
  access_log $work/nginx/nginx-access.log brief;
  # No client keep-alive: a configuration reload closes idle client connections, and a
  # phone may be sending on one at that moment. The ALB this stands in for never reloads,
  # so the rehearsal opens a connection per request instead (streams are long-lived anyway).
  keepalive_timeout 0;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  include $work/nginx/upstream.conf;
  server {
    listen 127.0.0.1:$lb_port;
    location / {
      proxy_pass http://conflicto;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      # Live streams: pass events through at once and keep the connection open.
      proxy_buffering off;
      proxy_read_timeout 1h;
      # A request that never reached an instance may go to the other one.
      proxy_next_upstream error timeout;
    }
  }
}
EOF
route_to() {
  { echo "upstream conflicto {"; for port in "$@"; do echo "  server 127.0.0.1:$port;"; done; echo "  keepalive 32;"; echo "}"; } \
    >"$work/nginx/upstream.conf"
}

declare -A instance_pid
start_instance() { # BINARY NAME PORT
  LISTEN_ADDR="127.0.0.1:$3" APP_VERSION="$2" "$1" serve >"$work/$2.log" 2>&1 &
  instance_pid[$2]=$!
  pids+=("$!")
  for _ in $(seq 150); do
    if "$new" health-check --url "http://127.0.0.1:$3/api/v1/health/ready" --timeout-seconds 1 >/dev/null; then
      say "$2 ready on port $3 (pid ${instance_pid[$2]})"
      return 0
    fi
    kill -0 "${instance_pid[$2]}" 2>/dev/null || { cat "$work/$2.log"; fail "$2 exited at start"; }
    sleep 0.2
  done
  cat "$work/$2.log"; fail "$2 was not ready within 30 s"
}
drain_instance() { # NAME: SIGTERM, wait for its exit, which must be 0
  local pid=${instance_pid[$1]} code=0
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && fail "$1 did not exit within 20 s of SIGTERM"
  wait "$pid" || code=$?
  [ "$code" = 0 ] || fail "$1 exited with $code"
  say "$1 drained and exited 0"
}
replace() { # OLD_NAME NEW_BINARY NEW_NAME PORT_OF_THE_OTHER_INSTANCE
  local port; port=$(free_port)
  start_instance "$2" "$3" "$port"
  ports[$3]=$port
  route_to "$4" "$port"
  kill -HUP "$nginx_pid"
  sleep 1 # nginx's new workers take over; the old ones finish what they carry.
  drain_instance "$1"
}

declare -A ports
ports[n-a]=$(free_port); ports[n-b]=$(free_port)
start_instance "$old" n-a "${ports[n-a]}"
start_instance "$old" n-b "${ports[n-b]}"
route_to "${ports[n-a]}" "${ports[n-b]}"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do "$new" health-check --url "$PUBLIC_BASE_URL" --timeout-seconds 1 >/dev/null && break; sleep 0.2; done
say "nginx on port $lb_port (pid $nginx_pid)"

CONFLICTO_TOKEN=$(organizer_token "$PUBLIC_BASE_URL" rehearsal@example.org "a long rehearsal password")
export CONFLICTO_TOKEN

# --- Participants voting through the whole deploy --------------------------------------------
"$new" loadtest --url "$PUBLIC_BASE_URL" --participants "$participants" --join-rate 200 \
  --vote-within 3 --poll-only --ingest-seconds 200 --ingest-rate 150 --timeout-seconds 500 \
  >"$work/participants.log" 2>&1 &
load_pid=$!
pids+=("$load_pid")
for _ in $(seq 600); do
  grep -q "^ingest opened" "$work/participants.log" && break
  kill -0 "$load_pid" 2>/dev/null || { cat "$work/participants.log"; fail "the participants stopped before voting"; }
  sleep 0.2
done
grep -q "^ingest opened" "$work/participants.log" || fail "the participants never started voting"
say "$participants participants joined and are voting"
sleep 3

# A short event of its own, kept, so its responses show which release wrote them.
event_on() { # NAME: runs it, prints its session id
  "$new" loadtest --url "$PUBLIC_BASE_URL" --participants 20 --vote-within 1 --poll-only --keep \
    --timeout-seconds 120 >"$work/event-$1.log" 2>&1 || { cat "$work/event-$1.log"; fail "the event on $1 failed"; }
  sed -n 's/.*, session \([0-9a-f-]*\)$/\1/p' "$work/event-$1.log" | head -1
}
sql() { psql "$DATABASE_URL" -At -F ' ' -c "$1"; }
api() { # METHOD PATH [JSON]: the response's JSON through nginx, as the rehearsal's organizer
  python3 - "$PUBLIC_BASE_URL" "$1" "$2" "${3:-}" <<'PY'
import json, os, sys, urllib.request
base, method, path, body = sys.argv[1:5]
request = urllib.request.Request(base.rstrip("/") + path, body.encode() if body else None,
    {"content-type": "application/json", "authorization": "Bearer " + os.environ["CONFLICTO_TOKEN"]}, method=method)
print(json.dumps(json.load(urllib.request.urlopen(request, timeout=10))))
PY
}
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# --- What each new migration changed, told apart release by release ---------------------------
# Each expand migration brings two checks: after_upgrade_NNNN runs on the event N+1 held,
# after_rollback_NNNN on the one N held after the rollback. A migration without them fails
# the rehearsal, so every schema change says how the two releases differ on it.
# 0008 added responses.answer_ms: N+1 writes it for every answer, N for none.
after_upgrade_0008() {
  local known unknown
  read -r known unknown <<<"$(sql "select count(answer_ms), count(*) - count(answer_ms) from responses where session_id = '$1'")"
  if [ "$known" = 0 ] || [ "$unknown" != 0 ]; then fail "N+1 did not write answer_ms ($known known, $unknown unknown)"; fi
  say "N+1 wrote answer_ms for all $known answers of its event"
}
after_rollback_0008() {
  local known unknown
  read -r known unknown <<<"$(sql "select count(answer_ms), count(*) - count(answer_ms) from responses where session_id = '$1'")"
  if [ "$known" != 0 ] || [ "$unknown" = 0 ]; then fail "N wrote answer_ms? ($known known, $unknown unknown)"; fi
  say "N stored its $unknown answers without the new column"
}
# 0009 added templates, sessions.template_* and activities.template_key: N+1 saves its
# event as a template and makes a session from it; N, rolled back, still serves that
# session and writes none of the new columns.
after_upgrade_0009() {
  local template keyed
  template=$(api POST /api/v1/templates/ "{\"name\": \"Rehearsal $1\", \"session_id\": \"$1\"}" | field id)
  made_from_template=$(api POST "/api/v1/templates/$template/sessions" '{}' | field id)
  read -r keyed <<<"$(sql "select count(template_key) from activities where session_id = '$made_from_template'")"
  [ "$(sql "select template_version from sessions where id = '$made_from_template'")" = 1 ] \
    || fail "N+1's session made from a template does not record version 1"
  [ "$keyed" -gt 0 ] || fail "N+1's session made from a template has no activity keys"
  say "N+1 saved its event as a template and made a session from version 1 ($keyed activities with keys)"
}
after_rollback_0009() {
  local activities
  activities=$(api GET "/api/v1/sessions/$made_from_template" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["activities"]))')
  [ "$activities" -gt 0 ] || fail "N does not serve the session N+1 made from a template"
  [ "$(sql "select count(template_id) from sessions where id = '$1'")" = 0 ] || fail "N wrote template columns"
  [ "$(sql "select count(template_key) from activities where session_id = '$1'")" = 0 ] || fail "N wrote activity keys"
  say "N serves the session made from a template ($activities activities) and wrote no template columns"
}
# 0010 keyed response_requests by (client_request_id, participant_id), tied to activities
# (docs/decisions/0011). N+1's event stores one request row per answer under the new key,
# with the generator's time-ordered ids; N, rolled back, still stores its rows in the
# rekeyed table (its `on conflict` names the same columns), and the key stays.
requests_of() { # SESSION: request rows and answers of its activities
  sql "select (select count(*) from response_requests r join activities a on a.id = r.activity_id \
       where a.session_id = '$1'), (select count(*) from responses where session_id = '$1'), \
       (select count(*) from response_requests r join activities a on a.id = r.activity_id \
       where a.session_id = '$1' and substr(r.client_request_id, 15, 1) = '7')"
}
request_key() {
  sql "select string_agg(a.attname, ',' order by k.ord) from pg_index i \
       cross join unnest(i.indkey) with ordinality k(attnum, ord) \
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum \
       where i.indrelid = 'response_requests'::regclass and i.indisprimary"
}
requests_stored() { # RELEASE SESSION: fails unless the session has one request row per
  # answer and the key is the new one; leaves the counts in $answers and $ordered
  local requests
  read -r requests answers ordered <<<"$(requests_of "$2")"
  if [ "$answers" = 0 ] || [ "$requests" != "$answers" ]; then
    fail "$1 stored $requests request rows for $answers answers"
  fi
  [ "$(request_key)" = "client_request_id,participant_id" ] || fail "request key is $(request_key) under $1"
}
after_upgrade_0010() {
  requests_stored N+1 "$1"
  [ "$ordered" = "$answers" ] || fail "only $ordered of N+1's $answers request ids are UUIDv7"
  say "N+1 stored a request row for each of its $answers answers, keyed by time-ordered id"
}
after_rollback_0010() {
  requests_stored N "$1"
  say "N stored a request row for each of its $answers answers in the rekeyed table"
}
# 0011 added disabled organizers, token parents and last use, one-time account links, and
# participants.browser. N+1 records where the rehearsal's token was last used; N, rolled
# back, serves on the new columns and leaves them alone.
after_upgrade_0011() {
  [ "$(sql "select count(*) from api_tokens where last_used_from is not null")" -gt 0 ] \
    || fail "N+1 recorded no token's last use"
  say "N+1 recorded where the organizer's token was last used"
}
after_rollback_0011() {
  [ "$(sql "select count(browser) from participants where session_id = '$1'")" = 0 ] \
    || fail "N wrote participants.browser"
  say "N serves on 0011's columns and wrote none of them"
}
# 0012 added oidc_logins, which only a configured company sign-in writes.
after_upgrade_0012() {
  [ "$(sql "select count(*) from oidc_logins")" = 0 ] || fail "sign-ins in progress without OIDC configured"
  say "N+1 runs with the company sign-in table, unused without OIDC_ISSUER"
}
after_rollback_0012() {
  sql "select count(*) from oidc_logins" >/dev/null || fail "oidc_logins is gone after the rollback"
  say "N serves with 0012's table present"
}
# 0013 built participants_banned_browser_idx concurrently while N served: it must be valid,
# and a ban keeps the banned browser out under N+1; N, rolled back, leaves the index valid.
banned_browser_stays_out() { # RELEASE
  local session headers cookie participant status
  session=$(api POST /api/v1/sessions/ '{"title": "Rehearsal bans"}' | field id)
  api PATCH "/api/v1/sessions/$session" '{"status": "active"}' >/dev/null
  headers="$work/ban-$1.headers"
  participant=$(curl -fsS -D "$headers" -H 'content-type: application/json' \
    -d '{"nickname": "Troll"}' "$PUBLIC_BASE_URL/api/v1/sessions/$session/join" | field participant_id)
  cookie=$(tr -d '\r' <"$headers" | sed -n 's/^[Ss]et-[Cc]ookie: conflicto_browser=\([^;]*\).*/\1/p' | head -1)
  [ -n "$cookie" ] || fail "$1 set no browser cookie at join"
  curl -fsS -X DELETE -H "authorization: Bearer $CONFLICTO_TOKEN" \
    "$PUBLIC_BASE_URL/api/v1/sessions/$session/participants/$participant?ban=true" >/dev/null
  status=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
    -H "cookie: conflicto_browser=$cookie" -d '{"nickname": "Someone new"}' \
    "$PUBLIC_BASE_URL/api/v1/sessions/$session/join")
  [ "$status" = 403 ] || fail "$1 let a banned browser join again (HTTP $status)"
}
banned_browser_index_valid() {
  [ "$(sql "select indisvalid from pg_index where indexrelid = 'participants_banned_browser_idx'::regclass")" = t ] \
    || fail "participants_banned_browser_idx is missing or invalid"
}
after_upgrade_0013() {
  banned_browser_index_valid
  banned_browser_stays_out N+1
  say "N+1: the index built concurrently is valid, and a banned browser stayed out under a new nickname"
}
after_rollback_0013() {
  banned_browser_index_valid
  say "N: the index is still valid"
}
# 0014 added images, which only N+1 serves: it takes an upload and serves it back, cached;
# N, rolled back, runs with the table present and leaves it alone.
after_upgrade_0014() {
  local png url
  png="$work/rehearsal.png"
  python3 - "$png" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
raw = b"".join(b"\x00" + b"".join(bytes([x * 16, y * 16, 128]) for x in range(16)) for y in range(16))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)) \
    + chunk(b"tEXt", b"Comment\x00rehearsal secret") + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
  url=$(curl -fsS -H "authorization: Bearer $CONFLICTO_TOKEN" -H 'content-type: image/png' \
    --data-binary "@$png" "$PUBLIC_BASE_URL/api/v1/images" | field url)
  curl -fsS -D "$work/image.headers" -o "$work/image.served" "$PUBLIC_BASE_URL$url"
  grep -qi '^cache-control: public, max-age=31536000, immutable' "$work/image.headers" || fail "N+1 served the image without its caching headers"
  ! grep -q 'secret' "$work/image.served" || fail "N+1 kept the image's metadata"
  image_rows=$(sql "select count(*) from images")
  say "N+1 took an image, served it back cached and without its metadata ($image_rows in the table)"
}
after_rollback_0014() {
  [ "$(sql "select count(*) from images")" = "$image_rows" ] || fail "the images changed under N"
  say "N serves with 0014's table present and left its $image_rows image(s) alone"
}
after_upgrade_0015() {
  local session
  session=$(api POST /api/v1/sessions/ '{"title":"Rehearsal homework","pace":"self_paced","hours":{"opens_at":null,"closes_at":"2099-01-01T00:00:00Z"}}' | field id)
  [ "$(sql "select pace from sessions where id = '$session'")" = "self_paced" ] || fail "N+1 did not store the session's pace"
  paced_session=$session
  say "N+1 stored a self-paced session with a closing time"
}
after_rollback_0015() {
  [ "$(sql "select pace from sessions where id = '$paced_session'")" = "self_paced" ] || fail "the pace changed under N"
  api GET "/api/v1/sessions/$paced_session" >/dev/null || fail "N cannot read a session N+1 made self-paced"
  say "N serves with 0015's columns and tables present, and reads the self-paced session as a live one"
}
after_upgrade_0016() {
  local session
  session=$(api POST /api/v1/sessions/ '{"title":"Rehearsal quiz night","teams":{"names":["Red","Blue"],"assign":"auto"}}' | field id)
  api PATCH "/api/v1/sessions/$session" '{"status":"active"}' >/dev/null
  team_session=$session
  curl -fsS -H 'content-type: application/json' -d '{"nickname":"Teammate"}' \
    "$PUBLIC_BASE_URL/api/v1/sessions/$session/join" >/dev/null || fail "N+1 refused a join to a session with teams"
  [ "$(sql "select team from participants where session_id = '$session'")" = "0" ] || fail "N+1 did not deal the joiner a team"
  say "N+1 stored a session's teams and dealt a joiner one"
}
after_rollback_0016() {
  api GET "/api/v1/sessions/$team_session" >/dev/null || fail "N cannot read a session N+1 gave teams"
  curl -fsS -H 'content-type: application/json' -d '{"nickname":"Latecomer"}' \
    "$PUBLIC_BASE_URL/api/v1/sessions/$team_session/join" >/dev/null || fail "N refused a join to a session N+1 gave teams"
  say "N serves with 0016's columns present: a session with teams is read and joined as one without"
}
# Every migration N+1 has and N lacks brings its checks.
n_newest=$(git ls-tree --name-only "$old_rev" migrations/postgres/ | sed -n 's|.*/\([0-9]\{4\}\)_.*\.up\.sql$|\1|p' | sort | tail -1)
versions=$(find migrations/postgres -name '*.up.sql' -printf '%f\n' | cut -c1-4 | sort -u | awk -v n="$n_newest" '$1 > n')
for version in $versions; do
  if ! declare -F "after_upgrade_$version" >/dev/null || ! declare -F "after_rollback_$version" >/dev/null; then
    fail "no rehearsal checks for migration $version: add after_upgrade_$version and after_rollback_$version"
  fi
done
say "migrations N+1 adds: $(echo "$versions" | tr '\n' ' ')"
made_from_template=""

# --- Rolling upgrade to N+1: migrate first, then one instance at a time -----------------------
say "migrating with release N+1 while N serves"
"$new" migrate up >"$work/migrate-n1.log" 2>&1 || { cat "$work/migrate-n1.log"; fail "migration failed"; }
grep -q "integrity" "$work/migrate-n1.log" || fail "no integrity check in the migration output"
ls "$work/backups"/* >/dev/null 2>&1 || fail "no backup was taken before migrating"
for name in n-a n-b; do
  "$new" health-check --url "http://127.0.0.1:${ports[$name]}/api/v1/health/ready" >/dev/null \
    || fail "$name (release N) is not ready on N+1's schema"
done
say "N still ready on the new schema"
replace n-a "$new" n1-a "${ports[n-b]}"
replace n-b "$new" n1-b "${ports[n1-a]}"
say "all instances run N+1"
session_n1=$(event_on n1)
for version in $versions; do "after_upgrade_$version" "$session_n1"; done

# --- A database failover under live voting: no instance is replaced ---------------------------
# PostgreSQL stops (fast shutdown: every connection is cut, as in a Multi-AZ failover) for
# 60 s while the phones vote. A checker asks each instance's /api/v1/health/live in turn,
# a second apart (the ALB asks every 10 s); a failed check would start a replacement on
# ECS, so any failure fails the rehearsal. /ready must fail meanwhile, to show that the
# database really was away, and no live stream may end. Votes the instances could not
# store were answered 503 and sent again by the phones; the verdict below wants them all
# counted once.
alb_checks() { # NAME...: one line per check, "seconds name live ready", until $work/checks.stop
  local name
  for _ in $(seq 300); do
    [ -e "$work/checks.stop" ] && return 0
    for name in "$@"; do
      echo "$(date +%s.%N) $name $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${ports[$name]}/api/v1/health/live") $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${ports[$name]}/api/v1/health/ready")"
    done
    sleep 1
  done
}
before_failover="${instance_pid[n1-a]} ${instance_pid[n1-b]}"
alb_checks n1-a n1-b >"$work/alb-checks.log" &
checks_pid=$!
pids+=("$checks_pid")
sleep 2
pg_port=${admin##*:}; pg_port=${pg_port%%/*}
outage_from=$(date +%s.%N)
scripts/pg-cluster.sh stop "$cluster"
say "PostgreSQL stopped under live voting; back in 60 s"
sleep 60
scripts/pg-cluster.sh start "$cluster" "$pg_port" >/dev/null
outage_to=$(date +%s.%N)
say "PostgreSQL started again, $(awk -v a="$outage_from" -v b="$outage_to" 'BEGIN { printf "%.0f", b - a }') s after it stopped"
for name in n1-a n1-b; do
  for _ in $(seq 150); do
    "$new" health-check --url "http://127.0.0.1:${ports[$name]}/api/v1/health/ready" --timeout-seconds 1 >/dev/null && break
    sleep 0.2
  done
  "$new" health-check --url "http://127.0.0.1:${ports[$name]}/api/v1/health/ready" >/dev/null \
    || fail "$name was not ready within 30 s of the database's return"
done
back_at=$(date +%s.%N)
sleep 2
touch "$work/checks.stop"
wait "$checks_pid" || true
checks=$(wc -l <"$work/alb-checks.log")
live_failed=$(awk '$3 != 200' "$work/alb-checks.log" | wc -l)
ready_failed=$(awk '$4 != 200' "$work/alb-checks.log" | wc -l)
[ "$live_failed" = 0 ] || { awk '$3 != 200' "$work/alb-checks.log" | head; fail "$live_failed of $checks liveness checks failed: the ALB would have had instances replaced"; }
[ "$ready_failed" -gt 0 ] || fail "readiness never failed: was the database away at all?"
[ "${instance_pid[n1-a]} ${instance_pid[n1-b]}" = "$before_failover" ] || fail "an instance was replaced"
for name in n1-a n1-b; do kill -0 "${instance_pid[$name]}" 2>/dev/null || fail "$name died during the outage"; done
# shellcheck disable=SC2016 # awk programs, expanded by awk
in_outage() { awk -v from="$outage_from" -v to="$back_at" "$1"' && $6 >= from && $6 <= to' "$work/nginx/nginx-access.log" | wc -l; }
# shellcheck disable=SC2016
outage_503=$(in_outage '$1 == 503')
# nginx logs a stream when it ends.
# shellcheck disable=SC2016
streams_ended=$(in_outage '$3 ~ /\/events$/')
[ "$streams_ended" = 0 ] || fail "$streams_ended live streams ended while the database was away"
say "failover: $checks liveness checks, all 200; readiness failed $ready_failed times; the same two processes serve ($before_failover); no live stream ended; $outage_503 requests answered 503 while the database was away, all sent again"

# --- Rollback to N, on N+1's schema, as ecs.sh rollback does it ------------------------------
# The kept artefact of N, with N's settings; no build, no Terraform, no migration. The
# database decision comes first and is N's own: its `migrate status` must accept the schema
# N+1 left. Releases with that command's exit status (3: cannot serve) say so by it; N may
# be older, so its verdict line is read too.
migrations_now() { sql "select string_agg(version || ':' || encode(checksum, 'hex'), ',' order by version) from _sqlx_migrations"; }
n_accepts_the_schema() { # exit 0 when release N's `migrate status` accepts the schema
  local code=0
  "$old" migrate status >"$work/rollback-check.log" 2>&1 || code=$?
  [ "$code" = 0 ] && grep -Eq "^schema is current$|declare this release compatible$" "$work/rollback-check.log"
}
# First the refusal: were N+1's last migration a contract step, N could not serve the schema.
# Its check must say so, N must refuse to start, and N+1 must go on serving, untouched.
compatible_from=$(sql "select oldest_compatible_version from schema_compatibility")
sql "update schema_compatibility set oldest_compatible_version = (select max(version) from _sqlx_migrations)" >/dev/null
! n_accepts_the_schema || fail "release N accepted a schema declared incompatible with it"
grep -q "cannot run on" "$work/rollback-check.log" || { cat "$work/rollback-check.log"; fail "release N's check does not say why it refuses"; }
refused_port=$(free_port)
code=0
LISTEN_ADDR="127.0.0.1:$refused_port" APP_VERSION=n-refused timeout 30 "$old" serve >"$work/n-refused.log" 2>&1 || code=$?
{ [ "$code" != 0 ] && [ "$code" != 124 ]; } || fail "release N did not refuse to start on an incompatible schema (exit $code)"
for name in n1-a n1-b; do
  "$new" health-check --url "http://127.0.0.1:${ports[$name]}/api/v1/health/ready" >/dev/null \
    || fail "$name stopped serving while release N was refused"
done
sql "update schema_compatibility set oldest_compatible_version = $compatible_from" >/dev/null
say "rollback refused as it should be past a contract step: N's check said '$(tail -1 "$work/rollback-check.log")', N exited $code at start, N+1 went on serving"
# Then the rollback itself.
schema_before=$(migrations_now)
n_accepts_the_schema || { cat "$work/rollback-check.log"; fail "release N cannot serve N+1's schema"; }
say "database decision: no migration runs; release N accepts the schema ('$(tail -1 "$work/rollback-check.log")')"
replace n1-a "$old" n-c "${ports[n1-b]}"
replace n1-b "$old" n-d "${ports[n-c]}"
[ "$(migrations_now)" = "$schema_before" ] || fail "the rollback ran or reverted a migration"
grep -q "newer" "$work/n-c.log" || say "note: release N logged no warning about the newer schema"
say "rolled back: all instances run N on N+1's schema"
session_n=$(event_on n)
for version in $versions; do "after_rollback_$version" "$session_n"; done

# The pipelines' integration suite, against the rolled-back deployment.
CONFLICTO="$new" scripts/integration.sh "$PUBLIC_BASE_URL" >"$work/integration.log" 2>&1 \
  || { cat "$work/integration.log"; fail "the integration suite failed"; }
say "integration suite passed: $(grep -c '^PASS' "$work/integration.log") smoke steps, $(grep '^loadtest PASSED' "$work/integration.log" | cut -d, -f1-4)"

# --- The verdict ------------------------------------------------------------------------------
say "waiting for the participants to finish"
code=0
wait "$load_pid" || code=$?
grep -v '^\s*$' "$work/participants.log" | tail -20
[ "$code" = 0 ] || fail "the participants' run failed (exit $code)"
grep -q "^loadtest PASSED: $participants participants, .* 0 errors, counts exact" "$work/participants.log" \
  || fail "participants' requests failed or counts are off"
reconnects=$(sed -n 's/^streams: .*, \([0-9]*\) reconnected.*/\1/p' "$work/participants.log")
retried=$(sed -n 's/^retried: *\([0-9]*\) .*/\1/p' "$work/participants.log")
[ "${retried:-0}" = 0 ] || fail "$retried answers got no reply and had to be sent again"
[ "${reconnects:-0}" -gt 0 ] || fail "no live stream reconnected, yet four instances were replaced"
# 5xx: none, but for 503 while the database was away (until both instances were ready again).
unexpected() { awk -v from="$outage_from" -v to="$back_at" '$1 >= 500 && !($1 == 503 && $6 >= from && $6 <= to)' "$work/nginx/nginx-access.log"; }
server_errors=$(unexpected | wc -l)
[ "$server_errors" = 0 ] || { unexpected | head; fail "nginx answered $server_errors requests with 5xx outside the database's outage"; }
requests=$(wc -l <"$work/nginx/nginx-access.log")
say "verdict: $requests requests through nginx, 0 answered 5xx but the outage's $outage_503 503s, 0 failed, 0 sent again unanswered; $reconnects streams reconnected; counts exact"
finished=1
