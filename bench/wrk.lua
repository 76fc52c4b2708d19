-- One wrk script for every row of the benchmark, configured by environment variables:
--   BENCH_TARGET  gateway-send | gateway-keyed-send | gateway-restart | homeserver-send | homeserver-restart
--   BENCH_WIDGETS how many widgets the gateway has (tokens bench-token-1 .. N)
--   BENCH_IDS     for gateway-restart: a file with one "token delay_id" pair per line
--   BENCH_RUN     for gateway-keyed-send: a name no other run used, the start of every key
-- Each request goes to the next widget in turn, so that every configured widget is used.
-- gateway-keyed-send is gateway-send with an Idempotency-Key that no request used before, so
-- that each one is recorded (and in Redis with gateway.store: redis) instead of answered
-- from an earlier record.
local target = os.getenv("BENCH_TARGET")
local widgets = tonumber(os.getenv("BENCH_WIDGETS") or "1")
local leave = '{"type":"org.matrix.msc3401.call.member","state_key":"_@bench:localhost_DEV_m.call","content":{},"delay":8000}'
local pairs_ = {}
local i = 0
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local sent = 0
local threads = 0

-- Each thread has its own counter: a thread number keeps their keys apart.
setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

if target == "gateway-restart" then
  for line in io.lines(os.getenv("BENCH_IDS")) do
    local token, id = line:match("^(%S+) (%S+)$")
    pairs_[#pairs_ + 1] = { token = token, id = id }
  end
end

wrk.headers["Content-Type"] = "application/json"

request = function()
  if target == "gateway-send" then
    i = i % widgets + 1
    wrk.headers["Authorization"] = "Bearer bench-token-" .. i
    return wrk.format("POST", "/v1/send_event", nil, leave)
  elseif target == "gateway-keyed-send" then
    i = i % widgets + 1
    sent = sent + 1
    wrk.headers["Authorization"] = "Bearer bench-token-" .. i
    wrk.headers["Idempotency-Key"] = run .. "-" .. (thread_number or 0) .. "-" .. sent
    return wrk.format("POST", "/v1/send_event", nil, leave)
  elseif target == "gateway-restart" then
    i = i % #pairs_ + 1
    wrk.headers["Authorization"] = "Bearer " .. pairs_[i].token
    return wrk.format("POST", "/v1/delayed_events/" .. pairs_[i].id .. "/restart", nil, "")
  elseif target == "homeserver-send" then
    wrk.headers["Authorization"] = "Bearer bench-access-token"
    return wrk.format("PUT", "/_matrix/client/v3/rooms/!bench%3Alocalhost/state/org.matrix.msc3401.call.member/"
      .. "_%40bench%3Alocalhost_DEV_m.call?org.matrix.msc4140.delay=8000", nil, "{}")
  else
    wrk.headers["Authorization"] = "Bearer bench-access-token"
    return wrk.format("POST", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events/syd_bench/restart", nil, "{}")
  end
end

done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  local failed = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.0f %.2f %.2f %.2f %d %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, non2xx, failed, summary.requests))
end
