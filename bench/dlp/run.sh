#!/usr/bin/env bash
# bench/dlp/run.sh: scanning speed of medguard against ripgrep and gitleaks (issue 4).
#
# 1. Builds medguard; installs ripgrep (apt-get) when missing and gitleaks v8.30.0 into
#    .peers/.
# 2. Creates the mixed corpus (Chinese clinical text, logs, CSV) with
#    `go run ./bench/dlp/gen -mode mixed -size $SIZE -seed 1 -out DIR` unless CORPUS names
#    an existing directory.
# 3. Measures, each RUNS times (median wall time; peak RSS of the median run):
#    rg with the ID+mobile pattern twice — counting matching lines (-c, no output: the
#    ceiling) and printing every match with its line and byte offset (-o -n -b: the work
#    medguard's JSON lines do) —, gitleaks with the same two patterns, and
#    `medguard scan --format json` with the ID and mobile types, the structured types and
#    all detectors — on one core (taskset -c 0, GOMAXPROCS=1, rg -j1) and on all cores.
# 4. Memory flat in file size: peak RSS of `medguard scan` (all detectors) of one file of
#    SIZE/10 and one of SIZE bytes (the corpus files concatenated).
# 5. Writes a markdown table (MB/s, ratio to rg on the same cores, peak RSS) to
#    bench/out/dlp-<UTC stamp>.md and prints it.
#
# Environment: SIZE (bytes, default 1 GiB), CORPUS (an existing corpus directory: skips
# generation), RUNS (3), BENCH_OUT (output file), TIMEOUT (seconds per command, 1800),
# SKIP_GITLEAKS=1 (leave gitleaks out: on 1 GiB it takes over 5 minutes a run and
# more than 20 GB of memory).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SIZE=${SIZE:-1073741824}
RUNS=${RUNS:-3}
LIMIT=${TIMEOUT:-1800}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-$ROOT/bench/out/dlp-$STAMP.md}
GITLEAKS=$ROOT/.peers/gitleaks
mkdir -p "$(dirname "$OUT")"
TMP=$(mktemp -d /tmp/medguard-dlp.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'echo "run.sh: line $LINENO: command failed (exit $?)" >&2' ERR
STARTED=$(date +%s)

step() { printf '\n== %s (%ss)\n' "$*" $(( $(date +%s) - STARTED )) >&2; }
# limited SECONDS CMD...: run CMD, killed after SECONDS.
limited() { local s=$1; shift; timeout --kill-after=10 "$s" "$@"; }

step "build"
cd "$ROOT"
limited 600 go build -o "$TMP/medguard" ./cmd/medguard
MG=$TMP/medguard
if ! command -v rg >/dev/null || [ ! -x /usr/bin/time ]; then
  step "install ripgrep and GNU time"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    limited 300 apt-get install -y ripgrep time >"$TMP/apt.txt" 2>&1 || { cat "$TMP/apt.txt" >&2; exit 2; }
  else
    echo "ripgrep and GNU time (/usr/bin/time) are needed: apt-get install -y ripgrep time" >&2
    exit 2
  fi
fi
if [ ! -x "$GITLEAKS" ]; then
  step "install gitleaks v8.30.0 into .peers"
  GOBIN=$ROOT/.peers limited 900 go install github.com/zricethezav/gitleaks/v8@v8.30.0
fi

if [ -n "${CORPUS:-}" ]; then
  [ -d "$CORPUS" ] || { echo "CORPUS=$CORPUS is not a directory" >&2; exit 2; }
  DIR=$(cd "$CORPUS" && pwd)
else
  DIR=$TMP/corpus
  step "generate the mixed corpus ($SIZE bytes)"
  limited "$LIMIT" go run ./bench/dlp/gen -mode mixed -size "$SIZE" -seed 1 -out "$DIR"
fi
BYTES=$(find "$DIR" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
[ "$BYTES" -gt 0 ] || { echo "empty corpus $DIR" >&2; exit 2; }

# The peer patterns: an 18-character resident ID and a mobile number.
ID_RE='[0-9]{17}[0-9Xx]'
MOBILE_RE='1[3-9][0-9]{9}'
cat >"$TMP/gitleaks.toml" <<TOML
title = "medguard benchmark: resident ID and mobile number"
[[rules]]
id = "cn-resident-id"
description = "18-character resident ID"
regex = '''$ID_RE'''
[[rules]]
id = "cn-mobile"
description = "mobile number"
regex = '''$MOBILE_RE'''
TOML
STRUCTURED=cn_resident_id,cn_mobile,cn_landline,email,bank_card,cn_passport,hk_macau_permit,cn_uscc,medical_insurance_no,ip_address

# measure NAME CMD...: run CMD RUNS times with stdout to /dev/null; records the median
# wall time and the peak RSS of that run as "NAME seconds kilobytes" in $TMP/results.
measure() {
  local name=$1; shift
  local k
  : >"$TMP/runs"
  for ((k = 1; k <= RUNS; k++)); do
    if ! limited "$LIMIT" /usr/bin/time -f '%e %M' -o "$TMP/time" "$@" >/dev/null 2>"$TMP/stderr"; then
      # rg exits 1 when nothing matched, gitleaks 1 when it found something: a time
      # file with a figure is a measured run; anything else is a failure.
      if ! grep -qE '^[0-9.]+ [0-9]+$' <(tail -1 "$TMP/time"); then
        echo "$name failed:" >&2; tail -5 "$TMP/stderr" >&2
        echo "$name - -" >>"$TMP/results"
        return
      fi
    fi
    tail -1 "$TMP/time" >>"$TMP/runs"
  done
  echo "$name $(sort -n "$TMP/runs" | sed -n "$(( (RUNS + 1) / 2 ))p")" >>"$TMP/results"
  printf '%s: %s\n' "$name" "$(sort -n "$TMP/runs" | tr '\n' ' ')" >&2
}

: >"$TMP/results"
ONE=(taskset -c 0 env GOMAXPROCS=1)
step "measure ($RUNS runs each, $BYTES bytes)"
measure "rg-1"            taskset -c 0 rg -j1 -c -e "$ID_RE" -e "$MOBILE_RE" "$DIR"
measure "rg-all"          rg -c -e "$ID_RE" -e "$MOBILE_RE" "$DIR"
measure "rgo-1"           taskset -c 0 rg -j1 -o -n -b -e "$ID_RE" -e "$MOBILE_RE" "$DIR"
measure "rgo-all"         rg -o -n -b -e "$ID_RE" -e "$MOBILE_RE" "$DIR"
if [ "${SKIP_GITLEAKS:-}" = 1 ]; then
  echo "gitleaks-1 - -" >>"$TMP/results"; echo "gitleaks-all - -" >>"$TMP/results"
else
measure "gitleaks-1"      "${ONE[@]}" "$GITLEAKS" dir --no-banner --no-color --log-level error --exit-code 0 --max-decode-depth 0 -c "$TMP/gitleaks.toml" -f json -r "$TMP/gitleaks.json" "$DIR"
measure "gitleaks-all"    "$GITLEAKS" dir --no-banner --no-color --log-level error --exit-code 0 --max-decode-depth 0 -c "$TMP/gitleaks.toml" -f json -r "$TMP/gitleaks.json" "$DIR"
fi
measure "idmobile-1"      "${ONE[@]}" "$MG" scan --format json --types cn_resident_id,cn_mobile "$DIR"
measure "idmobile-all"    "$MG" scan --format json --types cn_resident_id,cn_mobile "$DIR"
measure "structured-1"    "${ONE[@]}" "$MG" scan --format json --types "$STRUCTURED" "$DIR"
measure "structured-all"  "$MG" scan --format json --types "$STRUCTURED" "$DIR"
measure "all-1"           "${ONE[@]}" "$MG" scan --format json "$DIR"
measure "all-all"         "$MG" scan --format json "$DIR"

step "memory in file size"
find "$DIR" -type f -print0 | sort -z | xargs -0 cat >"$TMP/big.txt"
head -c $(( BYTES / 10 )) "$TMP/big.txt" >"$TMP/small.txt"
SMALL=$(stat -c %s "$TMP/small.txt")
OLD_RUNS=$RUNS
RUNS=1
measure "mem-small" "$MG" scan --format json "$TMP/small.txt"
measure "mem-big"   "$MG" scan --format json "$TMP/big.txt"
RUNS=$OLD_RUNS
rm -f "$TMP/big.txt" "$TMP/small.txt"

# Table.
get() { awk -v n="$1" '$1 == n {print $'"$2"'}' "$TMP/results"; }
mbs() { local s; s=$(get "$1" 2); [ "$s" = - ] && { echo -; return; }; awk -v b="$BYTES" -v s="$s" 'BEGIN {printf "%.1f", b / 1e6 / (s > 0 ? s : 0.01)}'; }
ratio() { local a b; a=$(mbs "$1"); b=$(mbs "$2"); [ "$a" = - ] || [ "$b" = - ] && { echo -; return; }; awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}'; }
rss() { local m; m=$(get "$1" 3); [ "$m" = - ] && { echo -; return; }; awk -v m="$m" 'BEGIN {printf "%.0f", m / 1024}'; }
{
  echo "# medguard scan vs ripgrep and gitleaks ($STAMP)"
  echo
  echo "- machine: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "- corpus: $DIR, $BYTES bytes: $(find "$DIR" -type f -printf '%f (%s) ' | sort)"
  echo "- $RUNS runs each, median wall time (GNU time), peak RSS of that run; one core = taskset -c 0 (and GOMAXPROCS=1, rg -j1)"
  echo "- rg: \`rg -c -e '$ID_RE' -e '$MOBILE_RE'\` (count of matching lines) and \`rg -o -n -b\` with the same patterns (every match with line and byte offset) ($(rg --version | head -1)); gitleaks v8.30.0 \`dir\` with the same two patterns as rules; medguard \`scan --format json\` to /dev/null"
  echo
  echo "| tool | one core MB/s | ratio to rg -c | ratio to rg -o | peak RSS MB | all cores MB/s | ratio to rg -c | ratio to rg -o | peak RSS MB |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for row in "rg -c ID+mobile:rg" "rg -o -n -b ID+mobile:rgo" "gitleaks ID+mobile:gitleaks" "medguard cn_resident_id,cn_mobile:idmobile" "medguard structured (10 types):structured" "medguard all detectors:all"; do
    label=${row%%:*}; key=${row##*:}
    echo "| $label | $(mbs "$key-1") | $(ratio "$key-1" rg-1) | $(ratio "$key-1" rgo-1) | $(rss "$key-1") | $(mbs "$key-all") | $(ratio "$key-all" rg-all) | $(ratio "$key-all" rgo-all) | $(rss "$key-all") |"
  done
  echo
  echo "Memory in file size (medguard scan, all detectors, all cores, one run): $SMALL bytes → $(rss mem-small) MB peak RSS, $BYTES bytes → $(rss mem-big) MB peak RSS."
} >"$OUT"
step "done: $OUT"
cat "$OUT"
