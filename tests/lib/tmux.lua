-- tmux.lua: drive a program on a real terminal (required as "tmux" by
-- specs, which run from tests/).  Each session gets its own tmux server
-- (its own -L socket, no configuration file); close() ends the server and
-- every process it ran, so call it from an after_each (or a finally).
local mat = require "mat"
local proc = require "proc"

local M = {}

local shquote = require("util").shquote
M.shquote = shquote

-- Whether the tmux binary is there (specs are pending() without it).
function M.available()
  return os.execute("command -v tmux >/dev/null 2>&1") == true
end

local count = 0

local Session = {}
Session.__index = Session

-- Run a tmux command against this session's server; true on success.
function Session:tmux(args)
  return os.execute("env -u TMUX timeout 20 tmux -f /dev/null -L " .. self.sock
    .. " " .. args .. " </dev/null") == true
end

-- Output of a tmux command (nil when it fails).
function Session:tmux_read(args)
  local p = io.popen("env -u TMUX timeout 20 tmux -f /dev/null -L " .. self.sock
    .. " " .. args .. " </dev/null 2>/dev/null")
  local s = p:read("a")
  local ok = p:close()
  return ok and s or nil
end

-- The uid, for the directory tmux keeps its sockets in.
local function uid()
  local f = assert(io.open("/proc/self/status"))
  local id = f:read("a"):match("\nUid:%s*(%d+)")
  f:close()
  return id
end

-- A session on a server of its own, not started yet.  Register it for
-- cleanup before start(), so a failing start is cleaned up too.
function M.new()
  count = count + 1
  local sock = string.format("mpltest%d_%d_%d", proc.self_pid(), count,
                             math.random(1000000))
  return setmetatable({
    sock = sock,
    path = (os.getenv("TMUX_TMPDIR") or "/tmp") .. "/tmux-" .. uid() .. "/" .. sock,
    pids = {},
  }, Session)
end

-- Start shell command `cmd` in the session (a width x height pane).
function Session:start(cmd, width, height)
  assert(self:tmux(string.format("new-session -d -s t -x %d -y %d %s",
                                 width or 100, height or 40, shquote(cmd))),
         "tmux new-session failed")
  self.pane = math.tointeger(tonumber(
    self:tmux_read("display-message -p -t t '#{pane_pid}'") or ""))
  assert(self.pane, "no pane")
end

-- The pane's text, scrollback included, lines right-trimmed (so a fresh
-- prompt "> " shows as ">"); "" when the server is gone.
function Session:capture()
  return self:tmux_read("capture-pane -p -S - -t t") or ""
end

-- Poll the pane (every 50 ms, at most `secs` seconds, 20 by default:
-- generous, for a loaded machine) until it matches the Lua pattern `pat`.
-- Returns the match's start (nil on timeout) and the pane text.
function Session:wait_for(pat, secs)
  local deadline = mat.clock() + (secs or 20)
  local s
  repeat
    s = self:capture()
    local at = s:find(pat)
    if at then return at, s end
    os.execute("sleep 0.05")
  until mat.clock() > deadline
  return nil, s
end

-- Like wait_for, but fails the test on timeout, showing the pane.
function Session:expect(pat, secs)
  local at, s = self:wait_for(pat, secs)
  assert(at, "pane does not match " .. pat .. ":\n" .. s)
  return s
end

-- Key names send-keys understands that the specs use; any other argument
-- is typed literally (so "end" is text, not the End key).
local KEY_NAMES = { Enter = true, Tab = true, Up = true, Down = true,
                    BSpace = true, Escape = true }

-- Send each argument as a key (a name above or "C-x") or as literal text.
function Session:keys(...)
  local cmds = {}
  for _, k in ipairs({ ... }) do
    local literal = not (KEY_NAMES[k] or k:match("^C%-.$"))
    cmds[#cmds + 1] = "send-keys -t t " .. (literal and "-l " or "") .. shquote(k)
  end
  assert(self:tmux(table.concat(cmds, " \\; ")), "tmux send-keys failed")
end

-- The running children of pid whose name (comm) is `name` (any when nil).
function M.children_named(pid, name)
  local list = {}
  for _, c in ipairs(proc.children(pid)) do
    local f = io.open(string.format("/proc/%d/comm", c))
    local comm = f and f:read("l")
    if f then f:close() end
    if proc.running(c) and (name == nil or comm == name) then
      list[#list + 1] = c
    end
  end
  return list
end

-- Add pid and its descendants to the set `into`.
local function descendants(pid, into)
  into[pid] = true
  for _, c in ipairs(proc.children(pid)) do descendants(c, into) end
  return into
end

-- End the server and the processes of the pane: kill-server hangs them up;
-- what still runs after 5 s (e.g. a worker pool) is killed by pid.  The
-- server leaves its socket file behind: remove it.
function Session:close()
  if self.closed then return end
  self.closed = true
  local tree = {}
  if self.pane then descendants(self.pane, tree) end
  for _, p in ipairs(self.pids) do descendants(p, tree) end
  self:tmux("kill-server >/dev/null 2>&1")
  local deadline = mat.clock() + 5
  for p in pairs(tree) do
    while proc.running(p) and mat.clock() < deadline do os.execute("sleep 0.05") end
    if proc.running(p) then os.execute("kill -KILL " .. p .. " 2>/dev/null") end
  end
  os.remove(self.path)
end

-- Remember processes close() must end too (e.g. ones that left the pane's
-- process tree).
function Session:own(pid)
  self.pids[#self.pids + 1] = pid
end

return M
