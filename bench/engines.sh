#!/usr/bin/env bash
# The same load against both engines, side by side: bench/run.sh on SQLite, then with BENCH_ENGINE=postgres (a
# throwaway PostgreSQL server of its own, fsync on), and one table of both.
#
#   bench/engines.sh                                   (every knob of bench/run.sh applies to both runs)
#   BENCH_DURATION=3 BENCH_USERS=1000 bench/engines.sh (a quick check that it works; not figures to keep)
#   BENCH_CONNECTION_COUNTS="32" bench/engines.sh      (one connection count; the default is 8, 32 and 256)
#
# Each run's own report (start-up, seeding, login storm, memory) follows the table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sanctum-engines.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# BENCH_CONNECTION_COUNTS: the wrk connection counts, one run per engine each (rows labelled "@N").
COUNTS=${BENCH_CONNECTION_COUNTS:-8 32 256}
# One Release build for every run (unless BENCH_APP names one already).
if [ -z "${BENCH_APP:-}" ]; then
  echo "building Release ..." >&2
  dotnet publish "$ROOT/Sanctum.Api" -c Release --use-current-runtime --self-contained false -o "$WORK/app" --nologo -v quiet >&2
  export BENCH_APP="$WORK/app"
fi
for engine in sqlite postgres; do
  : >"$WORK/$engine.rows"
  for c in $COUNTS; do
    echo "=== bench/run.sh on $engine, $c connections ..." >&2
    BENCH_ENGINE=$engine BENCH_CONNECTIONS=$c BENCH_ROWS_FILE="$WORK/$engine.$c.rows" "$ROOT/bench/run.sh" >"$WORK/$engine.$c.txt"
    sed "s/^\([^|]*\)|/\1 @$c|/" "$WORK/$engine.$c.rows" >>"$WORK/$engine.rows"
    cat "$WORK/$engine.$c.txt" >>"$WORK/$engine.txt"
  done
done

echo "Sanctum.Api on SQLite and on PostgreSQL  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
grep -m1 '^machine:' "$WORK/sqlite.txt"
grep -m1 '^wrk:' "$WORK/sqlite.txt"
grep -m1 '^database: PostgreSQL' "$WORK/postgres.txt"
echo "ratio: the endpoint's req/s over the same-sized constant endpoint's in the same run; CPU: the Sanctum server's"
echo "CPU time per request (the PostgreSQL server's own CPU is not in it). Compare these on a noisy machine."
echo
# Rows: label|req/s|p50 ms|p99 ms|bytes|constant req/s|ratio|server CPU µs/req|...|errors; "label|n/a (...)" when an
# endpoint was not measured.
awk -F'|' '
  FNR == 1 { engine++ }
  { label = $1; if (!(label in seen)) { seen[label] = 1; order[++n] = label }
    if (NF >= 9) cell[label, engine] = sprintf("%s|%s|%s|%s|%s|%s", $2, $3, $4, $7, $8, $NF)
    else cell[label, engine] = $2 "|||||" }
  END {
    print "endpoint|SQLite req/s|p50 ms|p99 ms|ratio|CPU µs/req|errors|PostgreSQL req/s|p50 ms|p99 ms|ratio|CPU µs/req|errors"
    for (i = 1; i <= n; i++) {
      l = order[i]
      a = (l, 1) in cell ? cell[l, 1] : "-|||||"; b = (l, 2) in cell ? cell[l, 2] : "-|||||"
      print l "|" a "|" b
    }
  }' "$WORK/sqlite.rows" "$WORK/postgres.rows" | awk -F'|' '
  { for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } if (NF > nf) nf = NF; rows = NR }
  END { for (r = 1; r <= rows; r++) { line = ""; for (i = 1; i <= nf; i++) line = line sprintf(i == 1 ? "%-*s" : "  %*s", w[i], c[r, i]); print line } }'

for engine in sqlite postgres; do
  echo
  echo "--- $engine: the rest of its report"
  grep -E '^(login storm|peak memory|start-up|seeding)' "$WORK/$engine.txt"
done
