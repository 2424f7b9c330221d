#!/usr/bin/env bash
# Regenerates gotv's real test traces and Go's oracle output for each of them.
#
#   bash testdata/regen.sh                 # build + run every generator, then write oracles
#   bash testdata/regen.sh --oracles-only  # keep the committed traces, rewrite the oracles
#
# Needs the pinned toolchains (installed by testdata/go-toolchains.sh, which this
# script runs) and gcc for the cgo generator. Everything happens on this machine:
# standard library only, no module proxy, the HTTP workload listens on 127.0.0.1.
#
# For every testdata/traces/NAME.trace it writes
#   NAME.parsed     stdout of `go1.27.3 tool trace -d=parsed NAME.trace`, or
#   NAME.parsed.gz  the same gzipped (gzip -9 -n) when it is over 1 MiB (one rule for all);
#   NAME.oracle     key=value lines, see testdata/README.md.
# A new trace is written to a scratch directory first and moved into place only
# when every generator has succeeded.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
traces=$here/traces
gen=$here/gen
# Oracle toolchain: its `go tool trace -d=parsed` output is what we compare against.
ORACLE_GO=1.27.3
# Threshold above which NAME.parsed is stored gzipped as NAME.parsed.gz.
GZIP_OVER=$((1 << 20))
# Generation length for the multi-generation traces (Go 1.22+ honour it; Go 1.21 has no generations).
ADVANCE=traceadvanceperiod=20000000 # 20 ms

oracles_only=false
case "${1:-}" in
  --oracles-only) oracles_only=true ;;
  "") ;;
  *) echo "usage: $0 [--oracles-only]" >&2; exit 2 ;;
esac

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOWORK=off GOSUMDB=off
unset GODEBUG GOMAXPROCS GOARCH GOOS || true

declare -A GO
while IFS=$'\t' read -r v bin; do GO[$v]=$bin; done < <(bash "$here/go-toolchains.sh")
oracle_go=${GO[$ORACLE_GO]:?oracle toolchain $ORACLE_GO missing}

# What each trace exercises, for the table in testdata/README.md.
declare -A ABOUT=(
  [workload-go1.21]="v1 format (Go <= 1.21, no generations): the workload program, see next row"
  [workload-go1.22]="goroutine churn, channels + select, Mutex/RWMutex/Cond contention, file write/fsync/read and a pipe (syscalls), timers/tickers/AfterFunc, GC, loopback HTTP, tasks/regions/logs; 20 ms generations"
  [workload-go1.23]="the workload program, Go 1.23 format"
  [workload-go1.25]="the workload program, Go 1.25 format"
  [workload-go1.27]="the workload program, Go 1.26 format (written by Go 1.27)"
  [cpuprofile-go1.21]="CPU samples (pprof.StartCPUProfile while tracing), v1 format"
  [cpuprofile-go1.27]="CPU samples (StackSample events) from CPU-bound goroutines, 20 ms generations"
  [iterpull-go1.23]="iter.Pull coroutine switches (GoSwitch, GoSwitchDestroy), full and early-stopped iteration"
  [iterpull-go1.27]="iter.Pull coroutine switches, Go 1.26 format"
  [allocfree-go1.23]="GODEBUG=traceallocfree=1: experimental heap-object/span/goroutine-stack alloc and free events"
  [allocfree-go1.27]="GODEBUG=traceallocfree=1, Go 1.26 format"
  [cgo-go1.27]="cgo calls with callbacks into Go, on the calling thread and on a C-created pthread (GoCreateSyscall/GoDestroySyscall)"
  [flightrec-go1.25]="runtime/trace.FlightRecorder snapshot: a window of the run, generations not starting at 1"
  [flightrec-go1.27]="FlightRecorder snapshot, Go 1.26 format"
  [truncated-go1.22]="first 70% of workload-go1.22, cut inside a later generation"
  [truncated-go1.27]="first 70% of workload-go1.27, cut inside a later generation"
  [sample]="the GUI's bundled default: loopback HTTP server + clients, worker rounds, CPU-burst goroutines with CPU samples, GC, tasks/regions/logs; 200 ms generations"
)

start=$(date +%s)
mkdir -p "$traces"

if ! $oracles_only; then
  bindir=$root/target/testdata-gen
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/gotv-regen.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$bindir"

  # run NAME VERSION PROGRAM CGO BUDGET GODEBUG: builds testdata/gen/PROGRAM with
  # Go VERSION (CGO_ENABLED=CGO, -trimpath so no local paths end up in the trace)
  # and runs it with GODEBUG, writing $scratch/NAME.trace. A trace over BUDGET KiB
  # is thrown away and the program re-run (up to 5 times): on a machine with fewer
  # CPUs than GOMAXPROCS, Go 1.25+'s background sweeper now and then spins in
  # goschedIfBusy waiting for another sweeper and adds 100k+ scheduling events.
  run() {
    local name=$1 version=$2 prog=$3 cgo=$4 budget=$5 godebug=$6
    local go=${GO[$version]:?toolchain $version missing}
    local exe=$bindir/$prog-go$version
    # A program with its own go.mod is a module of its own, the rest share gen/go.mod.
    local moddir=$gen pkg=./$prog
    if [ -f "$gen/$prog/go.mod" ]; then moddir=$gen/$prog pkg=.; fi
    echo "regen: $name  (go$version, $prog, GODEBUG=$godebug)" >&2
    (cd "$moddir" && CGO_ENABLED=$cgo "$go" build -trimpath -o "$exe" "$pkg")
    local try size
    for try in 1 2 3 4 5; do
      GODEBUG=$godebug timeout 60 "$exe" "$scratch/$name.trace"
      size=$(stat -c %s "$scratch/$name.trace")
      [ "$size" -gt $((budget * 1024)) ] || break
      echo "regen: $name: $size bytes is over its budget of $budget KiB (try $try)" >&2
      [ "$try" -lt 5 ] || { echo "regen: $name: giving up" >&2; exit 1; }
    done
    printf '%s\t%s\n' "$name" "$version" >>"$scratch/.writers"
  }
  # truncate NAME SOURCE: the first 70% of a multi-generation trace, so the cut
  # lands inside a later generation.
  truncate_trace() {
    local name=$1 src=$scratch/$2.trace
    local size
    size=$(stat -c %s "$src")
    echo "regen: $name  (first $((size * 7 / 10)) of $size bytes of $2)" >&2
    head -c $((size * 7 / 10)) "$src" >"$scratch/$name.trace"
    local version
    version=$(awk -F'\t' -v s="$2" '$1 == s { print $2 }' "$scratch/.writers")
    printf '%s\t%s\n' "$name" "$version" >>"$scratch/.writers"
  }

  # name               version  program     cgo  KiB   GODEBUG
  run workload-go1.21   1.21.13  workload    0    256   ""
  run workload-go1.22   1.22.10  workload    0    256   "$ADVANCE"
  run workload-go1.23   1.23.9   workload    0    256   "$ADVANCE"
  run workload-go1.25   1.25.5   workload    0    256   "$ADVANCE"
  run workload-go1.27   1.27.3   workload    0    256   "$ADVANCE"
  run cpuprofile-go1.21 1.21.13  cpuprofile  0    128   ""
  run cpuprofile-go1.27 1.27.3   cpuprofile  0    128   "$ADVANCE"
  run iterpull-go1.23   1.23.9   iterpull    0    32    ""
  run iterpull-go1.27   1.27.3   iterpull    0    32    ""
  run allocfree-go1.23  1.23.9   allocfree   0    64    "traceallocfree=1"
  run allocfree-go1.27  1.27.3   allocfree   0    64    "traceallocfree=1"
  run cgo-go1.27        1.27.3   cgo         1    32    ""
  run flightrec-go1.25  1.25.5   flightrec   0    256   "$ADVANCE"
  run flightrec-go1.27  1.27.3   flightrec   0    256   "$ADVANCE"
  truncate_trace truncated-go1.22 workload-go1.22
  truncate_trace truncated-go1.27 workload-go1.27
  run sample            1.27.3   sample      0    2048  "traceadvanceperiod=200000000"

  rm -f "$traces"/*.trace "$traces"/*.parsed "$traces"/*.parsed.gz "$traces"/*.oracle
  mv "$scratch"/*.trace "$traces"/
fi

# Oracles.
total=0
table=$(mktemp "${TMPDIR:-/tmp}/gotv-table.XXXXXX")
for t in "$traces"/*.trace; do
  name=$(basename "$t" .trace)
  # The toolchain that wrote the trace: from this run, or from the old oracle.
  if ! $oracles_only; then
    writer=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$scratch/.writers")
  else
    writer=$(sed -n 's/^go=//p' "$traces/$name.oracle" 2>/dev/null || true)
  fi
  [ -n "$writer" ] || { echo "regen: no writer known for $name" >&2; exit 1; }
  rm -f "$traces/$name.parsed" "$traces/$name.parsed.gz"
  set +e
  "$oracle_go" tool trace -d=parsed "$t" >"$traces/$name.parsed" 2>"$traces/$name.stderr"
  exit_status=$?
  "$oracle_go" tool trace -d=wire "$t" >"$traces/$name.wire" 2>/dev/null
  set -e
  stderr=$(tr '\n' ' ' <"$traces/$name.stderr" | sed 's/ *$//')
  header=$(head -c 16 "$t" | tr -d '\0')
  # Generations as the wire format has them: distinct gen= of the batches (v2).
  # A v1 trace (Go <= 1.21) has none; Go's reader treats it as one generation.
  if [ "$header" = "go 1.21 trace" ]; then
    generations=1
  else
    generations=$(awk '$1 == "EventBatch" { split($2, a, "="); g[a[2]] = 1 } END { print length(g) }' "$traces/$name.wire")
  fi
  syncs=$(grep -c '^M=-1 P=-1 G=-1 Sync ' "$traces/$name.parsed" || true)
  events=$(grep -c '^M=' "$traces/$name.parsed" || true)
  lines=$(wc -l <"$traces/$name.parsed")
  parsed_bytes=$(stat -c %s "$traces/$name.parsed")
  size=$(stat -c %s "$t")
  total=$((total + size))
  parsed_file=$name.parsed
  if [ "$parsed_bytes" -gt "$GZIP_OVER" ]; then
    gzip -9 -n "$traces/$name.parsed"
    parsed_file=$name.parsed.gz
  fi
  rm -f "$traces/$name.stderr" "$traces/$name.wire"
  cat >"$traces/$name.oracle" <<EOF
size=$size
sha256=$(sha256sum "$t" | cut -d' ' -f1)
exit=$exit_status
stderr=$stderr
go=$writer
header=$header
generations=$generations
syncs=$syncs
events=$events
lines=$lines
parsed=$parsed_file
parsed_bytes=$parsed_bytes
oracle_go=$ORACLE_GO
EOF
  # Go's reader emits a Sync at the start of every generation it delivers plus a
  # final one (also right before it reports an error), so syncs - 1 counts the
  # generations it delivered: all of them, or for a truncated trace all but the
  # cut one -- or, pre-1.26 format, the cut one too when what is left of it
  # parses (e.g. only its first batch survived, so it is delivered empty).
  note=""
  if [ "$exit_status" -eq 0 ]; then
    [ $((syncs - 1)) -eq "$generations" ] || note="  (unexpected: syncs-1=$((syncs - 1)), generations=$generations)"
  else
    [ $((syncs - 1)) -eq "$generations" ] || [ $((syncs - 1)) -eq $((generations - 1)) ] ||
      note="  (unexpected: syncs-1=$((syncs - 1)), generations=$generations)"
  fi
  about=${ABOUT[$name]:-}
  [ -n "$about" ] || echo "regen: warning: no ABOUT entry for $name" >&2
  [ "$exit_status" -eq 0 ] || about="$about; Go exits $exit_status: \`$stderr\`"
  printf '| `%s` | %s | `%s` | %s | %s | %s | %s |\n' \
    "$name.trace" "$writer" "$header" "$size" "$generations" "$events" "$about" >>"$table"
  printf 'regen: %-20s %-8s %-14s %8d B  gen=%-3s events=%-7s exit=%s%s\n' \
    "$name" "go$writer" "$header" "$size" "$generations" "$events" "$exit_status" "$note" >&2
done
echo "| total | | | $total | | | |" >>"$table"

# Rewrite the table in README.md between its markers.
readme=$here/README.md
if grep -q '^<!-- traces:begin -->$' "$readme" && grep -q '^<!-- traces:end -->$' "$readme"; then
  awk -v table="$table" '
    /^<!-- traces:begin -->$/ {
      print
      print "| file | Go | header | size (bytes) | generations | events | exercises |"
      print "|---|---|---|---:|---:|---:|---|"
      while ((getline line < table) > 0) print line
      skip = 1
      next
    }
    /^<!-- traces:end -->$/ { skip = 0 }
    !skip' "$readme" >"$readme.tmp" && mv "$readme.tmp" "$readme"
else
  echo "regen: warning: $readme has no traces:begin/end markers; table not updated" >&2
fi
rm -f "$table"
echo "regen: total trace bytes $total, took $(($(date +%s) - start)) s" >&2
