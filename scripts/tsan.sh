#!/usr/bin/env bash
# Builds kesm with ThreadSanitizer into ./build-tsan and runs the test suite
# under it. See tools/tsan.supp for what is suppressed and why.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
KESM_BUILD_DIR=build-tsan bash scripts/build.sh -DKESM_TSAN=ON
export TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tools/tsan.supp"
cd build-tsan
ctest --output-on-failure --timeout 900
