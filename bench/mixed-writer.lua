-- wrk script for the mixed scenario's writers: one connection per thread walks an order
-- through placeOrder (RESIDENT) → publishOrder (STAFF) → takeOrder (TAKER), each taken order
-- leaving the pool of every instance; WRITE_DELAY_MS paces it. GraphQL errors are counted.
local resident, staff, taker = os.getenv("RESIDENT"), os.getenv("STAFF"), os.getenv("TAKER")
local category = os.getenv("CATEGORY")
local pause = tonumber(os.getenv("WRITE_DELAY_MS") or "5")
local step, id, n = 0, nil, 0
errors = 0 -- global: done() reads it from each thread
local threads = {}

function setup(thread) table.insert(threads, thread) end

-- Each step is a named operation, so /metrics times them apart.
local function post(token, name, query)
  return wrk.format("POST", "/graphql",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token },
    '{"operationName":"' .. name .. '","query":"mutation ' .. name .. ' ' .. query .. '"}')
end

function request()
  if step == 0 then
    n = n + 1
    return post(resident, 'Place', '{ placeOrder(input: { categoryId: \\"' .. category ..
      '\\", title: \\"mixed ' .. n .. '\\", description: \\"\\", address: \\"1号\\", contactPhone: \\"13800000000\\" }) { id } }')
  elseif step == 1 then
    return post(staff, 'Publish', '{ publishOrder(orderId: \\"' .. id .. '\\") { status } }')
  end
  return post(taker, 'Take', '{ takeOrder(orderId: \\"' .. id .. '\\") { status } }')
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"') then
    errors = errors + 1
    step = 0
    return
  end
  if step == 0 then
    id = body:match('"id":"([^"]+)"')
    step = 1
  else
    step = (step + 1) % 3
  end
end

function delay() return pause end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("errors") end
  io.write(string.format("graphql errors: %d\n", total))
end
