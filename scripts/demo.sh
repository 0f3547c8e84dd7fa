#!/usr/bin/env bash
# make demo: builds CoucheStor, starts the test world's `demo` scenario (a
# Kubernetes API stand-in, the Mayastor simulator with 3 nodes and hot/warm/
# cold pools, a real Prometheus scraping its volume IOPS), runs the operator
# against it, and shows volumes being classified and moved between tiers
# until every volume sits on its tier. Stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh
cmake -G Ninja -Wno-dev -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCS_TESTS=OFF -DCS_BENCH=OFF >/dev/null
cmake --build build/release --target couchestor >/dev/null
bin=$root/build/release/couchestor

world=$(mktemp -d /tmp/couchestor-demo.XXXXXX)
oppid=""
cleanup() {
  [ -n "$oppid" ] && kill -TERM "$oppid" 2>/dev/null && wait "$oppid" 2>/dev/null || true
  tests/sandbox/sandbox down --dir "$world" >/dev/null 2>&1 || true
  rm -rf "$world"
}
trap cleanup EXIT INT TERM

echo "== starting the test world (Kubernetes stand-in, Mayastor simulator, Prometheus)"
tests/sandbox/sandbox up demo --dir "$world" --apply tests/sandbox/manifests/demo-policy.yaml >/dev/null
# shellcheck disable=SC1091
. "$world/env"
echo "   kube $KUBE_URL   mayastor $MAYASTOR_URL   prometheus $PROMETHEUS_URL"

echo "== starting the operator (policy 'demo': hot >= 5000 IOPS, warm 501-2000, cold <= 500)"
"$bin" operator --metrics-addr 127.0.0.1:0 --health-addr 127.0.0.1:0 --lease-namespace default \
  --sync-poll-interval-seconds 2 >"$world/operator.log" 2>&1 &
oppid=$!

status=0
python3 scripts/demo_view.py --binary "$bin" --operator-log "$world/operator.log" \
  --timeout "${DEMO_TIMEOUT:-360}" --min-seconds "${DEMO_MIN_SECONDS:-170}" || status=$?
echo
if [ "${DEMO_KEEP:-0}" = 1 ]; then
  trap - EXIT
  echo "The world keeps running (DEMO_KEEP=1): . $world/env; $bin plan"
  echo "Stop it with: kill $oppid; tests/sandbox/sandbox down --dir $world"
else
  echo "Everything started is stopped now (DEMO_KEEP=1 leaves the world and the operator running)."
fi
exit $status
