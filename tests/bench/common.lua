-- common.lua: what the NumPy side-by-side benchmarks share (not a
-- benchmark: the `bench` target leaves it out).  A benchmark loads it from
-- its own folder:
--
--   local common = dofile((arg and arg[0]:match("^(.*)/") or ".") .. "/common.lua")
local M = {}

-- The Python that runs NumPy (MPL_PYTHON, else Debian's python3).
M.PY = os.getenv("MPL_PYTHON") or "/usr/bin/python3"

-- The median of the numbers in t (the upper one of an even count); t is
-- left as it was.
function M.median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  return s[(#s + 1) // 2]
end

-- The median wall time of f() over runs calls, in ms, after one warm-up.
function M.time(f, runs)
  f()
  local t = {}
  for i = 1, runs do
    local t0 = mat.clock()
    f()
    t[i] = (mat.clock() - t0) * 1e3
  end
  return M.median(t)
end

-- NumPy's median time (ms) of each Python expression in exprs over runs
-- calls after one warm-up, each call's result dropped before the next;
-- setup (Python, with n and runs set and numpy as np) makes the operands.
-- Returns the list of times (empty when NumPy is not there) and whether
-- Python succeeded.  env, if given, is put before the command (for
-- instance "OPENBLAS_NUM_THREADS=1").
function M.numpy(setup, exprs, n, runs, env)
  local py = os.tmpname()
  local f = assert(io.open(py, "w"))
  f:write([[
import sys, time, statistics
import numpy as np
n, runs = int(sys.argv[1]), int(sys.argv[2])
]], setup, "\n", [[
def med(f):
    r = f(); del r
    t = []
    for _ in range(runs):
        t0 = time.perf_counter(); r = f(); t.append((time.perf_counter() - t0) * 1e3); del r
    return statistics.median(t)
for e in sys.argv[3:]:
    print(med(eval("lambda: " + e)))
]])
  f:close()
  local quoted = {}
  for i, e in ipairs(exprs) do quoted[i] = "'" .. e:gsub("'", "'\\''") .. "'" end
  local p = io.popen(("%s %s %s %d %d %s 2>/dev/null"):format(env or "", M.PY, py, n, runs,
                     table.concat(quoted, " ")))
  local times = {}
  for line in p:lines() do times[#times + 1] = tonumber(line) end
  local ok = p:close()
  os.remove(py)
  return times, ok
end

return M
