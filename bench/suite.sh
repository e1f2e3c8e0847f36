#!/usr/bin/env bash
# The test suite's own figures: wall time of `dotnet test Sanctum.Api.sln`, tests by outcome, the assertions NUnit
# counted, and the slowest fixtures (bench/suite-figures.py reads NUnit's result XML).
#
#   bench/suite.sh                                   (SQLite, the whole suite)
#   SANCTUM_TEST_ENGINE=postgres bench/suite.sh      (PostgreSQL)
#   SUITE_FILTER="FullyQualifiedName~AuthApiTests" bench/suite.sh
#   SANCTUM_TEST_NO_TEMPLATE=1 SUITE_FILTER=... bench/suite.sh   (every host migrates its own database: the start-up
#                                                     a host pays without the migrated template, compared per test)
#
# Builds first (not timed); SUITE_OUT keeps the result files in that directory (default: a temp directory, printed).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${SUITE_OUT:-$(mktemp -d /tmp/sanctum-suite.XXXXXX)}
mkdir -p "$OUT"
cd "$ROOT"
dotnet build Sanctum.Api.sln -v quiet -nologo >/dev/null
args=(--no-build --logger "trx;LogFileName=$OUT/run.trx")
[ -n "${SUITE_FILTER:-}" ] && args+=(--filter "$SUITE_FILTER")
start=$(date +%s.%N)
status=0
dotnet test Sanctum.Api.sln "${args[@]}" -- NUnit.TestOutputXml="$OUT/xml" >"$OUT/console.log" 2>&1 || status=$?
end=$(date +%s.%N)
echo "engine: ${SANCTUM_TEST_ENGINE:-sqlite}  filter: ${SUITE_FILTER:-(none)}  template: $([ -n "${SANCTUM_TEST_NO_TEMPLATE:-}" ] && echo off || echo on)"
echo "wall time of dotnet test: $(python3 -c "print(f'{$end - $start:.0f} s')")  (exit code $status; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
python3 "$ROOT/bench/suite-figures.py" "$OUT"/xml/*.xml
echo "results in $OUT"
exit "$status"
