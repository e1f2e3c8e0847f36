#!/usr/bin/env bash
# Live events under load: 1,000 subscribers of GET /api/events?topics=status (one process, bench/events-client.mjs),
# one status change through the API every 100 ms for 30 s. Prints the time from each change's request to its event at
# every subscriber (p50, p99: an upper bound of commit-to-event, since the request's own handling is included), the
# server's resident memory per subscriber (VmRSS after connecting them minus before, divided by their number), and
# GET /api/tools throughput with wrk alone and beside the subscribers and their events.
#
# Knobs: EVENTS_SUBSCRIBERS (1000), EVENTS_SECONDS (30), EVENTS_INTERVAL_MS (100), EVENTS_PORT (56510, this feature's
# range 56500-56599), EVENTS_CONFIGURATION (Release; Debug reuses an existing build of the worktree), EVENTS_APP (a
# directory holding a built Sanctum.Api.dll to run instead), EVENTS_SERVER_CPUS and EVENTS_CLIENT_CPUS (taskset CPU
# lists; on a machine of 2+ cores the server gets CPU 0 and the load (wrk, the subscribers' Node process) the rest, in
# both the "alone" and the "beside" measurement, so the reads' change is the server's cost of the subscribers and not
# the Node client's CPU taken from the server; "" runs everything unpinned).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SUBSCRIBERS=${EVENTS_SUBSCRIBERS:-1000}
SECONDS_=${EVENTS_SECONDS:-30}
INTERVAL=${EVENTS_INTERVAL_MS:-100}
PORT=${EVENTS_PORT:-56510}
CONFIGURATION=${EVENTS_CONFIGURATION:-Release}
BASE="http://127.0.0.1:$PORT"
if [ "$(nproc)" -ge 2 ]; then DEFAULT_SERVER_CPUS=0; DEFAULT_CLIENT_CPUS="1-$(( $(nproc) - 1 ))"; else DEFAULT_SERVER_CPUS=; DEFAULT_CLIENT_CPUS=; fi
SERVER_CPUS=${EVENTS_SERVER_CPUS-$DEFAULT_SERVER_CPUS}
CLIENT_CPUS=${EVENTS_CLIENT_CPUS-$DEFAULT_CLIENT_CPUS}
on_cpus() { local cpus=$1; shift; if [ -n "$cpus" ]; then taskset -c "$cpus" "$@"; else "$@"; fi; }
SERVER_PIN=(); [ -n "$SERVER_CPUS" ] && SERVER_PIN=(taskset -c "$SERVER_CPUS")
PASSWORD='bench-keeper-phrase-41'
WORK=$(mktemp -d /tmp/sanctum-events.XXXXXX)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

if [ -n "${EVENTS_APP:-}" ]; then
  APP=$EVENTS_APP
elif [ "$CONFIGURATION" = Debug ] && [ -f "$ROOT/Sanctum.Api/bin/Debug/net10.0/Sanctum.Api.dll" ]; then
  APP="$ROOT/Sanctum.Api/bin/Debug/net10.0"
else
  dotnet publish "$ROOT/Sanctum.Api" -c Release --use-current-runtime --self-contained false -o "$WORK/app" --nologo -v quiet >&2
  APP="$WORK/app"
fi
(cd "$APP" && exec env ASPNETCORE_ENVIRONMENT=Production Sanctum__DataDirectory="$WORK/data" \
  Sanctum__Events__MaxStreamsPerUser=5000 Sanctum__Events__MaxStreams=5000 Sanctum__LoginPermitLimit=1000000 \
  "${SERVER_PIN[@]}" dotnet Sanctum.Api.dll --urls "$BASE") >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 240); do curl -sf -o /dev/null "$BASE/readyz" && break; sleep 0.5; done
login() { curl -sf "$BASE/api/auth/login" -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$1\"}" | sed -E 's/.*"token":"([^"]+)".*/\1/'; }
TOKEN=$(login admin123)
curl -sf -o /dev/null "$BASE/api/auth/password" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"current_password\":\"admin123\",\"new_password\":\"$PASSWORD\"}"
AUTH="Authorization: Bearer $TOKEN"
TOOL=bench-live
curl -sf -o /dev/null "$BASE/api/tools" -H "$AUTH" -H 'Content-Type: application/json' -d "{\"id\":\"$TOOL\",\"name\":\"Bench\",\"category\":\"master\"}"
for i in $(seq 1 20); do curl -sf -o /dev/null "$BASE/api/tools/x$i" -X PUT -H "$AUTH" -H 'Content-Type: application/json' -d "{\"name\":\"T$i\",\"category\":\"master\"}" || \
  curl -sf -o /dev/null "$BASE/api/tools" -H "$AUTH" -H 'Content-Type: application/json' -d "{\"id\":\"x$i\",\"name\":\"T$i\",\"category\":\"master\"}"; done

reads() { on_cpus "$CLIENT_CPUS" wrk -t1 -c8 -d"$1"s -H "$AUTH" "$BASE/api/tools" | awk '/Requests\/sec/ {print $2}'; }
reads 3 >/dev/null
ALONE=$(reads 10)

on_cpus "$CLIENT_CPUS" node "$ROOT/bench/events-client.mjs" "$BASE" "$TOKEN" "$TOOL" "$SUBSCRIBERS" "$SECONDS_" "$INTERVAL" "$SERVER_PID" "$WORK/ready" >"$WORK/client.json" &
CLIENT=$!
until [ -f "$WORK/ready" ]; do sleep 0.2; kill -0 "$CLIENT" 2>/dev/null || { echo "client failed" >&2; exit 1; }; done
sleep 2
BESIDE=$(reads 10)
wait "$CLIENT"
RESULT=$(cat "$WORK/client.json")
field() { echo "$RESULT" | sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; }
echo "CPUs: server ${SERVER_CPUS:-any}, load (wrk, subscribers) ${CLIENT_CPUS:-any}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| figure | value |"
echo "|---|---:|"
echo "| subscribers connected | $(field subscribers) |"
echo "| changes (one per ${INTERVAL} ms for ${SECONDS_} s) | $(field changes) |"
echo "| events received / expected | $(field received) / $(field expected) |"
echo "| change request to event, p50 | $(field p50_ms) ms |"
echo "| change request to event, p99 | $(field p99_ms) ms |"
echo "| change request to event, max | $(field max_ms) ms |"
echo "| server memory per subscriber (VmRSS delta / subscribers) | $(field kib_per_subscriber) KiB |"
echo "| GET /api/tools alone (wrk, 8 connections) | $ALONE req/s |"
echo "| GET /api/tools beside the subscribers and events | $BESIDE req/s |"
awk -v a="$ALONE" -v b="$BESIDE" 'BEGIN { printf "| change in reads throughput | %+.1f %% |\n", (b - a) / a * 100 }'
