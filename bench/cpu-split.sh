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
source bench/side-by-side-servers.sh
start_servers
TOKEN=$("$BIN" issue-token --openid bench-user-0)

source bench/cpu-ticks.sh
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
