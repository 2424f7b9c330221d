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

start=$(date +%s)
mkdir -p "$traces"

if ! $oracles_only; then
  bindir=$root/target/testdata-gen
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/gotv-regen.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$bindir"

  # run NAME VERSION PROGRAM CGO GODEBUG: builds testdata/gen/PROGRAM with Go VERSION
  # (CGO_ENABLED=CGO, -trimpath so no local paths end up in the trace) and runs it
  # with GODEBUG, writing $scratch/NAME.trace.
  run() {
    local name=$1 version=$2 prog=$3 cgo=$4 godebug=$5
    local go=${GO[$version]:?toolchain $version missing}
    local exe=$bindir/$prog-go$version
    # A program with its own go.mod is a module of its own, the rest share gen/go.mod.
    local moddir=$gen pkg=./$prog
    if [ -f "$gen/$prog/go.mod" ]; then moddir=$gen/$prog pkg=.; fi
    echo "regen: $name  (go$version, $prog, GODEBUG=$godebug)" >&2
    (cd "$moddir" && CGO_ENABLED=$cgo "$go" build -trimpath -o "$exe" "$pkg")
    GODEBUG=$godebug timeout 60 "$exe" "$scratch/$name.trace"
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

  # name               version  program     cgo  GODEBUG
  run workload-go1.21   1.21.13  workload    0    ""
  run workload-go1.22   1.22.10  workload    0    "$ADVANCE"
  run workload-go1.23   1.23.9   workload    0    "$ADVANCE"
  run workload-go1.25   1.25.5   workload    0    "$ADVANCE"
  run workload-go1.27   1.27.3   workload    0    "$ADVANCE"
  run cpuprofile-go1.21 1.21.13  cpuprofile  0    ""
  run cpuprofile-go1.27 1.27.3   cpuprofile  0    "$ADVANCE"
  run iterpull-go1.23   1.23.9   iterpull    0    ""
  run iterpull-go1.27   1.27.3   iterpull    0    ""
  run allocfree-go1.23  1.23.9   allocfree   0    "traceallocfree=1"
  run allocfree-go1.27  1.27.3   allocfree   0    "traceallocfree=1"
  run cgo-go1.27        1.27.3   cgo         1    ""
  run flightrec-go1.25  1.25.5   flightrec   0    "$ADVANCE"
  run flightrec-go1.27  1.27.3   flightrec   0    "$ADVANCE"
  truncate_trace truncated-go1.22 workload-go1.22
  truncate_trace truncated-go1.27 workload-go1.27
  run sample            1.27.3   sample      0    "traceadvanceperiod=200000000"

  rm -f "$traces"/*.trace "$traces"/*.parsed "$traces"/*.parsed.gz "$traces"/*.oracle
  mv "$scratch"/*.trace "$traces"/
fi

# Oracles.
total=0
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
  # Go's reader emits a Sync at the start of every generation plus a final one
  # (also before reporting an error), so syncs - 1 = generations it could read.
  note=""
  [ $((syncs - 1)) -eq "$generations" ] || note="  (syncs-1=$((syncs - 1)) != generations=$generations)"
  printf 'regen: %-20s %-8s %-14s %8d B  gen=%-3s events=%-7s exit=%s%s\n' \
    "$name" "go$writer" "$header" "$size" "$generations" "$events" "$exit_status" "$note" >&2
done
echo "regen: total trace bytes $total, took $(($(date +%s) - start)) s" >&2
