#!/usr/bin/env bash
# The lists other than the pool, from the database, side by side with PostGraphile 5 on the
# same tables in one run: for each, Hongfan's query (as its caller, through authorisation)
# and the nearest shape PostGraphile can express (the same filter given as a condition, the
# same fields, 20 rows newest first). Prints req/s and p99 for both and their ratio.
#
#   ../shared/tools/orderpool-side-by-side "$BIN"   # once: makes hongfan_ceo, installs PostGraphile
#   bench/lists-side-by-side.sh [HONGFAN_BIN] [DURATION]
#
# Runs the binary's migrations on hongfan_ceo first; gives bench-user-0 200 taken orders and
# bench-user-60 STAFF of its community, once. Needs the local PostgreSQL and Redis, and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/hongfan}
DUR=${2:-15s}
source bench/side-by-side-servers.sh
sql() { psql -qAtX -v ON_ERROR_STOP=1 "$PG/$DB" -c "$1"; }

id_of() { sql "SELECT id FROM users WHERE openid = '$1'"; }
MEMBER_ID=$(id_of bench-user-0)
RESIDENT_ID=$(id_of bench-user-5)
REDEEMER_ID=$(id_of bench-user-1)
STAFF_ID=$(id_of bench-user-60)
COMMUNITY=$(sql "SELECT community_id FROM users WHERE id = '$STAFF_ID'")
sql "INSERT INTO role_grants (id, user_id, role, community_id, granted_by, created_at)
     SELECT gen_random_uuid(), '$STAFF_ID', 'STAFF', '$COMMUNITY', NULL, now()
     WHERE NOT EXISTS (SELECT 1 FROM role_grants WHERE user_id = '$STAFF_ID' AND role = 'STAFF')"
sql "UPDATE orders SET taker_id = '$MEMBER_ID' WHERE id IN (
       SELECT id FROM orders WHERE community_id = (SELECT community_id FROM users WHERE id = '$MEMBER_ID')
       AND status = 'RATED' ORDER BY id DESC LIMIT 200)
     AND NOT EXISTS (SELECT 1 FROM orders WHERE taker_id = '$MEMBER_ID')"
sql "ANALYZE orders"

start_servers
token() { "$BIN" issue-token --openid "$1"; }
MEMBER=$(token bench-user-0); RESIDENT=$(token bench-user-5); REDEEMER=$(token bench-user-1); STAFF=$(token bench-user-60)

# Both answers must be data without errors, with the same number of rows.
rows() { # port token body
  local reply
  reply=$(curl -s -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} -d "$3" "http://127.0.0.1:$1/graphql")
  echo "$reply" | python3 -c '
import json, sys
reply = json.load(sys.stdin)
if reply.get("errors") or not reply.get("data"):
    sys.exit("failed: " + json.dumps(reply)[:300])
def count(v):
    if isinstance(v, dict):
        for key in ("edges", "nodes"):
            if key in v: return len(v[key])
        return sum(count(x) for x in v.values())
    return 0
print(count(reply["data"]))'
}
measure() { # port token body → "req/s p99"
  local out
  out=$(BODY="$3" TOKEN="$2" wrk -t2 -c32 -d"$DUR" --latency -s "$work/one.lua" "http://127.0.0.1:$1")
  echo "$out" | grep -E "Non-2xx|Socket errors" >&2 || true
  echo "$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}') $(echo "$out" | awk '$1 == "99%" {print $2}')"
}

NODE='id title status requester { name } category { name }'
PNODE='id title status userByRequesterId { name } serviceCategoryByCategoryId { name }'
rss() { awk '/VmRSS/ {printf "%dMB", $2/1024}' "/proc/$1/status"; }
printf '%-16s %5s %10s %9s %6s %10s %9s %6s\n' list rows "hongfan/s" p99 RSS "PGL/s" p99 ratio
while IFS='|' read -r name who hquery pquery; do
  hbody="{\"query\":\"$hquery\"}"; pbody="{\"query\":\"$pquery\"}"
  hrows=$(rows 8091 "$who" "$hbody"); prows=$(rows 5678 "" "$pbody")
  [ "$hrows" = "$prows" ] || echo "note: $name answers $hrows rows on Hongfan, $prows on PostGraphile" >&2
  read -r hrate hp99 <<< "$(measure 8091 "$who" "$hbody")"
  hrss=$(rss $SERVER)
  read -r prate pp99 <<< "$(measure 5678 "" "$pbody")"
  printf '%-16s %5s %10s %9s %6s %10s %9s %6s\n' "$name" "$hrows" "$hrate" "$hp99" "$hrss" "$prate" "$pp99" \
    "$(python3 -c "print(f'{$hrate / max($prate, 1):.2f}x')")"
done <<EOF
myOrders|$RESIDENT|{ myOrders(first: 20) { edges { node { $NODE } } } }|{ allOrders(condition: { requesterId: \\"$RESIDENT_ID\\" }, orderBy: [PRIMARY_KEY_DESC], first: 20) { nodes { $PNODE } } }
myTasks|$MEMBER|{ myTasks(first: 20) { edges { node { $NODE } } } }|{ allOrders(condition: { takerId: \\"$MEMBER_ID\\" }, orderBy: [PRIMARY_KEY_DESC], first: 20) { nodes { $PNODE } } }
dispatchQueue|$STAFF|{ dispatchQueue(communityId: \\"$COMMUNITY\\", first: 20) { edges { node { $NODE } } } }|{ allOrders(condition: { communityId: \\"$COMMUNITY\\" }, orderBy: [PRIMARY_KEY_DESC], first: 20) { nodes { $PNODE } } }
offers|$RESIDENT|{ offers(first: 20) { edges { node { id title stock merchant { name } } } } }|{ allOffers(orderBy: [PRIMARY_KEY_DESC], first: 20) { nodes { id title stock merchantByMerchantId { name } } } }
merchants|$RESIDENT|{ merchants(first: 20) { edges { node { id name category } } } }|{ allMerchants(orderBy: [PRIMARY_KEY_DESC], first: 20) { nodes { id name category } } }
myPoints.ledger|$REDEEMER|{ myPoints { ledger(first: 20) { edges { node { kind amount balanceAfter } } } } }|{ allPointsEntries(condition: { userId: \\"$REDEEMER_ID\\" }, orderBy: [PRIMARY_KEY_DESC], first: 20) { nodes { kind amount balanceAfter } } }
EOF
awk '/VmHWM/ {printf "Hongfan peak RSS: %d MB\n", $2/1024}' "/proc/$SERVER/status"
