#!/usr/bin/env bash
# Builds the FilterCriteria libFuzzer target with clang (ASan + UBSan) and
# runs it: `scripts/fuzz.sh` fuzzes for 5 minutes, `scripts/fuzz.sh --smoke`
# for 20 seconds (the CI smoke run). Needs clang (scripts/install-deps.sh
# installs it). Crashes land in build-fuzz/crash-*.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=300
if [ "${1:-}" = "--smoke" ]; then SECONDS_TO_RUN=20; fi
OUT=${KESM_FUZZ_DIR:-build-fuzz}
mkdir -p "$OUT/corpus"
CXX="clang++"
if command -v ccache >/dev/null 2>&1; then CXX="ccache clang++"; fi
if [ ! -x "$OUT/filter_fuzz" ] || [ codecs/filter.cpp -nt "$OUT/filter_fuzz" ] \
   || [ tests/fuzz/filter_fuzz.cpp -nt "$OUT/filter_fuzz" ]; then
  echo "kesm: building the filter fuzzer with clang"
  $CXX -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -DSIMDJSON_THREADS_ENABLED=1 -I. \
    tests/fuzz/filter_fuzz.cpp codecs/filter.cpp -lsimdjson \
    -o "$OUT/filter_fuzz"
fi
echo "kesm: fuzzing the filter compiler and matcher for ${SECONDS_TO_RUN}s"
"$OUT/filter_fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 \
  -artifact_prefix="$OUT/" -print_final_stats=1 \
  "$OUT/corpus" tests/fuzz/corpus 2>&1 | tail -15
