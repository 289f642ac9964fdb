-- wrk script for bench/join_storm.py: exactly one request per token, then stop.
--
-- wrk <opts> -s bench/join_storm.lua URL -- TOKENS_FILE OUT_PREFIX THREADS PATH BODY
--
-- Thread k of THREADS sends the tokens on lines k+1, k+1+THREADS, ... of TOKENS_FILE, one
-- request each, and never more: delay() hands out one send slot per token and parks every
-- connection that asks after the last slot. Each response is appended to OUT_PREFIX<k>.txt
-- as "<status> <latency_us>", timed here from request() to response() on the monotonic clock
-- and paired through the X-Request-ID the server echoes. wrk's own latency histogram is not
-- used for the percentiles: wrk "corrects" it for coordinated omission with synthetic samples
-- (stats_correct), which suits open-loop rate tests, not one closed-loop burst. wrk keeps
-- sleeping for its -d duration after the threads stop, so the thread writes a "done" line and
-- the driver interrupts wrk when every thread has written one.

local now_us = require("monotonic").now_us

local next_thread_id = 0

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

local tokens = {}
local started = {}
local granted, issued, received = 0, 0, 0
local first_us, last_us
local path, body, out

function init(args)
  local tokens_file, out_prefix, threads = args[1], args[2], tonumber(args[3])
  path, body = args[4], args[5]
  local line_no = 0
  for line in io.lines(tokens_file) do
    if line_no % threads == thread_id then
      tokens[#tokens + 1] = line
    end
    line_no = line_no + 1
  end
  out = assert(io.open(out_prefix .. thread_id .. ".txt", "w"))
  out:setvbuf("line")
  if #tokens == 0 then -- more threads than tokens: this one only parks its connections
    out:write("done 0 0\n")
  end
end

function delay()
  if issued + granted < #tokens then
    granted = granted + 1
    return 0
  end
  return 3600 * 1000 -- parked: this thread has sent all its tokens
end

function request()
  -- Every send is preceded by delay(), so a call without a grant is wrk checking the script
  -- once at start-up (script_verify_request): it is not sent, and it takes no token.
  if granted == 0 then
    return wrk.format("POST", path, { ["X-Request-ID"] = "unsent" }, body)
  end
  granted = granted - 1
  issued = issued + 1
  local request_id = thread_id .. "-" .. issued
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[issued],
    ["Content-Type"] = "application/json",
    ["X-Request-ID"] = request_id,
  }
  local now = now_us()
  started[request_id] = now
  first_us = first_us or now
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, _)
  local now = now_us()
  local request_id = headers["x-request-id"] or headers["X-Request-ID"]
  if request_id == "unsent" then -- should never happen; the driver then refuses the run
    out:write("extra 0\n")
    return
  end
  local sent = request_id and started[request_id]
  received = received + 1
  last_us = now
  out:write(status, " ", sent and (now - sent) or -1, "\n")
  if received >= #tokens then
    out:write("done ", first_us, " ", last_us, "\n")
    out:close()
    wrk.thread:stop()
  end
end
