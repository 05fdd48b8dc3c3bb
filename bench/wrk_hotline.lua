-- wrk script for the 12345 push load (bench/bench_hotline.py through
-- bench/_load.py's run_wrk): wrk's Lua has no HMAC, so the bench signs the
-- pushes beforehand, each with its own hotline number, into a file
-- (WRK_REQUESTS: one push a line, "timestamp<TAB>signature<TAB>body"), and this
-- script sends them in turn as POST /api/v1/hotline/tickets of platform
-- WRK_PLATFORM. Past the end of the file it starts again (replays, answered
-- 200: the bench makes the file longer than the run can send). The statuses
-- and the closing WRK_JSON line: wrk_common.lua.

local platform = os.getenv("WRK_PLATFORM")
-- wrk's threads each have their own Lua state: how many there are comes from
-- the bench (WRK_THREAD_COUNT, wrk's -t).
local step = tonumber(os.getenv("WRK_THREAD_COUNT") or "1")
local pushes = {}

-- Formatted in init: wrk.format adds the Host header only once wrk.init has
-- set it (a request without one is a 400 from nginx).
local function load_pushes()
  for line in io.lines(os.getenv("WRK_REQUESTS")) do
    local timestamp, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    pushes[#pushes + 1] = wrk.format("POST", "/api/v1/hotline/tickets", {
      ["Content-Type"] = "application/json",
      ["X-Hotline-Platform"] = platform,
      ["X-Hotline-Timestamp"] = timestamp,
      ["X-Hotline-Signature"] = signature,
    }, body)
  end
end

dofile("wrk_common.lua")  -- setup, response, done

local counter = 0
function init(args)
  statuses = {}
  load_pushes()
  -- Each thread its own share of the file: thread k sends lines k, k + n, ...
  counter = number - 1
end

function request()
  local push = pushes[(counter % #pushes) + 1]
  counter = counter + step
  return push
end
