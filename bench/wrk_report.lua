-- wrk hooks for cairn's benchmark (bench/bench.py drives wrk with this script).
--
-- Environment:
--   BENCH_BODY_FILE      if set, every request is a POST whose body is this file's
--                        content with each "__TITLE__" replaced by a unique title
--                        (run tag + thread number + counter), so the server chooses
--                        a fresh id from the title each time.
--   BENCH_PATH_TEMPLATE  if set (and no body file), every request GETs this path with
--                        each "__N__" replaced by a unique token (run tag + thread
--                        number + counter): a query no cache has seen before.
--   BENCH_RUN_TAG        makes titles unique across wrk runs (bench.py sets it).
--   BENCH_STATUS_COUNTS  "1": count responses per HTTP status with a response()
--                        hook. This costs wrk a little per response, so bench.py only
--                        turns it on for the write shape.
--
-- At the end one line is printed:  BENCHJSON {...}  (latencies in milliseconds).

local body_tpl = nil
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local fh = assert(io.open(body_file, "rb"), "cannot open BENCH_BODY_FILE " .. body_file)
  body_tpl = fh:read("*a")
  fh:close()
end
local run_tag = os.getenv("BENCH_RUN_TAG") or tostring(os.time())
local count_status = os.getenv("BENCH_STATUS_COUNTS") == "1"

-- main state: remember the threads so done() can collect their counters
local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

-- per-thread state
counter = 0
statuses = ""   -- "200=12 500=3", built in the thread, read by done()
local status_tbl = {}

if body_tpl then
  request = function()
    counter = counter + 1
    local title = "Benchmark " .. run_tag .. " " .. tostring(tid or 1) .. " " .. tostring(counter)
    local body = body_tpl:gsub("__TITLE__", title)
    return wrk.format("POST", nil, nil, body)
  end
end

local path_tpl = os.getenv("BENCH_PATH_TEMPLATE")
if not body_tpl and path_tpl and path_tpl ~= "" then
  request = function()
    counter = counter + 1
    local token = "q" .. run_tag:gsub("%W", "") .. "t" .. tostring(tid or 1) .. "n" .. tostring(counter)
    return wrk.format(nil, (path_tpl:gsub("__N__", token)))
  end
end

if count_status then
  response = function(status, headers, body)
    status_tbl[status] = (status_tbl[status] or 0) + 1
    -- keep a string copy: plain values are what thread:get transfers most reliably
    local parts = {}
    for k, v in pairs(status_tbl) do
      parts[#parts + 1] = tostring(k) .. "=" .. tostring(v)
    end
    statuses = table.concat(parts, " ")
  end
end

done = function(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for code, n in string.gmatch(s, "(%d+)=(%d+)") do
        merged[code] = (merged[code] or 0) + tonumber(n)
      end
    end
  end
  local st = {}
  for code, n in pairs(merged) do
    st[#st + 1] = string.format('"%s":%d', code, n)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"err_status":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"mean_ms":%.3f,"max_ms":%.3f,"stdev_ms":%.3f,' ..
    '"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000, latency.max / 1000, latency.stdev / 1000,
    table.concat(st, ",")))
end
