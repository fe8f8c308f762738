#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then the example in examples/
# configured and built against that *installed* package three ways
# (find_package shared, find_package static, pkg-config), each run against
# the embedded broker until it has handled every record.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1
SRC=$2
TMP=$(mktemp -d /tmp/kesm-install-XXXXXX)
BROKER_PID=""
cleanup() {
  [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
PREFIX=$TMP/prefix
echo "== install to $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log"
for f in bin/kesm include/kesm/runtime.hpp; do
  test -f "$PREFIX/$f" || { echo "missing $f"; exit 1; }
done
LIBDIR=$(dirname "$(find "$PREFIX" -name libkesm.so.0 | head -1)")
test -f "$LIBDIR/libkesm.a" && test -f "$LIBDIR/pkgconfig/kesm.pc" \
  && test -f "$LIBDIR/cmake/kesm/kesmConfig.cmake" \
  || { echo "libraries, kesm.pc or the CMake package missing under $PREFIX"; exit 1; }
"$PREFIX/bin/kesm" --version | grep -q "^kesm [0-9]"
# Only the public API is exported from the shared library.
if nm -D --defined-only "$LIBDIR/libkesm.so.0" | c++filt | grep -E "kesm::(actors|transport|codecs)::" ; then
  echo "libkesm.so exports kesm internals"; exit 1
fi

"$PREFIX/bin/kesm" dev-broker --topic orders:3 >"$TMP/broker.out" 2>/dev/null &
BROKER_PID=$!
for _ in $(seq 100); do [ -s "$TMP/broker.out" ] && break; sleep 0.1; done
BOOTSTRAP=$(head -1 "$TMP/broker.out")
"$PREFIX/bin/kesm" produce --bootstrap "$BOOTSTRAP" --topic orders --count 3000 >/dev/null

run_example() { # name, binary
  echo "== $1"
  "$2" "$BOOTSTRAP" orders 3000 0 | tee "$TMP/$1.out"
  grep -q "handled 3000 records, completed 3000" "$TMP/$1.out"
}
for link in shared static; do
  cmake -S "$SRC/examples/embed" -B "$TMP/ex-$link" -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DKESM_LINK=$link >/dev/null
  cmake --build "$TMP/ex-$link" >/dev/null
  if [ $link = shared ]; then
    # Found through the package's RPATH-free import: the loader needs the path.
    LD_LIBRARY_PATH="$LIBDIR" run_example "find_package-$link" "$TMP/ex-$link/embed-example"
  else
    ldd "$TMP/ex-$link/embed-example" | grep -q libkesm && { echo "static example links libkesm.so"; exit 1; }
    run_example "find_package-$link" "$TMP/ex-$link/embed-example"
  fi
done
echo "== pkg-config"
PKG_CONFIG_PATH="$LIBDIR/pkgconfig" pkg-config --modversion kesm | grep -q "^[0-9]"
# shellcheck disable=SC2046
c++ -O1 -o "$TMP/ex-pc" "$SRC/examples/embed/main.cpp" \
  $(PKG_CONFIG_PATH="$LIBDIR/pkgconfig" pkg-config --cflags --libs kesm) -Wl,-rpath,"$LIBDIR"
run_example pkg-config "$TMP/ex-pc"
echo "install test: OK"
