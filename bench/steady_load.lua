-- wrk script for bench/read_growth.py: GET one path as one user, C connections, for -d.
--
-- wrk <opts> -s bench/steady_load.lua URL -- PATH TOKEN_FILE
--
-- Every connection sends its next request as soon as the previous answer arrives (a closed
-- loop at constant concurrency). Each request is timed here, from request() to response() on
-- the monotonic clock, and paired through the X-Request-ID the server echoes. done() merges
-- the threads' timings and prints one line, "steady-load {json}", with nearest-rank
-- percentiles (the definition bench/load.py uses for the join storm).
--
-- wrk's own latency object is not used for them: at the end of a run wrk "corrects" it for
-- coordinated omission (stats_correct), adding synthetic samples for every request slower
-- than the mean per-connection interval. That suits open-loop rate tests; in a closed loop
-- it inflates the tail with requests that were never sent. Its p95 is printed alongside,
-- as `wrk_corrected_p95_us`, for comparison only.

local now_us = require("monotonic").now_us

local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  threads[#threads + 1] = thread
end

local path, token
local sent = 0
local started = {}
-- Globals, so done() can read them from each thread with thread:get().
latencies_us = {}
statuses = {}

function init(args)
  path = args[1]
  token = assert(io.lines(args[2])(), "empty token file")
end

function request()
  sent = sent + 1
  local request_id = thread_id .. "-" .. sent
  started[request_id] = now_us()
  return wrk.format("GET", path, {
    ["Authorization"] = "Bearer " .. token,
    ["X-Request-ID"] = request_id,
  })
end

function response(status, headers, _)
  local now = now_us()
  local request_id = headers["x-request-id"] or headers["X-Request-ID"]
  local sent_at = request_id and started[request_id]
  statuses[status] = (statuses[status] or 0) + 1
  if sent_at then
    started[request_id] = nil
    latencies_us[#latencies_us + 1] = now - sent_at
  end
end

local function nearest_rank(sorted, pct)
  if #sorted == 0 then
    return -1
  end
  return sorted[math.max(1, math.ceil(pct / 100 * #sorted))]
end

function done(summary, latency, _)
  local all, merged = {}, {}
  for _, thread in ipairs(threads) do
    for _, value in ipairs(thread:get("latencies_us")) do
      all[#all + 1] = value
    end
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  table.sort(all)
  local parts = {}
  for status, count in pairs(merged) do
    parts[#parts + 1] = string.format('"%d": %d', status, count)
  end
  local errors = summary.errors
  io.write(string.format(
    'steady-load {"timed": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "socket_errors": %d, "statuses": {%s}, "wrk_corrected_p95_us": %d}\n',
    #all, summary.duration, nearest_rank(all, 50), nearest_rank(all, 95),
    nearest_rank(all, 99), all[#all] or -1,
    errors.connect + errors.read + errors.write + errors.timeout,
    table.concat(parts, ", "), latency:percentile(95)
  ))
end
