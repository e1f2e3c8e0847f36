-- wrk script for bench/run.sh. Reads the request from the environment:
--   BENCH_METHOD (GET), BENCH_BODY (none; every "{n}" becomes a per-request counter), BENCH_CONTENT_TYPE, and
--   BENCH_KEYS (1): every "{k}" in the URL's path becomes the counter modulo BENCH_KEYS (writes spread over that many
--   keys, URL-encoded in the URL as %7Bk%7D or written as {k}).
-- At the end prints one machine-readable line:
--   RESULT <requests/s> <p50 µs> <p99 µs> <requests> <non-2xx/3xx> <socket errors>
local function env(name)
  local value = os.getenv(name)
  if value == "" then return nil end
  return value
end
local method = env("BENCH_METHOD") or "GET"
local body = env("BENCH_BODY")
local counted = body ~= nil and body:find("{n}", 1, true) ~= nil
local counter = 0
local keys = tonumber(env("BENCH_KEYS") or "1")
local path = nil

wrk.method = method
if body then
  wrk.body = body
  wrk.headers["Content-Type"] = env("BENCH_CONTENT_TYPE") or "application/json"
end

init = function()
  path = wrk.path:gsub("%%7[Bb]k%%7[Dd]", "{k}")
  if not path:find("{k}", 1, true) then path = nil end
end

if counted or keys > 1 then
  request = function()
    counter = counter + 1
    local p = path and (path:gsub("{k}", tostring(counter % keys))) or nil
    local b = body and (body:gsub("{n}", tostring(counter))) or nil
    return wrk.format(nil, p, nil, b)
  end
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local socket = e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT %.1f %d %d %d %d %d\n",
    summary.requests / seconds, latency:percentile(50), latency:percentile(99),
    summary.requests, e.status, socket))
end
