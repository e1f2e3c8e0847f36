#!/usr/bin/env bash
# Setting writes (PUT /api/config/{key}) on both engines, for one build or two side by side in the same minutes:
#
#   bench/writes.sh                                  (this tree, published once)
#   bench/writes.sh /tmp/app-before /tmp/app-after   (two published builds, each on both engines, one after the other)
#
# Runs bench/engines.sh with BENCH_ONLY='PUT' (a fresh key and one with 30,000 versions) at BENCH_CONNECTION_COUNTS
# (default 32) and short measurements (BENCH_DURATION 3 s, 1 round), and prints each build's table with the load
# average before it. Every knob of bench/run.sh still applies. On PostgreSQL the run's server takes the first free port
# of BENCH_PG_PORTS (here 19300-19319 unless set).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export BENCH_ONLY=${BENCH_ONLY:-PUT} BENCH_CONNECTION_COUNTS=${BENCH_CONNECTION_COUNTS:-32} BENCH_DURATION=${BENCH_DURATION:-3}
export BENCH_ROUNDS=${BENCH_ROUNDS:-1} BENCH_USERS=${BENCH_USERS:-1000} BENCH_PG_PORTS=${BENCH_PG_PORTS:-19300 19319}
apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=("")
for app in "${apps[@]}"; do
  echo "=== ${app:-this tree}  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  BENCH_APP="$app" "$ROOT/bench/engines.sh" | grep -E '^(endpoint|PUT|GET|machine|database)'
done
