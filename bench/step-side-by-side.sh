#!/usr/bin/env bash
# One order step side by side, in one run, on the database ../shared/tools/write-side-by-side
# made (hongfan_ceo), 32 clients each, every request a *successful* step on an order of its own:
#   take:     a Party member of the order's community takes an OPEN order (党员接单);
#   dispatch: STAFF of its community dispatch a PENDING_DISPATCH order to one of its members;
#   complete: the member who took an ACCEPTED order completes it (the order closes: its share of
#             the day and month rollups is written in the step, after a look for a callback).
#   (a) raw SQL, the statements the step sends (pgbench): BEGIN, the order FOR UPDATE (dispatch:
#       the assignee's membership), the version-guarded UPDATE, its event, the inbox row of the
#       one it tells (the requester; the assignee), COMMIT;
#   (b) raw SQL, the same change in one statement (the ceiling);
#   (c) Hongfan's mutation over HTTP/GraphQL.
# The raw scripts fetch their (order, member) pair from a queue with one more statement; the
# ceiling folds that in. Each scenario steps orders nobody touched before (fresh ones are made
# first), and afterwards the orders it moved are counted.
#   ../shared/tools/write-side-by-side "$BIN"      # once: makes hongfan_ceo
#   [CONNECTIONS=32] bench/step-side-by-side.sh take|dispatch|complete [HONGFAN_BIN] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
STEP=${1:?take, dispatch or complete}
BIN=${2:-${CARGO_TARGET_DIR:-target}/release/hongfan}
DUR=${3:-10s}
case $STEP in
  take) FROM=OPEN TO=ACCEPTED ACTION=TAKE KIND=ORDER_ACCEPTED ;;
  dispatch) FROM=PENDING_DISPATCH TO=DISPATCHED ACTION=DISPATCH KIND=ORDER_DISPATCHED_TO_YOU ;;
  complete) FROM=ACCEPTED TO=COMPLETED ACTION=COMPLETE KIND=ORDER_COMPLETED ;;
  *) echo "usage: $0 take|dispatch|complete [HONGFAN_BIN] [DURATION]"; exit 2 ;;
esac
PG=postgres://postgres@127.0.0.1:5432; DB=hongfan_ceo
export DATABASE_URL=$PG/$DB REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX=take-$$
export JWT_SECRET=ceo-secret-ceo-secret-ceo-secret-0123 RUST_LOG=warn HONGFAN_BIND=127.0.0.1:8094
export RATE_LIMIT_PER_MINUTE=1000000000
unset WECHAT_APPID WECHAT_SECRET HONGFAN_ENV
work=$(mktemp -d)
"$BIN" migrate >/dev/null
sql() { psql -qAtX -v ON_ERROR_STOP=1 "$PG/$DB" "$@"; }

# 10 members per community, and STEP_ORDERS (150,000) fresh orders a scenario, each paired with
# a member of its community (more than the fastest scenario gets through in DURATION: a
# ceiling that ran out would count steps that found nothing); for dispatch, the community's
# first STAFF member dispatches.
sql -v from="$FROM" -v last=$((3 * ${STEP_ORDERS:-150000} - 1)) <<'SQL'
DROP TABLE IF EXISTS step_members, step_queue, step_staff;
CREATE TABLE step_staff AS
  SELECT DISTINCT ON (g.community_id) g.community_id, g.user_id, u.openid
  FROM role_grants g JOIN users u ON u.id = g.user_id
  WHERE g.role = 'STAFF' AND u.openid LIKE 'bench-user-%' ORDER BY g.community_id, g.user_id;
CREATE TABLE step_members AS
  SELECT g.user_id, g.community_id, u.openid,
         row_number() OVER (PARTITION BY g.community_id ORDER BY g.user_id) AS n
  FROM role_grants g JOIN users u ON u.id = g.user_id
  WHERE g.role = 'PARTY_MEMBER' AND u.openid LIKE 'bench-user-%';
DELETE FROM step_members WHERE n > 10;
CREATE TABLE step_queue (scenario int, k bigint, order_id uuid, member_id uuid, PRIMARY KEY (scenario, k));
WITH c AS (SELECT community_id, row_number() OVER (ORDER BY community_id) - 1 AS ci
           FROM step_members GROUP BY community_id),
     made AS (
       INSERT INTO orders (id, community_id, requester_id, category_id, title, description, address, contact_phone,
                           urgency, status, response_due_at, version, created_at, updated_at, channel, alert_level)
       SELECT bench_uuid7(clock_timestamp()), c.community_id,
              (SELECT id FROM users WHERE openid = 'bench-user-' || (s * 7 % 90000 + 5000)),
              (SELECT id FROM service_categories ORDER BY code LIMIT 1),
              '换灯泡', '楼道灯坏了', '3-1-101', '13800000000', 'NORMAL', :'from', now() + interval '4 hours', 0,
              now(), now(), 'APP', 'GREEN'
       FROM generate_series(0, :last) s JOIN c ON c.ci = s % (SELECT count(*) FROM c)
       RETURNING id, community_id)
INSERT INTO step_queue
SELECT (row_number() OVER (ORDER BY made.id) - 1) % 3, (row_number() OVER (ORDER BY made.id) - 1) / 3,
       made.id, m.user_id
FROM made JOIN step_members m ON m.community_id = made.community_id
 AND m.n = 1 + (abs(hashtext(made.id::text)) % 10);
DROP SEQUENCE IF EXISTS step_seq_0, step_seq_1;
CREATE SEQUENCE step_seq_0 MINVALUE 0 START 0; CREATE SEQUENCE step_seq_1 MINVALUE 0 START 0;
ANALYZE orders; ANALYZE step_queue;
SQL
# An order to complete was taken by its member.
[ "$STEP" != complete ] || sql -c "UPDATE orders o SET taker_id = q.member_id, accepted_at = now()
                                    FROM step_queue q WHERE o.id = q.order_id"

moved() { sql -c "SELECT count(*) FROM orders o JOIN step_queue q ON q.order_id = o.id AND q.scenario = $1 WHERE o.status = '$TO'"; }
row() { printf '%-42s %9s %9s %9s %10s\n' "$@"; }
row scenario tx/s p50 p99 moved

# What the step writes, as SQL: the order's new columns, who acts, who is told.
CLOSE=""; ONE_CLOSE=""
if [ "$STEP" = take ]; then
  SET="taker_id = :mid, accepted_at = now()"; ONE_SET="taker_id = q.member_id, accepted_at = now()"
  ACTOR=":mid"; ONE_ACTOR="o.member_id"; TOLD="requester_id"; ONE_TOLD="o.requester_id"; CHECK=""
elif [ "$STEP" = complete ]; then
  SET="completion_summary = '修好了', minutes_spent = 60, completed_at = now()"; ONE_SET="$SET"
  ACTOR=":mid"; ONE_ACTOR="o.member_id"; TOLD="requester_id"; ONE_TOLD="o.requester_id"; CHECK=""
  # The closed order's share of the day and month rollups (all 22 counts, as the step writes).
  COUNTS="placed, cancelled, phone_or_staff, due_for_response, accepted_in_time, due_for_completion, completed_in_time, rated, satisfied, called_back, accepted, response_minutes, completed, completion_minutes, yellow, red, status_completed, status_rated, status_cancelled, channel_app, channel_staff, channel_hotline"
  SHARE="1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0"
  upsert() { # table key-column key-expression source
    local add
    add=$(echo "$COUNTS" | tr -d ' ' | tr ',' '\n' | awk -v t="$1" '{printf "%s%s = %s.%s + excluded.%s", (NR > 1 ? ", " : ""), $1, t, $1, $1}')
    echo "INSERT INTO $1 (community_id, category_id, $2, $COUNTS) SELECT community_id, category_id, $3, $SHARE FROM $4 ON CONFLICT (community_id, $2, category_id) DO UPDATE SET $add"
  }
  DAY="to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"; MONTH="to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
  CLOSE="SELECT 1 FROM order_callbacks WHERE order_id = :oid LIMIT 1;
$(upsert order_day_stats day "$DAY" "orders WHERE id = :oid");
$(upsert order_month_stats month "$MONTH" "orders WHERE id = :oid");"
  ONE_CLOSE="d AS ($(upsert order_day_stats day "$DAY" o)), m AS ($(upsert order_month_stats month "$MONTH" o)),"
else
  SET="assignee_id = :mid"; ONE_SET="assignee_id = q.member_id"
  ACTOR="(SELECT user_id FROM step_staff s WHERE s.community_id = o.community_id)"
  ONE_ACTOR="(SELECT user_id FROM step_staff s WHERE s.community_id = o.community_id)"
  TOLD="assignee_id"; ONE_TOLD="o.member_id"
  CHECK="SELECT 1 FROM role_grants WHERE user_id = :mid AND role = 'PARTY_MEMBER' AND community_id = (SELECT community_id FROM orders WHERE id = :oid);"
fi
cat > "$work/same.sql" <<SQL
SELECT order_id AS oid, member_id AS mid FROM step_queue WHERE scenario = 0 AND k = (SELECT nextval('step_seq_0')) \gset
BEGIN;
SELECT * FROM orders WHERE id = :oid FOR UPDATE;
$CHECK
UPDATE orders SET status = '$TO', $SET, version = version + 1, updated_at = now()
  WHERE id = :oid AND version = 0;
INSERT INTO order_events (id, order_id, actor_id, action, from_status, to_status, created_at)
  SELECT bench_uuid7(clock_timestamp()), o.id, $ACTOR, '$ACTION', '$FROM', '$TO', now() FROM orders o WHERE o.id = :oid;
$CLOSE
INSERT INTO inbox_messages (id, notification_id, user_id, kind, order_id, message, created_at, delivery, attempts, next_attempt_at)
  SELECT bench_uuid7(clock_timestamp()), bench_uuid7(clock_timestamp()), $TOLD, '$KIND', id, '订单动态：换灯泡', now(), 'PENDING', 0, now()
  FROM orders WHERE id = :oid;
COMMIT;
SQL
cat > "$work/one.sql" <<SQL
WITH q AS (SELECT order_id, member_id FROM step_queue WHERE scenario = 1 AND k = (SELECT nextval('step_seq_1'))),
     o AS (UPDATE orders SET status = '$TO', $ONE_SET, version = version + 1, updated_at = now()
           FROM q WHERE orders.id = q.order_id AND orders.status = '$FROM'
           RETURNING orders.id, orders.community_id, orders.category_id, orders.requester_id, q.member_id),
     e AS (INSERT INTO order_events (id, order_id, actor_id, action, from_status, to_status, created_at)
           SELECT bench_uuid7(clock_timestamp()), o.id, $ONE_ACTOR, '$ACTION', '$FROM', '$TO', now() FROM o),
     $ONE_CLOSE
     t AS (SELECT 1)
INSERT INTO inbox_messages (id, notification_id, user_id, kind, order_id, message, created_at, delivery, attempts, next_attempt_at)
  SELECT bench_uuid7(clock_timestamp()), bench_uuid7(clock_timestamp()), $ONE_TOLD, '$KIND', o.id, '订单动态：换灯泡', now(), 'PENDING', 0, now() FROM o;
SQL
pgrow() { # name script scenario
  local out
  bench/vacuum-hot.sh "$DB"
  out=$(pgbench -n -M prepared -c "${CONNECTIONS:-32}" -j 2 -T "${DUR%s}" -f "$2" -h 127.0.0.1 -U postgres $DB 2>&1)
  echo "$out" | grep -qE "^tps" || { echo "$out" | tail -5 >&2; exit 1; }
  row "$1" "$(echo "$out" | awk -F'= ' '/^tps/ {printf "%d", $2}')" "$(echo "$out" | awk '/latency average/ {print $4 "ms(avg)"}')" - "$(moved "$3")"
}
pgrow "raw SQL, ${STEP}Order's statements" "$work/same.sql" 0
pgrow "raw SQL, one statement (ceiling)" "$work/one.sql" 1

"$BIN" serve > "$work/server.log" 2>&1 & SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:8094/readyz >/dev/null; do sleep 0.2; done
sql -c "SELECT openid, user_id FROM step_members UNION SELECT openid, user_id FROM step_staff" > "$work/people"
while IFS='|' read -r openid id; do echo "$id $("$BIN" issue-token --openid "$openid")"; done < "$work/people" > "$work/tokens"
# Scenario 2 as "token orderId memberId" (the member takes, or STAFF dispatch to them), split
# between wrk's two threads.
sql -F ' ' -c "SELECT CASE WHEN '$STEP' = 'dispatch' THEN s.user_id ELSE q.member_id END, q.order_id, q.member_id
               FROM step_queue q JOIN orders o ON o.id = q.order_id JOIN step_staff s ON s.community_id = o.community_id
               WHERE q.scenario = 2 ORDER BY q.k" \
  | awk 'NR == FNR { token[$1] = $2; next } { print token[$1], $2, $3 }' "$work/tokens" - > "$work/pairs"
if [ "$STEP" = take ]; then
  MUTATION='mutation S($o: ID!){ takeOrder(orderId: $o) { id status } }'
elif [ "$STEP" = complete ]; then
  # The summary comes as a variable (the request's third field) so that the document needs no quotes.
  MUTATION='mutation S($o: ID!, $m: String!){ completeOrder(orderId: $o, input: { summary: $m, minutesSpent: 60 }) { id status } }'
else
  MUTATION='mutation S($o: ID!, $m: ID!){ dispatchOrder(orderId: $o, assigneeId: $m) { id status } }'
fi
cat > "$work/take.lua" <<LUA
local threads = 0
function setup(thread) thread:set("n", threads); threads = threads + 1 end
function init(args)
  pairs_ = {}
  local i = 0
  for line in io.lines("$work/pairs") do
    if i % 2 == n then pairs_[#pairs_ + 1] = line end
    i = i + 1
  end
  next_ = 1
end
function request()
  local line = pairs_[next_]; next_ = next_ + 1
  local token, order, member = line:match("(%S+) (%S+) (%S+)")
  local body = '{"query":"$MUTATION","variables":{"o":"' .. order .. '","m":"' .. member .. '"}}'
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
LUA
read -r token order member < "$work/pairs"
reply=$(curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "{\"query\":\"$MUTATION\",\"variables\":{\"o\":\"$order\",\"m\":\"$member\"}}" http://127.0.0.1:8094/graphql)
[[ "$reply" == *"$TO"* && "$reply" != *errors* ]] || { echo "hongfan ${STEP}Order failed: $reply"; exit 1; }
bench/vacuum-hot.sh "$DB"
out=$(wrk -t2 -c"${CONNECTIONS:-32}" -d"$DUR" --latency -s "$work/take.lua" http://127.0.0.1:8094/graphql)
echo "$out" | grep -E "Non-2xx|Socket errors" >&2 || true
row "hongfan ${STEP}Order (orders of its own)" "$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')" \
  "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "99%" {print $2}')" "$(moved 2)"
echo "answers: $(echo "$out" | awk '/requests in/ {print $1}') (every one an order of its own; moved counts those that reached $TO)"
echo "work dir: $work"
