-- wrk script for the 12345 push load (bench/bench_hotline.py through
-- bench/_load.py's run_wrk): wrk's Lua has no HMAC, so the bench signs the
-- pushes beforehand, each with its own hotline number, into a file
-- (WRK_REQUESTS: one push a line, "timestamp<TAB>signature<TAB>body"), and this
-- script sends them in turn as POST /api/v1/hotline/tickets of platform
-- WRK_PLATFORM. Past the end of the file it starts again (replays, answered
-- 200: the bench makes the file longer than the run can send). At the end it
-- prints one WRK_JSON line, as wrk_intake.lua does.

local platform = os.getenv("WRK_PLATFORM")
-- wrk's threads each have their own Lua state: how many there are comes from
-- the bench (WRK_THREAD_COUNT, wrk's -t).
local step = tonumber(os.getenv("WRK_THREAD_COUNT") or "1")
local pushes = {}
for line in io.lines(os.getenv("WRK_REQUESTS")) do
  local timestamp, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
  pushes[#pushes + 1] = wrk.format("POST", "/api/v1/hotline/tickets", {
    ["Content-Type"] = "application/json",
    ["X-Hotline-Platform"] = platform,
    ["X-Hotline-Timestamp"] = timestamp,
    ["X-Hotline-Signature"] = signature,
  }, body)
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
  -- Each thread its own share of the file: thread k sends lines k, k + n, ...
  counter = number - 1
end

function request()
  local push = pushes[(counter % #pushes) + 1]
  counter = counter + step
  return push
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
