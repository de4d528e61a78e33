#!/usr/bin/env bash
# Unsigned uploads (issue 31, item 2): 32 concurrent PUTs of 9.5 MB to /files/… with a
# made-up signature, against the binary on the embedded default (SQLite, local files).
# Prints each answer's status and the server's resident memory before and after, and its
# peak (VmHWM): a server that read the bodies before refusing them would grow by ~300 MB.
#
#   bench/unsigned-uploads.sh [HONGFAN_BIN]     # the release binary by default
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/hongfan}
[ -x "$BIN" ] || cargo build --release --quiet
dir=$(mktemp -d)
export HONGFAN_BIND=127.0.0.1:8096 HONGFAN_DATA_DIR="$dir/data" RUST_LOG=warn
export DATABASE_URL="sqlite://$dir/hongfan.db?mode=rwc"
"$BIN" serve > "$dir/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$dir"' EXIT
until curl -sf -o /dev/null http://127.0.0.1:8096/readyz; do sleep 0.05; done
mem() { awk -v k="$1:" '$1 == k {printf "%.1f", $2/1024}' "/proc/$SERVER/status"; }
head -c 9961472 /dev/urandom > "$dir/body.jpg"
before=$(mem VmRSS)
expires=$(( $(date +%s) + 600 ))
for i in $(seq 1 32); do
  curl -s -o /dev/null -w '%{http_code}\n' -X PUT -H 'Content-Type: image/jpeg' \
    -H 'Expect:' --data-binary @"$dir/body.jpg" \
    "http://127.0.0.1:8096/files/uploads/orders/u$i.jpg?expires=$expires&signature=forged$i" &
done > "$dir/codes"
wait $(jobs -p | grep -v "^$SERVER$") 2>/dev/null || true
sleep 0.5
echo "answers: $(sort "$dir/codes" | uniq -c | tr -s ' ' | paste -sd, -)"
echo "server RSS before ${before} MB, after $(mem VmRSS) MB, peak $(mem VmHWM) MB"
