#!/usr/bin/env bash
# The mixed scenario (issue 13): 32 connections of Party members poll the first page of the
# order pool while a writer places, publishes and takes orders (about one write per 20 reads),
# each taken or published order invalidating every instance's cached pages of its community
# (the first bench community; the readers are members of nine). Then the same
# with two instances behind the same PostgreSQL and Redis, readers split between them.
#
#   bench/mixed.sh [HONGFAN_BIN] [DURATION]
#
# Runs on a database seeded from bench/seed.sql: $DB if set (bench/run.sh passes its own),
# else hongfan_ceo, made by ../shared/tools/orderpool-side-by-side. Prints reads and writes per
# second, their p99, the pool cache's hit rate and each writer step's mean time from /metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/hongfan}; DUR=${2:-15s}
# Writers: one connection per wrk thread, each walking its own orders through the steps.
WRITERS=${WRITERS:-4}
PG=${HONGFAN_TEST_PG:-postgres://postgres@127.0.0.1:5432}; DB=${DB:-hongfan_ceo}
export DATABASE_URL=$PG/$DB REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX=mixed-$$
export JWT_SECRET=ceo-secret-ceo-secret-ceo-secret-0123 HONGFAN_ENV=production
export WECHAT_APPID=ceo WECHAT_SECRET=ceo RATE_LIMIT_PER_MINUTE=1000000000 ORDERS_PER_RESIDENT_PER_HOUR=1000000000 OPEN_ORDERS_PER_RESIDENT=1000000000 RUST_LOG=error
# WeChat's content checks and messages answered by a local stand-in.
export WECHAT_API_BASE=http://127.0.0.1:8099
work=$(mktemp -d)
python3 bench/fake-wechat.py 8099 & servers=($!)

# bench-user-0 is a member of the first bench community, bench-user-30 lives there, and
# bench-user-60 is made its STAFF.
psql -qX -v ON_ERROR_STOP=1 $PG/$DB <<'SQL'
INSERT INTO role_grants (id, user_id, role, community_id, granted_by, created_at)
SELECT bench_uuid7(now()), u.id, 'STAFF', u.community_id, NULL, now() FROM users u
WHERE u.openid = 'bench-user-60'
  AND NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND g.role = 'STAFF');
SQL
CATEGORY=$(psql -AtX $PG/$DB -c "SELECT id FROM service_categories WHERE active ORDER BY id LIMIT 1")

trap 'kill ${servers[*]} 2>/dev/null || true' EXIT
start() { # port
  HONGFAN_BIND=127.0.0.1:$1 HONGFAN_METRICS_BIND=127.0.0.1:$(($1 + 100)) "$BIN" serve > $work/server-$1.log 2>&1 &
  servers+=($!)
  until curl -sf http://127.0.0.1:$1/readyz >/dev/null; do sleep 0.2; done
}
token() { "$BIN" issue-token --openid "$1"; }
for n in 0 1 2 100 101 102 200 201 202; do token bench-user-$n; done > $work/tokens
export RESIDENT=$(token bench-user-30) STAFF=$(token bench-user-60) TAKER=$(token bench-user-0) CATEGORY

cat > $work/reader.lua <<'LUA'
local tokens = {}
for l in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = l end
local body = '{"query":"{ orderPool(first: 20) { edges { cursor node { id title status requester { name } category { name } } } } }"}'
math.randomseed(os.time())
function request()
  return wrk.format("POST", "/graphql", { ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)] }, body)
end
LUA

row() { printf '%-30s %9s %9s %9s %9s %9s\n' "$@"; }
figure() { echo "$1" | awk -v k="$2" '$1 == k {print $2}'; }
hits() { # metrics port → "hits misses"
  curl -s http://127.0.0.1:$1/metrics | awk '/near_cache_reads_total.*order-pool/ { if ($0 ~ /hit/) h += $2; else m += $2 } END { print h + 0, m + 0 }'
}
steps() { # metrics port → "count sum" of each writer step, in seconds
  local text; text=$(curl -s http://127.0.0.1:$1/metrics)
  for op in Place Publish Take; do
    echo "$text" | awk -v op="operation=\"$op\"" 'index($0, op) && /^hongfan_graphql_request_duration_seconds_(count|sum)/ { v[$0 ~ /_count/] = $2 } END { printf "%d %f ", v[1], v[0] }'
  done
}
scenario() { # label, reader ports…
  local label=$1; shift
  local before=() port
  for port in "$@"; do before+=("$(hits $(($port + 100)))"); done
  local steps_before; steps_before=$(steps $(($1 + 100)))
  local readers=()
  for port in "$@"; do
    TOKENS=$work/tokens wrk -t1 -c$((32 / $#)) -d$DUR --latency -s $work/reader.lua http://127.0.0.1:$port > $work/read-$port.txt &
    readers+=($!)
  done
  wrk -t$WRITERS -c$WRITERS -d$DUR --latency -s bench/mixed-writer.lua http://127.0.0.1:$1 > $work/write.txt
  wait "${readers[@]}"
  local reads=0 h=0 m=0 p99="" i=0
  for port in "$@"; do
    reads=$(( reads + $(awk '/Requests\/sec/ {printf "%d", $2}' $work/read-$port.txt) ))
    p99="$p99$(figure "$(cat $work/read-$port.txt)" 99%) "
    read -r h1 m1 <<< "$(hits $(($port + 100)))"; read -r h0 m0 <<< "${before[$i]}"
    h=$((h + h1 - h0)); m=$((m + m1 - m0)); i=$((i + 1))
  done
  row "$label" "$reads" "$p99" "$(awk '/Requests\/sec/ {printf "%d", $2}' $work/write.txt)" \
    "$(figure "$(cat $work/write.txt)" 99%)" "$(awk -v h=$h -v m=$m 'BEGIN { printf "%.1f%%", (h + m) ? 100 * h / (h + m) : 0 }')"
  grep -h "graphql errors\|Non-2xx" $work/write.txt $work/read-*.txt >&2 || true
  echo "$steps_before $(steps $(($1 + 100)))" | awk '{ printf "  mean ms: place %.1f, publish %.1f, take %.1f\n",
    1000 * ($8 - $2) / ($7 - $1 + 1e-9), 1000 * ($10 - $4) / ($9 - $3 + 1e-9), 1000 * ($12 - $6) / ($11 - $5 + 1e-9) }'
}

row scenario "reads/s" "read p99" "writes/s" "write p99" "pool hits"
start 8092
scenario "$WRITERS writer(s), one instance" 8092
start 8093
scenario "$WRITERS writer(s), two instances" 8092 8093
echo "work dir: $work"
