#!/usr/bin/env bash
# Broca at scale: three agents' Broca folders, each with 100,000 queue items (the newest 30,000 pending) and
# 10,000 platform users with 100,000 messages, operated through the panel's API on a published Release build.
#
#   bench/broca.sh
#
# Prints p50/p99 (wrk, loopback) of the queue page, the filtered queue page, the queue stats and the user discovery
# across the three agents, then flushes one agent's 30,000 pending items and prints how many batches it took and
# the longest time one batch held Broca's write lock (measured from BEGIN IMMEDIATE to COMMIT in the server).
# Targets (issue 26): queue page p50 < 20 ms, stats < 10 ms, discovery < 50 ms, flush lock < 200 ms at a time.
#
# Knobs: BENCH_PORT (56310; this script's range is 56300-56399), BENCH_DURATION seconds per measurement (5),
# BENCH_CONNECTIONS (4), BENCH_BROCA_QUEUE (100000), BENCH_BROCA_USERS (10000), BENCH_BROCA_PENDING (30000),
# BENCH_APP a published build to reuse instead of publishing, BENCH_KEEP=1 keeps the temp directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${BENCH_PORT:-56310}
DURATION=${BENCH_DURATION:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-4}
QUEUE=${BENCH_BROCA_QUEUE:-100000}
USERS=${BENCH_BROCA_USERS:-10000}
PENDING=${BENCH_BROCA_PENDING:-30000}
PASSWORD='bench-keeper-phrase-41'
for tool in wrk sqlite3 curl; do command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install $tool)" >&2; exit 1; }; done

WORK=$(mktemp -d /tmp/sanctum-broca-bench.XXXXXX)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

APP=${BENCH_APP:-}
if [ -z "$APP" ]; then
  echo "building Release ..." >&2
  APP="$WORK/app"
  dotnet publish "$ROOT/Sanctum.Api" -c Release --use-current-runtime --self-contained false -o "$APP" --nologo -v quiet >&2
fi

# --- three Broca folders (our own schema, after Broca's database/models.py) -------------------------------------
AGENTS=(athena monday timbre)
for agent in "${AGENTS[@]}"; do
  home="$WORK/broca-$agent"
  mkdir -p "$home/logs"
  printf '{\n    "debug_mode": false,\n    "queue_refresh": 5,\n    "max_retries": 3,\n    "message_mode": "live"\n}\n' >"$home/settings.json"
  printf 'AGENT_ID=agent-%s\nAGENT_API_KEY=sk-bench\n' "$agent" >"$home/.env"
  echo "seeding $home ($QUEUE queue items, $USERS users) ..." >&2
  sqlite3 "$home/sanctum.db" <<SQL
CREATE TABLE letta_users (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT DEFAULT CURRENT_TIMESTAMP, last_active TEXT,
  letta_identity_id TEXT, letta_block_id TEXT, agent_preferences TEXT, custom_instructions TEXT, is_active INTEGER DEFAULT 1);
CREATE TABLE platform_profiles (id INTEGER PRIMARY KEY AUTOINCREMENT, letta_user_id INTEGER REFERENCES letta_users (id), platform TEXT,
  platform_user_id TEXT, username TEXT, display_name TEXT, metadata TEXT, created_at TEXT DEFAULT CURRENT_TIMESTAMP, last_active TEXT,
  UNIQUE (platform, platform_user_id));
CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, letta_user_id INTEGER REFERENCES letta_users (id),
  platform_profile_id INTEGER REFERENCES platform_profiles (id), role TEXT, message TEXT, timestamp TEXT, processed INTEGER DEFAULT 0,
  agent_response TEXT);
CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, letta_user_id INTEGER REFERENCES letta_users (id),
  message_id INTEGER REFERENCES messages (id), status TEXT, attempts INTEGER DEFAULT 0, timestamp TEXT DEFAULT CURRENT_TIMESTAMP);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS)
INSERT INTO letta_users (id, created_at, last_active, letta_identity_id, is_active)
SELECT i, '2026-11-01 00:00:00', '2026-12-05 00:00:00', 'identity-' || i, i % 20 <> 0 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS)
INSERT INTO platform_profiles (id, letta_user_id, platform, platform_user_id, username, display_name, created_at, last_active)
SELECT i, i, CASE i % 3 WHEN 0 THEN 'web' ELSE 'telegram' END, 'p' || i, 'user' || i, 'User ' || i, '2026-11-01 00:00:00', '2026-12-05 00:00:00' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $QUEUE)
INSERT INTO messages (id, letta_user_id, platform_profile_id, role, message, timestamp, processed)
SELECT i, 1 + i % $USERS, 1 + i % $USERS, 'user', 'message number ' || i, datetime('2026-12-06 00:00:00', '+' || (i % 80000) || ' seconds'), 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $QUEUE)
INSERT INTO queue (id, letta_user_id, message_id, status, attempts, timestamp)
SELECT i, 1 + i % $USERS, i, CASE WHEN i > $QUEUE - $PENDING THEN 'pending' WHEN i % 50 = 0 THEN 'failed' ELSE 'done' END,
       CASE WHEN i % 50 = 0 THEN 3 ELSE 1 END, datetime('2026-12-06 00:00:00', '+' || (i % 80000) || ' seconds') FROM n;
COMMIT;
SQL
done

# --- the server -----------------------------------------------------------------------------------------------
BASE="http://127.0.0.1:$PORT"
(cd "$APP" && exec env ASPNETCORE_ENVIRONMENT=Production Sanctum__DataDirectory="$WORK/data" Sanctum__HealthChecks__Enabled=false \
    dotnet Sanctum.Api.dll --urls "$BASE") >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
deadline=$(( $(date +%s) + ${BENCH_READY_SECONDS:-120} ))
until curl -sf -o /dev/null "$BASE/readyz"; do
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  [ "$(date +%s)" -lt "$deadline" ] || { echo "not ready" >&2; exit 1; }
  sleep 0.05
done
login() { curl -sf "$BASE/api/auth/login" -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$1\"}" | sed -E 's/.*"token":"([^"]+)".*/\1/'; }
TOKEN=$(login admin123)
curl -sf -o /dev/null "$BASE/api/auth/password" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"current_password\":\"admin123\",\"new_password\":\"$PASSWORD\"}"
AUTH="Authorization: Bearer $TOKEN"
for agent in "${AGENTS[@]}"; do
  curl -sf -o /dev/null "$BASE/api/tools/broca/instances" -H "$AUTH" -H 'Content-Type: application/json' \
    -d "{\"agent_id\":\"$agent\",\"name\":\"Broca of $agent\",\"config\":{\"home\":\"$WORK/broca-$agent\"}}"
done

# --- measurements ---------------------------------------------------------------------------------------------
measure() { # label path
  wrk -t1 -c"$CONNECTIONS" -d2s --timeout 10s -s "$ROOT/bench/wrk.lua" -H "$AUTH" "$BASE$2" >/dev/null
  wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/wrk.lua" -H "$AUTH" "$BASE$2" \
    | awk -v label="$1" '/^RESULT/ { printf "%-34s %9.1f %9.2f %9.2f %8d\n", label, $2, $3 / 1000, $4 / 1000, $6 }'
}
printf '%-34s %9s %9s %9s %8s\n' "endpoint" "req/s" "p50 ms" "p99 ms" "non-2xx"
measure "queue page (50, newest)"        "/api/agents/athena/broca/queue?limit=50"
measure "queue page (status=failed)"     "/api/agents/athena/broca/queue?status=failed&limit=50"
measure "queue stats"                    "/api/agents/athena/broca/queue/stats"
measure "discovery across 3 agents (50)" "/api/broca/users?limit=50"
measure "discovery search (user12)"      "/api/broca/users?search=user12&limit=50"

t0=$(date +%s%N)
FLUSH=$(curl -sf -X POST "$BASE/api/agents/monday/broca/queue/flush" -H "$AUTH")
t1=$(date +%s%N)
echo
echo "flush of monday's pending items: $FLUSH in $(( (t1 - t0) / 1000000 )) ms"
echo "(changed = items flushed, longest_batch_ms = the longest a batch held Broca's write lock)"
sqlite3 "$WORK/broca-monday/sanctum.db" "SELECT status, COUNT(*) FROM queue GROUP BY status" | tr '\n' ' '; echo
