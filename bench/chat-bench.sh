#!/usr/bin/env bash
# The chat bridge at scale: 1,000,000 stored messages (800,000 answered, each with its reply; 200,000 waiting, the
# backlog) in 10,000 sessions, then wrk from loopback against the published build:
#   inbox          a relay polling with the global key (limit=50; every poll leases 50 from the backlog)
#   inbox (agent)  a relay polling with one agent's own key
#   messages+inbox a signed-in user posting while four relays poll: the writer's p99 shows how long a poll holds
#                  the write lock
#   history        a page of one conversation (/api/chat/sessions/{id}/messages) and the session list
#   responses      the chat page's poll of the bridge
#   sessions       the bridge's admin list (pages first, counts after)
# Prints requests/s, p50 and p99 per line, and the SQL plans of the inbox.
#
#   bench/chat-bench.sh            knobs: BENCH_DURATION seconds per line (5), BENCH_MESSAGES (1000000),
#                                  BENCH_BACKLOG (200000), BENCH_WARMUP seconds of limit=1 polls first (20; 0 for a
#                                  server just started), BENCH_KEEP=1 keeps the temp directory
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${BENCH_DURATION:-5}
MESSAGES=${BENCH_MESSAGES:-1000000}
BACKLOG=${BENCH_BACKLOG:-200000}
SESSIONS=10000
PASSWORD='bench-keeper-phrase-41'
AGENT_KEY='bench-athena-relay-key-0123456789'

for tool in wrk sqlite3 curl; do command -v $tool >/dev/null || { echo "needs $tool (apt-get install $tool)" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/sanctum-chat-bench.XXXXXX)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "building Release ..." >&2
dotnet publish "$ROOT/Sanctum.Api" -c Release --use-current-runtime --self-contained false -o "$WORK/app" --nologo -v quiet >&2

start_server() {
  PORT=$(free_port)
  BASE="http://127.0.0.1:$PORT"
  (cd "$WORK/app" && exec env ASPNETCORE_ENVIRONMENT=Production Sanctum__DataDirectory="$WORK/data" Sanctum__LoginPermitLimit=1000000 \
      Sanctum__ChatBridge__InboxPerMinute=100000000 Sanctum__ChatBridge__OutboxPerMinute=100000000 \
      Sanctum__ChatBridge__ResponsesPerMinute=100000000 Sanctum__ChatBridge__SessionsPerMinute=100000000 \
      Sanctum__ChatBridge__MessagesPerMinute=100000000 dotnet Sanctum.Api.dll --urls "$BASE") >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do curl -sf -o /dev/null "$BASE/readyz" && return; sleep 0.1; done
  echo "server not ready; log:" >&2; cat "$WORK/server.log" >&2; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
json() { sed -E "s/.*\"$1\":\"([^\"]+)\".*/\1/"; }

start_server
TOKEN=$(curl -sf "$BASE/api/auth/login" -H 'Content-Type: application/json' -d '{"username":"admin","password":"admin123"}' | json token)
curl -sf -o /dev/null "$BASE/api/auth/password" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"current_password\":\"admin123\",\"new_password\":\"$PASSWORD\"}"
AUTH="Authorization: Bearer $TOKEN"
API_KEY=$(curl -sf "$BASE/api/config/chat_api_key?reveal=true" -H "$AUTH" | json value)
ADMIN_KEY=$(curl -sf "$BASE/api/config/chat_admin_key?reveal=true" -H "$AUTH" | json value)
curl -sf -o /dev/null -X PUT "$BASE/api/agents/athena/config/chat_api_key" -H "$AUTH" -H 'Content-Type: application/json' \
  -d "{\"value\":\"$AGENT_KEY\",\"type\":\"string\",\"is_encrypted\":true}"
stop_server

echo "seeding $MESSAGES messages ($BACKLOG waiting) in $SESSIONS sessions ..." >&2
ANSWERED=$((MESSAGES - BACKLOG))
t0=$(date +%s)
sqlite3 "$WORK/data/sanctum.db" <<SQL
.timeout 10000
BEGIN IMMEDIATE;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SESSIONS)
INSERT INTO web_chat_sessions (id, uid, user_id, agent_id, created_at, last_active)
SELECT 'session_bench_' || i, printf('%016x', i), CASE WHEN i % 100 = 0 THEN 1 END,
       CASE i % 3 WHEN 0 THEN 'athena' WHEN 1 THEN 'monday' ELSE 'timbre' END,
       '2026-10-01T00:00:00Z', strftime('%Y-%m-%dT%H:%M:%SZ', 1793000000 + $MESSAGES + i, 'unixepoch')
FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $MESSAGES - 1)
INSERT INTO web_chat_messages (session_id, message, timestamp, user_id, agent_id, delivery_state, delivery_attempts)
SELECT 'session_bench_' || (i % $SESSIONS + 1), 'bench message ' || i, strftime('%Y-%m-%dT%H:%M:%SZ', 1793000000 + i, 'unixepoch'),
       CASE WHEN (i % $SESSIONS + 1) % 100 = 0 THEN 1 END,
       CASE (i % $SESSIONS + 1) % 3 WHEN 0 THEN 'athena' WHEN 1 THEN 'monday' ELSE 'timbre' END,
       CASE WHEN i < $ANSWERED THEN 'answered' ELSE 'waiting' END, CASE WHEN i < $ANSWERED THEN 1 ELSE 0 END
FROM n;
INSERT INTO web_chat_responses (session_id, message_id, response, timestamp)
SELECT session_id, id, 'reply to ' || id, timestamp FROM web_chat_messages WHERE delivery_state = 'answered';
COMMIT;
SQL
echo "seeded in $(( $(date +%s) - t0 )) s" >&2
start_server

# line LABEL URL [header] -> wrk with $CONNECTIONS connections; prints requests/s, p50, p99 (ms).
line() {
  local label=$1 url=$2 header=${3:-} args=(-t1 -c"${CONNECTIONS:-1}" -d"${DURATION}s" --timeout 10s -s "$ROOT/bench/wrk.lua")
  [ -n "$header" ] && args+=(-H "$header")
  wrk "${args[@]}" "$url" | awk -v label="$label" '/^RESULT/ {
    printf "%-44s %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms   (%d requests, %d not 2xx)\n", label, $2, $3 / 1000, $4 / 1000, $5, $6 }'
}

SESSION=session_bench_100
echo
echo "chat bridge at $(sqlite3 "$WORK/data/sanctum.db" 'SELECT COUNT(*) FROM web_chat_messages') messages, $(sqlite3 "$WORK/data/sanctum.db" "SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state = 'waiting'") waiting; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# A warm-up: the first seconds after a start run the handlers as ReadyToRun code while the JIT recompiles the hot ones
# (in the background, on the same 2 cores), and read the indexes into the cache. A relay polls a server that has run
# for days, so the lines below measure it warm: BENCH_WARMUP seconds (20) of limit=1 polls, which take little of the
# backlog, then 2 s as measured (together about 60,000 messages: the count left waiting is printed). BENCH_WARMUP=0
# measures a server just started (the 2 s only).
[ "${BENCH_WARMUP:-20}" -gt 0 ] && CONNECTIONS=1 DURATION=${BENCH_WARMUP:-20} line "warm-up" "$BASE/api/v1/?action=inbox&limit=1" "Authorization: Bearer $API_KEY" >/dev/null
CONNECTIONS=1 DURATION=2 line "warm-up" "$BASE/api/v1/?action=inbox&limit=50" "Authorization: Bearer $API_KEY" >/dev/null
echo "after the warm-up ($((${BENCH_WARMUP:-20} + 2)) s): $(sqlite3 "$WORK/data/sanctum.db" "SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state = 'waiting'") waiting"
CONNECTIONS=1 line "inbox limit=50 (global key, 1 relay)" "$BASE/api/v1/?action=inbox&limit=50" "Authorization: Bearer $API_KEY"
CONNECTIONS=1 line "inbox limit=50 (athena's key, 1 relay)" "$BASE/api/v1/?action=inbox&limit=50" "Authorization: Bearer $AGENT_KEY"
CONNECTIONS=1 line "inbox limit=1 (Broca's start-up probe)" "$BASE/api/v1/?action=inbox&limit=1" "Authorization: Bearer $API_KEY"

# A writer while four relays poll: its latency includes every wait for the write lock.
(CONNECTIONS=4 DURATION=$((DURATION + 2)) line "  (4 relays polling meanwhile)" "$BASE/api/v1/?action=inbox&limit=50" "Authorization: Bearer $API_KEY" >"$WORK/relays.txt") &
RELAYS=$!
sleep 1
BENCH_METHOD=POST BENCH_BODY='{"session_id":"session_bench_writer","message":"message {n}"}' CONNECTIONS=1 \
  line "messages POST while 4 relays poll" "$BASE/api/v1/?action=messages" "$AUTH"
wait $RELAYS
cat "$WORK/relays.txt"

CONNECTIONS=4 line "history page (limit=50)" "$BASE/api/chat/sessions/$SESSION/messages?limit=50" "$AUTH"
CONNECTIONS=4 line "history session list" "$BASE/api/chat/sessions?limit=50" "$AUTH"
CONNECTIONS=4 line "responses (the page's poll, after_id)" "$BASE/api/v1/?action=responses&session_id=$SESSION&after_id=1" "$AUTH"
CONNECTIONS=4 line "sessions (admin key, page 1 of 10,000)" "$BASE/api/v1/?action=sessions&limit=50" "Authorization: Bearer $ADMIN_KEY"
CONNECTIONS=4 line "sessions active=true" "$BASE/api/v1/?action=sessions&limit=50&active=true" "Authorization: Bearer $ADMIN_KEY"

echo
echo "inbox plans (run-out leases, waiting; global then agent):"
for agent in "" " AND agent_id = 'athena'"; do
  sqlite3 "$WORK/data/sanctum.db" "EXPLAIN QUERY PLAN SELECT id FROM web_chat_messages WHERE delivery_state = 'leased' AND lease_until <= '$(date -u +%Y-%m-%dT%H:%M:%SZ)' AND delivery_attempts < 5$agent ORDER BY lease_until, id LIMIT 50" | sed 's/^/  /'
  sqlite3 "$WORK/data/sanctum.db" "EXPLAIN QUERY PLAN SELECT id FROM web_chat_messages WHERE delivery_state = 'waiting'$agent ORDER BY id LIMIT 50" | sed 's/^/  /'
done
echo "after the run: $(sqlite3 "$WORK/data/sanctum.db" "SELECT COUNT(*) FROM web_chat_messages WHERE delivery_state = 'leased'") messages leased"
