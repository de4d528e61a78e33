-- wrk script: POSTs GraphQL. BENCH_BODY is the JSON body; "%n" in it becomes a per-request
-- counter, and "%id" the next line of BENCH_IDS (cycled), so mutations need not collide.
local body = os.getenv("BENCH_BODY")
local token = os.getenv("BENCH_TOKEN")
local ids = {}
local ids_file = os.getenv("BENCH_IDS")
if ids_file and ids_file ~= "" then
  for line in io.lines(ids_file) do ids[#ids + 1] = line end
end
local counter = 0
local thread_tag = ""

function setup(thread)
  thread:set("thread_tag", tostring(math.random(1, 1e9)))
end

function request()
  counter = counter + 1
  local b = body:gsub("%%n", thread_tag .. "-" .. counter)
  if #ids > 0 then
    b = b:gsub("%%id", ids[(counter % #ids) + 1])
  end
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, b)
end
