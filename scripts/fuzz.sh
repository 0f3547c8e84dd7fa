#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan+UBSan) and runs each for the
# given number of seconds (default 60), starting from its corpus in
# tests/fuzz/corpus/<name>/. New inputs go to build/fuzz/corpus/<name>/;
# crashes to build/fuzz/artifacts/. Exits non-zero if any target crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dir=build/fuzz
CFLAGS="-fsanitize=fuzzer-no-link" cmake -G Ninja -Wno-dev -S . -B "$dir" -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=Debug -DCS_SANITIZE=ON -DCS_FUZZ=ON -DCS_TESTS=OFF -DCS_BENCH=OFF >/dev/null || exit 1
cmake --build "$dir" -j "$(nproc)" || exit 1
mkdir -p "$dir/artifacts"
status=0
for f in "$dir"/fuzz_*; do
  [ -x "$f" ] || continue
  case $f in *_replay) continue ;; esac
  name=$(basename "$f"); name=${name#fuzz_}
  mkdir -p "$dir/corpus/$name"
  echo "=== fuzz $name for ${seconds}s ==="
  if ! "$f" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$dir/artifacts/$name-" \
       "$dir/corpus/$name" "tests/fuzz/corpus/$name" 2>"$dir/$name.log"; then
    status=1; echo "fuzz $name: FAILED (see $dir/$name.log and $dir/artifacts/)"; tail -30 "$dir/$name.log"
  else
    grep -E 'stat::number_of_executed_runs' "$dir/$name.log" || true
  fi
done
exit $status
