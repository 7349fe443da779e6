-- One request, repeated: the loads the peer harness (../shared/bench) has no endpoint for
-- (userinfo) and the scale test (several `idp serve` processes behind no balancer).
-- Environment:
--   BENCH_METHOD (GET|POST), BENCH_BODY (urlencoded body, POST only),
--   BENCH_AUTH   (value of the Authorization header, e.g. "Bearer eyJ…"),
--   BENCH_ADDRS  ("127.0.0.1:8181,127.0.0.1:8182": wrk threads are spread round-robin over
--                these servers — run -t as a multiple of their number; default: the URL's),
--   BENCH_LABEL  (JSON object text merged into the result line).
-- Prints one line "BENCH_JSON {…}" in the same shape as ../shared/bench/wrk/load.lua.
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")
wrk.method = method
wrk.headers["Accept"] = "application/json"
if method == "POST" then
  wrk.body = body or ""
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end

local addrs = {}
for hostport in string.gmatch(os.getenv("BENCH_ADDRS") or "", "[^,]+") do
  local host, port = hostport:match("^(.+):(%d+)$")
  table.insert(addrs, wrk.lookup(host, port)[1])
end
local n = 0
function setup(thread)
  if #addrs > 0 then
    thread.addr = addrs[(n % #addrs) + 1]
  end
  n = n + 1
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local label = os.getenv("BENCH_LABEL") or "{}"
  local fields = string.format(
    '"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"requests":%d,"duration_s":%.2f,"non2xx3xx":%d,"socket_errors":%d,"servers":%d',
    summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, secs, e.status, e.connect + e.read + e.write + e.timeout,
    math.max(#addrs, 1))
  local inner = label:match("^%s*{(.*)}%s*$") or ""
  if inner:match("%S") then inner = inner .. "," end
  io.write("BENCH_JSON {" .. inner .. fields .. "}\n")
end
