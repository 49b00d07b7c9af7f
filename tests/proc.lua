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

return M
