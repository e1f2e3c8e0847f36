#!/usr/bin/env bash
# The user search on the benchmark's 100,000 users, in SQL alone: the query plans and times of the search as the
# API runs it (terms of 3+ characters through the FTS5 trigram index users_search of Phase 2), of the substring LIKE
# it replaced (a full scan, which no ordinary index can help), and of the rejected alternative, NOCASE indexes for a
# prefix search. Works on a copy; the database is not touched.
#
#   bench/search-plans.sh path/to/sanctum.db [term]      (run by bench/run.sh at its end)
set -euo pipefail
SOURCE=$1
TERM=${2:-user04242}
WORK=$(mktemp -d /tmp/sanctum-search.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
DB="$WORK/users.db"
sqlite3 "$SOURCE" ".backup '$DB'"

COLUMNS="id, username, email, role, status, last_login, must_change_password, failed_login_attempts, locked_until, permissions, created_at, updated_at"
LIKE="(username LIKE '%$TERM%' ESCAPE '\\' OR email LIKE '%$TERM%' ESCAPE '\\')"

# mean_ms SQL: the mean of 20 runs after one warm-up, in milliseconds (the shell's timer counts whole ms).
mean_ms() {
  { echo "$1;"; echo ".timer on"; for _ in $(seq 20); do echo "$1;"; done; } | sqlite3 "$DB" 2>&1 \
    | awk '/^Run Time/ { total += $4 * 1000; n++ } END { printf "%.1f", total / n }'
}
plan() { sqlite3 "$DB" "EXPLAIN QUERY PLAN $1" | sed -E 's/^[0-9|]+//; s/^[ |`-]+//' | paste -sd ';' | cut -c1-90; }
row() { printf '%-44s %9s ms   %s\n' "$1" "$(mean_ms "$2")" "$(plan "$2")"; }

echo "user search '$TERM' over $(sqlite3 "$DB" 'SELECT COUNT(*) FROM users') users, SQL only (mean of 20 runs, sqlite3 $(sqlite3 --version | cut -d' ' -f1)):"
MATCH="id IN (SELECT rowid FROM users_search WHERE users_search MATCH '\"$TERM\"')"
row "as served (FTS5 trigram): COUNT(*)" "SELECT COUNT(*) FROM users WHERE $MATCH"
row "as served (FTS5 trigram): page" "SELECT $COLUMNS FROM users WHERE $MATCH ORDER BY username LIMIT 50"
row "before: COUNT(*) with LIKE '%term%'" "SELECT COUNT(*) FROM users WHERE $LIKE"
row "before: page ORDER BY username LIMIT 50" "SELECT $COLUMNS FROM users WHERE $LIKE ORDER BY username LIMIT 50"
row "as served: page, empty search" "SELECT $COLUMNS FROM users ORDER BY username LIMIT 50"
row "as served: COUNT(*), empty search" "SELECT COUNT(*) FROM users"
# Code-only changes tried before the index (no schema): sort the few matches instead of walking the username index
# over every row, and count them in the same scan.
row "code only: page, scan then sort (+username)" "SELECT $COLUMNS FROM users WHERE $LIKE ORDER BY +username LIMIT 50"
row "code only: page and total in one scan" "SELECT $COLUMNS, COUNT(*) OVER () AS total FROM users WHERE $LIKE ORDER BY +username LIMIT 50"

# The rejected alternative: prefix search on NOCASE indexes (faster still, but a search no longer finds a middle part).
sqlite3 "$DB" "CREATE INDEX ix_users_username_nocase ON users (username COLLATE NOCASE);
               CREATE INDEX ix_users_email_nocase ON users (email COLLATE NOCASE); ANALYZE;"
PREFIX="(username LIKE '$TERM%' OR email LIKE '$TERM%')"
row "alternative, NOCASE prefix: COUNT(*)" "SELECT COUNT(*) FROM users WHERE $PREFIX"
row "alternative, NOCASE prefix: page" "SELECT $COLUMNS FROM users WHERE $PREFIX ORDER BY username LIMIT 50"
echo "database size (with the search index): $(du -k "$SOURCE" | cut -f1) KiB; with the NOCASE indexes too: $(du -k "$DB" | cut -f1) KiB"
