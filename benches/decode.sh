#!/usr/bin/env bash
# Decode benchmark: gotv's decoder against Go's own reader, on the same trace.
#
# gotv claims to read Go traces as Go's internal/trace does, only faster. This
# script measures that claim on a large, realistic trace (see README.md here):
#
#   1. locates (installing if needed) the Go toolchain whose reader is the
#      reference, via testdata/go-toolchains.sh;
#   2. builds benches/goreader, which reads every event with internal/trace.
#      That package can only be imported from inside GOROOT, so the program is
#      built inside a private copy of the toolchain (target/bench/goroot, made
#      once); the installed toolchain is never modified;
#   3. generates the trace with benches/gen (cached under target/bench/);
#   4. builds `gotv` (cargo build --release) and times the Go reader and
#      `gotv check` (on all CPUs, and single-threaded) on the same file, best
#      of N runs each, warm page cache, and prints seconds, MB/s, events/s,
#      the Go/gotv ratio, peak RSS and, when gotv check reports it, the time
#      of its generation index pass. The event counts must agree, or the
#      script fails.
#
# Usage: benches/decode.sh [--size 100m|1g|BYTES] [--runs N] [--regen] [--go-only]
#   --size     trace size (default 100m; 1g is ~180 M events, ~600k goroutines)
#   --runs     runs per reader, the best one is reported (default 3)
#   --regen    generate the trace again even if it is cached
#   --go-only  time Go's reader only (no cargo build)
set -euo pipefail

size=100m
runs=3
regen=false
go_only=false
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=${2:?--size needs a value}; shift 2 ;;
    --runs) runs=${2:?--runs needs a value}; shift 2 ;;
    --regen) regen=true; shift ;;
    --go-only) go_only=true; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "decode.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "decode.sh: --runs must be a positive integer" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/target/bench
mkdir -p "$out"
export GOTOOLCHAIN=local GOFLAGS='' GOWORK=off

# GNU time reports peak RSS; bash's `time` keyword does not.
if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
  else
    echo "decode.sh: /usr/bin/time (GNU time) is missing; install the 'time' package" >&2
    exit 1
  fi
fi

# 1. The reference toolchain.
spec_version=1.27.3
go=$(bash "$repo/testdata/go-toolchains.sh" "$spec_version" | cut -f2)
goroot=$("$go" env GOROOT)

# 2. Go's reader, built inside a private GOROOT copy.
copy=$out/goroot
if [ ! -x "$copy/bin/go" ] || ! grep -q "^go$spec_version\$" "$copy/VERSION"; then
  echo "decode.sh: copying GOROOT of Go $spec_version to $copy (once)" >&2
  rm -rf "$copy" "$copy.tmp"
  cp -a "$goroot" "$copy.tmp"
  mv "$copy.tmp" "$copy"
fi
mkdir -p "$copy/src/cmd/gotvbench-goreader"
cp "$repo/benches/goreader/main.go" "$copy/src/cmd/gotvbench-goreader/main.go"
(cd "$copy/src/cmd" && GOROOT=$copy "$copy/bin/go" build -o "$out/goreader" ./gotvbench-goreader)

# 3. The trace, generated once per size and version of the generator.
gen_id=$(cat "$repo"/benches/gen/go.mod "$repo"/benches/gen/*.go | sha256sum | cut -c1-8)
trace=$out/trace-$size-$gen_id.trace
if $regen || [ ! -s "$trace" ]; then
  (cd "$repo/benches/gen" && "$go" build -o "$out/gen" .)
  echo "decode.sh: generating ${trace#"$repo"/} (the 1g size takes a few minutes)" >&2
  rm -f "$out/trace-$size-"*.trace "$out/trace-$size-"*.trace.desc # older generators' traces
  "$out/gen" -o "$trace.tmp" -size "$size"
  mv "$trace.tmp" "$trace"
fi
if [ ! -s "$trace.desc" ]; then
  "$out/goreader" -goroutines "$trace" >"$trace.desc.tmp"
  mv "$trace.desc.tmp" "$trace.desc"
fi
bytes=$(stat -c %s "$trace")
read -r go_events_desc goroutines_desc < <(sed -E 's/.*events=([0-9]+).*goroutines=([0-9]+).*/\1 \2/' "$trace.desc")

# 4. Timing. Each run is wrapped in GNU time for the peak RSS; wall time is
# taken around it with nanosecond resolution. Best (lowest) time wins; the
# RSS reported is the largest seen over all runs.
run_best() { # LABEL CMD... -> sets best_s, rss_kib, stdout_of_best
  local label=$1 i t0 t1 secs rss
  shift
  best_s=
  rss_kib=0
  for ((i = 1; i <= runs; i++)); do
    t0=$(date +%s%N)
    if ! /usr/bin/time -v -o "$out/time.txt" "$@" >"$out/run.out" 2>"$out/run.err"; then
      echo "decode.sh: $label failed:" >&2
      cat "$out/run.err" "$out/time.txt" >&2
      exit 1
    fi
    t1=$(date +%s%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    rss=$(awk -F': *' '/Maximum resident set size/ { print $2 }' "$out/time.txt")
    ((rss > rss_kib)) && rss_kib=$rss
    if [ -z "$best_s" ] || awk -v a="$secs" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
      best_s=$secs
      stdout_of_best=$(cat "$out/run.out")
    fi
  done
}

events_of() { sed -nE 's/.*events=([0-9]+).*/\1/p' <<<"$1" | head -n1; }

row() { # LABEL SECONDS EVENTS RSS_KIB
  awk -v l="$1" -v s="$2" -v e="$3" -v r="$4" -v b="$bytes" 'BEGIN {
    printf "%-30s %8.3f %9.1f %11.2f %11d %9.0f\n", l, s, b / 1e6 / s, e / 1e6 / s, e, r / 1024 }'
}

cat "$trace" >/dev/null # warm the page cache for every reader alike

rows=()
run_best "Go internal/trace" "$out/goreader" "$trace"
go_s=$best_s
go_events=$(events_of "$stdout_of_best")
rows+=("$(row "Go $spec_version internal/trace" "$go_s" "$go_events" "$rss_kib")")

if ! $go_only; then
  (cd "$repo" && cargo build --release --quiet --bin gotv)
  gotv=$repo/target/release/gotv
  # Default: gotv picks its thread count from the CPUs it may use.
  run_best "gotv check" "$gotv" check "$trace"
  gotv_s=$best_s
  gotv_summary=$stdout_of_best
  gotv_events=$(events_of "$gotv_summary")
  rows+=("$(row "gotv check ($(nproc) CPUs)" "$gotv_s" "$gotv_events" "$rss_kib")")
  # Single-threaded: GOTV_THREADS=1 asks gotv check for one decoding thread,
  # and taskset keeps the whole process (any helper thread too) on one CPU.
  single=(env GOTV_THREADS=1)
  label="gotv check (GOTV_THREADS=1)"
  if command -v taskset >/dev/null; then
    single+=(taskset -c 0)
    label="gotv check (1 thread, 1 CPU)"
  fi
  run_best "$label" "${single[@]}" "$gotv" check "$trace"
  single_events=$(events_of "$stdout_of_best")
  rows+=("$(row "$label" "$best_s" "$single_events" "$rss_kib")")
fi

echo "trace: ${trace#"$repo"/}"
awk -v b="$bytes" -v e="$go_events_desc" -v g="$goroutines_desc" \
  'BEGIN { printf "       %.1f MB, %d events, %d goroutines\n", b / 1e6, e, g }'
$go_only || echo "gotv:  $gotv_summary"
echo "best of $runs runs, warm page cache, $(nproc) CPUs"
echo
printf "%-30s %8s %9s %11s %11s %9s\n" reader seconds MB/s Mevents/s events "RSS MiB"
printf '%s\n' "${rows[@]}"
if ! $go_only; then
  awk -v g="$go_s" -v t="$gotv_s" 'BEGIN { printf "\nratio Go/gotv: %.2f (Go'"'"'s time over gotv'"'"'s: above 1, gotv is faster)\n", g / t }'
  # The generation index pass, if gotv check reports its time (index=).
  index_s=$(sed -nE 's/.* index=([0-9.]+)s.*/\1/p' <<<"$gotv_summary")
  [ -z "$index_s" ] || echo "generation index pass: ${index_s}s (index= of the best gotv check run)"
  if [ "$go_events" != "$gotv_events" ] || [ "$go_events" != "$single_events" ]; then
    echo "decode.sh: EVENT COUNTS DIFFER: Go read $go_events events, gotv $gotv_events ($single_events single-threaded)" >&2
    exit 1
  fi
fi
