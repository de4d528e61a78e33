#!/usr/bin/env bash
# Cold start on the embedded default (issue 13): from starting the release binary to the
# first 200 from /readyz, on SQLite with the in-process store. Five starts on a fresh
# database (migrations and the demo seed run first) and five on that database again.
#
#   bench/cold-start.sh [HONGFAN_BIN]
set -euo pipefail
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/hongfan}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export HONGFAN_BIND=127.0.0.1:8095 HONGFAN_DATA_DIR="$dir/data" RUST_LOG=warn
start() { # database file → milliseconds to ready
  local began server
  began=$(date +%s%N)
  DATABASE_URL="sqlite://$1?mode=rwc" "$BIN" serve > "$dir/server.log" 2>&1 &
  server=$!
  until curl -sf -o /dev/null http://127.0.0.1:8095/readyz; do sleep 0.005; done
  echo $(( ($(date +%s%N) - began) / 1000000 ))
  kill $server; wait $server 2>/dev/null || true
}
fresh=() again=()
for i in 1 2 3 4 5; do
  fresh+=("$(start "$dir/fresh-$i.db")")
  again+=("$(start "$dir/fresh-$i.db")")
done
echo "fresh database (migrate + demo seed), ms: ${fresh[*]}"
echo "existing database, ms:                    ${again[*]}"
