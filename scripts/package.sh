#!/usr/bin/env bash
# Builds kesm (Release, no tests) and its Debian packages into ./dist:
# kesm_<version>_amd64.deb (binary, systemd unit) and kesm-dev (embedding
# API). Install with: apt-get install ./dist/kesm_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --build-only
BUILD_DIR=build-release
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKESM_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
mkdir -p dist
(cd "$BUILD_DIR" && cpack -G DEB -B "$PWD/../dist" >/dev/null)
rm -rf dist/_CPack_Packages
ls -l dist/*.deb
