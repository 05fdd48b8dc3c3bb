-- What the benches' wrk scripts share (dofile'd from bench/, wrk's working
-- directory in bench/_load.py's run_wrk): each thread numbered (the global
-- `number` in its Lua state), the count of each status, and at the end one
-- line `WRK_JSON {...}`: the statuses, the errors and the latency percentiles
-- (ms) over every answer, which run_wrk reads.

local threads = {}
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("number", thread_number)
  threads[#threads + 1] = thread
end

statuses = {}  -- global: done() reads it with thread:get

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
