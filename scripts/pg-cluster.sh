#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for tests, as an unprivileged user.
#   scripts/pg-cluster.sh start DIR PORT   # prints the admin URL on stdout
#   scripts/pg-cluster.sh stop DIR
# With PG_CLUSTER_DURABLE=1 the cluster keeps fsync on (for benchmarks); tests turn it off.
# As root, the server runs as the system user `conflicto-pg` (created if missing), since
# PostgreSQL refuses to run as root. Needs initdb and pg_ctl on PATH.
set -euo pipefail

action=${1:?usage: pg-cluster.sh start DIR PORT | stop DIR}
dir=${2:?cluster folder}
run_as=${TEST_PG_RUN_AS:-conflicto-pg}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$run_as" -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    port=${3:?port}
    for tool in initdb pg_ctl; do
      command -v "$tool" >/dev/null || { echo "pg-cluster.sh: $tool is not on PATH" >&2; exit 1; }
    done
    if [ "$(id -u)" = 0 ] && ! id "$run_as" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin "$run_as"
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown "$run_as" "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner initdb --pgdata="$dir/data" --username=postgres --auth=trust \
        --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # Tests need no durability; benchmarks (PG_CLUSTER_DURABLE=1) keep the defaults.
    durability="-c fsync=off -c full_page_writes=off"
    [ "${PG_CLUSTER_DURABLE:-0}" = 1 ] && durability=""
    # Sockets in the cluster folder: /var/run/postgresql may not exist or be writable.
    as_owner pg_ctl --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 $durability" \
      start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner pg_ctl --pgdata="$dir/data" --mode=fast --wait stop >/dev/null || true
    fi
    ;;
  *)
    echo "usage: pg-cluster.sh start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
