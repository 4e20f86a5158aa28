#!/usr/bin/env bash
# bench/supply/run.sh: supply-chain benchmark of medguard against osv-scanner (issue 3).
#
# 1. Builds medguard and bench/supply/gen; installs osv-scanner v2.4.0 into .peers/
#    when missing; imports the OSV exports Go, PyPI and crates.io into a fresh medguard
#    SQLite database and lays out the same exports as osv-scanner's offline database
#    (other ecosystems get a zip without records).
# 2. Correctness: every file under sbom/{cyclonedx-examples,in-the-wild,
#    osv-scanner-testdata} that medguard reads is checked by both tools; the sets of
#    (ecosystem, name, version, vulnerability id) pairs are compared per file (files
#    osv-scanner refuses or cannot read are also compared with their purls re-wrapped
#    as CycloneDX JSON); the same for the generated SBOMs and a small probe SBOM; every
#    difference is classified against the advisory (gen classify).
# 3. Speed: generated CycloneDX SBOMs of 50, 500 and 3,000 real package versions
#    (fixed seed), `medguard sbom check F --format json` against
#    `osv-scanner scan source --offline-vulnerabilities -L F --format json`, with
#    hyperfine (else gen timeit) and the peak RSS of one run of each (/usr/bin/time -v).
# 4. Go benchmarks BenchmarkImportSBOM3000 and BenchmarkRematch of internal/supply
#    (SQLite; PostgreSQL too when MEDGUARD_TEST_POSTGRES is set).
# 5. Writes summary.md (gen report) and prints it.
#
# Every step has a time limit; the whole run takes about 10 minutes on 2 cores.
# Results: bench/out/supply-<UTC stamp>/ (raw outputs, *.jsonl, summary.md).
#
# Environment: SUPPLY_DATA (../shared/data), SUPPLY_SIZES ("50 500 3000"),
# SUPPLY_RUNS (runs per size: "10 10 5"), SUPPLY_EXHAUSTIVE=1 also compares the tools on
# one SBOM holding every version the advisories name (42,000 components; osv-scanner
# needs about 5 minutes and 5 GB for it), SUPPLY_GOBENCH=0 skips the Go benchmarks,
# MEDGUARD_TEST_POSTGRES (PostgreSQL for the Go benchmarks), BENCH_OUT.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${SUPPLY_DATA:-$ROOT/../shared/data}
SIZES=${SUPPLY_SIZES:-"50 500 3000"}
read -r -a RUNS <<<"${SUPPLY_RUNS:-10 10 5}"
OUT=${BENCH_OUT:-$ROOT/bench/out/supply-$(date -u +%Y%m%dT%H%M%SZ)}
PEER=$ROOT/.peers/osv-scanner
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d /tmp/medguard-supply.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'echo "run.sh: line $LINENO: command failed (exit $?); outputs so far in $OUT" >&2' ERR
STARTED=$(date +%s)

step() { printf '\n== %s (%ss)\n' "$*" $(( $(date +%s) - STARTED )); }
# limited SECONDS CMD...: run CMD, killed after SECONDS.
limited() { local s=$1; shift; timeout --kill-after=10 "$s" "$@"; }

for d in osv/Go osv/PyPI osv/crates.io sbom; do
  [ -e "$DATA/$d" ] || { echo "missing $DATA/$d (set SUPPLY_DATA)" >&2; exit 2; }
done

step "build"
cd "$ROOT"
limited 600 go build -o "$TMP/medguard" ./cmd/medguard
limited 300 go build -o "$TMP/gen" ./bench/supply/gen
MG=$TMP/medguard
GEN=$TMP/gen
if [ ! -x "$PEER" ]; then
  step "install osv-scanner v2.4.0 into .peers"
  GOBIN=$ROOT/.peers limited 900 go install github.com/google/osv-scanner/v2/cmd/osv-scanner@v2.4.0
fi
if ! command -v hyperfine >/dev/null || [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    limited 300 apt-get install -y hyperfine time >"$OUT/apt.txt" 2>&1 || echo "apt-get failed: see apt.txt (falling back to gen timeit)"
  fi
fi
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time, package time) is needed for peak memory" >&2; exit 2; }

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "memory: $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "kernel: $(uname -sr)"
  echo "go: $(go version)"
  echo "osv-scanner: $("$PEER" --version 2>&1 | head -1)"
  echo "hyperfine: $(hyperfine --version 2>/dev/null || echo 'not installed (gen timeit)')"
  echo "medguard: built from this checkout (SQLite database in a temporary folder)"
  echo "data: $DATA"
} >"$OUT/env.txt"
cat "$OUT/env.txt"

step "vulnerability databases"
MGDATA=$TMP/mgdata
/usr/bin/time -v "$MG" --data "$MGDATA" vulndb import "$DATA/osv/Go" "$DATA/osv/PyPI" "$DATA/osv/crates.io" \
  >"$OUT/vulndb-import.txt" 2>"$OUT/vulndb-import.time" || { cat "$OUT/vulndb-import.txt" "$OUT/vulndb-import.time"; exit 1; }
grep -v level=INFO "$OUT/vulndb-import.txt" || true
"$MG" --data "$MGDATA" vulndb status >"$OUT/vulndb-status.txt"
# Warm-up check (first run after the import). Builds before cli/supply.go of 07:59 created
# the default organisation here and said so on stdout, ahead of the JSON: after this
# warm-up the outputs below are JSON only with either build.
printf '{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[]}' >"$TMP/empty.cdx.json"
"$MG" --data "$MGDATA" sbom check "$TMP/empty.cdx.json" --format json >"$OUT/first-check.txt" 2>&1
OSVDB=$TMP/osvdb
"$GEN" osvdb -osv "$DATA/osv" -out "$OSVDB"
export OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY=$OSVDB

# $TIMEV FILE CMD...: run CMD, writing GNU time's report (peak RSS) to FILE.
TIMEV="/usr/bin/time -v -o"

# rewrap NAME FILE MEDGUARD_JSON: for a file osv-scanner does not read, run it on the
# same purls re-wrapped as CycloneDX JSON and append the comparison to rewrapped.jsonl.
rewrap() {
  local name=$1 f=$2 mj=$3 key rc=0
  key=$(printf '%s' "$name" | tr '/ ' '__')
  "$GEN" tocdx -sbom "$f" -out "$TMP/rewrap.cdx.json"
  limited 900 "$PEER" scan source --offline-vulnerabilities -L "$TMP/rewrap.cdx.json" --format json \
    >"$OUT/raw/$key.rewrap.osv.json" 2>"$OUT/raw/$key.rewrap.osv.err" || rc=$?
  if [ "$rc" -gt 1 ]; then
    "$GEN" compare -name "$name" -medguard "$mj" -sbom "$f" \
      -refused "exit $rc: $(grep -v -e '^Starting' -e '^End status' -e '^Scanned ' "$OUT/raw/$key.rewrap.osv.err" | head -c 200 | tr '\n\t' '; ')" \
      >>"$OUT/rewrapped.jsonl"
  else
    "$GEN" compare -name "$name" -medguard "$mj" -osv "$OUT/raw/$key.rewrap.osv.json" -sbom "$f" >>"$OUT/rewrapped.jsonl"
  fi
}

# compare_file NAME FILE JSONL: check FILE with both tools and append the comparison.
compare_file() {
  local name=$1 f=$2 jsonl=$3 key ext mj oj
  key=$(printf '%s' "$name" | tr '/ ' '__')
  mj=$OUT/raw/$key.medguard.json
  if ! limited 300 $TIMEV "$OUT/raw/$key.medguard.time" "$MG" --data "$MGDATA" sbom check "$f" --format json >"$mj" \
    2>"$OUT/raw/$key.medguard.err"; then
    printf '%s\t%s\n' "$name" "$(head -c 300 "$OUT/raw/$key.medguard.err" | tr '\n\t' '  ')" >>"$OUT/not-sbom.txt"
    rm -f "$mj"
    return 0
  fi
  ext=$("$GEN" ext -medguard "$mj")
  if [ -z "$ext" ]; then
    "$GEN" compare -name "$name" -medguard "$mj" -sbom "$f" -refused "SPDX tag-value: osv-scanner does not read it" >>"$jsonl"
    rewrap "$name" "$f" "$mj"
    return 0
  fi
  cp "$f" "$TMP/sbom.$ext"
  oj=$OUT/raw/$key.osv.json
  local rc=0
  limited 900 $TIMEV "$OUT/raw/$key.osv.time" "$PEER" scan source --offline-vulnerabilities -L "$TMP/sbom.$ext" --format json \
    >"$oj" 2>"$OUT/raw/$key.osv.err" || rc=$?
  if [ "$rc" -gt 1 ]; then
    local msg
    msg=$(grep -v -e '^Starting filesystem walk' -e '^End status' -e '^Scanned ' -e '^Loaded ' "$OUT/raw/$key.osv.err" \
      | sed -E -e "s|/*${TMP#/}/sbom.$ext|FILE|g" -e 's/^Error during extraction: \(extracting as [^)]*\) FILE: //' \
        -e 's/^Neither CPE nor PURL found for package: .*[ {]Name:([^ ]*) .*/no purl or CPE for package \1/' \
        -e 's/^Neither CPE nor PURL found for package: .*PackageName:([^ ]*) .*/no purl or CPE for package \1/' \
      | awk '!seen[$0]++' | head -c 400 | tr '\n\t' '; ')
    "$GEN" compare -name "$name" -medguard "$mj" -sbom "$f" -refused "exit $rc: $msg" >>"$jsonl"
    rewrap "$name" "$f" "$mj"
  else
    "$GEN" compare -name "$name" -medguard "$mj" -osv "$oj" -sbom "$f" >>"$jsonl"
  fi
}

step "correctness: real SBOMs"
mkdir -p "$OUT/raw"
: >"$OUT/correctness.jsonl"
: >"$OUT/rewrapped.jsonl"
: >"$OUT/not-sbom.txt"
while IFS= read -r f; do
  compare_file "${f#"$DATA"/sbom/}" "$f" "$OUT/correctness.jsonl"
done < <(find "$DATA/sbom/cyclonedx-examples" "$DATA/sbom/in-the-wild" "$DATA/sbom/osv-scanner-testdata" -type f | LC_ALL=C sort)
echo "$(wc -l <"$OUT/correctness.jsonl") SBOMs compared, $(wc -l <"$OUT/not-sbom.txt") other files"

step "correctness: generated SBOMs and probes"
GENDIR=$TMP/generated
extra=""
[ "${SUPPLY_EXHAUSTIVE:-0}" = 1 ] && extra=-all
"$GEN" sboms -osv "$DATA/osv" -out "$GENDIR" -sizes "$(echo $SIZES | tr ' ' ,)" -seed 1 $extra
"$GEN" probes -out "$GENDIR"
: >"$OUT/generated.jsonl"
for n in $SIZES; do
  compare_file "generated/gen-$n.cdx.json" "$GENDIR/gen-$n.cdx.json" "$OUT/generated.jsonl"
done
if [ -n "$extra" ]; then
  # Wall time and peak RSS of this one run are in raw/generated_gen-all.cdx.json.*.time.
  compare_file "generated/gen-all.cdx.json" "$GENDIR/gen-all.cdx.json" "$OUT/generated.jsonl"
fi
: >"$OUT/probes.jsonl"
compare_file "generated/probes.cdx.json" "$GENDIR/probes.cdx.json" "$OUT/probes.jsonl"
cat "$OUT/correctness.jsonl" "$OUT/rewrapped.jsonl" "$OUT/generated.jsonl" "$OUT/probes.jsonl" | "$GEN" classify -osv "$DATA/osv" >"$OUT/differences.jsonl"
echo "$(wc -l <"$OUT/differences.jsonl") differing pairs classified; unexplained: $(grep -c '"class":"unexplained"' "$OUT/differences.jsonl" || true)"

step "speed"
i=0
for n in $SIZES; do
  runs=${RUNS[$i]:-5}
  i=$((i + 1))
  f=$GENDIR/gen-$n.cdx.json
  mgcmd="$MG --data $MGDATA sbom check $f --format json"
  osvcmd="$PEER scan source --offline-vulnerabilities -L $f --format json"
  rm -f "$OUT/timing-$n.json"
  if command -v hyperfine >/dev/null; then
    limited 900 hyperfine --warmup 1 --runs "$runs" -i --export-json "$OUT/timing-$n.json" --output=null \
      -n medguard "$mgcmd" -n osv-scanner "$osvcmd" >"$OUT/hyperfine-$n.txt" 2>&1
  else
    limited 900 "$GEN" timeit -runs "$runs" -out "$OUT/timing-$n.json" -name medguard -- $mgcmd
    limited 900 "$GEN" timeit -runs "$runs" -out "$OUT/timing-$n.json" -name osv-scanner -- $osvcmd
  fi
  : >"$OUT/rss-$n.txt"
  for tool in medguard osv-scanner; do
    cmd=$mgcmd
    [ $tool = osv-scanner ] && cmd=$osvcmd
    limited 900 /usr/bin/time -v $cmd >/dev/null 2>"$OUT/time-$tool-$n.txt" || true
    echo "$tool $(awk -F: '/Maximum resident set size/{gsub(/ /,"",$2); print $2}' "$OUT/time-$tool-$n.txt")" >>"$OUT/rss-$n.txt"
  done
  echo "size $n: $(cat "$OUT/rss-$n.txt" | tr '\n' ' ')"
done

if [ "${SUPPLY_GOBENCH:-1}" = 1 ]; then
  step "Go benchmarks (internal/supply)"
  : >"$OUT/gobench.txt"
  # Each invocation sets up its own databases; the Rematch benchmark of 10,000
  # advisories runs one timed iteration (one iteration there changes ~50,000 findings).
  limited 900 go test -run '^$' -bench 'BenchmarkImportSBOM3000' -benchtime 2x -benchmem -timeout 15m \
    ./internal/supply/ 2>&1 | tee -a "$OUT/gobench.txt" | grep -E '^(Benchmark|ok|FAIL|---)' || true
  limited 900 go test -run '^$' -bench 'BenchmarkRematch/.*/advisories=(1|100)$' -benchtime 10x -benchmem -timeout 15m \
    ./internal/supply/ 2>&1 | tee -a "$OUT/gobench.txt" | grep -E '^(Benchmark|ok|FAIL|---)' || true
  limited 1200 go test -run '^$' -bench 'BenchmarkRematch/.*/advisories=10000$' -benchtime 1x -benchmem -timeout 20m \
    ./internal/supply/ 2>&1 | tee -a "$OUT/gobench.txt" | grep -E '^(Benchmark|ok|FAIL|---)' || true
fi

step "report"
"$GEN" report -dir "$OUT" -sizes "$(echo $SIZES | tr ' ' ,)"
echo
echo "results in $OUT (total $(( $(date +%s) - STARTED ))s)"
