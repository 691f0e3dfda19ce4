-- One balance check per request: a member already at the main menu presses 1.
-- Each request picks a different pre-made session so every hop is a real menu -> balance step.
local counter = 0
local sessions = tonumber(os.getenv("BENCH_SESSIONS") or "40000")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local n = 0
request = function()
  n = n + 1
  local i = (n * 2 + tid) % sessions
  local body = string.format(
    "sessionId=bench%d&serviceCode=%%2A384%%2A1%%23&phoneNumber=%%2B2547%08d&networkCode=63902&text=1", i, i)
  return wrk.format(nil, nil, nil, body)
end
