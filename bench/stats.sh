#!/usr/bin/env bash
# governanceStats at volume: seeds `hongfan_bench_stats` with bench/seed.sql (30 communities of
# one street, 1M orders over the past year), then asks the release server for the street's
# numbers over that year REQUESTS times and prints the median and worst time per request.
#
#   bench/stats.sh            # REQUESTS=20 by default; drops and recreates the database
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-20}
PORT=${BENCH_PORT:-8091}
PG=${HONGFAN_TEST_PG:-postgres://postgres@127.0.0.1:5432}
DB=hongfan_bench_stats
psql_bench() { psql -q -X -v ON_ERROR_STOP=1 "$PG/$DB" "$@"; }

cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/hongfan"

psql -q -X "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL="$PG/$DB" REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX="bench-stats-$$"
export JWT_SECRET=bench-secret-bench-secret-bench-secret HONGFAN_ENV=production
export WECHAT_APPID=bench WECHAT_SECRET=bench RATE_LIMIT_PER_MINUTE=1000000000 ORDERS_PER_RESIDENT_PER_HOUR=1000000000 OPEN_ORDERS_PER_RESIDENT=1000000000
export HONGFAN_BIND=127.0.0.1:$PORT RUST_LOG=warn
"$BIN" seed-demo
echo "seeding 1M orders…" >&2
psql_bench -v first=0 -v orders=999999 -f bench/seed.sql
"$BIN" rebuild-stats
psql_bench -c "ANALYZE"

"$BIN" serve > /tmp/hongfan-bench-stats.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.2; done

TOKEN=$("$BIN" issue-token --openid demo-admin)
STREET=$(psql_bench -At -c "SELECT street_id FROM communities WHERE name = 'bench-community-1'")
FROM=$(date -u -d '366 days ago' +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d 'tomorrow' +%Y-%m-%dT%H:%M:%SZ)
BODY="{\"query\":\"{ governanceStats(scope: { streetId: \\\"$STREET\\\" }, from: \\\"$FROM\\\", to: \\\"$TO\\\") { total { placed responseRate satisfactionRate } byMonth { month counts { placed } } byCommunity { counts { placed } } } }\"}"
ask() {
  curl -sf -o /tmp/hongfan-bench-stats.json -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$BODY" "http://127.0.0.1:$PORT/graphql"
}
ask >/dev/null
if ! grep -q '"placed":' /tmp/hongfan-bench-stats.json || grep -q '"errors"' /tmp/hongfan-bench-stats.json; then
  echo "the stats query failed: $(cat /tmp/hongfan-bench-stats.json)" >&2
  exit 1
fi
TIMES=$(for _ in $(seq 1 "$REQUESTS"); do ask; done | sort -n)
python3 - "$TIMES" <<'PY'
import json, sys
times = [float(t) * 1000 for t in sys.argv[1].split()]
answer = json.load(open("/tmp/hongfan-bench-stats.json"))["data"]["governanceStats"]
print(f"governanceStats, one street over a year ({answer['total']['placed']} orders, "
      f"{len(answer['byCommunity'])} communities, {len(answer['byMonth'])} months): "
      f"median {times[len(times) // 2]:.0f} ms, worst {times[-1]:.0f} ms over {len(times)} requests")
PY
