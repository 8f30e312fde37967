-- wrk script for bench/gateway/run.sh.
--
-- Every request: POST <url path> with a small OpenAI chat-completions body.
--
-- Environment (read by every wrk thread):
--   BENCH_KEY              if set, sends "Authorization: Bearer $BENCH_KEY"
--   BENCH_METHOD           default "POST" ("GET" sends no body; used to compare)
--   BENCH_RATE_PER_THREAD  if set (> 0), paces requests: each wrk thread
--                          starts at most this many requests per second,
--                          on a fixed schedule (see delay() below)
--
-- At the end it prints one machine-readable line, "BENCH_RESULT k=v ...",
-- which run.sh parses (latencies in microseconds).

local key = os.getenv("BENCH_KEY")
local method = os.getenv("BENCH_METHOD") or "POST"

wrk.method = method
wrk.headers["Content-Type"] = "application/json"
if method == "POST" then
  wrk.body = '{"model":"m","messages":[{"role":"user","content":"hi"}]}'
else
  wrk.body = nil
  wrk.headers["Content-Type"] = nil
end
if key and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

-- Optional pacing. wrk is closed-loop (a connection sends its next request
-- as soon as the previous answer arrives); wrk calls delay() before every
-- request and waits that many milliseconds. Each thread hands out send slots
-- on a fixed schedule (one every 1000/rate ms) to whichever of its
-- connections is free, so with enough connections the request rate is fixed
-- and independent of latency. wrk measures latency from the moment the
-- request is written, so the waiting time is not counted.
local rate = tonumber(os.getenv("BENCH_RATE_PER_THREAD") or "")
if rate and rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec_t;
    int clock_gettime(int clk_id, bench_timespec_t *tp);
  ]]
  local ts = ffi.new("bench_timespec_t")
  local CLOCK_MONOTONIC = 1
  local function now_ms()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local interval = 1000 / rate
  local next_slot = nil

  function delay()
    local now = now_ms()
    -- Start the schedule at the first call; if the generator fell more than
    -- 100 ms behind (it could not keep up), restart it rather than burst.
    if next_slot == nil or next_slot < now - 100 then
      next_slot = now
    end
    local slot = next_slot
    next_slot = next_slot + interval
    local d = slot - now
    if d < 0 then d = 0 end
    return d
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_s=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
