#!/usr/bin/env bash
# One command: install what is needed, build, and run `kesm demo` on the
# embedded broker. Arguments go to `kesm demo` (e.g. --seconds 30).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec ./build/cli/kesm demo "$@"
