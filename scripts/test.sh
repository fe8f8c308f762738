#!/usr/bin/env bash
# One command: install what is needed, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd "${KESM_BUILD_DIR:-build}"
# Serial: integration tests measure batching windows and latency, which a
# second test's broker on the same two cores would blur.
ctest --output-on-failure --timeout 600
