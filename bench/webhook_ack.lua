-- Signed WhatsApp webhooks, each with its own message id: every request is a new message.
-- Each wrk thread reads its own file of "signature<TAB>body" lines (bench/webhook_ack.py writes them).
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local lines = {}
local n = 0

function init(args)
  local path = os.getenv("BENCH_BODIES") .. tid .. ".txt"
  for line in io.lines(path) do
    local tab = line:find("\t", 1, true)
    lines[#lines + 1] = {line:sub(1, tab - 1), line:sub(tab + 1)}
  end
end

request = function()
  n = n + 1
  local item = lines[(n - 1) % #lines + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = item[1]}, item[2])
end
