#!/usr/bin/env bash
# bench/events/run.sh: end-to-end durable ingestion of audit events, medguard against its
# peers in the same run, on loopback; every step is time-bounded, so it stops by itself.
#
# For each engine (SQLite in a temporary directory; PostgreSQL from
# MEDGUARD_BENCH_POSTGRES, else a throwaway server started here with the default
# durability settings, fsync and synchronous_commit on):
#   1. `medguard serve` with the syslog TCP listener (events.syslog_tcp) on a free port;
#   2. HTTP: eventbench posts BENCH_EVENTS events as NDJSON batches of BENCH_BATCH from
#      BENCH_CLIENTS clients to POST /api/v1/events; events/s acknowledged; then the count
#      stored is checked against the count acknowledged (the run fails if they differ);
#   3. syslog: the same number of other events as RFC 5424 messages with a JSON payload,
#      octet-counted, over BENCH_CONNS TCP connections; events/s stored (the events table
#      is polled until it stops growing);
#   4. the ceiling of the HTTP figure: the same rows (same sizes, sealed values as random
#      bytes of the sealed length) bulk-loaded by the database's own path into an empty
#      medguard schema: sqlite3 `.import` of a CSV in one transaction (synchronous=NORMAL,
#      foreign keys on, the 64 MiB page cache medguard's writer uses) / psql `\copy`.
# Then the syslog peer: rsyslog (imtcp -> omfile, foreground, its own config) receiving
# the same syslog stream; messages/s written to its file. rsyslog appends to a file and
# does not fsync per message: it is not durable in medguard's sense (acknowledged only
# after a commit), it is the ceiling of receiving and writing syslog on this machine.
#
# Besides wall-clock events/s, each figure is also given per CPU-second of the processes
# that store (medguard, plus the PostgreSQL backends of the server started here; the
# sqlite3 or psql process and the backends for a ceiling; rsyslogd), read from /proc:
# the machine may be shared, and that ratio does not depend on the neighbours.
#
# Alert latency (scenario "latency"), per engine, on a fresh store: `medguard events
# simulate` writes a hospital; its staff, patients and encounters are imported with
# `medguard reference import` before `medguard serve` starts (the live detection explains
# every access against them); a webhook notification channel pointing at a loopback sink
# in eventbench, with a route for the rule privilege-change, is added through the API.
# Then for each offered rate of BENCH_LATENCY_RATES, eventbench posts the simulated normal
# events (the injected misuse left out, replayed in rounds with new ids) in one NDJSON
# batch every BENCH_LATENCY_TICK from BENCH_LATENCY_CLIENTS clients for
# BENCH_LATENCY_SECONDS, each batch ending with one trigger event (a privilege_change by an
# account of its own, which the built-in rule privilege-change fires on at once); t0 = when
# the batch is sent, t1 = when it is acknowledged, t2 = when the trigger's alert is first
# seen committed — the alerts table polled every BENCH_LATENCY_POLL by primary key
# (BENCH_LATENCY_POLL_FROM=database), or GET /api/v1/alerts?source=monitor&kind=
# privilege-change (=api; one API request costs the server milliseconds of CPU, which at
# a 10 ms interval is a core taken from what is measured) — and when its webhook
# notification arrives. p50/p90/p99/max of t2 − t0 per rate and engine, the rate
# achieved, and whether the sender kept to its schedule (achieved ≥ 95 % of offered, no
# batch sent more than 1 s late); every trigger must have exactly one alert (the run
# fails otherwise). The hospital is simulated large enough for every event to be sent
# once, at its simulated time (about 21 events per staff member and day, 14 days; the
# simulator takes minutes past 2,000 staff), or BENCH_LATENCY_SIM names a directory an
# earlier `medguard events simulate --out DIR` wrote (a stream too short is replayed, and
# eventbench says how many events it replayed).
#
# Results: bench/out/events-<UTC stamp>/results.jsonl, report.md, env.txt, logs.
# Environment: BENCH_SCENARIOS ("ingest latency"), BENCH_EVENTS (400000), BENCH_BATCH
# (10000), BENCH_CLIENTS (4), BENCH_CONNS (4), BENCH_ENGINES ("sqlite postgres"),
# BENCH_PEERS ("ceiling rsyslog"), BENCH_LATENCY_RATES ("5000 10000 20000 50000", events/s),
# BENCH_LATENCY_SECONDS (10), BENCH_LATENCY_TICK (100ms), BENCH_LATENCY_CLIENTS (4),
# BENCH_LATENCY_POLL (10ms), BENCH_LATENCY_POLL_FROM (database), BENCH_LATENCY_HOOK
# (true), BENCH_LATENCY_SIM (none: simulate), BENCH_MEDGUARD (a medguard binary to measure instead of this tree's, e.g. an
# older build for a before/after comparison), BENCH_CPUPROFILE and BENCH_TRACE (a Go CPU
# profile and an execution trace of each server, into the results directory),
# MEDGUARD_BENCH_POSTGRES.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EVENTS=${BENCH_EVENTS:-400000}
BATCH=${BENCH_BATCH:-10000}
CLIENTS=${BENCH_CLIENTS:-4}
CONNS=${BENCH_CONNS:-4}
ENGINES=${BENCH_ENGINES:-"sqlite postgres"}
PEERS=${BENCH_PEERS:-"ceiling rsyslog"}
SCENARIOS=${BENCH_SCENARIOS:-"ingest latency"}
LAT_RATES=${BENCH_LATENCY_RATES:-"5000 10000 20000 50000"}
LAT_SECONDS=${BENCH_LATENCY_SECONDS:-10}
LAT_TICK=${BENCH_LATENCY_TICK:-100ms}
LAT_CLIENTS=${BENCH_LATENCY_CLIENTS:-4}
LAT_POLL=${BENCH_LATENCY_POLL:-10ms}
LAT_POLL_FROM=${BENCH_LATENCY_POLL_FROM:-database}
LAT_HOOK=${BENCH_LATENCY_HOOK:-true}
LAT_SIM=${BENCH_LATENCY_SIM:-}
OUT=${BENCH_OUT:-$ROOT/bench/out/events-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
TMP=$(mktemp -d /tmp/medguard-evbench.XXXXXX)
chmod 755 "$TMP"
SERVER_PID=""
RSYSLOG_PID=""
FAILED=""
PGDATA=""
PG_POSTMASTER=""
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

log() { printf '==> %s\n' "$*" >&2; }

stop_pid() {
  if [ -n "$1" ]; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() {
  stop_pid "$SERVER_PID"
  stop_pid "$RSYSLOG_PID"
  if [ -n "$PGDATA" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v rsyslogd >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing rsyslog"
    apt-get install -y rsyslog >/dev/null
  else
    log "rsyslogd not found and not root: the rsyslog peer will be skipped"
  fi
fi

log "building medguard and eventbench into $TMP"
(cd "$ROOT" && go build -o "$TMP/medguard" ./cmd/medguard && go build -o "$TMP/eventbench" ./bench/events)
BIN=${BENCH_MEDGUARD:-$TMP/medguard}
EB=$TMP/eventbench
PW="Bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')-Aa1!"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown) (working tree may be dirty)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  free -h
  go version
  echo "sqlite3: $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 || echo none)"
  echo "rsyslogd: $(rsyslogd -v 2>/dev/null | head -1 || echo none)"
  echo "scenarios: $SCENARIOS"
  echo "events: $EVENTS  batch: $BATCH  http clients: $CLIENTS  syslog connections: $CONNS"
  echo "latency: rates $LAT_RATES, ${LAT_SECONDS}s each, a batch every $LAT_TICK, $LAT_CLIENTS clients, poll $LAT_POLL from the $LAT_POLL_FROM, webhook $LAT_HOOK"
} >"$OUT/env.txt" 2>&1

# serve LABEL SYSLOGPORT DBARGS... : start medguard serve with the syslog TCP listener.
URL=""
serve() {
  local label=$1 port=$2
  shift 2
  # BENCH_CPUPROFILE=1: a Go CPU profile of each server, written when it stops;
  # BENCH_TRACE=1: a Go execution trace (go tool trace -pprof=sync|syscall|sched FILE).
  MEDGUARD_EVENTS_SYSLOG_TCP=127.0.0.1:$port "$BIN" serve --addr 127.0.0.1:0 --log-level warn \
    ${BENCH_CPUPROFILE:+--cpuprofile "$OUT/serve-$label.pprof"} ${BENCH_TRACE:+--trace "$OUT/serve-$label.trace"} "$@" \
    >"$TMP/serve-$label.out" 2>"$OUT/serve-$label.log" &
  SERVER_PID=$!
  local i
  URL=""
  for i in $(seq 1 150); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/serve-$label.out" 2>/dev/null | head -1 || true)
    if [ -n "$URL" ] && curl -fsS -m 5 "$URL/readyz" >/dev/null 2>&1; then return 0; fi
    URL=""
    sleep 0.2
  done
  log "$label: server did not become ready"
  cat "$OUT/serve-$label.log" >&2
  return 1
}

# bench_engine LABEL COUNTDB CEILING DBARGS...
bench_engine() {
  local label=$1 countdb=$2 ceiling=$3
  shift 3
  local -a dbargs=("$@")
  timeout 120 "$BIN" user add --username his --role it_ops --password "$PW" "${dbargs[@]}" >"$OUT/setup-$label.log" 2>&1
  (umask 077 && timeout 120 "$BIN" token create --user his --scope events.ingest --name bench "${dbargs[@]}" \
    >"$TMP/$label.tok" 2>>"$OUT/setup-$label.log")
  local port
  port=$("$EB" freeport)
  serve "$label" "$port" "${dbargs[@]}"
  log "$label: serving at $URL, syslog on 127.0.0.1:$port (load average: $(cut -d' ' -f1-3 /proc/loadavg))"

  local -a cpu=(-pid "$SERVER_PID")
  local -a dbcpu=()
  if [ "$label" = postgres ] && [ -n "$PG_POSTMASTER" ]; then
    cpu+=(-db-pid "$PG_POSTMASTER")
    dbcpu=(-db-pid "$PG_POSTMASTER")
  fi
  log "$label: HTTP, $EVENTS events, $CLIENTS clients, batches of $BATCH"
  timeout 900 "$EB" http "${cpu[@]}" -url "$URL" -token "@$TMP/$label.tok" -clients "$CLIENTS" -batch "$BATCH" -events "$EVENTS" \
    -label "$label" -run "h$label" -json "$RESULTS" | tee "$OUT/http-$label.txt"
  local acked stored
  acked=$(tail -1 "$RESULTS" | sed 's/.*"stored":\([0-9]*\).*/\1/')
  stored=$("$EB" count -db "$countdb")
  echo "$label: acknowledged $acked, stored $stored" | tee -a "$OUT/verify.txt"
  if [ "$acked" != "$stored" ] || [ "$acked" != "$EVENTS" ]; then
    log "$label: stored $stored events but acknowledged $acked (sent $EVENTS)"
    return 1
  fi

  log "$label: syslog TCP, $EVENTS events, $CONNS connections"
  timeout 900 "$EB" syslog "${cpu[@]}" -addr "127.0.0.1:$port" -conns "$CONNS" -events "$EVENTS" -db "$countdb" \
    -label "$label" -run "s$label" -json "$RESULTS" | tee "$OUT/syslog-$label.txt"
  stop_pid "$SERVER_PID"
  SERVER_PID=""
  case " $PEERS " in *" ceiling "*) ;; *) return 0 ;; esac

  log "$label: ceiling, the same rows bulk-loaded by the database"
  local org
  org=$("$EB" prep -db "$ceiling" 2>>"$OUT/setup-$label.log" | tail -1)
  if [ "$label" = sqlite ]; then
    "$EB" csv -out "$TMP/rows.csv" -org "$org" -events "$EVENTS" -engine sqlite -run "c$label"
    local path=${ceiling#sqlite:}
    printf 'PRAGMA synchronous=NORMAL;\nPRAGMA foreign_keys=ON;\nPRAGMA cache_size=-65536;\n.import --csv %s events\n' "$TMP/rows.csv" >"$TMP/import.sql"
    timeout 900 "$EB" timed -label sqlite -scenario "ceiling:sqlite3 .import" -events "$EVENTS" -json "$RESULTS" \
      -note "sqlite3 CLI .import of a CSV in one transaction, same indexes, WAL, synchronous=NORMAL" \
      -- sqlite3 "$path" ".read $TMP/import.sql" | tee "$OUT/ceiling-$label.txt"
    echo "sqlite ceiling: stored $("$EB" count -db "$ceiling")" | tee -a "$OUT/verify.txt"
  else
    "$EB" csv -out "$TMP/rows.csv" -org "$org" -events "$EVENTS" -engine postgres -run "c$label"
    local cols="org_id, system, event_id, time, account, staff_id, department, action, outcome, patient_sealed, patient_hash, record_type, record_count, source_ip, terminal, raw_sealed, received_at, part, pkey"
    timeout 900 "$EB" timed "${dbcpu[@]}" -label postgres -scenario 'ceiling:psql \copy' -events "$EVENTS" -json "$RESULTS" \
      -note "psql \\copy (COPY FROM STDIN, CSV) in one transaction, same indexes" \
      -- psql "$ceiling" -v ON_ERROR_STOP=1 -qc "\\copy events ($cols) FROM '$TMP/rows.csv' WITH (FORMAT csv)" | tee "$OUT/ceiling-$label.txt"
    echo "postgres ceiling: stored $("$EB" count -db "$ceiling")" | tee -a "$OUT/verify.txt"
  fi
  rm -f "$TMP/rows.csv"
}

# bench_latency LABEL POLLDB DBARGS... : alert latency on a fresh store (see the header).
bench_latency() {
  local label=$1 polldb=$2
  shift 2
  local -a dbargs=("$@")
  if [ -n "$LAT_SIM" ] && [ ! -e "$TMP/sim" ]; then
    ln -s "$(cd "$LAT_SIM" && pwd)" "$TMP/sim"
  fi
  if [ ! -f "$TMP/sim/truth.json" ]; then
    # A hospital large enough that its 14 days hold every event the rates send: the
    # simulator writes about 21 events per staff member and day; each event is sent
    # once, at the time the simulator gave it, so that the encounters explain it.
    local need staff
    need=$(( $(tr -s ' ' '+' <<<"$LAT_RATES" | sed 's/^+//; s/+$//') ))
    need=$((need * LAT_SECONDS * 21 / 20))
    staff=$(( (need + 21 * 14 - 1) / (21 * 14) ))
    staff=$((staff < 300 ? 300 : staff))
    log "simulating a hospital of $staff staff (${need} events needed)"
    timeout 1200 "$BIN" events simulate --out "$TMP/sim" --staff "$staff" --patients $((staff * 10)) >"$OUT/simulate.log" 2>&1
    echo "latency: simulated hospital: $(tail -1 "$OUT/simulate.log")" >>"$OUT/env.txt"
  fi
  local kind
  for kind in staff patients encounters; do
    timeout 300 "$BIN" reference import --kind "$kind" "$TMP/sim/$kind.csv" "${dbargs[@]}" >>"$OUT/setup-lat-$label.log" 2>&1
  done
  timeout 120 "$BIN" user add --username his --role it_ops --password "$PW" "${dbargs[@]}" >>"$OUT/setup-lat-$label.log" 2>&1
  timeout 120 "$BIN" user add --username soc --role security_officer --password "$PW" "${dbargs[@]}" >>"$OUT/setup-lat-$label.log" 2>&1
  (umask 077 && timeout 120 "$BIN" token create --user his --scope events.ingest --name bench "${dbargs[@]}" \
    >"$TMP/lat-$label.tok" 2>>"$OUT/setup-lat-$label.log")
  (umask 077 && timeout 120 "$BIN" token create --user soc --scope write --name bench "${dbargs[@]}" \
    >"$TMP/lat-$label.api" 2>>"$OUT/setup-lat-$label.log")
  local port
  port=$("$EB" freeport)
  serve "lat-$label" "$port" "${dbargs[@]}"
  log "$label: latency, serving at $URL; rates $LAT_RATES events/s, ${LAT_SECONDS}s each (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  local -a cpu=(-pid "$SERVER_PID")
  if [ "$label" = postgres ] && [ -n "$PG_POSTMASTER" ]; then
    cpu+=(-db-pid "$PG_POSTMASTER")
  fi
  local n
  n=$(wc -w <<<"$LAT_RATES")
  local -a poll=()
  if [ "$LAT_POLL_FROM" = database ]; then
    poll=(-db "$polldb")
  fi
  # eventbench fails (after measuring every rate) when a trigger has no alert or more
  # than one: the run then fails at its end, after the report.
  if ! timeout $((n * (LAT_SECONDS + 120) + 120)) "$EB" latency "${cpu[@]}" "${poll[@]}" -url "$URL" -token "@$TMP/lat-$label.tok" \
    -api-token "@$TMP/lat-$label.api" -sim "$TMP/sim" -rates "$(tr -s ' ' ',' <<<"$LAT_RATES")" -duration "${LAT_SECONDS}s" \
    -tick "$LAT_TICK" -clients "$LAT_CLIENTS" -poll "$LAT_POLL" -hook="$LAT_HOOK" -label "$label" -run "lat$label" \
    -json "$RESULTS" | tee "$OUT/latency-$label.txt"; then
    log "$label: latency: failed (see above)"
    FAILED="$FAILED latency-$label"
  fi
  stop_pid "$SERVER_PID"
  SERVER_PID=""
}

# start_pg: a throwaway PostgreSQL server with the default durability (fsync on,
# synchronous_commit on), data in $TMP; prints its admin URL.
start_pg() {
  [ -n "$PGBIN" ] && [ "$(id -u)" = 0 ] || return 1
  id postgres >/dev/null 2>&1 || useradd --system --home "$TMP/pg" postgres
  PGDATA=$TMP/pg
  mkdir -p "$PGDATA" && chown postgres "$PGDATA"
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U medguard --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  local port
  port=$("$EB" freeport)
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_wal_size=2GB" start >/dev/null
  echo "postgres://medguard@127.0.0.1:$port/postgres?sslmode=disable"
}

for engine in $ENGINES; do
  case $engine in
  sqlite)
    if [[ " $SCENARIOS " == *" ingest "* ]]; then
      mkdir -p "$TMP/sqlite"
      bench_engine sqlite "sqlite:$TMP/sqlite/medguard.db" "sqlite:$TMP/ceiling.db" --data "$TMP/sqlite"
    fi
    if [[ " $SCENARIOS " == *" latency "* ]]; then
      mkdir -p "$TMP/lat-sqlite"
      bench_latency sqlite "sqlite:$TMP/lat-sqlite/medguard.db" --data "$TMP/lat-sqlite"
    fi
    ;;
  postgres)
    admin=${MEDGUARD_BENCH_POSTGRES:-}
    if [ -z "$admin" ]; then
      admin=$(start_pg || true)
      PGDATA=$TMP/pg
      # Its postmaster: its and its backends' CPU time is charged with medguard's.
      PG_POSTMASTER=$(head -1 "$PGDATA/postmaster.pid" 2>/dev/null || true)
    fi
    if [ -z "$admin" ]; then
      log "no PostgreSQL (set MEDGUARD_BENCH_POSTGRES or install postgresql as root): skipped"
      continue
    fi
    case $admin in
    postgres://*@127.0.0.1[:/]* | postgres://127.0.0.1[:/]*) ;;
    *) log "MEDGUARD_BENCH_POSTGRES must point at 127.0.0.1: skipped"; continue ;;
    esac
    base=${admin%%\?*}
    query=${admin#"$base"}
    adminurl="${base%/*}/postgres$query"
    pgurl="${base%/*}/medguard_evbench$query"
    ceilurl="${base%/*}/medguard_evceiling$query"
    laturl="${base%/*}/medguard_evlatency$query"
    timeout 120 psql "$adminurl" -qc "DROP DATABASE IF EXISTS medguard_evbench" -c "CREATE DATABASE medguard_evbench" \
      -c "DROP DATABASE IF EXISTS medguard_evceiling" -c "CREATE DATABASE medguard_evceiling" \
      -c "DROP DATABASE IF EXISTS medguard_evlatency" -c "CREATE DATABASE medguard_evlatency"
    echo "postgres: $(psql "$pgurl" -tAc 'SHOW server_version') ($(psql "$pgurl" -tAc \
      "SELECT string_agg(name || '=' || setting, ' ') FROM pg_settings WHERE name IN ('shared_buffers','fsync','synchronous_commit','full_page_writes','max_wal_size')"))" >>"$OUT/env.txt"
    # The keys (events.key, reference.key …) go to a data directory of this run, not ./data.
    mkdir -p "$TMP/pg-data" "$TMP/pg-lat-data"
    if [[ " $SCENARIOS " == *" ingest "* ]]; then
      bench_engine postgres "$pgurl" "$ceilurl" --db "$pgurl" --data "$TMP/pg-data"
    fi
    if [[ " $SCENARIOS " == *" latency "* ]]; then
      bench_latency postgres "$laturl" --db "$laturl" --data "$TMP/pg-lat-data"
    fi
    timeout 120 psql "$adminurl" -qc "DROP DATABASE IF EXISTS medguard_evbench" -c "DROP DATABASE IF EXISTS medguard_evceiling" \
      -c "DROP DATABASE IF EXISTS medguard_evlatency" || true
    ;;
  *) log "unknown engine $engine" ;;
  esac
done

if [[ " $SCENARIOS " == *" ingest "* ]] && [[ " $PEERS " == *" rsyslog "* ]] && command -v rsyslogd >/dev/null 2>&1; then
  port=$("$EB" freeport)
  mkdir -p "$TMP/rsyslog"
  cat >"$TMP/rsyslog.conf" <<EOF
global(workDirectory="$TMP/rsyslog")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$port")
*.* action(type="omfile" file="$TMP/rsyslog/out.log")
EOF
  log "rsyslog: imtcp on 127.0.0.1:$port -> omfile"
  rsyslogd -n -f "$TMP/rsyslog.conf" -i "$TMP/rsyslog/rsyslogd.pid" >"$OUT/rsyslog.log" 2>&1 &
  RSYSLOG_PID=$!
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  timeout 900 "$EB" syslog -pid "$RSYSLOG_PID" -addr "127.0.0.1:$port" -conns "$CONNS" -events "$EVENTS" -file "$TMP/rsyslog/out.log" \
    -label - -scenario peer:rsyslog -run "r" -json "$RESULTS" | tee "$OUT/rsyslog.txt"
  stop_pid "$RSYSLOG_PID"
  RSYSLOG_PID=""
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/env.txt"
"$EB" report -json "$RESULTS" | tee "$OUT/report.md"
log "results in $OUT"
if [ -n "$FAILED" ]; then
  log "failed:$FAILED"
  exit 1
fi
