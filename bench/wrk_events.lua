-- wrk script: the steady event mix of SPEC §10's throughput run. Each conversation gets a request,
-- two messages and a close, over a pool of 20,000 conversations, so state stays bounded.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

local token = os.getenv("ROUTER_BENCH_TOKEN") or "bench-token"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

function request()
  counter = counter + 1
  local n = counter * 16 + thread_id
  local conversation = "wrk-" .. (math.floor(n / 4) % 20000)
  local kind = n % 4
  local body
  if kind == 0 then
    body = '{"eventType":"escalationRequested","workspaceId":"ws-1","conversationId":"' .. conversation .. '","language":"en","text":"help"}'
  elseif kind == 3 then
    body = '{"eventType":"conversationClosed","workspaceId":"ws-1","conversationId":"' .. conversation .. '"}'
  else
    body = '{"eventType":"message","workspaceId":"ws-1","conversationId":"' .. conversation .. '","text":"any news?"}'
  end
  return wrk.format(nil, "/v1/events", nil, body)
end
