#!/usr/bin/env bash
# Builds Release and runs every benchmark (build/bench/bench_*). Each prints
# its own result beside a baseline measured in the same run, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/bench
cmake -G Ninja -Wno-dev -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCS_TESTS=OFF -DCS_BENCH=ON >/dev/null
cmake --build "$dir" -j "$(nproc)"
found=0
for b in "$dir"/bench_*; do
  [ -x "$b" ] || continue
  found=1
  echo "=== $(basename "$b") ==="
  "$b"
  echo
done
[ $found -eq 1 ] || { echo "no benchmarks built" >&2; exit 1; }
