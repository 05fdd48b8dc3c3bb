-- wrk script for the ticket intake load (bench/bench_api.py through
-- bench/_load.py's run_wrk): every request a POST /api/v1/tickets/ with the
-- token, its own Idempotency-Key and its own body (a grid of the street in
-- turn). Its settings come from the environment: WRK_TOKEN, WRK_REGIONS
-- (comma-separated ids), WRK_PREFIX (makes the keys of this run unique).
-- At the end it prints one JSON line: the count of each status, the errors,
-- and the latency percentiles (ms) over every answer.

local token = os.getenv("WRK_TOKEN")
local prefix = os.getenv("WRK_PREFIX") or "wrk"
local regions = {}
for id in string.gmatch(os.getenv("WRK_REGIONS") or "", "[^,]+") do
  regions[#regions + 1] = id
end

local threads = {}
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("number", thread_number)
  threads[#threads + 1] = thread
end

local counter = 0
statuses = {}  -- global: done() reads it with thread:get

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

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local theirs = thread:get("statuses") or {}
    for status, count in pairs(theirs) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    parts[#parts + 1] = '"' .. status .. '":' .. count
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"statuses":{%s},'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"p50_ms":%.1f,"p95_ms":%.1f,"p99_ms":%.1f,"mean_ms":%.1f}\n',
    summary.duration, summary.requests, table.concat(parts, ","),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000))
end
