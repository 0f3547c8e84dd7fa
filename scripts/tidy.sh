#!/usr/bin/env bash
# clang-tidy (.clang-tidy; src/controller/.clang-tidy adds the function-size
# limit) on every source of src/, with the compile commands of a build.
#   scripts/tidy.sh [BUILD_DIR]   default build/normal (configured if needed)
# Prints each warning and exits 1 when there is any (run by `make check`).
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/normal}
command -v clang-tidy >/dev/null || { echo "tidy: clang-tidy is missing (scripts/install-deps.sh)" >&2; exit 2; }
if [ ! -f "$dir/compile_commands.json" ]; then
  cmake -G Ninja -Wno-dev -S . -B "$dir" >/dev/null || exit 2
fi
mapfile -t files < <(git ls-files --cached --others --exclude-standard 'src/*.c')
log=$(mktemp)
# One clang-tidy per file, as many at once as there are cores; gcc-only
# warning flags in the compile commands are not clang-tidy's business.
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -n 1 clang-tidy --quiet -p "$dir" --extra-arg=-Wno-unknown-warning-option >"$log" 2>&1
rc=$?
# a finding starts "file:line:col: warning|error: " (its message may span lines)
finding='^[^ ]+:[0-9]+:[0-9]+: (warning|error): '
n=$(grep -cE "$finding" "$log")
if [ "$rc" -ne 0 ] || [ "$n" -gt 0 ]; then
  if [ "$n" -gt 0 ]; then grep -E -A4 "$finding" "$log"; else tail -n 30 "$log"; fi
  echo "tidy: $n finding(s) in ${#files[@]} files (see .clang-tidy for the checks and why)" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
echo "tidy: ${#files[@]} files, no finding"
