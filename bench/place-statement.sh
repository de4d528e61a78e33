#!/usr/bin/env bash
# What placeOrder's one statement costs PostgreSQL by itself, part by part: the statement a
# resident's placeOrder sends (copied from the server's statement log, 2026-12-07, a00bd77), run
# by pgbench with no server in the way, beside the tool's ceiling and with one part taken out
# at a time. All read the resident's ids and phone first (Hongfan holds them in memory), so the
# ratios compare the statements alone. 32 clients each, on the database that
# ../shared/tools/write-side-by-side made (hongfan_ceo); bench/vacuum-hot.sh before each.
#   ceiling:           order, PLACE event and the STAFF's inbox rows in one statement (the tool's);
#   placeOrder's:      as sent: the budget's compare-and-set with the check that the remembered
#                      requester still holds, all 35 order columns, the inbox rows, hongfan_require;
#   without the budget: placeOrder's less the compare-and-set (and so its check);
#   without the check: placeOrder's less the check that the requester still holds.
#   ../shared/tools/write-side-by-side "$BIN"      # once: makes hongfan_ceo and ceo_writers
#   bench/place-statement.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
PG=postgres://postgres@127.0.0.1:5432; DB=hongfan_ceo
work=$(mktemp -d)
cat=$(psql -AtX $PG/$DB -c "SELECT id FROM service_categories WHERE active ORDER BY code LIMIT 1")
nw=$(psql -AtX $PG/$DB -c "SELECT count(*) FROM ceo_writers")
# Each resident's budget row, in a window that admits (caps are the statement's, lifted).
psql -qX -v ON_ERROR_STOP=1 $PG/$DB <<'SQL'
INSERT INTO placing_budgets (requester_id, lane, open_orders, window_started_at, placed_in_window)
  SELECT id, 'OWN', 0, now(), 0 FROM ceo_writers
  ON CONFLICT (requester_id, lane) DO UPDATE SET window_started_at = now();
SQL
read_resident="\\set k random(1, $nw)
SELECT w.id AS uid, w.community_id AS cid, u.phone AS ph FROM ceo_writers w JOIN users u USING (id) WHERE w.k = :k \\gset"

guard="UPDATE placing_budgets SET placed_in_window = placed_in_window + 1, open_orders = open_orders + 1
  WHERE requester_id = :uid AND lane = 'OWN' AND window_started_at > now() - interval '1 hour'
    AND placed_in_window < 1000000000 AND open_orders < 1000000000"
check="AND EXISTS (SELECT 1 FROM users INNER JOIN communities ON communities.id = users.community_id
    WHERE users.id = :uid AND communities.id = :cid AND users.grid_id IS NULL AND users.phone = :ph
      AND communities.archived_at IS NULL AND communities.response_minutes IS NULL
      AND NOT EXISTS (SELECT 1 FROM auto_routes WHERE auto_routes.community_id = communities.id AND auto_routes.category_id = '$cat'))"
writes="written_0 AS (INSERT INTO orders (id, community_id, grid_id, requester_id, category_id, title, description, address, contact_phone, preferred_time, urgency, status, assignee_id, taker_id, response_due_at, accepted_at, completed_at, completion_summary, minutes_spent, photo_urls, rating_stars, rating_comment, rated_at, cancel_reason, version, created_at, updated_at, channel, resident_name, placed_by_id, completion_due_at, alert_level, alert_changed_at, escalated_to_id, escalated_street_id)
    VALUES (bench_uuid7(clock_timestamp()), :cid, NULL, :uid, '$cat', '水管漏水', '厨房水管', '1-2-301', '13800000001', NULL, 'NORMAL', 'PENDING_DISPATCH', NULL, NULL, now() + interval '4 hours', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, now(), now(), 'APP', NULL, NULL, now() + interval '3 days', 'GREEN', NULL, NULL, NULL)
    RETURNING id),
  written_1 AS (INSERT INTO order_events (id, order_id, actor_id, action, from_status, to_status, note, created_at)
    SELECT bench_uuid7(clock_timestamp()), id, :uid, 'PLACE', NULL, 'PENDING_DISPATCH', NULL, now() FROM written_0),
  written_2 AS (INSERT INTO inbox_messages (id, notification_id, user_id, kind, order_id, redemption_id, message, created_at, delivery, attempts, next_attempt_at)
    SELECT hongfan_uuid7(), o.id, user_id, 'NewOrder', o.id, NULL, '新的群众点单: 水管漏水', now(), 'PENDING', 0, now()
    FROM written_0 o, (SELECT DISTINCT user_id FROM role_grants WHERE role = 'STAFF' AND community_id = :cid) AS people
    WHERE user_id IS NOT NULL ON CONFLICT (notification_id, user_id) DO NOTHING)"
require="SELECT hongfan_require(true AND EXISTS (SELECT 1 FROM guarded_0)), true AS answer;"

cat > "$work/ceiling.sql" <<SQL
$read_resident
WITH o AS (INSERT INTO orders (id, community_id, requester_id, category_id, title, description, address, contact_phone, urgency, status, response_due_at, version, created_at, updated_at, channel, completion_due_at, alert_level)
           VALUES (bench_uuid7(clock_timestamp()), :cid, :uid, '$cat', '水管漏水', '厨房水管', '1-2-301', '13800000001', 'NORMAL', 'PENDING_DISPATCH', now() + interval '4 hours', 0, now(), now(), 'APP', now() + interval '3 days', 'GREEN')
           RETURNING id, requester_id),
     e AS (INSERT INTO order_events (id, order_id, actor_id, action, to_status, created_at)
           SELECT bench_uuid7(clock_timestamp()), o.id, o.requester_id, 'PLACE', 'PENDING_DISPATCH', now() FROM o)
INSERT INTO inbox_messages (id, notification_id, user_id, kind, order_id, message, created_at, delivery, attempts, next_attempt_at)
  SELECT bench_uuid7(clock_timestamp()), o.id, g.user_id, 'NEW_ORDER', o.id, '新工单：水管漏水', now(), 'PENDING', 0, now()
  FROM o JOIN role_grants g ON g.role = 'STAFF' AND g.community_id = :cid;
SQL
cat > "$work/placeorder.sql" <<SQL
$read_resident
WITH guarded_0 AS ($guard $check RETURNING *), $writes $require
SQL
cat > "$work/no-budget.sql" <<SQL
$read_resident
WITH $writes SELECT true AS answer;
SQL
cat > "$work/no-check.sql" <<SQL
$read_resident
WITH guarded_0 AS ($guard RETURNING *), $writes $require
SQL

printf '%-34s %8s %8s\n' statement tx/s share
for s in ceiling placeorder no-budget no-check; do
  bash bench/vacuum-hot.sh
  out=$(pgbench -n -M prepared -c 32 -j 2 -T "${DUR%s}" -f "$work/$s.sql" -h 127.0.0.1 -U postgres $DB 2>&1)
  # A client whose statement fails is aborted: the run would measure fewer clients.
  echo "$out" | grep -qE "^tps" && ! echo "$out" | grep -q aborted || { echo "$out" | tail -5 >&2; exit 1; }
  tps=$(echo "$out" | awk -F'= ' '/^tps/ {printf "%d", $2}')
  [ "$s" = ceiling ] && ceiling=$tps
  case $s in
    ceiling) name="ceiling (the tool's)" ;; placeorder) name="placeOrder's, as sent" ;;
    no-budget) name="placeOrder's without the budget" ;; no-check) name="placeOrder's without the check" ;;
  esac
  printf '%-34s %8s %7s%%\n' "$name" "$tps" "$((tps * 100 / ceiling))"
done
echo "work dir: $work"
