-- proc.lua: what the specs read from /proc about processes (required as
-- "proc" by specs, which run from tests/).
local M = {}

-- This process's pid.
function M.self_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("n")
  f:close()
  return math.tointeger(pid)
end

-- The children of pid, sorted.
function M.children(pid)
  local f = io.open(string.format("/proc/%d/task/%d/children", pid, pid))
  if not f then return {} end
  local list = {}
  for p in f:read("a"):gmatch("%d+") do list[#list + 1] = tonumber(p) end
  f:close()
  table.sort(list)
  return list
end

-- Running: it exists and is not a zombie (an orphan's zombie lingers until
-- init reaps it, which a container's init may never do).
function M.running(pid)
  local f = io.open(string.format("/proc/%d/stat", pid))
  if not f then return false end
  local state = f:read("a"):match("%) (%a)")
  f:close()
  return state ~= "Z"
end

-- Run `cmd -e code` (cmd: the mpl binary and its flags) and send it
-- SIGINT once the code created the file named by its local `mark` (plus a
-- moment): its output and, last, "status=N".  No `timeout` wrapper (it
-- would get the signal); a watchdog kills a run that hangs.
function M.interrupted_run(cmd, code)
  local mark = os.tmpname()
  os.remove(mark)
  code = string.format("local mark = %q ", mark) .. code
  local p = io.popen(string.format(
    "%s -e %q 2>&1 & pid=$!; (sleep 60; kill -9 $pid) >/dev/null 2>&1 & dog=$!; " ..
    "for i in $(seq 600); do [ -e %s ] && break; sleep 0.05; done; sleep 0.3; " ..
    "kill -INT $pid; wait $pid; echo status=$?; kill $dog 2>/dev/null",
    cmd, code, mark))
  local out = p:read("a")
  p:close()
  os.remove(mark)
  return out
end

return M
