-- progress.lua: a progress bar on stderr for long calls (mat.map today).
--
--   local bar <close> = C.progress.new{label = "mat.map", total = n}
--   ... bar:update(done) now and then; bar:wait_ms() says how long the
--   work may go on before the bar wants to be redrawn ...
--   bar:finish()
--
-- Options: label; total (the number of units); unit ("items"); show
-- (true forces the bar, false turns it off; nil: drawn only when stderr
-- is a terminal and the work has run past `after` seconds, 2 by default);
-- keep (the last draw shows the elapsed time and ends the line; by
-- default the line is cleared at the end).  Redrawn at most five times a
-- second, with \r.  The bar is a to-be-closed value: when an error (or
-- Ctrl-C) leaves the call, closing it ends or clears its line, so the
-- message starts on a line of its own.
local mat, C = ...

local clock, write, isatty = mat.clock, C.stderr_write, C.stderr_isatty
local floor, ceil, max = math.floor, math.ceil, math.max

local REDRAW = 0.2 -- seconds between draws
local WIDTH = 20   -- characters of the bar itself

local function fmt_rate(rate)
  if rate >= 100 then return ("%.0f"):format(rate) end
  if rate >= 10 then return ("%.1f"):format(rate) end
  return ("%.2f"):format(rate)
end

local function fmt_time(sec)
  local t = floor(sec + 0.5)
  if sec < 9.95 then return ("%.1fs"):format(sec) end
  if t < 60 then return ("%ds"):format(t) end
  if t < 3600 then return ("%dm%02ds"):format(t // 60, t % 60) end
  return ("%dh%02dm"):format(t // 3600, t // 60 % 60)
end

local Bar = {}
Bar.__index = Bar

-- The line for `done` units at time t: count, rate, time left (or, when
-- final, the elapsed time).
function Bar:line(done, t, final)
  local n, el = self.total, t - self.t0
  local rate = el > 0 and done / el or 0
  local k = n > 0 and done * WIDTH // n or WIDTH
  local fill = ("#"):rep(k) .. ("."):rep(WIDTH - k)
  local pct = n > 0 and done * 100 // n or 100
  local head = ("\r%s [%s] %d/%d %3d%% %s %s/s, "):format(
    self.label, fill, done, n, pct, fmt_rate(rate), self.unit)
  if final then return head .. fmt_time(el) .. "      " end
  local left = rate > 0 and fmt_time((n - done) / rate) or "?"
  return head .. left .. " left   "
end

function Bar:draw(done, t, final)
  local s = self:line(done, t, final)
  self.shown, self.last, self.width = true, t, #s - 1
  write(final and self.keep and s .. "\n" or s)
end

-- Redraw when due: never before `after` seconds (unless forced), at most
-- five times a second.
function Bar:update(done)
  if self.mode == 0 then return end
  local t = clock()
  if self.mode == 1 and not self.shown and t - self.t0 < self.after then
    return
  end
  if self.shown and t - self.last < REDRAW then return end
  self:draw(done, t, false)
end

-- Milliseconds until the bar may want a redraw; -1 when it never will.
function Bar:wait_ms()
  if self.mode == 0 then return -1 end
  local due = self.shown and self.last + REDRAW
    or (self.mode == 1 and self.t0 + self.after or 0)
  return max(0, ceil((due - clock()) * 1000))
end

-- Wipe the line (the cursor back at its start).
function Bar:clear()
  write("\r" .. (" "):rep(self.width) .. "\r")
end

-- The work is done: the final line (keep), or the line cleared.
function Bar:finish(done)
  if self.closed then return end
  self.closed = true
  if self.mode == 0 or (self.mode == 1 and not self.shown) then return end
  if self.keep then
    self:draw(done or self.total, clock(), true)
  elseif self.shown then
    self:clear()
  end
end

-- Closed without finish (an error, Ctrl-C): end or clear the line.
function Bar:__close()
  if self.closed then return end
  self.closed = true
  if not self.shown then return end
  if self.keep then write("\n") else self:clear() end
end

local P = {}

function P.new(o)
  local mode = o.show == true and 2 or o.show == false and 0
    or (isatty() and 1 or 0)
  return setmetatable({
    label = o.label, total = o.total, unit = o.unit or "items",
    after = o.after or 2, keep = o.keep or false, mode = mode,
    t0 = clock(), last = 0, shown = false, closed = false, width = 0,
  }, Bar)
end

C.progress = P
