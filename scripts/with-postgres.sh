#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster.
#
#   scripts/with-postgres.sh COMMAND [ARGS...]
#
# Creates a cluster in a temporary folder with initdb, starts it with pg_ctl on
# a free loopback port, exports DATABASE_URL, runs the command, and stops and
# removes the cluster afterwards, whatever the command's outcome.
set -euo pipefail

for tool in initdb pg_ctl; do
  command -v "$tool" >/dev/null || { echo "$tool not found: install PostgreSQL 15+" >&2; exit 1; }
done

dir=$(mktemp -d -t hb-pg.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# PostgreSQL refuses to run as root: run the server as an unprivileged user.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  status=$?
  "${as_pg[@]}" pg_ctl -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit $status
}
trap cleanup EXIT INT TERM

"${as_pg[@]}" initdb -D "$dir/data" -U app --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off: a throwaway cluster needs speed, not durability.
options="-p $port -h 127.0.0.1 -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
# More server settings, e.g. PG_OPTIONS="-c shared_buffers=1GB" (make bench sizes its cluster so).
options="$options ${PG_OPTIONS:-}"
"${as_pg[@]}" pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$options" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }

export DATABASE_URL="postgres://app@127.0.0.1:$port/postgres"
# What a command needs to stop and start the same cluster (the load test's database restart):
# pg_ctl -D "$HB_PGDATA" -o "$HB_PG_OPTIONS" -l "$HB_PG_LOG" start, run as $HB_PG_USER when set.
export HB_PGDATA="$dir/data" HB_PG_OPTIONS="$options" HB_PG_LOG="$dir/server.log"
export HB_PG_USER="$([ "$(id -u)" = 0 ] && echo postgres || true)"
echo "PostgreSQL running on port $port" >&2
"$@"
