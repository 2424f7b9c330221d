#!/usr/bin/env bash
# Seeds the corpus of the `decode` fuzz target (fuzz/corpus/decode/) with
#   - every real trace in testdata/traces/ up to 256 KiB, whole, plus its
#     first 4 KiB and 16 KiB (cut mid-generation: quick to run, and they put
#     the fuzzer straight into the truncation paths);
#   - Go's own FuzzReader corpus (inputs that once broke Go's reader), from
#     the pinned Go toolchain, converted from Go's corpus encoding.
# Existing corpus entries (what the fuzzer found so far) are kept.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
corpus=$repo/fuzz/corpus/decode
mkdir -p "$corpus"

n=0
for t in "$repo"/testdata/traces/*.trace; do
  [ -e "$t" ] || { echo "seed.sh: no traces in testdata/traces/" >&2; exit 1; }
  name=$(basename "$t" .trace)
  if [ "$(stat -c %s "$t")" -le $((256 << 10)) ]; then
    cp "$t" "$corpus/trace-$name"
    n=$((n + 1))
  fi
  head -c 4096 "$t" >"$corpus/trace-$name-4k"
  head -c 16384 "$t" >"$corpus/trace-$name-16k"
  n=$((n + 2))
done

export GOTOOLCHAIN=local GOFLAGS='' GOWORK=off
go=$(bash "$repo/testdata/go-toolchains.sh" 1.27.3 | cut -f2)
seeds=$("$go" env GOROOT)/src/internal/trace/testdata/fuzz/FuzzReader
"$go" run "$repo/fuzz/goseeds.go" "$seeds" "$corpus"
n=$((n + $(find "$seeds" -type f | wc -l)))
echo "seed.sh: $n seeds written to ${corpus#"$repo"/} ($(find "$corpus" -type f | wc -l) files in the corpus)"
