#!/usr/bin/env bash
# What metrics cost the read endpoints (issue: "nothing of this may cost the reads more than 5 %").
#
#   bench/telemetry-cost.sh
#
# Runs bench/run.sh on the four shared reads twice, alternating: once as shipped (no OTLP endpoint: the service's
# counters have no listener), once with OTEL_EXPORTER_OTLP_ENDPOINT set, so the ASP.NET Core, runtime and
# Sanctum.Api meters are collected and exported every second over OTLP/HTTP to a local sink that accepts them.
# Each run.sh figure is already a ratio to the constant endpoint in the same run, which cancels most machine noise;
# this prints both ratios per endpoint and the cost, 1 - on/off. Knobs: those of run.sh, TELEMETRY_ROUNDS (2).
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

ONLY='^GET /api/(tools|agents|status)$|^GET /api/users\?search= '
run() { # run LABEL [VAR=value ...]
  local label=$1; shift
  echo "run.sh ($label) ..." >&2
  BENCH_ONLY="$ONLY" BENCH_USERS=${BENCH_USERS:-1000} BENCH_SERVER_ENV="$*" "$ROOT/bench/run.sh" 2>/dev/null \
    | awk -v label="$label" -F'  +' '/^GET \/api\// { print label "|" $1 "|" $NF-0 "|" $(NF-1) }' >>"$WORK/ratios.txt"
}
for ((r = 1; r <= ${TELEMETRY_ROUNDS:-2}; r++)); do
  run off
  run on OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_METRIC_EXPORT_INTERVAL=1000
done

echo
echo "Metrics cost on the shared reads  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')  load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "OTLP exports received by the sink: $(wc -l <"$WORK/sink.count" 2>/dev/null || echo 0)"
awk -F'|' '
  { key = $2; ratio[$1, key] += $4; n[$1, key]++; keys[key] = 1 }
  END {
    printf "%-40s %10s %10s %8s\n", "endpoint", "ratio off", "ratio on", "cost"
    for (k in keys) {
      off = ratio["off", k] / n["off", k]; on = ratio["on", k] / n["on", k]
      printf "%-40s %10.3f %10.3f %7.1f%%\n", k, off, on, 100 * (1 - on / off)
    }
  }' "$WORK/ratios.txt"
