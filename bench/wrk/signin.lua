-- The whole browser sign-in, as a wrk script: every wrk connection is one browser that signs
-- in again and again, each time from scratch (no cookies):
--   GET /authorize (code flow, PKCE S256, prompt=select_account) -> 302 /login?req=…
--   GET /login?req=…                       -> the page: CSRF token, form action
--   POST /login/password (login, password) -> 302 /login/account?req=…   (argon2id here)
--   GET /login/account?req=…               -> «Выбор входа»: the accounts offered
--   POST /login/account (account, allow)   -> 302 redirect_uri?code=…&state=…&iss=…
--   POST /token (code, PKCE verifier, client_secret_basic) -> access, ID and refresh tokens
-- Run it with as many threads as connections (-tN -cN): wrk gives Lua one state per thread,
-- so that is one browser per thread.
--
-- Environment: SIGNIN_CLIENT_ID, SIGNIN_BASIC (Authorization header value for /token),
--   SIGNIN_REDIRECT_URI, SIGNIN_LOGINS (comma-separated; thread i uses login i mod n),
--   SIGNIN_PASSWORD, SIGNIN_VERIFIER + SIGNIN_CHALLENGE (a PKCE S256 pair: Lua has no
--   SHA-256; every code is single-use anyway), SIGNIN_SCOPE (default
--   "openid profile offline_access"), SIGNIN_PROMPT (default select_account, so the account
--   page is part of every sign-in), BENCH_LABEL (JSON object text merged into the result).
-- Prints "BENCH_JSON {…}": sign-ins per second and their latency percentiles (first request
-- to token response), the per-request figures of wrk, and the failed flows.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } signin_timespec;
  int clock_gettime(int clk_id, signin_timespec *tp);
]]
local ts = ffi.new("signin_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local function enc(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function unescape(s)
  s = s:gsub("&#x2[fF];", "/"):gsub("&#47;", "/"):gsub("&quot;", '"'):gsub("&#x27;", "'")
  s = s:gsub("&#39;", "'"):gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&amp;", "&")
  return s
end

local client_id = os.getenv("SIGNIN_CLIENT_ID") or ""
local basic = os.getenv("SIGNIN_BASIC") or ""
local redirect_uri = os.getenv("SIGNIN_REDIRECT_URI") or ""
local password = os.getenv("SIGNIN_PASSWORD") or ""
local verifier = os.getenv("SIGNIN_VERIFIER") or ""
local challenge = os.getenv("SIGNIN_CHALLENGE") or ""
local scope = os.getenv("SIGNIN_SCOPE") or "openid profile offline_access"
local prompt = os.getenv("SIGNIN_PROMPT") or "select_account"
local logins = {}
for l in string.gmatch(os.getenv("SIGNIN_LOGINS") or "", "[^,]+") do table.insert(logins, l) end

-- main state: the threads, so done() can collect their counters
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- per-thread (= per-browser) state
tid = 0
flows = 0
failed = 0
first_error = ""
durations = {}
local step, cookies, t0 = 0, {}, 0
local page_req, page_csrf, action, account, code
local authorize_path

function init(args)
  authorize_path = "/authorize?response_type=code&client_id=" .. enc(client_id)
    .. "&redirect_uri=" .. enc(redirect_uri) .. "&scope=" .. enc(scope)
    .. "&state=s" .. tid .. "&nonce=n" .. tid
    .. "&code_challenge=" .. enc(challenge) .. "&code_challenge_method=S256"
  if prompt ~= "" then authorize_path = authorize_path .. "&prompt=" .. enc(prompt) end
end

local function cookie_header()
  local parts = {}
  for k, v in pairs(cookies) do table.insert(parts, k .. "=" .. v) end
  return table.concat(parts, "; ")
end

local function headers(form)
  local h = { ["Accept"] = "text/html" }
  local c = cookie_header()
  if c ~= "" then h["Cookie"] = c end
  if form then h["Content-Type"] = "application/x-www-form-urlencoded" end
  return h
end

local function header(hs, name)
  for k, v in pairs(hs) do
    if k:lower() == name then return v end
  end
  return nil
end

function request()
  if step == 0 then
    cookies, t0 = {}, now_ms()
    step = 1
  end
  if step == 1 then
    return wrk.format("GET", authorize_path, headers(false), nil)
  elseif step == 2 then
    return wrk.format("GET", "/login?req=" .. enc(page_req), headers(false), nil)
  elseif step == 3 then
    local login = logins[(tid % math.max(#logins, 1)) + 1] or ""
    local body = "csrf=" .. enc(page_csrf) .. "&req=" .. enc(page_req)
      .. "&login=" .. enc(login) .. "&password=" .. enc(password)
    return wrk.format("POST", action, headers(true), body)
  elseif step == 4 then
    return wrk.format("GET", "/login/account?req=" .. enc(page_req), headers(false), nil)
  elseif step == 5 then
    local body = "csrf=" .. enc(page_csrf) .. "&req=" .. enc(page_req)
      .. "&account=" .. enc(account) .. "&action=allow"
    return wrk.format("POST", "/login/account", headers(true), body)
  else -- 6
    local h = { ["Accept"] = "application/json", ["Authorization"] = basic,
                ["Content-Type"] = "application/x-www-form-urlencoded" }
    local body = "grant_type=authorization_code&code=" .. code
      .. "&redirect_uri=" .. enc(redirect_uri) .. "&code_verifier=" .. enc(verifier)
    return wrk.format("POST", "/token", h, body)
  end
end

local function fail_flow(why)
  failed = failed + 1
  if first_error == "" then first_error = "step " .. step .. ": " .. why end
  step = 0
end

function response(status, hs, body)
  local set = header(hs, "set-cookie")
  if set then
    local k, v = set:match("^([^=]+)=([^;]*)")
    if k then cookies[k] = v end
  end
  local location = header(hs, "location") or ""
  if step == 1 then
    page_req = location:match("^/login%?req=([^&]+)")
    if status ~= 303 and status ~= 302 or not page_req then return fail_flow("authorize " .. status .. " " .. location) end
    step = 2
  elseif step == 2 then
    page_csrf = body:match('name="csrf" value="([^"]*)"')
    action = body:match('<form method="post" action="([^"]*)"')
    if status ~= 200 or not page_csrf or not action then return fail_flow("login page " .. status) end
    action = unescape(action)
    step = 3
  elseif step == 3 then
    if status ~= 303 and status ~= 302 then return fail_flow("password " .. status .. " (wrong password or throttled?)") end
    if location:match("^/login/account") then
      step = 4
    else
      code = location:match("[?&]code=([^&]+)")
      if not code then return fail_flow("password redirect " .. location) end
      step = 6
    end
  elseif step == 4 then
    page_csrf = body:match('name="csrf" value="([^"]*)"')
    account = nil
    for v in body:gmatch('name="account" value="([^"]*)"') do account = unescape(v) end
    if status ~= 200 or not page_csrf or not account then return fail_flow("account page " .. status) end
    step = 5
  elseif step == 5 then
    code = location:match("[?&]code=([^&]+)")
    if (status ~= 303 and status ~= 302) or not code then return fail_flow("account choice " .. status .. " " .. location) end
    step = 6
  else
    if status ~= 200 or not body:find('"access_token"', 1, true) then return fail_flow("token " .. status .. " " .. body:sub(1, 200)) end
    flows = flows + 1
    durations[flows] = now_ms() - t0
    step = 0
  end
end

function done(summary, latency, requests)
  local all, total_failed, err = {}, 0, ""
  for _, t in ipairs(threads) do
    local d = t:get("durations") or {}
    for _, v in ipairs(d) do table.insert(all, v) end
    total_failed = total_failed + (t:get("failed") or 0)
    local e = t:get("first_error") or ""
    if err == "" and e ~= "" then err = e end
  end
  table.sort(all)
  local function pct(p)
    if #all == 0 then return 0 end
    local i = math.max(1, math.ceil(#all * p / 100))
    return all[i]
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  local label = os.getenv("BENCH_LABEL") or "{}"
  local fields = string.format(
    '"rps":%.2f,"signins":%d,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"flow_errors":%d,'
      .. '"http_requests":%d,"http_rps":%.1f,"http_p99_ms":%.3f,"duration_s":%.2f,"non2xx3xx":%d,"socket_errors":%d,"first_error":"%s"',
    #all / secs, #all, pct(50), pct(90), pct(99), all[#all] or 0, total_failed,
    summary.requests, summary.requests / secs, latency:percentile(99) / 1000, secs,
    e.status, e.connect + e.read + e.write + e.timeout, (err:gsub('[%c"\\]', " ")))
  local inner = label:match("^%s*{(.*)}%s*$") or ""
  if inner:match("%S") then inner = inner .. "," end
  io.write("BENCH_JSON {" .. inner .. fields .. "}\n")
end
