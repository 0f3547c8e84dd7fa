#!/usr/bin/env bash
# The house rules, then the whole test suite in each build variant (CTest):
#   rules:  the format check (scripts/format.sh --check), the module
#           dependency check (scripts/check-deps.py) and clang-tidy
#           (scripts/tidy.sh, on the normal build's compile commands, after
#           that build and before its tests: the tests poll with deadlines,
#           and a machine busy with tidy is no place to measure them)
#   normal: gcc, RelWithDebInfo
#   asan:   clang, AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan:   clang, ThreadSanitizer, only the tests labelled for it (concurrency)
# Prints a summary line for each and a final overall line; exits non-zero when
# any rule or test failed. Usage: scripts/check.sh [rules|normal|asan|tsan]...
set -uo pipefail
cd "$(dirname "$0")/.."
variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=(rules normal asan tsan)
jobs=$(nproc)
# CTest runs CPU-bound tests one per core ("cpus") and, beside them, up to $worlds tests labelled "waits"
# (the operator suites: a test world and an operator that mostly sleep between polls; see cmake/Tests.cmake).
worlds=${CS_CHECK_WORLDS:-$((2 * jobs))}
status=0
summary=()
total_pass=0
total_fail=0

rules=false
tidied=false
for v in "${variants[@]}"; do
  [ "$v" = rules ] && rules=true
done

# One rule: its name, then the command; a failure counts as one failed check.
rule() {
  local name=$1; shift
  if "$@"; then
    summary+=("rules: $name passed"); total_pass=$((total_pass + 1))
  else
    summary+=("rules: $name FAILED"); total_fail=$((total_fail + 1)); status=1
  fi
}
if $rules; then
  echo "=== rules ==="
  rule format bash scripts/format.sh --check
  rule dependencies python3 scripts/check-deps.py
fi

for v in "${variants[@]}"; do
  [ "$v" = rules ] && continue
  dir=build/${CS_CHECK_PREFIX:-}$v   # CS_CHECK_PREFIX: build trees of your own (e.g. h-)
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
  if $rules && [ "$v" = normal ]; then
    echo "=== clang-tidy ==="
    rule clang-tidy bash scripts/tidy.sh "$dir"
    tidied=true
  fi
  echo "=== $v tests ==="
  log=$dir/ctest.log
  printf '{"version": {"major": 1, "minor": 0}, "local": [{"cpus": [{"id": "0", "slots": %d}], "worlds": [{"id": "0", "slots": %d}]}]}\n' \
    "$jobs" "$worlds" >"$dir/resources.json"
  (cd "$dir" && ctest --output-on-failure -j "$((jobs + worlds))" --resource-spec-file resources.json "${filter[@]}") 2>&1 |
    tee "$log"
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

if $rules && ! $tidied; then
  echo "=== clang-tidy ==="  # no normal build in this run: on a configured tree of its own
  rule clang-tidy bash scripts/tidy.sh "build/${CS_CHECK_PREFIX:-}normal"
fi

echo
echo "=== summary ==="
for s in "${summary[@]}"; do echo "$s"; done
echo "$total_pass passed, $total_fail failed"
exit $status
