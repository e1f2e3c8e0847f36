#!/usr/bin/env bash
# Sanctum.Api benchmark: one command, rerunnable anywhere with the .NET SDK on Debian.
#
#   bench/run.sh                       (SQLite, the default)
#   BENCH_ENGINE=postgres bench/run.sh (the same load on PostgreSQL; bench/engines.sh runs both side by side)
#
# Publishes a Release build into a temp directory, measures start-up to /readyz on an empty data directory,
# then starts the server on a fresh temp database (admin password changed, 100,000 users seeded), loads each
# endpoint with wrk from loopback and prints one table: requests/s, p50/p99 latency, and each endpoint's
# throughput as a ratio of the benchmark-only constant endpoint returning the same number of bytes, measured
# alternately with it in the same run (the ratio is the figure to compare on a noisy machine), and the server
# process's CPU time per request of the endpoint (user + system from /proc, which other processes on the machine
# barely move: the figure for what a change costs per request). Ends with the
# server's peak memory (VmHWM) and the SQL plans of the user search.
#
# Knobs (environment): BENCH_DURATION seconds per measurement (5), BENCH_ROUNDS alternations with the constant
# endpoint (2), BENCH_CONNECTIONS wrk connections (8), BENCH_THREADS wrk threads (1), BENCH_USERS seeded users
# (100000), BENCH_STORM concurrent logins in the storm (16), BENCH_ONLY a regular expression picking the endpoints
# to measure by label (all; "storm" is the login storm), BENCH_SERVER_ENV extra VAR=value settings for the measured
# server, BENCH_READY_SECONDS how long a start may take before the run gives up (60; more on a crowded machine),
# BENCH_KEEP=1 keeps the temp directory, BENCH_ENGINE sqlite (default) or postgres, BENCH_ROWS_FILE a file that gets
# the table's rows as label|req/s|p50 ms|p99 ms|bytes|constant req/s|ratio|server CPU µs/req|...|errors (for
# bench/engines.sh).
#
# On PostgreSQL the run starts a throwaway server of its own (initdb and pg_ctl from the newest
# /usr/lib/postgresql/*/bin, or BENCH_PG_BIN; as the postgres user when run as root) on the first free loopback port
# of BENCH_PG_PORTS (55450-55469), with the defaults an operator keeps (fsync and synchronous_commit on), and gives
# every server start a database of its own (B of BENCH_SERVER_ENV_B shares A's); the server and its files go at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${BENCH_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-2}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
THREADS=${BENCH_THREADS:-1}
USERS=${BENCH_USERS:-100000}
STORM=${BENCH_STORM:-16}
ENGINE=${BENCH_ENGINE:-sqlite}
case "$ENGINE" in sqlite|postgres) ;; *) echo "BENCH_ENGINE must be sqlite or postgres" >&2; exit 1 ;; esac
PASSWORD='bench-keeper-phrase-41'
# A real bcrypt hash (cost 4) for the seeded users: they never sign in, so its cost does not matter.
SEED_HASH='$2b$04$46g2L1PpazLP.dbRcnzZpOVPrEh8/VypggOKMD5D9qp6nasA3loFW'

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
need() {
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $2 ..." >&2
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >&2
}
need wrk wrk
need sqlite3 sqlite3
need curl curl

WORK=$(mktemp -d /tmp/sanctum-bench.XXXXXX)
SERVER_PID=
STORM_PID=
PG_DIR=
B_PID=
cleanup() {
  [ -n "$STORM_PID" ] && kill "$STORM_PID" 2>/dev/null || true
  [ -n "$B_PID" ] && kill "$B_PID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [ -n "$PG_DIR" ] && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
    || echo $((20000 + RANDOM % 40000))
}
now_ns() { date +%s%N; }

# --- PostgreSQL (BENCH_ENGINE=postgres): a throwaway server for this run ----------------------------------------
pg_as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PG_ENV=()
if [ "$ENGINE" = postgres ]; then
  PG_BIN=${BENCH_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
  [ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL server binaries (apt-get install postgresql, or set BENCH_PG_BIN)" >&2; exit 1; }
  PG_DIR=$(mktemp -d /tmp/sanctum-bench-pg.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DIR"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
  PG_PORT=
  for p in $(seq ${BENCH_PG_PORTS:-55450 55469}); do
    python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',$p))" 2>/dev/null || continue
    PG_PORT=$p; break
  done
  [ -n "$PG_PORT" ] || { echo "no free port in ${BENCH_PG_PORTS:-55450 55469}" >&2; exit 1; }
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
  PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres)
  KEY_RING_KEY=$(head -c 32 /dev/urandom | base64)
  PG_DATABASES=0
fi
# new_database: on PostgreSQL, sets PG_ENV to a fresh database's connection settings.
new_database() {
  [ "$ENGINE" = postgres ] || return 0
  PG_DATABASES=$((PG_DATABASES + 1))
  PG_DB="bench$PG_DATABASES"
  "${PSQL[@]}" -d postgres -c "CREATE DATABASE $PG_DB TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"
  PG_ENV=("ConnectionStrings__Sanctum=Host=127.0.0.1;Port=$PG_PORT;Database=$PG_DB;Username=postgres" "Sanctum__KeyRingKey=$KEY_RING_KEY")
}

if [ -n "${BENCH_APP:-}" ]; then
  # BENCH_APP: a folder published already (engines.sh publishes once for all its runs; or an older build to compare).
  cp -a "$BENCH_APP" "$WORK/app"
else
  echo "building Release ..." >&2
  dotnet publish "$ROOT/Sanctum.Api" -c Release --use-current-runtime --self-contained false -o "$WORK/app" --nologo -v quiet >&2
fi

# start_server DATA_DIR LOG [VAR=value ...]: starts the published server on a free loopback port (on PostgreSQL,
# on the database new_database made last).
start_server() {
  local data=$1 log=$2; shift 2
  PORT=${PRESET_PORT:-$(free_port)}
  BASE="http://127.0.0.1:$PORT"
  (cd "$WORK/app" && exec env ASPNETCORE_ENVIRONMENT=Production Sanctum__DataDirectory="$data" "${PG_ENV[@]}" "$@" \
      dotnet Sanctum.Api.dll --urls "$BASE") >"$log" 2>&1 &
  SERVER_PID=$!
}
wait_ready() {
  local deadline=$(( $(date +%s) + ${BENCH_READY_SECONDS:-60} ))
  until curl -sf -o /dev/null "$BASE/readyz"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "the server exited; its log:" >&2; cat "$1" >&2; exit 1; fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "not ready after ${BENCH_READY_SECONDS:-60} s" >&2; exit 1; }
    sleep 0.005
  done
}
# The server's CPU time so far, in clock ticks (user + system, /proc/PID/stat fields 14 and 15).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${1:-$SERVER_PID}/stat"; }
stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

# --- start-up: process start to /readyz 200 on an empty data directory (median of 3) -------------------------
STARTS=()
for i in 1 2 3; do
  new_database
  PRESET_PORT=$(free_port)  # outside the timing: finding a port starts a Python
  t0=$(now_ns)
  PRESET_PORT=$PRESET_PORT start_server "$WORK/empty$i" "$WORK/start$i.log"
  wait_ready "$WORK/start$i.log"
  t1=$(now_ns)
  STARTS+=($(( (t1 - t0) / 1000000 )))
  stop_server
done
STARTUP_MS=$(printf '%s\n' "${STARTS[@]}" | sort -n | sed -n 2p)

# --- the measured server --------------------------------------------------------------------------------------
new_database
# shellcheck disable=SC2086 # BENCH_SERVER_ENV: extra VAR=value settings for the measured server, for experiments
start_server "$WORK/data" "$WORK/server.log" Sanctum__Benchmark__Enabled=true Sanctum__LoginPermitLimit=1000000000 ${BENCH_SERVER_ENV:-}
wait_ready "$WORK/server.log"
DB="$WORK/data/sanctum.db"

login() {
  curl -sf "$BASE/api/auth/login" -H 'Content-Type: application/json' -d "{\"username\":\"admin\",\"password\":\"$1\"}" \
    | sed -E 's/.*"token":"([^"]+)".*/\1/'
}
TOKEN=$(login admin123)
curl -sf -o /dev/null "$BASE/api/auth/password" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"current_password\":\"admin123\",\"new_password\":\"$PASSWORD\"}"
AUTH="Authorization: Bearer $TOKEN"

echo "seeding $USERS users ..." >&2
t0=$(now_ns)
if [ "$ENGINE" = postgres ]; then
"${PSQL[@]}" -d "$PG_DB" <<SQL
BEGIN;
INSERT INTO users (username, email, password_hash, role, status, created_at, updated_at)
SELECT 'user' || lpad(i::text, 6, '0'), 'person.' || lpad(i::text, 6, '0') || '@example' || (i % 7) || '.test', '$SEED_HASH',
       CASE i % 10 WHEN 0 THEN 'admin' WHEN 1 THEN 'viewer' ELSE 'user' END,
       CASE i % 50 WHEN 0 THEN 'inactive' ELSE 'active' END,
       '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
FROM generate_series(1, $USERS) AS i;
COMMIT;
ANALYZE;
SQL
else
sqlite3 "$DB" <<SQL
.timeout 10000
BEGIN IMMEDIATE;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS)
INSERT INTO users (username, email, password_hash, role, status, created_at, updated_at)
SELECT printf('user%06d', i), printf('person.%06d@example%d.test', i, i % 7), '$SEED_HASH',
       CASE i % 10 WHEN 0 THEN 'admin' WHEN 1 THEN 'viewer' ELSE 'user' END,
       CASE i % 50 WHEN 0 THEN 'inactive' ELSE 'active' END,
       '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'
FROM n;
COMMIT;
PRAGMA optimize;
SQL
fi
SEED_MS=$(( ($(now_ns) - t0) / 1000000 ))

# A setting with a long history (30,000 recorded versions), written by the "key with 30,000 versions" row: each write
# looks up the key's latest version, which must not cost more as its history grows.
HISTORY_SQL="INSERT INTO setting_history (store, scope, scope_id, key, version, action, type, is_encrypted, old_value, new_value, changed_by, changed_at)
  SELECT 'system_config', 'system', NULL, 'bench_deep', i, 'set', 'string', FALSE, 'v' || (i - 1), 'v' || i, 'bench', '2026-01-01T00:00:00Z'"
if [ "$ENGINE" = postgres ]; then
  "${PSQL[@]}" -d "$PG_DB" -c "$HISTORY_SQL FROM generate_series(1, 30000) AS i" -c "ANALYZE setting_history" >/dev/null
else
  sqlite3 "$DB" ".timeout 10000" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000) $HISTORY_SQL FROM n" >/dev/null
fi

# --- BENCH_SERVER_ENV_B: a second server, B, on a copy of the seeded database with other settings ----------------
# Every measurement of an endpoint then runs on B right after A (same machine, same minute), and the table adds B's
# requests/s, p99 and server CPU per request: the way to compare two settings that noise would hide across runs.
if [ -n "${BENCH_SERVER_ENV_B:-}" ]; then
  stop_server
  cp -a "$WORK/data" "$WORK/data-b"
  # shellcheck disable=SC2086
  start_server "$WORK/data-b" "$WORK/server-b.log" Sanctum__Benchmark__Enabled=true Sanctum__LoginPermitLimit=1000000000 ${BENCH_SERVER_ENV_B}
  wait_ready "$WORK/server-b.log"
  B_PID=$SERVER_PID B_BASE=$BASE
  # shellcheck disable=SC2086
  start_server "$WORK/data" "$WORK/server.log" Sanctum__Benchmark__Enabled=true Sanctum__LoginPermitLimit=1000000000 ${BENCH_SERVER_ENV:-}
  wait_ready "$WORK/server.log"
fi

# --- wrk helpers ----------------------------------------------------------------------------------------------
# wrk_run URL [header] -> "rps p50us p99us requests non2xx socketerrors"; BENCH_METHOD/BENCH_BODY pass through.
wrk_run() {
  local url=$1 header=${2:-}
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${WRK_SECONDS:-$DURATION}s" --timeout 10s -s "$ROOT/bench/wrk.lua")
  [ -n "$header" ] && args+=(-H "$header")
  wrk "${args[@]}" "$url" | awk '/^RESULT/ { print $2, $3, $4, $5, $6, $7 }'
}
size_of() { # size_of PATH [header] [method] [body]
  local args=(-s -o /dev/null -w '%{size_download}')
  [ -n "${2:-}" ] && args+=(-H "$2")
  [ -n "${3:-}" ] && args+=(-X "$3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  curl "${args[@]}" "$BASE$1"
}
status_of() {
  local args=(-s -o /dev/null -w '%{http_code}')
  [ -n "${2:-}" ] && args+=(-H "$2")
  [ -n "${3:-}" ] && args+=(-X "$3")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data-binary "${4//\{n\}/0}")
  curl "${args[@]}" "$BASE$1"
}

# The endpoints: label | method | path | body ({n} = counter) | needs the bearer header (1/0) | keys (BENCH_KEYS of
# bench/wrk.lua: %7Bk%7D in the path takes that many values, so writes spread over as many settings).
# The user search and the config write appear once their branches are merged; until then they print "n/a".
ENDPOINTS=(
  "GET /healthz|GET|/healthz||0"
  "GET /api/tools|GET|/api/tools||1"
  "GET /api/agents|GET|/api/agents||1"
  "GET /api/status|GET|/api/status||1"
  "GET /api/users?search= (page 1 of all)|GET|/api/users?search=||1"
  "GET /api/users?search=user04242|GET|/api/users?search=user04242||1"
  "GET /api/tools/{id} (no cache: one query)|GET|/api/tools/system-settings||1"
  "GET /api/users?status=locked (no cache: two queries)|GET|/api/users?status=locked&limit=20||1"
  "PUT /api/config/{key} (write)|PUT|/api/config/session_timeout|{\"value\":\"6{n}\"}|1"
  "PUT /api/config/{key} (key with 30,000 versions)|PUT|/api/config/bench_deep|{\"value\":\"6{n}\"}|1"
  "PUT /api/config/{key} (32 keys in turn)|PUT|/api/config/bench_k%7Bk%7D|{\"value\":\"6{n}\"}|1|32"
)

echo "warming up ..." >&2
for spec in "${ENDPOINTS[@]}"; do
  IFS='|' read -r label method path body auth keys <<<"$spec"
  [[ "$label" =~ ${BENCH_ONLY:-.} || "$label" == *tools* ]] || continue
  hdr=; [ "$auth" = 1 ] && hdr=$AUTH
  for base in "$BASE" ${B_BASE:-}; do BENCH_KEYS=${keys:-1} BENCH_METHOD=$method BENCH_BODY=$body WRK_SECONDS=2 wrk_run "$base$path" "$hdr" >/dev/null; done
done
WRK_SECONDS=2 wrk_run "$BASE/api/benchmark/constant" "$AUTH" >/dev/null

ROWS=()
# on_server PID BASE OUT CPU_OUT METHOD PATH BODY HEADER: one wrk run into OUT, and the server's CPU ticks it took.
on_server() {
  local before; before=$(cpu_ticks "$1")
  BENCH_KEYS=${9:-1} BENCH_METHOD=$5 BENCH_BODY=$7 wrk_run "$2$6" "$8" >>"$3"
  echo $(( $(cpu_ticks "$1") - before )) >>"$4"
}
# measure_endpoint METHOD PATH BODY HEADER [KEYS]: the endpoint on the measured server, and on B when there is one (B first
# in even rounds).
measure_endpoint() {
  local a=("$SERVER_PID" "$BASE" "$WORK/e.txt" "$WORK/cpu.txt" "$@")
  if [ -z "$B_PID" ]; then on_server "${a[@]}"; return; fi
  local b=("$B_PID" "$B_BASE" "$WORK/eb.txt" "$WORK/cpub.txt" "$@")
  if (( r % 2 )); then on_server "${a[@]}"; on_server "${b[@]}"; else on_server "${b[@]}"; on_server "${a[@]}"; fi
}
# measure LABEL METHOD PATH BODY AUTH [KEYS]: alternates the endpoint with the same-sized constant endpoint.
measure() {
  local label=$1 method=$2 path=$3 body=$4 auth=$5 keys=${6:-1} hdr=
  [ "$auth" = 1 ] && hdr=$AUTH
  local probe=${path//%7Bk%7D/0}
  local status; status=$(status_of "$probe" "$hdr" "$method" "$body")
  if [[ ! "$status" =~ ^2 ]]; then ROWS+=("$label|n/a (HTTP $status on this build)"); return; fi
  local size; size=$(size_of "$probe" "$hdr" "$method" "${body//\{n\}/0}")
  [ "$size" -lt 16 ] && size=16
  : >"$WORK/e.txt"; : >"$WORK/c.txt"; : >"$WORK/cpu.txt"; : >"$WORK/eb.txt"; : >"$WORK/cpub.txt"
  for ((r = 1; r <= ROUNDS; r++)); do
    # Alternate which goes first, so drift in the machine's load falls on both alike.
    if (( r % 2 )); then
      BENCH_METHOD= BENCH_BODY= wrk_run "$BASE/api/benchmark/constant?bytes=$size" "$AUTH" >>"$WORK/c.txt"
      measure_endpoint "$method" "$path" "$body" "$hdr" "$keys"
    else
      measure_endpoint "$method" "$path" "$body" "$hdr" "$keys"
      BENCH_METHOD= BENCH_BODY= wrk_run "$BASE/api/benchmark/constant?bytes=$size" "$AUTH" >>"$WORK/c.txt"
    fi
  done
  ROWS+=("$(awk -v label="$label" -v size="$size" -v hz="$(getconf CLK_TCK)" -v b="$B_PID" '
    FILENAME ~ /c.txt$/ && NF >= 6 { crps += $1; cn++; next }
    FILENAME ~ /cpub.txt$/ { bticks += $1; next }
    FILENAME ~ /cpu.txt$/ { ticks += $1; next }
    FILENAME ~ /eb.txt$/ && NF >= 6 { brps += $1; if ($3 > bp99) bp99 = $3; brequests += $4; bad += $5 + $6; bk++; next }
    NF >= 6 { rps += $1; p50 += $2; if ($3 > p99) p99 = $3; requests += $4; bad += $5 + $6; k++ }
    END {
      printf "%s|%.0f|%.2f|%.2f|%d|%.0f|%.2f|%.1f", label, rps / k, p50 / k / 1000, p99 / 1000, size, crps / cn, rps / crps, ticks * 1e6 / hz / requests
      if (b != "") printf "|%.0f|%.2f|%.1f", brps / bk, bp99 / 1000, bticks * 1e6 / hz / brequests
      printf "|%d", bad
    }
  ' "$WORK/c.txt" "$WORK/e.txt" "$WORK/cpu.txt" "$WORK/eb.txt" "$WORK/cpub.txt")")
}

ONLY=${BENCH_ONLY:-.}
for spec in "${ENDPOINTS[@]}"; do
  IFS='|' read -r label method path body auth keys <<<"$spec"
  [[ "$label" =~ $ONLY ]] || continue
  echo "measuring $label ..." >&2
  measure "$label" "$method" "$path" "$body" "$auth" "${keys:-1}"
done

# /api/tools while $STORM logins run at once (bcrypt cost 12), for the whole alternation.
STORM_RESULT="not measured"
if [[ "storm" =~ $ONLY ]]; then
echo "measuring GET /api/tools during a storm of $STORM concurrent logins ..." >&2
STORM_SECONDS=$(( ROUNDS * 2 * (DURATION + 1) + 3 ))
BENCH_METHOD=POST BENCH_BODY="{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" \
  wrk -t1 -c"$STORM" -d"${STORM_SECONDS}s" --timeout 30s -s "$ROOT/bench/wrk.lua" "$BASE/api/auth/login" >"$WORK/storm.txt" &
STORM_PID=$!
sleep 2
B_SAVED=$B_PID; B_PID=  # the storm runs against A only
measure "GET /api/tools during $STORM logins" GET /api/tools "" 1
B_PID=$B_SAVED
wait "$STORM_PID" || true
STORM_PID=
STORM_RESULT=$(awk '/^RESULT/ { printf "%.1f logins/s, p50 %.0f ms, p99 %.0f ms, %d non-2xx, %d socket errors", $2, $3 / 1000, $4 / 1000, $6, $7 }' "$WORK/storm.txt")
fi

PEAK_KB=$(awk '/^VmHWM/ { print $2 }' "/proc/$SERVER_PID/status")
stop_server
[ -n "$B_PID" ] && { kill "$B_PID" 2>/dev/null; wait "$B_PID" 2>/dev/null || true; }

# --- report ---------------------------------------------------------------------------------------------------
echo
[ -n "${BENCH_ROWS_FILE:-}" ] && printf '%s\n' "${ROWS[@]}" >"$BENCH_ROWS_FILE"
echo "Sanctum.Api benchmark ($ENGINE)  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo), dotnet $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$ENGINE" = postgres ] && echo "database: PostgreSQL $("${PSQL[@]}" -d postgres -tAc 'SHOW server_version') on loopback (fsync $("${PSQL[@]}" -d postgres -tAc 'SHOW fsync'), synchronous_commit $("${PSQL[@]}" -d postgres -tAc 'SHOW synchronous_commit'))" \
  || echo "database: SQLite (WAL) in the data directory"
echo "wrk: $THREADS thread(s), $CONNECTIONS connections, ${DURATION} s x $ROUNDS rounds per endpoint, alternating with the constant endpoint of the same size"
echo
{
  if [ -n "$B_PID" ]; then
    echo "endpoint|req/s|p50 ms|p99 ms|bytes|constant req/s|ratio|server CPU µs/req|B req/s|B p99 ms|B server CPU µs/req|errors"
  else
    echo "endpoint|req/s|p50 ms|p99 ms|bytes|constant req/s|ratio|server CPU µs/req|errors"
  fi
  printf '%s\n' "${ROWS[@]}"
} | awk -F'|' '
  { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } if (NF > nf) nf = NF; rows = NR }
  END { for (r = 1; r <= rows; r++) { line = ""; for (i = 1; i <= nf; i++) line = line sprintf(i == 1 ? "%-*s" : "  %*s", w[i], cell[r, i]); print line } }'
echo
echo "login storm: $STORM_RESULT"
echo "peak memory (VmHWM): $(( PEAK_KB / 1024 )) MiB"
echo "start-up to /readyz 200 on an empty data directory: ${STARTUP_MS} ms (median of ${STARTS[*]} ms)"
echo "seeding $USERS users in one transaction: ${SEED_MS} ms"
if [[ "search" =~ $ONLY ]] && [ "$ENGINE" = sqlite ]; then echo; "$ROOT/bench/search-plans.sh" "$DB"; fi
