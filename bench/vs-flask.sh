#!/usr/bin/env bash
# Sanctum.Api against the Flask control app it replaces, side by side in one run.
#
#   bench/vs-flask.sh
#
# Measures the four reads both serve (/api/status, /api/tools, /api/agents, /api/users with 21 users) with the
# same wrk load on each (-t2 -c32 -d5s, best of two rounds, the order alternating per round), and Sanctum's
# throughput as a share of its unauthenticated constant-JSON endpoint of the same size, measured in the same run.
# Sanctum runs from its Release publish folder with ASPNETCORE_ENVIRONMENT=Production; Flask runs under gunicorn
# with one sync worker per core, as sanctumos/installer deploys it.
#
# The Flask app is AGPL and is never part of this repository: the script takes it at bench time from
#   FLASK_CONTROL_DIR  a checkout's control/ folder, or
#   FLASK_REPO         a git URL or git directory of sanctumos/installer (default https://github.com/sanctumos/installer)
# and when neither can be had it measures Sanctum alone and prints n/a for Flask.
#
# Knobs: VS_DURATION (5), VS_ROUNDS (2), VS_THREADS (2), VS_CONNECTIONS (32), BENCH_KEEP=1 keeps the temp directory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${VS_DURATION:-5}
ROUNDS=${VS_ROUNDS:-2}
THREADS=${VS_THREADS:-2}
CONNECTIONS=${VS_CONNECTIONS:-32}
PASSWORD='bench-keeper-phrase-41'
SEED_HASH='$2b$04$46g2L1PpazLP.dbRcnzZpOVPrEh8/VypggOKMD5D9qp6nasA3loFW'

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  echo "installing $* ..." >&2
  as_root apt-get update -qq >&2 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}
for tool in wrk curl sqlite3; do command -v "$tool" >/dev/null || apt_install "$tool"; done

WORK=$(mktemp -d /tmp/sanctum-vs-flask.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # wait_http URL PID LOG
  local deadline=$(( $(date +%s) + 60 ))
  until curl -s -o /dev/null "$1"; do
    kill -0 "$2" 2>/dev/null || { echo "server exited; its log:" >&2; cat "$3" >&2; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { echo "no answer from $1 after 60 s" >&2; return 1; }
    sleep 0.05
  done
}
seed_users() { # seed_users DB SQL-TEMPLATE: twenty more users beside the admin
  sqlite3 "$1" ".timeout 10000" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) $2"
}

# --- Flask ------------------------------------------------------------------------------------------------------
FLASK_BASE=
flask_source() {
  if [ -n "${FLASK_CONTROL_DIR:-}" ]; then cp -r "$FLASK_CONTROL_DIR" "$WORK/control"; return; fi
  local repo=${FLASK_REPO:-https://github.com/sanctumos/installer}
  if [ -d "$repo" ] && git --git-dir="$repo" rev-parse HEAD >/dev/null 2>&1; then
    git --git-dir="$repo" archive HEAD control | tar -x -C "$WORK"
  else
    timeout 60 git clone -q --depth 1 "$repo" "$WORK/installer" 2>/dev/null && mv "$WORK/installer/control" "$WORK/control"
  fi
}
start_flask() {
  flask_source || return 1
  [ -f "$WORK/control/app.py" ] || return 1
  # Checked with the interpreter gunicorn runs (Debian's), not whichever python3 comes first on PATH.
  command -v gunicorn >/dev/null && "$(sed -n '1s/^#! *//p' "$(command -v gunicorn)")" -c 'import flask, sqlalchemy, bcrypt' 2>/dev/null \
    || apt_install python3-flask python3-sqlalchemy python3-bcrypt gunicorn || return 1
  local db="$WORK/control/db/sanctum_ui.db"
  [ -f "$db" ] || return 1
  seed_users "$db" "INSERT OR IGNORE INTO users (username, email, password_hash, role, permissions, is_active,
      failed_login_attempts, created_at, updated_at)
    SELECT printf('user%02d', i), printf('user%02d@example.test', i), '$SEED_HASH', 'user', '[]', 1, 0,
      '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM n;" || return 1
  local port; port=$(free_port)
  FLASK_BASE="http://127.0.0.1:$port"
  (cd "$WORK/control" && exec gunicorn --workers "$(nproc)" --worker-class sync --bind "127.0.0.1:$port" \
      --log-level warning app:app) >"$WORK/flask.log" 2>&1 &
  PIDS+=($!)
  wait_http "$FLASK_BASE/login" "$!" "$WORK/flask.log" || return 1
  curl -s -o /dev/null -c "$WORK/flask.cookies" -d 'username=admin&password=admin123' "$FLASK_BASE/login"
  FLASK_COOKIE="Cookie: $(awk '$6 == "session" { print "session=" $7 }' "$WORK/flask.cookies")"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$FLASK_COOKIE" "$FLASK_BASE/api/users")" = 200 ]
}
echo "starting the Flask app ..." >&2
if ! start_flask; then echo "the Flask app is not available: measuring Sanctum alone" >&2; FLASK_BASE=; fi

# --- Sanctum ----------------------------------------------------------------------------------------------------
echo "publishing Sanctum.Api (Release) ..." >&2
dotnet publish "$ROOT/Sanctum.Api" -c Release --use-current-runtime --self-contained false -o "$WORK/app" --nologo -v quiet >&2
port=$(free_port)
SANCTUM_BASE="http://127.0.0.1:$port"
(cd "$WORK/app" && exec env ASPNETCORE_ENVIRONMENT=Production Sanctum__DataDirectory="$WORK/data" \
    Sanctum__Benchmark__Enabled=true Sanctum__LoginPermitLimit=1000000000 dotnet Sanctum.Api.dll --urls "$SANCTUM_BASE") \
  >"$WORK/sanctum.log" 2>&1 &
SANCTUM_PID=$!
PIDS+=($SANCTUM_PID)
wait_http "$SANCTUM_BASE/readyz" "$SANCTUM_PID" "$WORK/sanctum.log"
login() {
  curl -sf "$SANCTUM_BASE/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$1\"}" | sed -E 's/.*"token":"([^"]+)".*/\1/'
}
TOKEN=$(login admin123)
curl -sf -o /dev/null "$SANCTUM_BASE/api/auth/password" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"current_password\":\"admin123\",\"new_password\":\"$PASSWORD\"}"
SANCTUM_AUTH="Authorization: Bearer $TOKEN"
seed_users "$WORK/data/sanctum.db" "INSERT INTO users (username, email, password_hash, role, status, created_at, updated_at)
  SELECT printf('user%02d', i), printf('user%02d@example.test', i), '$SEED_HASH', 'user', 'active',
    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n;"

# --- measuring --------------------------------------------------------------------------------------------------
wrk_run() { # wrk_run URL HEADER -> "rps p50us p99us requests non2xx socketerrors"
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${WRK_SECONDS:-$DURATION}s" --timeout 10s -s "$ROOT/bench/wrk.lua")
  [ -n "${2:-}" ] && args+=(-H "$2")
  wrk "${args[@]}" "$1" | awk '/^RESULT/ { print $2, $3, $4, $5, $6, $7 }'
}
best() { sort -k1,1 -g -r "$1" | head -n 1; } # the round with the most requests/s

echo "warming up ..." >&2
for p in status tools agents users; do
  WRK_SECONDS=2 wrk_run "$SANCTUM_BASE/api/$p" "$SANCTUM_AUTH" >/dev/null
  [ -n "$FLASK_BASE" ] && WRK_SECONDS=2 wrk_run "$FLASK_BASE/api/$p" "$FLASK_COOKIE" >/dev/null
done

ROWS=()
for p in status tools agents users; do
  echo "measuring /api/$p ..." >&2
  size=$(curl -s -o /dev/null -w '%{size_download}' -H "$SANCTUM_AUTH" "$SANCTUM_BASE/api/$p")
  [ "$size" -lt 16 ] && size=16
  : >"$WORK/s.txt"; : >"$WORK/f.txt"; : >"$WORK/c.txt"
  for ((r = 1; r <= ROUNDS; r++)); do
    if (( r % 2 )); then
      [ -n "$FLASK_BASE" ] && wrk_run "$FLASK_BASE/api/$p" "$FLASK_COOKIE" >>"$WORK/f.txt"
      wrk_run "$SANCTUM_BASE/api/$p" "$SANCTUM_AUTH" >>"$WORK/s.txt"
      wrk_run "$SANCTUM_BASE/api/benchmark/anonymous?bytes=$size" >>"$WORK/c.txt"
    else
      wrk_run "$SANCTUM_BASE/api/benchmark/anonymous?bytes=$size" >>"$WORK/c.txt"
      wrk_run "$SANCTUM_BASE/api/$p" "$SANCTUM_AUTH" >>"$WORK/s.txt"
      [ -n "$FLASK_BASE" ] && wrk_run "$FLASK_BASE/api/$p" "$FLASK_COOKIE" >>"$WORK/f.txt"
    fi
  done
  read -r s_rps _ s_p99 _ s_bad s_sock <<<"$(best "$WORK/s.txt")"
  read -r c_rps _ _ <<<"$(best "$WORK/c.txt")"
  if [ -n "$FLASK_BASE" ]; then
    read -r f_rps _ f_p99 _ f_bad f_sock <<<"$(best "$WORK/f.txt")"
    ROWS+=("$(awk -v p="/api/$p" -v f="$f_rps" -v fp="$f_p99" -v s="$s_rps" -v sp="$s_p99" -v c="$c_rps" -v e="$((s_bad + s_sock))/$((f_bad + f_sock))" \
      'BEGIN { printf "%s|%.0f|%.2f|%.0f|%.2f|%.1fx|%.0f|%.2f|%s", p, f, fp / 1000, s, sp / 1000, s / f, c, s / c, e }')")
  else
    ROWS+=("$(awk -v p="/api/$p" -v s="$s_rps" -v sp="$s_p99" -v c="$c_rps" -v e="$((s_bad + s_sock))/-" \
      'BEGIN { printf "%s|n/a|n/a|%.0f|%.2f|n/a|%.0f|%.2f|%s", p, s, sp / 1000, c, s / c, e }')")
  fi
done

echo
echo "Sanctum.Api vs the Flask control app  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), dotnet $(dotnet --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, best of $ROUNDS rounds, order alternating; gunicorn: $(nproc) sync workers"
echo
{
  echo "endpoint|flask req/s|flask p99 ms|sanctum req/s|sanctum p99 ms|vs flask|anon constant req/s|vs constant|errors s/f"
  printf '%s\n' "${ROWS[@]}"
} | awk -F'|' '
  { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } if (NF > nf) nf = NF; rows = NR }
  END { for (r = 1; r <= rows; r++) { line = ""; for (i = 1; i <= nf; i++) line = line sprintf(i == 1 ? "%-*s" : "  %*s", w[i], cell[r, i]); print line } }'
echo
echo "targets (issue 17): vs flask >= 20x with a lower p99; vs constant >= 0.6"
