#!/usr/bin/env bash
# bench/run.sh: end-to-end API benchmark of medguard's asset inventory.
#
# For each engine (SQLite in a temporary directory; PostgreSQL from
# MEDGUARD_BENCH_POSTGRES, else the local server of .ci/pg-start.sh when it is
# installed) it seeds BENCH_ASSETS demo assets (timed), creates one read token for the
# province admin and one for the hospital-1 security officer, starts `medguard serve`
# on a free 127.0.0.1 port, runs bench/apibench (4 scenarios x 2 users), then the peers
# measured in the same run: wrk on the same first-page URL (cross-check of the load
# generator) and the database ceiling for the same SQL (pgbench on PostgreSQL, the
# apibench -ceiling Go loop on both engines). Everything targets loopback and every
# step is time-bounded, so the script stops by itself.
#
# Results: bench/out/<UTC stamp>/results.jsonl (one JSON line per measurement),
# report.md (Markdown tables, from `apibench -report`), explain-<engine>.md (query
# plans and single-run timings of each scenario's SQL), env.txt and logs. PostgreSQL is
# VACUUM ANALYZEd after seeding; SQLite is measured as medguard leaves it (no ANALYZE).
#
# Environment: BENCH_ASSETS (100000), BENCH_CONC (16), BENCH_DURATION (10, seconds),
# BENCH_WARMUP (2, seconds), BENCH_ENGINES ("sqlite postgres"), MEDGUARD_BENCH_POSTGRES
# (postgres://user@127.0.0.1:port/anydb: the script creates and drops its own database
# medguard_bench on that server).
# The supply-chain benchmark (medguard vs osv-scanner) is bench/supply/run.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ASSETS=${BENCH_ASSETS:-100000}
CONC=${BENCH_CONC:-16}
DUR=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
ENGINES=${BENCH_ENGINES:-"sqlite postgres"}
BENCHDB=medguard_bench
OUT=${BENCH_OUT:-$ROOT/bench/out/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
TMP=$(mktemp -d /tmp/medguard-bench.XXXXXX)
SERVER_PID=""

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
cleanup() {
  stop_server
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '==> %s\n' "$*" >&2; }

# ms converts a wrk duration (850.00us, 12.34ms, 1.20s, 1.00m) to milliseconds.
ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}

# --- tools -----------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing wrk"
    apt-get install -y wrk >/dev/null
  else
    log "wrk not found and not root: the wrk cross-check will be skipped"
  fi
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

log "building medguard and apibench into $TMP"
(cd "$ROOT" && go build -o "$TMP/medguard" ./cmd/medguard && go build -o "$TMP/apibench" ./bench/apibench)
BIN=$TMP/medguard
AB=$TMP/apibench
PW="Bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')-Aa1!"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown) (working tree may be dirty)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  free -h
  go version
  echo "wrk: $(wrk -v 2>&1 | head -1 || true)"
  [ -n "$PGBIN" ] && echo "pgbench: $("$PGBIN/pgbench" --version)"
  echo "assets: $ASSETS  concurrency: $CONC  duration: ${DUR}s  warm-up: ${WARMUP}s"
} >"$OUT/env.txt" 2>&1

# --- one engine ------------------------------------------------------------------
# bench_engine LABEL DBARGS... : seed, serve, measure.
bench_engine() {
  local label=$1
  shift
  local -a dbargs=("$@")
  log "$label: seeding $ASSETS assets"
  local t0 t1
  t0=$(date +%s.%N)
  timeout 3600 "$BIN" demo --seed-only --assets "$ASSETS" --admin-password "$PW" "${dbargs[@]}" \
    >"$TMP/seed-$label.out" 2>"$OUT/seed-$label.log"
  t1=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  log "$label: seeded in ${secs}s"
  printf '{"label":"%s","scenario":"seed","user":"-","seconds":%s,"total":%d}\n' "$label" "$secs" "$ASSETS" >>"$RESULTS"

  if [ "$label" = postgres ]; then
    # Steady state: autovacuum vacuums and analyses a freshly loaded table within a
    # minute or so. Before that, plans lack statistics and COUNT(*) cannot use
    # index-only scans (no visibility map), and the autovacuum workers compete for the
    # CPU: measured once, first-page throughput was 7x lower in that window.
    timeout 600 psql "${dbargs[1]}" -qc "VACUUM ANALYZE"
  fi
  local u
  for u in admin secofficer; do
    (umask 077 && timeout 120 "$BIN" token create --user "$u" --scope read --name bench "${dbargs[@]}" \
      >"$TMP/$label-$u.tok" 2>>"$OUT/seed-$label.log")
  done

  log "$label: starting medguard serve"
  "$BIN" serve --addr 127.0.0.1:0 "${dbargs[@]}" >"$TMP/serve-$label.out" 2>"$OUT/serve-$label.log" &
  SERVER_PID=$!
  local url="" i
  for i in $(seq 1 150); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/serve-$label.out" 2>/dev/null | head -1 || true)
    if [ -n "$url" ] && curl -fsS -m 5 "$url/readyz" >/dev/null 2>&1; then break; fi
    url=""
    sleep 0.2
  done
  [ -n "$url" ] || { log "$label: server did not become ready"; cat "$OUT/serve-$label.log" >&2; return 1; }
  log "$label: serving at $url (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "$label load average before apibench: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/env.txt"

  local -a cpu=(-server-pid "$SERVER_PID")
  [ "$label" = postgres ] && [ -n "${PG_POSTMASTER:-}" ] && cpu+=(-db-pid "$PG_POSTMASTER")
  timeout $((20 * (DUR + WARMUP) + 300)) "$AB" -url "$url" -label "$label" -c "$CONC" -d "${DUR}s" -warmup "${WARMUP}s" "${cpu[@]}" \
    -token "admin=@$TMP/$label-admin.tok" -token "secofficer=@$TMP/$label-secofficer.tok" \
    -json "$RESULTS" | tee "$OUT/apibench-$label.txt"

  if command -v wrk >/dev/null 2>&1; then
    for u in admin secofficer; do
      log "$label: wrk, $u, first page"
      # --timeout 30s like apibench: wrk's default (2 s) drops slow requests from the
      # latency figures and counts them as socket errors instead.
      timeout $((DUR + 60)) wrk -t2 -c"$CONC" -d"${DUR}s" --timeout 30s --latency \
        -H "Authorization: Bearer $(cat "$TMP/$label-$u.tok")" "$url/api/v1/assets?per_page=50" \
        >"$OUT/wrk-$label-$u.txt" 2>&1 || true
      local rps p50 p99 n non2xx sockerr
      rps=$(awk '/^Requests\/sec:/ { print $2 }' "$OUT/wrk-$label-$u.txt")
      p50=$(ms "$(awk '$1 == "50%" { print $2 }' "$OUT/wrk-$label-$u.txt")")
      p99=$(ms "$(awk '$1 == "99%" { print $2 }' "$OUT/wrk-$label-$u.txt")")
      n=$(awk '/requests in/ { print $1 }' "$OUT/wrk-$label-$u.txt")
      non2xx=$(awk '/Non-2xx/ { print $NF }' "$OUT/wrk-$label-$u.txt")
      sockerr=$(awk '/Socket errors/ { s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s }' "$OUT/wrk-$label-$u.txt")
      printf '{"label":"%s","scenario":"wrk:list_first_page","user":"%s","concurrency":%d,"requests":%d,"errors":%d,"rps":%s,"p50_ms":%s,"p99_ms":%s}\n' \
        "$label" "$u" "$CONC" "${n:-0}" "$(( ${non2xx:-0} + ${sockerr:-0} ))" "${rps:-0}" "${p50:-0}" "${p99:-0}" >>"$RESULTS"
    done
  fi
  stop_server
}

# ceiling LABEL TARGET : the Go SQL loop on the database (server stopped).
ceiling() {
  local u
  for u in admin secofficer; do
    log "$1: database ceiling (Go SQL loop), $u"
    local -a cpu=()
    [ "$1" = postgres ] && [ -n "${PG_POSTMASTER:-}" ] && cpu=(-db-pid "$PG_POSTMASTER")
    timeout $((DUR + WARMUP + 120)) "$AB" -ceiling "$2" -scope-user "$u" -label "$1" -c "$CONC" -d "${DUR}s" "${cpu[@]}" \
      -warmup "${WARMUP}s" -json "$RESULTS" | tee -a "$OUT/ceiling-$1.txt"
  done
}

# pgbench_ceiling URL : pgbench running the first-page SQL (COUNT + page SELECT).
pgbench_ceiling() {
  local url=$1 u scope
  [ -n "$PGBIN" ] && [ -x "$PGBIN/pgbench" ] || { log "pgbench not found: skipped"; return 0; }
  # The exact SQL asset.Service.List runs for the first page with the default sort,
  # the scope pattern bound as a parameter (-M prepared) as pgx does.
  cat >"$TMP/firstpage.sql" <<'SQL'
SELECT COUNT(*) FROM assets a WHERE a.org_id IN (SELECT id FROM orgs WHERE path LIKE :scope ESCAPE '\');
SELECT a.id, a.org_id, o.name, o.path, a.code, a.name, a.kind, a.subtype, a.owner, a.location, a.zone, a.mlps_level, a.ip, a.mac, a.vendor, a.model, a.serial, a.lifecycle, a.procured_on, a.in_service_on, a.retired_on, a.tags, a.notes, a.version, a.created_at, a.updated_at FROM assets a JOIN orgs o ON o.id = a.org_id WHERE a.org_id IN (SELECT id FROM orgs WHERE path LIKE :scope ESCAPE '\') ORDER BY a.name, a.id LIMIT 50 OFFSET 0;
SQL
  # A scope that covers every organisation gets no condition, as in asset.Service.List.
  cat >"$TMP/firstpage-all.sql" <<'SQL'
SELECT COUNT(*) FROM assets a;
SELECT a.id, a.org_id, o.name, o.path, a.code, a.name, a.kind, a.subtype, a.owner, a.location, a.zone, a.mlps_level, a.ip, a.mac, a.vendor, a.model, a.serial, a.lifecycle, a.procured_on, a.in_service_on, a.retired_on, a.tags, a.notes, a.version, a.created_at, a.updated_at FROM assets a JOIN orgs o ON o.id = a.org_id ORDER BY a.name, a.id LIMIT 50 OFFSET 0;
SQL
  cp "$TMP/firstpage.sql" "$OUT/pgbench-firstpage.sql"
  cp "$TMP/firstpage-all.sql" "$OUT/pgbench-firstpage-all.sql"
  for u in admin secofficer; do
    scope=$(timeout 60 psql "$url" -tAc "SELECT o.path FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.username = '$u'")
    scope="${scope}%" # org paths hold digits and slashes only: nothing to escape
    local script="$TMP/firstpage.sql"
    if [ "$(timeout 60 psql "$url" -tAc "SELECT EXISTS (SELECT 1 FROM orgs WHERE path NOT LIKE '$scope')")" = f ]; then
      script="$TMP/firstpage-all.sql"
    fi
    log "postgres: pgbench, $u (scope $scope)"
    rm -rf "$TMP/pgb" && mkdir "$TMP/pgb"
    (cd "$TMP/pgb" && timeout $((WARMUP + 60)) "$PGBIN/pgbench" -n -M prepared -c "$CONC" -j 2 -T "$WARMUP" \
      -D "scope=$scope" -f "$script" "$url" >/dev/null 2>&1 || true)
    (cd "$TMP/pgb" && timeout $((DUR + 60)) "$PGBIN/pgbench" -n -M prepared -c "$CONC" -j 2 -T "$DUR" -l \
      -D "scope=$scope" -f "$script" "$url") >"$OUT/pgbench-$u.txt" 2>&1
    local tps n failed p50 p99
    tps=$(awk '/^tps = / { print $3; exit }' "$OUT/pgbench-$u.txt")
    n=$(awk -F': ' '/number of transactions actually processed/ { split($2, a, "/"); print a[1] }' "$OUT/pgbench-$u.txt")
    failed=$(awk -F': ' '/number of failed transactions/ { split($2, a, " "); print a[1] }' "$OUT/pgbench-$u.txt")
    # Per-transaction log: field 3 is the latency in microseconds.
    read -r p50 p99 < <(cat "$TMP"/pgb/pgbench_log.* | awk '{ print $3 }' | sort -n |
      awk '{ v[NR] = $1 } END { i50 = int(NR * 0.50 + 0.5); i99 = int(NR * 0.99 + 0.5); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1;
        printf "%.2f %.2f\n", v[i50] / 1000, v[i99] / 1000 }')
    printf '{"label":"postgres","scenario":"pgbench:list_first_page","user":"%s","concurrency":%d,"seconds":%d,"requests":%d,"errors":%d,"rps":%s,"p50_ms":%s,"p99_ms":%s}\n' \
      "$u" "$CONC" "$DUR" "${n:-0}" "${failed:-0}" "${tps:-0}" "${p50:-0}" "${p99:-0}" >>"$RESULTS"
  done
}

# --- engines ---------------------------------------------------------------------
for engine in $ENGINES; do
  case $engine in
  sqlite)
    mkdir -p "$TMP/sqlite"
    bench_engine sqlite --data "$TMP/sqlite"
    ceiling sqlite "sqlite:$TMP/sqlite/medguard.db"
    timeout 600 "$AB" -explain "sqlite:$TMP/sqlite/medguard.db" >"$OUT/explain-sqlite.md" 2>&1 || true
    ;;
  postgres)
    server=${MEDGUARD_BENCH_POSTGRES:-}
    PG_POSTMASTER=""
    if [ -z "$server" ]; then
      server=$(bash "$ROOT/.ci/pg-start.sh" 2>/dev/null || true)
      # The local server's postmaster: its and its backends' CPU time is charged too.
      PG_POSTMASTER=$(head -1 "${MEDGUARD_PGDATA:-/tmp/medguard-pg}/postmaster.pid" 2>/dev/null || true)
    fi
    if [ -z "$server" ]; then
      log "no PostgreSQL (set MEDGUARD_BENCH_POSTGRES or install postgresql): skipped"
      continue
    fi
    case $server in
    postgres://*@127.0.0.1[:/]* | postgres://127.0.0.1[:/]* | postgresql://*@127.0.0.1[:/]*) ;;
    *) log "MEDGUARD_BENCH_POSTGRES must point at 127.0.0.1: skipped"; continue ;;
    esac
    # Same server, user and options; our own database, re-created for a fresh seed.
    base=${server%%\?*}
    query=${server#"$base"}
    admin_url="${base%/*}/postgres$query"
    pgurl="${base%/*}/$BENCHDB$query"
    timeout 120 psql "$admin_url" -qc "DROP DATABASE IF EXISTS $BENCHDB" -c "CREATE DATABASE $BENCHDB"
    echo "postgres: $(psql "$pgurl" -tAc 'SHOW server_version') (server settings: $(psql "$pgurl" -tAc \
      "SELECT string_agg(name || '=' || setting, ' ') FROM pg_settings WHERE name IN ('shared_buffers','work_mem','fsync','synchronous_commit','max_connections','jit')"))" >>"$OUT/env.txt"
    bench_engine postgres --db "$pgurl"
    echo "postgres assets statistics: $(psql "$pgurl" -tAc "SELECT 'last_autoanalyze=' || COALESCE(last_autoanalyze::text, 'never') || ' last_analyze=' || COALESCE(last_analyze::text, 'never') FROM pg_stat_user_tables WHERE relname = 'assets'")" >>"$OUT/env.txt"
    ceiling postgres "$pgurl"
    pgbench_ceiling "$pgurl"
    timeout 600 "$AB" -explain "$pgurl" >"$OUT/explain-postgres.md" 2>&1 || true
    timeout 120 psql "$admin_url" -qc "DROP DATABASE IF EXISTS $BENCHDB" || true
    ;;
  *) log "unknown engine $engine" ;;
  esac
done

"$AB" -report "$RESULTS" | tee "$OUT/report.md"
log "results in $OUT"
