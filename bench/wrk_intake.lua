-- wrk script for the ticket intake load (bench/bench_api.py through
-- bench/_load.py's run_wrk): every request a POST /api/v1/tickets/ with the
-- token, its own Idempotency-Key and its own body (a grid of the street in
-- turn). Its settings come from the environment: WRK_TOKEN, WRK_REGIONS
-- (comma-separated ids), WRK_PREFIX (makes the keys of this run unique).
-- The statuses and the closing WRK_JSON line: wrk_common.lua.


local token = os.getenv("WRK_TOKEN")
local prefix = os.getenv("WRK_PREFIX") or "wrk"
local regions = {}
for id in string.gmatch(os.getenv("WRK_REGIONS") or "", "[^,]+") do
  regions[#regions + 1] = id
end

dofile("wrk_common.lua")  -- setup, response, done

local counter = 0
function init(args)
  statuses = {}
end

function request()
  counter = counter + 1
  local n = counter
  local region = regions[(n % #regions) + 1]
  local body = '{"source":"patrol","region":' .. region
    .. ',"description":"压测工单 ' .. number .. "-" .. n
    .. '","address":"幸福路1号"}'
  local headers = {
    ["Authorization"] = "Token " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. "-" .. number .. "-" .. n,
  }
  return wrk.format("POST", "/api/v1/tickets/", headers, body)
end
