#!/usr/bin/env bash
# The same load against both engines, side by side: bench/run.sh on SQLite, then with BENCH_ENGINE=postgres (a
# throwaway PostgreSQL server of its own, fsync on), and one table of both.
#
#   bench/engines.sh                                   (every knob of bench/run.sh applies to both runs)
#   BENCH_DURATION=3 BENCH_USERS=1000 bench/engines.sh (a quick check that it works; not figures to keep)
#
# Each run's own report (start-up, seeding, login storm, memory) follows the table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sanctum-engines.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

for engine in sqlite postgres; do
  echo "=== bench/run.sh on $engine ..." >&2
  BENCH_ENGINE=$engine BENCH_ROWS_FILE="$WORK/$engine.rows" "$ROOT/bench/run.sh" >"$WORK/$engine.txt"
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
