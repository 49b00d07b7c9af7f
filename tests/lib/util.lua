-- util.lua: the small helpers many specs share (required as "util" by
-- specs, which run from tests/lib): shell quoting, whole-file reads and
-- writes, tracked temporary names, and running a Python script.
local M = {}

-- s as one single-quoted shell word.
function M.shquote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The contents of path, or nil when it cannot be opened.
function M.readfile(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The contents of path; an error when it cannot be opened.
function M.mustread(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Write s to path (replacing it); returns path.
function M.writefile(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
  return path
end

-- A new temporary name, also appended to the list temps (which the
-- spec's teardown removes).
function M.tmpname(temps)
  local p = os.tmpname()
  temps[#temps + 1] = p
  return p
end

-- A new empty temporary directory; rmtree removes it (nil: nothing).
function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir " .. M.shquote(p)))
  return p
end

function M.rmtree(p)
  if p then os.execute("rm -rf " .. M.shquote(p)) end
end

-- The Python the specs compare with (MPL_PYTHON, else Debian's python3).
M.PY = os.getenv("MPL_PYTHON") or "/usr/bin/python3"

-- Whether PY has NumPy (asked once, on first use); need_numpy raises an
-- error saying how to get it when it does not.
local have_numpy

function M.have_numpy()
  if have_numpy == nil then
    have_numpy = os.execute(M.shquote(M.PY) .. " -c 'import numpy' 2>/dev/null") == true
  end
  return have_numpy
end

function M.need_numpy()
  assert(M.have_numpy(), M.PY .. " with numpy is needed (Debian: apt-get install python3-numpy)")
end

-- Run the Python script code with arguments; its stdout, or an error with
-- its stderr.
function M.python(code, ...)
  local script = M.writefile(os.tmpname(), code)
  local err = os.tmpname()
  local cmd = M.shquote(M.PY) .. " " .. M.shquote(script)
  for _, a in ipairs{...} do cmd = cmd .. " " .. M.shquote(a) end
  local p = io.popen(cmd .. " 2>" .. M.shquote(err))
  local out = p:read("a")
  local ok = p:close()
  local msg = M.readfile(err)
  os.remove(script)
  os.remove(err)
  assert(ok, "python failed: " .. msg)
  return out
end

return M
