#!/usr/bin/env bash
# Configures and builds kesm (Release with debug info) into ./build.
# Extra arguments go to CMake's configure step, e.g. -DKESM_TSAN=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${KESM_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
