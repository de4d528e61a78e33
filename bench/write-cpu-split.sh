#!/usr/bin/env bash
# Where a placeOrder's CPU goes, by process, under the load of ../shared/tools/write-side-by-side
# (same database, residents, body, 32 connections, dev mode so WeChat is not timed): req/s and
# CPU microseconds per request, all/of which system, for the server, PostgreSQL and Redis, the
# machine's idle time, and its context switches per request. With PERF=1 it also samples the
# server with `perf record` and prints its hottest symbols (PERF_CALLS=1 records call graphs too, for `perf report --children` in the
# work dir). With WECHAT_DELAY_MS=N the server checks content with a fake WeChat
# (bench/fake-wechat.py) that answers each check in N ms, as production does with WeChat.
# With FLOOR=1 it sends `{ __typename }` with the same tokens instead: what any signed-in request
# costs before its resolvers do any work (HTTP, the session check, GraphQL, the response).
#
#   ../shared/tools/write-side-by-side "$BIN"     # once: makes hongfan_ceo and ceo_writers
#   [CONNECTIONS=32] [FLOOR=1] [WECHAT_DELAY_MS=50] [PERF=1 [PERF_CALLS=1]] bench/write-cpu-split.sh [HONGFAN_BIN] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/hongfan}
DUR=${2:-15s}
PG=postgres://postgres@127.0.0.1:5432; DB=hongfan_ceo
export DATABASE_URL=$PG/$DB REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX=cpu-w-$$
export JWT_SECRET=ceo-secret-ceo-secret-ceo-secret-0123 RUST_LOG=warn HONGFAN_BIND=127.0.0.1:8093
export RATE_LIMIT_PER_MINUTE=1000000000 ORDERS_PER_RESIDENT_PER_HOUR=1000000000 OPEN_ORDERS_PER_RESIDENT=1000000000
unset WECHAT_APPID WECHAT_SECRET HONGFAN_ENV
source bench/cpu-ticks.sh
work=$(mktemp -d)
FAKE=
if [ -n "${WECHAT_DELAY_MS:-}" ]; then
  export WECHAT_APPID=bench WECHAT_SECRET=bench WECHAT_API_BASE=http://127.0.0.1:8098
  # Its log holds the broken pipes of keep-alive connections the server closes at the end.
  python3 bench/fake-wechat.py 8098 "$WECHAT_DELAY_MS" 2>"$work/fake-wechat.log" & FAKE=$!
fi
"$BIN" migrate >/dev/null
"$BIN" serve > "$work/server.log" 2>&1 & SERVER=$!
trap 'kill $SERVER $FAKE 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:8093/readyz >/dev/null; do sleep 0.2; done
psql -AtX $PG/$DB -c "SELECT openid FROM ceo_writers ORDER BY k" | while read -r o; do "$BIN" issue-token --openid "$o"; done > "$work/tokens"
cat=$(psql -AtX $PG/$DB -c "SELECT id FROM service_categories WHERE active ORDER BY code LIMIT 1")
cat > "$work/place.lua" <<LUA
local tokens = {}
for l in io.lines("$work/tokens") do tokens[#tokens + 1] = l end
local body = '{"query":"mutation P(\$c: ID!){ placeOrder(input:{categoryId:\$c, title:\\\\"水管漏水\\\\", description:\\\\"厨房水管\\\\", address:\\\\"1-2-301\\\\", contactPhone:\\\\"13800000001\\\\"}){ id status } }","variables":{"c":"$cat"}}'
if "${FLOOR:-}" == "1" then body = '{"query":"{ __typename }"}' end
function request()
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[math.random(1, #tokens)]}, body)
end
LUA
procs=('^hongfan' '^postgres$' '^redis-server$')
hz=$(getconf CLK_TCK); before=(); after=()
for p in "${procs[@]}"; do before+=("$(ticks "$p")"); done; idle0=$(idle); sw0=$(switches)
PERFPID=
if [ "${PERF:-}" = 1 ]; then
  perf record ${PERF_CALLS:+--call-graph dwarf,16384} -e cpu-clock -F 499 -p $SERVER -o "$work/perf.data" -- sleep "${DUR%s}" >/dev/null 2>&1 & PERFPID=$!
fi
out=$(wrk -t2 -c"${CONNECTIONS:-32}" -d"$DUR" --latency -s "$work/place.lua" http://127.0.0.1:8093/graphql)
for p in "${procs[@]}"; do after+=("$(ticks "$p")"); done; idle1=$(idle); sw1=$(switches)
echo "$out" | grep -E "Non-2xx|Socket errors" >&2 || true
n=$(echo "$out" | awk '/requests in/ {print $1}')
printf '%-12s %7s %7s %7s %11s %11s %11s %8s %8s\n' scenario req/s p50 p99 hongfan postgres redis idle switches
printf '%-12s %7s %7s %7s' "$([ "${FLOOR:-}" = 1 ] && echo floor || echo placeOrder)" "$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')" \
  "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "99%" {print $2}')"
for i in "${!procs[@]}"; do
  read -r u0 s0 <<< "${before[i]}"; read -r u1 s1 <<< "${after[i]}"
  printf ' %11s' "$(( (u1 + s1 - u0 - s0) * 1000000 / hz / n ))/$(( (s1 - s0) * 1000000 / hz / n ))"
done
printf ' %8s %8s\n' "$(( (idle1 - idle0) * 1000000 / hz / n ))" "$(( (sw1 - sw0) / n ))"
if [ "${PERF:-}" = 1 ]; then
  wait "$PERFPID" || true
  perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
fi
echo "work dir: $work"
