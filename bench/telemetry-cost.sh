#!/usr/bin/env bash
# What metrics cost the read endpoints (issue: "nothing of this may cost the reads more than 5 %").
#
#   bench/telemetry-cost.sh
#
# One bench/run.sh on the four shared reads with two servers on copies of one database: A as shipped (no OTLP
# endpoint: the service's counters have no listener), B with OTEL_EXPORTER_OTLP_ENDPOINT set, so the ASP.NET Core,
# runtime and Sanctum.Api meters are collected and exported every second over OTLP/HTTP to a local sink that accepts
# them. Each round measures the endpoint on A and on B back to back (the order alternating), so both see the same
# machine. Prints requests/s and the server's CPU time per request (from /proc) for both, and the cost of each.
# Knobs: those of run.sh; BENCH_ROUNDS defaults to 6 here.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sanctum-telemetry.XXXXXX)
SINK_PID=
cleanup() { [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

SINK_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$SINK_PORT" "$WORK/sink.count" <<'PY' &
import http.server, sys
port, counter = int(sys.argv[1]), sys.argv[2]
class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(counter, "a") as f: f.write(self.path + "\n")
        self.send_response(200); self.send_header("Content-Type", "application/x-protobuf"); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
PY
SINK_PID=$!

echo "run.sh with A (metrics off) and B (metrics exported over OTLP) ..." >&2
BENCH_ONLY='^GET /api/(tools|agents|status)$|^GET /api/users\?search= ' BENCH_ROUNDS=${BENCH_ROUNDS:-6} BENCH_USERS=${BENCH_USERS:-1000} \
  BENCH_SERVER_ENV_B="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$SINK_PORT OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_METRIC_EXPORT_INTERVAL=1000" \
  "$ROOT/bench/run.sh" 2>/dev/null >"$WORK/run.txt"

echo
echo "Metrics cost on the shared reads  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')  load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "OTLP exports received by the sink: $(wc -l <"$WORK/sink.count" 2>/dev/null || echo 0)"
# run.sh's columns: endpoint, req/s, p50, p99, bytes, constant req/s, ratio, CPU, B req/s, B p99, B CPU, errors.
awk -F'  +' '
  BEGIN { printf "%-40s %9s %9s %7s   %10s %10s %7s\n", "endpoint", "req/s off", "req/s on", "cost", "CPU µs off", "CPU µs on", "cost" }
  /^GET \/api\// { printf "%-40s %9d %9d %6.1f%%   %10.1f %10.1f %6.1f%%\n", $1, $2, $9, 100 * (1 - $9 / $2), $8, $11, 100 * ($11 / $8 - 1) }
' "$WORK/run.txt"
