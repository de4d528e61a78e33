#!/usr/bin/env bash
# redeemOffer + verifyRedemption pairs across residents, on the database
# ../shared/tools/write-side-by-side made (hongfan_ceo): 64 residents, each with a balance
# granted through the ledger, redeem the offers of 64 merchants (32 connections, a fresh
# idempotency key each), then those merchants' owners verify every code at the counter (核销).
# Prints both rates, pairs per second (one redeem and one verify each, one after the other).
# Then each resident gives 1 point at a time to a confirmed household member (giftPoints; the
# members share the giver's community and address, the cap is lifted). Last, the ledger check:
# every balance is the sum of its entries and not negative, every redemption has exactly one
# SPEND entry of its cost, none is verified twice, every gift is one GIFT_OUT and one GIFT_IN,
# every giver's month row (gift_budgets) says what their GIFT_OUT entries of the month say.
# Before each of Hongfan's three scenarios, its ceiling: raw SQL making the same change in one
# statement (pgbench, 32 clients) — a redemption (the SPEND entry and balance, the redemption
# row), a verification (PENDING → VERIFIED by a cashier of the merchant, the resident's inbox
# row), a gift (the giver's month row, both balances, both entries). Hongfan's statements per
# request come from its /metrics; each row's CPU µs per request (the server's/PostgreSQL's,
# system time included) from /proc; for raw SQL, PostgreSQL's is the machine's busy time less
# pgbench's own. Switches: the machine's context switches per request (/proc/stat), which every
# round trip between two processes adds to.
#
#   ../shared/tools/write-side-by-side "$BIN"      # once: makes hongfan_ceo
#   bench/redeem-verify.sh [HONGFAN_BIN] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/hongfan}
DUR=${2:-10s}
PG=postgres://postgres@127.0.0.1:5432; DB=hongfan_ceo
export DATABASE_URL=$PG/$DB REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX=rv-$$
export JWT_SECRET=ceo-secret-ceo-secret-ceo-secret-0123 RUST_LOG=warn HONGFAN_BIND=127.0.0.1:8095
export RATE_LIMIT_PER_MINUTE=1000000000 HONGFAN_METRICS_BIND=127.0.0.1:8096
unset WECHAT_APPID WECHAT_SECRET HONGFAN_ENV
work=$(mktemp -d)
sql() { psql -qAtX -v ON_ERROR_STOP=1 "$PG/$DB" "$@"; }
"$BIN" migrate >/dev/null

# The run's residents and merchants; the residents' balances come in as ledger entries.
RUN=rv-$(date +%s)
sql -v run="$RUN" <<'SQL'
DROP TABLE IF EXISTS rv_residents, rv_merchants;
CREATE TABLE rv_residents AS
  SELECT u.id, u.openid, row_number() OVER (ORDER BY u.id) - 1 AS n FROM users u
  WHERE u.openid IN (SELECT 'bench-user-' || (n * 101 + 5) FROM generate_series(0, 63) n);
CREATE TABLE rv_merchants AS
  SELECT m.id, m.community_id, m.owner_id, u.openid,
         (SELECT o.id FROM offers o WHERE o.merchant_id = m.id ORDER BY o.id LIMIT 1) AS offer_id,
         row_number() OVER (ORDER BY m.id) - 1 AS n
  FROM merchants m JOIN users u ON u.id = m.owner_id
  WHERE m.name IN (SELECT '商户' || n FROM generate_series(0, 63) n);
INSERT INTO role_grants (id, user_id, role, community_id, granted_by, created_at)
SELECT bench_uuid7(now()), m.owner_id, 'MERCHANT', m.community_id, NULL, now() FROM rv_merchants m
WHERE NOT EXISTS (SELECT 1 FROM role_grants g
                  WHERE g.user_id = m.owner_id AND g.role = 'MERCHANT' AND g.community_id = m.community_id);
INSERT INTO points_accounts (user_id, balance, updated_at)
SELECT id, 0, now() FROM rv_residents ON CONFLICT (user_id) DO NOTHING;
INSERT INTO points_entries (id, user_id, kind, amount, balance_after, reference_type, reference_id, rate, reason,
                            idempotency_key, created_by, created_at)
SELECT bench_uuid7(clock_timestamp()), a.user_id, 'ADJUST', 1000000, a.balance + 1000000, NULL, NULL, NULL, 'bench',
       :'run' || '-' || a.user_id, NULL, now()
FROM points_accounts a JOIN rv_residents r ON r.id = a.user_id;
UPDATE points_accounts a SET balance = balance + 1000000 FROM rv_residents r WHERE r.id = a.user_id;
-- Each resident's household member (bench-user-N+1) lives at their address; gifts are not capped.
DROP TABLE IF EXISTS rv_households;
CREATE TABLE rv_households AS
  SELECT r.id AS giver_id, m.id AS receiver_id, m.openid AS receiver_openid, g.community_id, g.address, r.n
  FROM rv_residents r JOIN users g ON g.id = r.id
  JOIN users m ON m.openid = 'bench-user-' || (substr(r.openid, 12)::int + 1);
UPDATE users g SET address = '红帆小区' || g.id FROM rv_households h WHERE g.id = h.giver_id AND g.address IS NULL;
UPDATE rv_households h SET address = g.address FROM users g WHERE g.id = h.giver_id;
UPDATE users m SET community_id = h.community_id, address = h.address FROM rv_households h WHERE m.id = h.receiver_id;
INSERT INTO household_links (giver_id, receiver_id, community_id, address, confirmed_by, confirmed_at)
SELECT giver_id, receiver_id, community_id, address, giver_id, now() FROM rv_households
ON CONFLICT DO NOTHING;
INSERT INTO points_policies (community_id, gift_monthly_cap, expiry, updated_by, updated_at)
SELECT DISTINCT ON (h.community_id) h.community_id, 100000, 'NONE', h.giver_id, now() FROM rv_households h
ON CONFLICT (community_id) DO UPDATE SET gift_monthly_cap = 100000;
-- The givers' month rows, from their entries (the rows Hongfan makes on a first gift).
INSERT INTO gift_budgets (giver_id, month_start, given)
SELECT h.giver_id, date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai',
       COALESCE((SELECT -sum(e.amount) FROM points_entries e WHERE e.user_id = h.giver_id AND e.kind = 'GIFT_OUT'
                   AND e.created_at >= date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'), 0)
FROM rv_households h
ON CONFLICT (giver_id) DO UPDATE SET month_start = excluded.month_start, given = excluded.given;
DROP SEQUENCE IF EXISTS rv_code_seq; CREATE SEQUENCE rv_code_seq MINVALUE 0 START 0;
SQL
since=$(sql -c "SELECT now()")

# The ceilings, as pgbench scripts.
ENTRY="INSERT INTO points_entries (id, user_id, kind, amount, balance_after, reference_type, reference_id, rate, reason, idempotency_key, created_by, created_at)"
cat > "$work/raw-redeem.sql" <<SQL
\set r random(0, 63)
\set m random(0, 63)
WITH o AS (SELECT o.id, o.merchant_id, o.points_cost, o.title FROM offers o JOIN rv_merchants m ON m.offer_id = o.id
           JOIN merchants mm ON mm.id = m.id WHERE m.n = :m AND o.active AND mm.status = 'ACTIVE'
             AND now() >= o.valid_from AND now() < o.valid_until),
     a AS (UPDATE points_accounts a SET balance = a.balance - o.points_cost, updated_at = now()
           FROM rv_residents r, o WHERE r.n = :r AND a.user_id = r.id AND a.balance >= o.points_cost
           RETURNING a.user_id, a.balance, o.id AS offer_id, o.merchant_id, o.points_cost, o.title),
     d AS (SELECT bench_uuid7(clock_timestamp()) AS rid, a.* FROM a),
     e AS ($ENTRY SELECT bench_uuid7(clock_timestamp()), user_id, 'SPEND', -points_cost, balance, 'redemption', rid,
                  NULL, title, 'spend:' || rid, user_id, now() FROM d)
INSERT INTO redemptions (id, offer_id, merchant_id, user_id, points_cost, code, status, expires_at, idempotency_key, created_at)
SELECT rid, offer_id, merchant_id, user_id, points_cost, lpad((random() * 9999999999)::bigint::text, 10, '0'), 'PENDING',
       now() + interval '7 days', 'rawredeem:' || rid, now() FROM d;
SQL
cat > "$work/raw-verify.sql" <<SQL
WITH q AS (SELECT code, owner_id FROM rv_raw_codes WHERE k = (SELECT nextval('rv_code_seq'))),
     v AS (UPDATE redemptions r SET status = 'VERIFIED', verified_at = now(), verified_by = q.owner_id FROM q
           WHERE r.code = q.code AND r.status = 'PENDING' AND r.expires_at > now()
             AND EXISTS (SELECT 1 FROM merchant_staff s WHERE s.merchant_id = r.merchant_id AND s.user_id = q.owner_id)
           RETURNING r.id, r.user_id)
INSERT INTO inbox_messages (id, notification_id, user_id, kind, redemption_id, message, created_at, delivery, attempts, next_attempt_at)
SELECT bench_uuid7(clock_timestamp()), bench_uuid7(clock_timestamp()), user_id, 'REDEMPTION_VERIFIED', id, '您的积分兑换已核销',
       now(), 'PENDING', 0, now() FROM v;
SQL
MONTH="date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'"
cat > "$work/raw-gift.sql" <<SQL
\set g random(0, 63)
WITH h AS (SELECT giver_id, receiver_id, community_id FROM rv_households WHERE n = :g),
     b AS (UPDATE gift_budgets gb SET given = CASE WHEN gb.month_start = $MONTH THEN gb.given ELSE 0 END + 1,
                                      month_start = $MONTH
           FROM h WHERE gb.giver_id = h.giver_id
             AND CASE WHEN gb.month_start = $MONTH THEN gb.given ELSE 0 END + 1
                 <= COALESCE((SELECT gift_monthly_cap FROM points_policies p WHERE p.community_id = h.community_id), 200)
           RETURNING h.giver_id, h.receiver_id),
     o AS (UPDATE points_accounts a SET balance = a.balance - 1, updated_at = now() FROM b
           WHERE a.user_id = b.giver_id AND a.balance >= 1 RETURNING a.user_id, a.balance, b.receiver_id),
     i AS (INSERT INTO points_accounts (user_id, balance, updated_at) SELECT receiver_id, 1, now() FROM o
           ON CONFLICT (user_id) DO UPDATE SET balance = points_accounts.balance + 1, updated_at = now()
           RETURNING user_id, balance),
     k AS (SELECT bench_uuid7(clock_timestamp())::text AS key),
     eo AS ($ENTRY SELECT bench_uuid7(clock_timestamp()), o.user_id, 'GIFT_OUT', -1, o.balance, 'user', o.receiver_id, NULL,
                   NULL, 'rawgift:' || k.key || '-out', o.user_id, now() FROM o, k)
$ENTRY SELECT bench_uuid7(clock_timestamp()), i.user_id, 'GIFT_IN', 1, i.balance, 'user', o.user_id, NULL, NULL,
       'rawgift:' || k.key || '-in', o.user_id, now() FROM i, o, k;
SQL
source bench/cpu-ticks.sh
HZ=$(getconf CLK_TCK)
cpu_mark() { echo "$(ticks '^hongfan') $(ticks '^postgres$')"; }
cpu_per() { # marks-before marks-after n -> CPU µs per request, "server/PostgreSQL"
  local su0 ss0 pu0 ps0 su1 ss1 pu1 ps1
  read -r su0 ss0 pu0 ps0 <<< "$1"; read -r su1 ss1 pu1 ps1 <<< "$2"
  echo "$(( (su1 + ss1 - su0 - ss0) * 1000000 / HZ / $3 ))/$(( (pu1 + ps1 - pu0 - ps0) * 1000000 / HZ / $3 ))"
}
pgrow() { # script [seconds] -> "tx/s avg-latency cpu switches"
  local out busy0 sw0 pgbench n
  # pgbench's backends exit with it, taking their ticks along: PostgreSQL's share is the
  # machine's busy time less pgbench's own (bash's `times` for the finished child).
  bench/vacuum-hot.sh "$DB"
  busy0=$(busy); sw0=$(switches)
  out=$(pgbench -n -M prepared -c 32 -j 2 -T "${2:-${DUR%s}}" -f "$1" -h 127.0.0.1 -U postgres $DB 2>&1; times)
  echo "$out" | grep -qE "^tps" || { echo "$out" | tail -5 >&2; exit 1; }
  pgbench=$(echo "$out" | tail -1 | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } printf "%d", s * 1000000 }')
  n=$(echo "$out" | awk -F': ' '/actually processed/ {print $2}')
  echo "$(echo "$out" | awk -F'= ' '/^tps/ {printf "%d", $2}') $(echo "$out" | awk '/latency average/ {print $4 "ms(avg)"}')" \
    "-/$(( ( ($(busy) - busy0) * 1000000 / HZ - pgbench) / n ))" "$(( ($(switches) - sw0) / n ))"
}
statements() { curl -s http://127.0.0.1:8096/metrics | awk -F'} ' '/^hongfan_db_statements_total\{origin="request"\}/ {print $2}'; }

"$BIN" serve > "$work/server.log" 2>&1 & SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:8095/readyz >/dev/null; do sleep 0.2; done
while IFS='|' read -r id openid; do echo "$id $("$BIN" issue-token --openid "$openid")"; done \
  < <(sql -c "SELECT id, openid FROM rv_residents UNION SELECT owner_id, openid FROM rv_merchants") > "$work/tokens"
# Every resident with every offer, "token offerId", shuffled.
sql -F ' ' -c "SELECT r.id, m.offer_id FROM rv_residents r CROSS JOIN rv_merchants m ORDER BY random()" \
  | awk 'NR == FNR { token[$1] = $2; next } { print token[$1], $2 }' "$work/tokens" - > "$work/redeems"

cat > "$work/wrk.lua" <<'LUA'
-- Each request the next "token value" line of WORK (cycled), split between wrk's threads;
-- BODY's %v becomes the value and %n a per-request counter.
local threads = 0
function setup(thread) thread:set("n", threads); threads = threads + 1 end
function init(args)
  lines = {}
  local i = 0
  for line in io.lines(os.getenv("WORK")) do
    if i % 2 == n then lines[#lines + 1] = line end
    i = i + 1
  end
  next_, count = 1, 0
end
function request()
  local token, value = lines[next_]:match("(%S+) (%S+)")
  next_ = next_ % #lines + 1; count = count + 1
  local body = os.getenv("BODY"):gsub("%%v", value):gsub("%%n", n .. "-" .. count)
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
LUA
row() { printf '%-40s %9s %14s %9s %10s %10s %9s %9s\n' "$@"; }
run() { # name work body -> "req/s p50 p99 statements-per-request cpu switches"
  local out before mark sw0 n
  bench/vacuum-hot.sh "$DB"
  before=$(statements); mark=$(cpu_mark); sw0=$(switches)
  out=$(WORK="$2" BODY="$3" wrk -t2 -c32 -d"$DUR" --latency -s "$work/wrk.lua" http://127.0.0.1:8095/graphql)
  echo "$out" | grep -E "Non-2xx|Socket errors" >&2 || true
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}') $(echo "$out" | awk '$1 == "50%" {print $2}') $(echo "$out" | awk '$1 == "99%" {print $2}')" \
    "$(awk -v a="$(statements)" -v b="$before" -v n="$n" 'BEGIN {printf "%.1f", (a - b) / n}') $(cpu_per "$mark" "$(cpu_mark)" "$n")" \
    "$(( ($(switches) - sw0) / n ))"
}
REDEEM='{"query":"mutation R($o: ID!, $k: String!) { redeemOffer(offerId: $o, idempotencyKey: $k) { id code } }","variables":{"o":"%v","k":"bench-%n-'$RUN'"}}'
read -r token offer < "$work/redeems"
probe=${REDEEM//%v/$offer}
reply=$(curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "${probe//%n/probe}" http://127.0.0.1:8095/graphql)
[[ "$reply" == *'"code"'* && "$reply" != *errors* ]] || { echo "redeemOffer failed: $reply"; exit 1; }
row scenario req/s p50 p99 statements "CPU µs" switches done
echo "(CPU µs per request: the server's/PostgreSQL's, system time included; for raw SQL the machine's less pgbench's)"
share() { echo "$(( $1 * 100 / $2 )) % of the ceiling"; }
read -r raw_redeem lat cpu sw <<< "$(pgrow "$work/raw-redeem.sql")"
row "raw SQL, a redemption in one statement" "$raw_redeem" "$lat" - 1 "$cpu" "$sw" \
  "$(sql -c "SELECT count(*) FROM redemptions WHERE created_at >= '$since' AND idempotency_key LIKE 'rawredeem:%'")"
read -r redeem_rate p50 p99 per cpu sw <<< "$(run redeem "$work/redeems" "$REDEEM")"
redeemed=$(sql -c "SELECT count(*) FROM redemptions r JOIN rv_residents u ON u.id = r.user_id
                   WHERE r.created_at >= '$since' AND r.idempotency_key LIKE 'redeem:%'")
row "redeemOffer (64 residents, 64 offers)" "$redeem_rate" "$p50" "$p99" "$per" "$cpu" "$sw" "$redeemed"
echo "redeemOffer: $(share "$redeem_rate" "$raw_redeem")"

# The ceiling verifies the ceiling's own codes; Hongfan every code it made, "token code", shuffled.
sql -c "DROP TABLE IF EXISTS rv_raw_codes;
        CREATE TABLE rv_raw_codes AS SELECT row_number() OVER (ORDER BY random()) - 1 AS k, r.code, m.owner_id
          FROM redemptions r JOIN rv_merchants m ON m.id = r.merchant_id
          WHERE r.created_at >= '$since' AND r.status = 'PENDING' AND r.idempotency_key LIKE 'rawredeem:%';
        CREATE UNIQUE INDEX ON rv_raw_codes (k); ANALYZE rv_raw_codes"
# A quarter of the time: verifying runs about twice as fast as redeeming made codes, and a
# statement past the last code changes nothing and would count as a fast one.
read -r raw_verify lat cpu sw <<< "$(pgrow "$work/raw-verify.sql" $(( (${DUR%s} + 3) / 4 )))"
raw_verified=$(sql -c "SELECT count(*) FROM redemptions WHERE created_at >= '$since' AND status = 'VERIFIED' AND idempotency_key LIKE 'rawredeem:%'")
row "raw SQL, a verification in one statement" "$raw_verify" "$lat" - 1 "$cpu" "$sw" "$raw_verified"
[ "$raw_verified" -lt "$(sql -c "SELECT count(*) FROM rv_raw_codes")" ] || echo "the ceiling ran out of codes: its rate counts statements that changed nothing"
sql -F ' ' -c "SELECT m.owner_id, r.code FROM redemptions r JOIN rv_merchants m ON m.id = r.merchant_id
               WHERE r.created_at >= '$since' AND r.status = 'PENDING' AND r.idempotency_key LIKE 'redeem:%'
               ORDER BY random()" \
  | awk 'NR == FNR { token[$1] = $2; next } { print token[$1], $2 }' "$work/tokens" - > "$work/verifies"
VERIFY='{"query":"mutation V($c: String!) { verifyRedemption(code: $c) { status } }","variables":{"c":"%v"}}'
# Half as long as the redeeming, so that the codes last (a repeat would be a fast refusal).
read -r verify_rate p50 p99 per cpu sw <<< "$(DUR=$(( ${DUR%s} / 2 ))s run verify "$work/verifies" "$VERIFY")"
verified=$(sql -c "SELECT count(*) FROM redemptions r JOIN rv_residents u ON u.id = r.user_id
                   WHERE r.created_at >= '$since' AND r.status = 'VERIFIED' AND r.idempotency_key LIKE 'redeem:%'")
row "verifyRedemption (64 counters)" "$verify_rate" "$p50" "$p99" "$per" "$cpu" "$sw" "$verified"
[ "$verified" -lt "$(wc -l < "$work/verifies")" ] || echo "every code was verified before the time was up: verify's rate counts repeats"
echo "verifyRedemption: $(share "$verify_rate" "$raw_verify")"
echo "pairs/s (a redeem then its verify): $(( 1000000 / (1000000 / redeem_rate + 1000000 / verify_rate) )), ceiling $(( 1000000 / (1000000 / raw_redeem + 1000000 / raw_verify) ))"

# Every resident to their household member, "token receiverId".
read -r raw_gift lat cpu sw <<< "$(pgrow "$work/raw-gift.sql")"
row "raw SQL, a gift in one statement" "$raw_gift" "$lat" - 1 "$cpu" "$sw" \
  "$(sql -c "SELECT count(*) FROM points_entries WHERE kind = 'GIFT_OUT' AND created_at >= '$since' AND idempotency_key LIKE 'rawgift:%'")"
sql -F ' ' -c "SELECT giver_id, receiver_id FROM rv_households" \
  | awk 'NR == FNR { token[$1] = $2; next } { print token[$1], $2 }' "$work/tokens" - > "$work/gifts"
GIFT='{"query":"mutation G($to: ID!, $k: String!) { giftPoints(toUserId: $to, amount: 1, idempotencyKey: $k) { id } }","variables":{"to":"%v","k":"gift-%n-'$RUN'"}}'
read -r gift_rate p50 p99 per cpu sw <<< "$(run gift "$work/gifts" "$GIFT")"
given=$(sql -c "SELECT count(*) FROM points_entries e JOIN rv_residents r ON r.id = e.user_id
                WHERE e.kind = 'GIFT_OUT' AND e.created_at >= '$since' AND e.idempotency_key LIKE 'gift:%'")
row "giftPoints (64 households)" "$gift_rate" "$p50" "$p99" "$per" "$cpu" "$sw" "$given"
echo "giftPoints: $(share "$gift_rate" "$raw_gift")"

# The ledger afterwards, as SQL: each count must be 0.
sql <<SQL
SELECT 'accounts whose balance is not the sum of their entries', count(*) FROM points_accounts a
  WHERE a.user_id IN (SELECT id FROM rv_residents)
    AND a.balance <> (SELECT COALESCE(SUM(e.amount), 0) FROM points_entries e WHERE e.user_id = a.user_id)
UNION ALL
SELECT 'negative balances', count(*) FROM points_accounts WHERE balance < 0
UNION ALL
SELECT 'redemptions without exactly one SPEND of their cost', count(*) FROM redemptions r
  LEFT JOIN (SELECT reference_id, count(*) AS n, sum(amount) AS total FROM points_entries
             WHERE kind = 'SPEND' AND created_at >= '$since' GROUP BY reference_id) e ON e.reference_id = r.id
  WHERE r.created_at >= '$since' AND (e.n IS DISTINCT FROM 1 OR e.total <> -r.points_cost)
UNION ALL
SELECT 'verifications without their redemption VERIFIED once', count(*) FROM redemptions r
  WHERE r.created_at >= '$since' AND (r.status = 'VERIFIED') <> (r.verified_at IS NOT NULL)
UNION ALL
SELECT 'gifts given and received that differ', abs(
  (SELECT count(*) FROM points_entries WHERE kind = 'GIFT_OUT' AND created_at >= '$since')
  - (SELECT count(*) FROM points_entries WHERE kind = 'GIFT_IN' AND created_at >= '$since'))
UNION ALL
SELECT 'givers whose month row is not the sum of their GIFT_OUT entries of the month', count(*) FROM gift_budgets b
  WHERE b.giver_id IN (SELECT giver_id FROM rv_households)
    AND b.given <> (SELECT COALESCE(-SUM(e.amount), 0) FROM points_entries e
                    WHERE e.user_id = b.giver_id AND e.kind = 'GIFT_OUT' AND e.created_at >= b.month_start)
UNION ALL
SELECT 'household members whose balance is not the sum of their entries', count(*) FROM points_accounts a
  WHERE a.user_id IN (SELECT receiver_id FROM rv_households)
    AND a.balance <> (SELECT COALESCE(SUM(e.amount), 0) FROM points_entries e WHERE e.user_id = a.user_id);
SQL
echo "work dir: $work"
