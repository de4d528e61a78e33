-- Realistic volume on top of `hongfan seed-demo`: 30 communities, 100k residents (3,000 of
-- them Party members), :orders orders, 1,000 merchants with two offers each.
-- Run with: psql -v orders=N -v first=M -f seed.sql  (orders numbered first..N; re-runnable in steps)
\set ON_ERROR_STOP on

-- A UUIDv7 for a moment: time-ordered, like the ids the server makes.
CREATE OR REPLACE FUNCTION bench_uuid7(at timestamptz) RETURNS uuid LANGUAGE sql AS $$
  SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
          || substr(md5(random()::text), 1, 3) || '8' || substr(md5(random()::text), 1, 15))::uuid
$$;

INSERT INTO communities (id, street_id, name, created_at, points_per_hour)
SELECT bench_uuid7(now() - interval '2 years' + n * interval '1 minute'),
       (SELECT id FROM streets LIMIT 1), 'bench-community-' || n, now(), 10
FROM generate_series(1, 30) n
WHERE NOT EXISTS (SELECT 1 FROM communities WHERE name = 'bench-community-1');

CREATE TEMP TABLE bench_communities AS
  SELECT id, row_number() OVER (ORDER BY name) - 1 AS n FROM communities WHERE name LIKE 'bench-community-%';

INSERT INTO users (id, openid, name, phone, community_id, address, created_at, updated_at, show_on_leaderboard)
SELECT bench_uuid7(now() - interval '1 year' + n * interval '1 second'), 'bench-user-' || n, '居民' || n,
       '138' || lpad(n::text, 8, '0'), (SELECT id FROM bench_communities WHERE bench_communities.n = u.n % 30),
       '小区' || n, now(), now(), true
FROM generate_series(0, 99999) AS u(n)
WHERE NOT EXISTS (SELECT 1 FROM users WHERE openid = 'bench-user-0');

INSERT INTO role_grants (id, user_id, role, community_id, granted_by, created_at)
SELECT bench_uuid7(now()), u.id, 'PARTY_MEMBER', u.community_id, NULL, now()
FROM users u
WHERE u.openid LIKE 'bench-user-%' AND (substr(u.openid, 12)::int % 100) < 3
  AND NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id);

-- Three STAFF per community (bench-user-99910 … 99999), so that a new order files its inbox
-- and delivery rows for them as it does in a real community.
INSERT INTO role_grants (id, user_id, role, community_id, granted_by, created_at)
SELECT bench_uuid7(now()), u.id, 'STAFF', u.community_id, NULL, now()
FROM users u
WHERE u.openid LIKE 'bench-user-999__' AND substr(u.openid, 12)::int >= 99910
  AND NOT EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND g.role = 'STAFF');

-- Orders: 98% rated, 2% open in the pool; spread over the past year.
INSERT INTO orders (id, community_id, requester_id, category_id, title, description, address, contact_phone,
                    preferred_time, urgency, status, assignee_id, taker_id, response_due_at, accepted_at,
                    completed_at, completion_summary, minutes_spent, photo_urls, rating_stars, rating_comment,
                    rated_at, cancel_reason, version, created_at, updated_at)
SELECT bench_uuid7(t), c.id, u.id, (SELECT id FROM service_categories ORDER BY id LIMIT 1 OFFSET (s.i % 7)),
       '服务需求 ' || s.i, '描述', '地址', '13800000000', NULL, 'NORMAL',
       CASE WHEN s.i % 50 = 0 THEN 'OPEN' ELSE 'RATED' END, NULL, NULL, t + interval '4 hours', NULL,
       NULL, NULL, NULL, NULL, CASE WHEN s.i % 50 = 0 THEN NULL ELSE 5 END, NULL, NULL, NULL, 0, t, t
FROM (SELECT i, now() - interval '365 days' + i * (interval '365 days' / :orders) AS t
      FROM generate_series(:first, :orders) i) s
JOIN bench_communities c ON c.n = s.i % 30
JOIN users u ON u.openid = 'bench-user-' || (s.i % 100000);

INSERT INTO merchants (id, community_id, owner_id, kind, name, description, category, address, latitude, longitude,
                       phone, opening_hours, status, status_reason, reviewed_by, created_at, updated_at)
SELECT bench_uuid7(now() - g.i * interval '1 minute'), c.id, u.id, 'MERCHANT', '商户' || g.i, '', '餐饮', '街道',
       36.60 + (g.i % 100) * 0.001, 116.95 + (g.i / 100) * 0.01, '13900000000', '全天', 'ACTIVE', NULL, NULL, now(), now()
FROM generate_series(0, 999) AS g(i)
JOIN bench_communities c ON c.n = g.i % 30
JOIN users u ON u.openid = 'bench-user-' || g.i
WHERE NOT EXISTS (SELECT 1 FROM merchants WHERE name = '商户0');

INSERT INTO merchant_staff (id, merchant_id, user_id, is_owner, created_at)
SELECT bench_uuid7(now()), m.id, m.owner_id, true, now() FROM merchants m
WHERE NOT EXISTS (SELECT 1 FROM merchant_staff s WHERE s.merchant_id = m.id);

INSERT INTO offers (id, merchant_id, title, description, points_cost, stock, per_user_limit, valid_from, valid_until,
                    active, created_at, updated_at)
SELECT bench_uuid7(now()), m.id, '优惠' || k, '', 10 * k, NULL, NULL, now() - interval '1 day', now() + interval '1 year',
       true, now(), now()
FROM merchants m CROSS JOIN generate_series(1, 2) k
WHERE NOT EXISTS (SELECT 1 FROM offers o WHERE o.merchant_id = m.id);

-- The redeeming bench resident gets a large balance, through the ledger like everyone.
INSERT INTO points_accounts (user_id, balance, updated_at)
SELECT id, 1000000000, now() FROM users WHERE openid = 'bench-user-1'
ON CONFLICT (user_id) DO NOTHING;
INSERT INTO points_entries (id, user_id, kind, amount, balance_after, reference_type, reference_id, rate, reason,
                            idempotency_key, created_by, created_at)
SELECT bench_uuid7(now()), id, 'ADJUST', 1000000000, 1000000000, NULL, NULL, NULL, 'bench', 'bench-grant', NULL, now()
FROM users WHERE openid = 'bench-user-1'
ON CONFLICT (idempotency_key) DO NOTHING;

ANALYZE;
