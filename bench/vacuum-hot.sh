#!/usr/bin/env bash
# Vacuums the tables whose few rows the write benchmarks update thousands of times a second:
# the placing budgets, points accounts and gift budgets, offers' stock, the order rollups.
# This machine's PostgreSQL runs with autovacuum off (conf.d/90-ci.conf). Without a vacuum,
# each update of such a row walks a longer chain of its dead versions, so a scenario pays for
# the ones before it, and a rerun for the runs before it. bench/step-side-by-side.sh and
# bench/redeem-verify.sh run it before each scenario. Run it by hand before each
# `REUSE_DB=1 ../shared/tools/write-side-by-side`.
#
#   bench/vacuum-hot.sh [DATABASE]      # hongfan_ceo by default
set -euo pipefail
psql -qAtX -v ON_ERROR_STOP=1 "postgres://postgres@127.0.0.1:5432/${1:-hongfan_ceo}" -c \
  "VACUUM (ANALYZE) placing_budgets, points_accounts, gift_budgets, offers, order_day_stats, order_month_stats"
