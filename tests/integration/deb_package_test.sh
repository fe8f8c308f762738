#!/usr/bin/env bash
# The Debian packages CPack builds: their metadata, their files, an install
# into a fresh dpkg root (a container-less check) whose kesm runs and
# validates the shipped example config, and apt resolving the Depends on
# this Debian. Usage: deb_package_test.sh BUILD_DIR
set -euo pipefail
BUILD=$1
TMP=$(mktemp -d /tmp/kesm-deb-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
(cd "$BUILD" && cpack -G DEB -B "$TMP/out" >"$TMP/cpack.log") || { cat "$TMP/cpack.log"; exit 1; }
DEB=$(ls "$TMP"/out/kesm_*_amd64.deb)
DEV=$(ls "$TMP"/out/kesm-dev_*_amd64.deb)
field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$DEB" Package)" = kesm ] && [ "$(field "$DEV" Package)" = kesm-dev ]
for dep in librdkafka1 libcaf-core0.17 libcurl4 libssl3 libmimalloc2.0; do
  field "$DEB" Depends | grep -q "$dep" || { echo "kesm does not depend on $dep"; exit 1; }
done
dpkg-deb -c "$DEB" >"$TMP/files" && dpkg-deb -c "$DEV" >"$TMP/dev-files"
for f in ./usr/bin/kesm ./usr/lib/systemd/system/kesm.service; do
  grep -q " $f\$" "$TMP/files" || { echo "kesm lacks $f"; exit 1; }
done
for f in ./usr/include/kesm/runtime.hpp ./usr/lib/libkesm.a ./usr/lib/pkgconfig/kesm.pc; do
  grep -q " $f\$" "$TMP/dev-files" || { echo "kesm-dev lacks $f"; exit 1; }
done
ROOT=$TMP/root
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates"
touch "$ROOT/var/lib/dpkg/status"
# Dependencies come from this machine's libraries, not the empty root.
dpkg --root="$ROOT" --force-depends --force-script-chrootless --log=/dev/null \
  -i "$DEB" "$DEV" >"$TMP/dpkg.log" 2>&1 || { cat "$TMP/dpkg.log"; exit 1; }
# Stripped: the package holds no debug information.
if readelf -S "$ROOT/usr/bin/kesm" | grep -q "\.debug_info"; then
  echo "the packaged kesm is not stripped"; exit 1
fi
dpkg --root="$ROOT" -s kesm | grep -q "^Status: install ok installed"
"$ROOT/usr/bin/kesm" --version | grep -q "^kesm $(field "$DEB" Version)$"
"$ROOT/usr/bin/kesm" validate --config "$ROOT/usr/share/doc/kesm/kesm.json"
# apt can satisfy every Depends on this Debian release.
if [ "$(id -u)" -eq 0 ]; then
  apt-get install -s "$DEB" >"$TMP/apt.log" 2>&1 || { cat "$TMP/apt.log"; exit 1; }
  grep -q "^Inst kesm " "$TMP/apt.log"
fi
echo "deb packages: OK ($(basename "$DEB"), $(stat -c %s "$DEB") bytes; $(basename "$DEV"))"
