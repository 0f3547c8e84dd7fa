#!/usr/bin/env bash
# Runs the whole test suite in each build variant through CTest:
#   normal: gcc, RelWithDebInfo
#   asan:   clang, AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan:   clang, ThreadSanitizer, only the tests labelled for it (concurrency)
# Prints CTest's summary for each and a final overall line; exits non-zero when
# any test failed. Usage: scripts/check.sh [normal|asan|tsan]...
set -uo pipefail
cd "$(dirname "$0")/.."
variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=(normal asan tsan)
jobs=$(nproc)
status=0
summary=()
total_pass=0
total_fail=0

for v in "${variants[@]}"; do
  dir=build/$v
  case $v in
    normal) opts=(-DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo); filter=() ;;
    asan)   opts=(-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCS_SANITIZE=ON -DCS_BENCH=OFF); filter=() ;;
    tsan)   opts=(-DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DCS_TSAN=ON -DCS_BENCH=OFF); filter=(-L tsan) ;;
    *) echo "check: unknown variant $v" >&2; exit 2 ;;
  esac
  echo "=== $v build ==="
  mkdir -p "$dir"
  if ! cmake -G Ninja -Wno-dev -S . -B "$dir" "${opts[@]}" >"$dir/configure.log" 2>&1; then
    cat "$dir/configure.log"; status=1; summary+=("$v: configure failed"); continue
  fi
  targets=()
  if [ "$v" = tsan ]; then
    # Only the concurrency tests run under TSan: build just those programs.
    for f in tests/unit/*/*stress*.c; do
      [ -f "$f" ] || continue
      m=$(basename "$(dirname "$f")"); t=$(basename "$f" .c)
      targets+=(--target "test_${m}_${t}")
    done
  fi
  if ! cmake --build "$dir" -j "$jobs" "${targets[@]}"; then
    status=1; summary+=("$v: build failed"); continue
  fi
  echo "=== $v tests ==="
  log=$dir/ctest.log
  (cd "$dir" && ctest --output-on-failure -j "$jobs" "${filter[@]}") 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  [ "$rc" -ne 0 ] && status=1
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of' "$log" | tail -1)
  summary+=("$v: ${line:-no summary}")
  total=$(echo "$line" | sed -nE 's/.*failed out of ([0-9]+).*/\1/p')
  failed=$(echo "$line" | sed -nE 's/.*, ([0-9]+) tests failed.*/\1/p')
  total=${total:-0}; failed=${failed:-0}
  total_pass=$((total_pass + total - failed))
  total_fail=$((total_fail + failed))
done

echo
echo "=== summary ==="
for s in "${summary[@]}"; do echo "$s"; done
echo "$total_pass passed, $total_fail failed"
exit $status
