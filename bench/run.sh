#!/usr/bin/env bash
# Load benchmark: seeds a PostgreSQL database (100k residents, 1M orders across 30
# communities, 1,000 merchants with offers), runs the release server in production mode with
# Redis, and drives each scenario with wrk. Prints req/s, p50/p99 latency and server RSS, then
# runs the mixed read/write scenario (bench/mixed.sh) with one and with four writers.
#
#   bench/run.sh                     # DURATION=15s CONNECTIONS=32 by default
#
# Needs the local PostgreSQL and Redis (as the tests do) and wrk (installed if missing).
# It drops and recreates the database `hongfan_bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${BENCH_PORT:-8090}
PG=${HONGFAN_TEST_PG:-postgres://postgres@127.0.0.1:5432}
DB=hongfan_bench
psql_bench() { psql -q -X -v ON_ERROR_STOP=1 "$PG/$DB" "$@"; }

command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/hongfan"

psql -q -X "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL="$PG/$DB" REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX="bench-$$"
export JWT_SECRET=bench-secret-bench-secret-bench-secret HONGFAN_ENV=production
export WECHAT_APPID=bench WECHAT_SECRET=bench RATE_LIMIT_PER_MINUTE=1000000000 ORDERS_PER_RESIDENT_PER_HOUR=1000000000 OPEN_ORDERS_PER_RESIDENT=1000000000
export HONGFAN_BIND=127.0.0.1:$PORT RUST_LOG=warn
"$BIN" seed-demo
echo "seeding 10k orders…"
psql_bench -v first=0 -v orders=9999 -f bench/seed.sql

"$BIN" serve > /tmp/hongfan-bench-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.2; done

token() { "$BIN" issue-token --openid "$1"; }
MEMBER=$(token bench-user-0)      # Party member of bench-community-0, owner of 商户0
RESIDENT=$(token bench-user-5)
REDEEMER=$(token bench-user-1)    # holds a large balance
rss() { awk '/VmRSS/ {printf "%d MB", $2/1024}' "/proc/$SERVER/status"; }

printf '%-28s %10s %10s %10s %10s\n' scenario "req/s" p50 p99 "server RSS"
run() { # name token body [ids-file]
  local out
  out=$(BENCH_TOKEN="$2" BENCH_BODY="$3" BENCH_IDS="${4:-}" \
    wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/graphql.lua "http://127.0.0.1:$PORT")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" | grep "Non-2xx" >&2; fi
  printf '%-28s %10s %10s %10s %10s\n' "$1" \
    "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$out" | awk '$1 == "50%" {print $2}')" \
    "$(echo "$out" | awk '$1 == "99%" {print $2}')" "$(rss)"
}

# A query that answers with errors would be measured as fast as it fails: check it first.
check() { # token body
  local reply
  reply=$(curl -sf -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$2" \
    "http://127.0.0.1:$PORT/graphql")
  if [[ "$reply" != '{"data"'* ]] || [[ "$reply" == *'"errors"'* ]]; then
    echo "bench query failed: $reply" >&2
    exit 1
  fi
  echo "$reply"
}

POOL_QUERY='orderPool(first: 20%s) { edges { cursor node { id title status requester { name } category { name } } } }'
pool() { printf '{"query":"{ %s }"}' "$(printf "$POOL_QUERY" "$1")"; }
# The first page is what every member's app polls, and is kept per instance; later pages
# always go to the database.
pool_scenarios() { # label
  local cursor
  run "orderPool ($1)" "$MEMBER" "$(pool '')"
  cursor=$(check "$MEMBER" "$(pool '')" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["orderPool"]["edges"][-1]["cursor"])')
  check "$MEMBER" "$(pool ", after: \\\"$cursor\\\"")" >/dev/null
  run "orderPool page 2 ($1)" "$MEMBER" "$(pool ", after: \\\"$cursor\\\"")"
}
pool_scenarios "10k orders"

echo "seeding up to 1M orders…" >&2
psql_bench -v first=10000 -v orders=999999 -f bench/seed.sql
pool_scenarios "1M orders"

NEAR='{"query":"{ merchants(filter: { near: { latitude: 36.62, longitude: 117.0, radiusMeters: 3000 } }, first: 20) { edges { node { name distanceMeters } } } }"}'
check "$RESIDENT" "$NEAR" >/dev/null
run "merchants(near)" "$RESIDENT" "$NEAR"

# The other lists members and STAFF page through, from the database (no cache in front).
psql_bench -c "INSERT INTO role_grants (id, user_id, role, community_id, granted_by, created_at)
  SELECT bench_uuid7(now()), id, 'STAFF', community_id, NULL, now() FROM users WHERE openid = 'bench-user-60'
  AND NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = users.id AND g.role = 'STAFF')"
STAFF=$(token bench-user-60)     # STAFF of bench-community-0
STAFF_COMMUNITY=$(psql_bench -At -c "SELECT community_id FROM users WHERE openid = 'bench-user-60'")
NODE='edges { cursor node { id title status requester { name } category { name } } }'
for list in "myOrders|$RESIDENT|{ myOrders(first: 20) { $NODE } }" \
            "myTasks|$MEMBER|{ myTasks(first: 20) { $NODE } }" \
            "dispatchQueue|$STAFF|{ dispatchQueue(communityId: \\\"$STAFF_COMMUNITY\\\", first: 20) { $NODE } }" \
            "offers|$RESIDENT|{ offers(first: 20) { edges { node { id title stock merchant { name } } } } }" \
            "myPoints.ledger|$REDEEMER|{ myPoints { ledger(first: 20) { edges { node { kind amount balanceAfter } } } } }"; do
  IFS='|' read -r name who query <<< "$list"
  body="{\"query\":\"$query\"}"
  check "$who" "$body" >/dev/null
  run "$name" "$who" "$body"
done

CATEGORY=$(psql_bench -At -c "SELECT id FROM service_categories ORDER BY id LIMIT 1")
run "placeOrder" "$RESIDENT" "{\"query\":\"mutation { placeOrder(input: { categoryId: \\\"$CATEGORY\\\", title: \\\"bench\\\", description: \\\"\\\", address: \\\"1号\\\", contactPhone: \\\"13800000000\\\" }) { id } }\"}"

OPEN_IDS=$(mktemp)
psql_bench -At -c "SELECT o.id FROM orders o JOIN communities c ON c.id = o.community_id WHERE c.name = 'bench-community-1' AND o.status = 'OPEN' LIMIT 2000" > "$OPEN_IDS"
run "takeOrder (contention)" "$MEMBER" '{"query":"mutation { takeOrder(orderId: \"%id\") { status } }"}' "$OPEN_IDS"

OFFER=$(psql_bench -At -c "SELECT o.id FROM offers o JOIN merchants m ON m.id = o.merchant_id WHERE m.name = '商户0' ORDER BY o.id LIMIT 1")
run "redeemOffer" "$REDEEMER" "{\"query\":\"mutation { redeemOffer(offerId: \\\"$OFFER\\\", idempotencyKey: \\\"bench-%n\\\") { id } }\"}"

# The owner verifies at 商户0's counter, which takes the MERCHANT role in its community (the
# seed files the merchants without it: every verify here was refused before 2026-12-07).
psql_bench -c "INSERT INTO role_grants (id, user_id, role, community_id, granted_by, created_at)
  SELECT bench_uuid7(now()), m.owner_id, 'MERCHANT', m.community_id, NULL, now() FROM merchants m WHERE m.name = '商户0'
  AND NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = m.owner_id AND g.role = 'MERCHANT')"
CASHIER=$(token bench-user-0)
CODES=$(mktemp)
psql_bench -At -c "SELECT r.code FROM redemptions r JOIN merchants m ON m.id = r.merchant_id WHERE m.name = '商户0' AND r.status = 'PENDING'" > "$CODES"
run "verifyRedemption" "$CASHIER" '{"query":"mutation { verifyRedemption(code: \"%id\") { status } }"}' "$CODES"

awk '/VmHWM/ {printf "server peak RSS: %d MB\n", $2/1024}' "/proc/$SERVER/status"
kill $SERVER; wait $SERVER 2>/dev/null || true

# Real use writes: members poll the pool while writers place, publish and take orders, on one
# instance and then on two sharing PostgreSQL and Redis.
echo
for writers in 1 4; do WRITERS=$writers DB=$DB bench/mixed.sh "$BIN" "$DURATION"; done
