-- The monotonic clock in microseconds, for the bench's wrk scripts: wrk's Lua has no clock
-- finer than a second, and its own timings feed a histogram the scripts do not use.
-- bench/load.py puts bench/ on LUA_PATH, so a script loads this with require("monotonic").

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local monotonic = {}

function monotonic.now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

return monotonic
