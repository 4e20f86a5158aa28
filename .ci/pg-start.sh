#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server from Debian's packages on 127.0.0.1:55432 and
# prints its URL. Used by .ci/run and by developers who want the PostgreSQL half of the
# suite locally:  export MEDGUARD_TEST_POSTGRES=$(bash .ci/pg-start.sh)
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ]; then
  echo "PostgreSQL server binaries not found (apt-get install -y postgresql)" >&2
  exit 1
fi
PGDATA=${MEDGUARD_PGDATA:-/tmp/medguard-pg}
PORT=${MEDGUARD_PGPORT:-55432}
if ! id postgres >/dev/null 2>&1; then
  useradd --system --home "$PGDATA" postgres
fi
RUNAS=()
if [ "$(id -u)" = 0 ]; then RUNAS=(runuser -u postgres --); fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
  "${RUNAS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U medguard --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  rm -f "$PGDATA/postmaster.pid" # left behind by a server killed with its session
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
    -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
fi
"$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U medguard -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='medguard_test'" | grep -q 1 ||
  "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U medguard -d postgres -qc "CREATE DATABASE medguard_test"
echo "postgres://medguard@127.0.0.1:$PORT/medguard_test?sslmode=disable"
