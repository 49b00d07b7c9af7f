-- progress_spec.lua: progress bars (lua/progress.lua), as mat.map draws
-- them on a real terminal (tests/lib/tmux.lua) and as the module behaves in a
-- pipe: forced or off, cleared or kept at the end, and its line ended when
-- an error or Ctrl-C leaves the call.  Work that must "take a while" spins
-- on mat.clock, so its length is wall time, whatever the CPU's speed.

local mat = require "mat"
local tmux = require "tmux"

local MPL = os.getenv("MPL_BIN") or "mpl"
local util = require "util"
local shquote, writefile = util.shquote, util.writefile

local temps = {}
local function tmpname() return util.tmpname(temps) end

teardown(function()
  for _, p in ipairs(temps) do os.remove(p) end
end)

-- The private table of the module's Lua parts, found in the registry (a
-- user cannot reach it by name), for the tests of the module itself.
local PRIVATE = [[
local C
for _, v in pairs(debug.getregistry()) do
  if type(v) == "table" and rawget(v, "progress") and rawget(v, "check_opts") then C = v end
end
local P = assert(C, "no private table").progress
]]

-- Run `code` with mpl, stderr to a file: stdout, stderr, exit status.
local function run(code)
  local file, err = tmpname(), tmpname()
  writefile(file, code)
  local p = io.popen(string.format("timeout 60 %s %s 2>%s; echo \"status=$?\"",
                                   shquote(MPL), shquote(file), shquote(err)))
  local out = p:read("a")
  p:close()
  local f = assert(io.open(err, "rb"))
  local errout = f:read("a")
  f:close()
  return (out:gsub("status=%d+%s*$", "")), errout,
         tonumber(out:match("status=(%d+)%s*$"))
end

-- Run the script `code` with mpl in a tmux pane (stderr a terminal); the
-- shell prints "status=N" when mpl exits and keeps the pane open; the
-- session ends with the test, whether it passed or not.
local function on_terminal(code)
  local file = tmpname()
  writefile(file, code)
  local s = tmux.new()
  finally(function() s:close() end)
  s:start("env -u LUA_INIT -u LUA_INIT_5_4 TERM=xterm " .. shquote(MPL) .. " "
          .. shquote(file) .. "; echo \"status=$?\"; sleep 120", 120, 20)
  return s
end

-- An item that takes `secs` of wall time.
local SLOW = [[
local function slow(secs)
  return function(i)
    local t = mat.clock()
    while mat.clock() - t < secs do end
    return i
  end
end
]]

local HAVE_TMUX = tmux.available()

describe("mat.map's progress bar on a terminal", function()
  it("appears once the map has run a second, and its last line stays", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = on_terminal(SLOW .. [[
      local r = mat.map(slow(0.05), 60, {procs = 1})
      print("done " .. #r)
    ]])
    -- while it runs: count, rate and time left
    s:expect("mat%.map %[[#.]+%] %d+/60 +%d+%% [%d.]+ items/s, [%d.ms?]+ left", 30)
    -- at the end: the whole bar, the elapsed time, then the script goes on
    -- on the next line
    s:expect("mat%.map %[####################%] 60/60 100%% [%d.]+ items/s, "
             .. "[%d.]+s *\ndone 60\nstatus=0\n", 30)
  end)

  it("never appears for a map that ends within a second", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = on_terminal([[
      local r = mat.map(function(i) return i end, 1000, {procs = 2})
      print("done " .. #r)
    ]])
    local pane = s:expect("status=0\n", 30)
    assert.matches("^done 1000\nstatus=0\n", pane)
  end)

  it("ends its line when Ctrl-C stops the map, so the message starts on its own", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = on_terminal(SLOW .. [[
      mat.map(slow(0.05), 100000, {procs = 2})
    ]])
    s:expect("items/s, [%d.hms]+ left", 30)
    s:keys("C-c")
    local pane = s:expect("status=%d+\n", 30)
    assert.matches("left *%^?C?\n[^\n]*mat%.map: interrupted\n", pane)
    assert.is_nil(pane:find("status=0\n", 1, true))
  end)
end)

describe("the progress module", function()
  it("draws nothing by default when stderr is not a terminal", function()
    local out, err, status = run(PRIVATE .. [[
      local bar <close> = P.new{label = "x", total = 10, after = 0}
      print(bar:wait_ms())
      bar:update(5)
      bar:finish()
    ]])
    assert.are.equal(0, status, err)
    assert.are.equal("-1\n", out)
    assert.are.equal("", err)
  end)

  it("when forced, draws at once and clears its line at the end", function()
    local out, err, status = run(PRIVATE .. [[
      local bar <close> = P.new{label = "mat.save", total = 10, unit = "MB", show = true}
      print(bar:wait_ms())
      bar:update(3)
      local w = bar:wait_ms()
      print(w > 0 and w <= 200)
      bar:update(4) -- within 0.2 s of the last draw: not drawn
      bar:finish()
    ]])
    assert.are.equal(0, status, err)
    assert.are.equal("0\ntrue\n", out)
    local line, spaces = err:match("^(\rmat%.save %[######%.+%] 3/10  30%% [%d.]+ MB/s, "
                                   .. "[%d.]+s left   )\r( +)\r$")
    assert(line, "unexpected output: " .. string.format("%q", err))
    assert.are.equal(#line - 1, #spaces)
  end)

  it("when kept, ends with the elapsed time on a line of its own", function()
    local _, err, status = run(PRIVATE .. [[
      local bar <close> = P.new{label = "job", total = 4, show = true, keep = true}
      bar:finish()
    ]])
    assert.are.equal(0, status, err)
    assert.matches("^\rjob %[####################%] 4/4 100%% [%d.]+ items/s, [%d.]+s +\n$", err)
  end)

  it("ends or clears its line when an error leaves the call", function()
    local out, err, status = run(PRIVATE .. [[
      print(pcall(function()
        local bar <close> = P.new{label = "kept", total = 4, show = true, keep = true}
        bar:update(1)
        error("boom", 0)
      end))
      io.stderr:write("|")
      print(pcall(function()
        local bar <close> = P.new{label = "cleared", total = 4, show = true}
        bar:update(1)
        error("bang", 0)
      end))
    ]])
    assert.are.equal(0, status, err)
    assert.are.equal("false\tboom\nfalse\tbang\n", out)
    assert.matches("^\rkept %[#####%.+%] 1/4  25%% [^\n]* left   \n|"
                   .. "\rcleared [^\r]* left   \r +\r$", err)
  end)

  it("waits about two seconds by default before it draws on a terminal", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = on_terminal(PRIVATE .. SLOW .. [[
      local bar <close> = P.new{label = "quiet", total = 10}
      local w = bar:wait_ms()
      print("wait " .. tostring(w > 1500 and w <= 2000))
      bar:update(1)          -- too early: nothing
      slow(2.1)()
      bar:update(2)          -- past two seconds: drawn
      print()
      bar:finish()           -- cleared
      print("end")
    ]])
    local pane = s:expect("status=%d+\n", 30)
    assert.matches("^wait true\nquiet %[####%.+%] 2/10  20%% [^\n]* left *\nend\nstatus=0\n", pane)
    assert.are.equal(1, select(2, pane:gsub("quiet %[", "")))
  end)
end)

-- Script code: product_side(seconds), the side n of a square product that
-- takes about `seconds` on two workers, from the rate of a single-threaded
-- product measured in the script itself (its CPU, kernel and load), kept
-- between 300 and 6000.
local SIDE = [[
local function product_side(seconds)
  local a = mat.rand(400, 400)
  mat.dot(a, a, {procs = 1})
  local best = math.huge
  for _ = 1, 3 do
    local t = mat.clock()
    mat.dot(a, a, {procs = 1})
    best = math.min(best, mat.clock() - t)
  end
  local n = math.floor((2 * 400 ^ 3 / best * 2 * seconds / 2) ^ (1 / 3))
  return math.max(300, math.min(6000, n))
end
]]

describe("mat.dot's progress bar", function()
  it("appears on a terminal once a product has run two seconds, and moves", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = on_terminal(SIDE .. [[
      mat.procs(2)
      local n = product_side(5)
      local a = mat.rand(n, n)
      local c = mat.dot(a, a)
      print("done " .. (c:shape() == n and "n" or "?"))
    ]])
    local pane = s:expect("mat%.dot %[[#.]+%] %d+/%d+ +%d+%% [%d.]+ rows/s, [%d.ms?]+ left", 60)
    local done, n = pane:match("%] (%d+)/(%d+) ")
    assert.is_true(tonumber(done) < tonumber(n))
    s:expect("mat%.dot %[####################%] " .. n .. "/" .. n
             .. " 100%% [%d.]+ rows/s, [%d.]+s *\ndone n\nstatus=0\n", 60)
  end)

  it("never appears on a terminal for a quick product", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = on_terminal([[
      mat.procs(2)
      local a = mat.rand(500, 500)
      for _ = 1, 3 do a = mat.dot(a, a) * 0.01 end
      print("done")
    ]])
    local pane = s:expect("status=0\n", 60)
    assert.matches("^done\nstatus=0\n", pane)
  end)

  it("when forced, moves along a short product and clears on Ctrl-C", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = on_terminal(SIDE .. [[
      mat.procs(2)
      local n = product_side(30)
      local a = mat.rand(n, n)
      io.stderr:write("start\n")
      local c = mat.dot(a, a, {progress = true})
      print("finished")
    ]])
    s:expect("start\nmat%.dot %[[#.]+%] %d+/%d+ [^\n]* rows/s, [%d.hms?]+ left", 60)
    s:keys("C-c")
    -- stopped long before the 30 s the product would take
    local pane = s:expect("status=%d+\n", 10)
    assert.matches("left *%^?C?\n[^\n]*mat%.dot: interrupted\n", pane)
    assert.is_nil(pane:find("finished", 1, true))
    assert.is_nil(pane:find("status=0\n", 1, true))
  end)

  it("gives the same bits with and without the bar, procs 1 or 2", function()
    local out, err, status = run([[
      local a, b = mat.randn(700, 600), mat.randn(600, 500)
      for _, p in ipairs{1, 2} do
        local plain = mat.dot(a, b, {procs = p, progress = false})
        local barred = mat.dot(a, b, {procs = p, progress = true})
        local into = mat.new(700, 500)
        local r = mat.dot(a, b, {procs = p, progress = true, out = into})
        print(p, plain == barred, rawequal(r, into), into == plain)
      end
      print(mat.dot(a, b) == a * b)
      print(pcall(mat.dot, a, b, {progress = "yes"}))
    ]])
    assert.are.equal(0, status, err)
    assert.are.equal("1\ttrue\ttrue\ttrue\n2\ttrue\ttrue\ttrue\ntrue\n"
                     .. "false\tmat.dot: opts.progress must be a boolean (got string)\n",
                     out)
    -- forced in a pipe: four kept final lines, nothing from the others
    local finals = select(2, err:gsub("mat%.dot %[####################%] 700/700 100%% "
                                      .. "[%d.]+ rows/s, [%d.]+s +\n", ""))
    assert.are.equal(4, finals, err)
  end)

  it("lets Ctrl-C stop a product with a bar once, in a pcall", function()
    local out = require("proc").interrupted_run(MPL, SIDE .. [[
      mat.procs(2)
      local n = product_side(20)
      local A = mat.rand(n, n)
      io.open(mark, 'w'):close()
      local t = mat.clock()
      local ok, e = pcall(mat.dot, A, A, {procs = 2, progress = true})
      print(ok, e, mat.clock() - t < 20)
      print('after')
    ]])
    -- the bar's line (if drawn by then) ended, then the error, once
    assert.matches("^[^\n]*\n?false\tmat%.dot: interrupted\ttrue\nafter\nstatus=0\n$", out)
  end)
end)

describe("mat.load's and mat.save's progress bars", function()
  it("when forced, move along a big save and show a load, bits kept", function()
    local base = tmpname()
    temps[#temps + 1] = base .. ".csv"
    temps[#temps + 1] = base .. ".npy"
    -- rows for a text save of about a second, from this run's own rate
    local out, err, status = run(string.format([[
      local csv, npy = %q, %q
      local m = mat.rand(20000, 10)
      local t = mat.clock()
      mat.save(csv, m)
      local rows = math.floor(20000 * 1.0 / (mat.clock() - t))
      rows = math.max(20000, math.min(2000000, rows))
      local big = mat.rand(rows, 10)
      mat.save(csv, big, {progress = true})
      io.stderr:write("|")
      print(rows, mat.load(csv, {progress = true}) == big)
      io.stderr:write("|")
      mat.save(npy, big, {progress = true})
      print(mat.load(npy, {progress = true}) == big)
      io.stderr:write("|")
      mat.save(csv, big) -- the default in a pipe: no bar
      print(mat.load(csv) == big)
      print(pcall(mat.save, csv, big, {progress = 1}))
    ]], base .. ".csv", base .. ".npy"))
    assert.are.equal(0, status, err)
    local rows = out:match("^(%d+)\t")
    assert(rows, out)
    assert.are.equal(rows .. "\ttrue\ntrue\ntrue\nfalse\tmat.save: opts.progress "
                     .. "must be a boolean (got number)\n", out)
    local save, load, npy, rest = err:match("^([^|]*)|([^|]*)|([^|]*)|(.*)$")
    assert(save, err)
    local nsave, nload = npy:match("^([^\n]*\n)([^\n]*\n)$")
    assert(nsave, npy)
    -- the text save moved (a line before the end), then ended kept
    assert.matches("\rmat%.save %[[#.]+%] %d+/" .. rows .. " +%d+%% [%d.]+ rows/s, "
                   .. "[%d.ms]+ left", save)
    assert.matches("mat%.save %[####################%] " .. rows .. "/" .. rows
                   .. " 100%% [%d.]+ rows/s, [%d.]+s +\n$", save)
    -- loads count megabytes
    for _, l in ipairs{load, nload} do
      assert.matches("\rmat%.load %[####################%] (%d+)/%1 100%% "
                     .. "[%d.]+ MB/s, [%d.]+s +\n$", l)
    end
    assert.matches("mat%.save %[####################%] [^\n]*\n$", nsave)
    assert.are.equal("", rest)
  end)
end)

describe("a bar under Ctrl-C", function()
  it("ends its line, and a save stops with 'interrupted', once, no file left", function()
    local path = tmpname()
    os.remove(path)
    path = path .. ".csv"
    temps[#temps + 1] = path
    local out = require("proc").interrupted_run(MPL, string.format([[
      local m = mat.rand(20000, 10)
      local t = mat.clock()
      mat.save(%q, m)
      os.remove(%q)
      local rows = math.floor(20000 * 10 / (mat.clock() - t))
      local big = mat.rand(math.max(20000, math.min(3000000, rows)), 10)
      io.open(mark, 'w'):close()
      print(pcall(mat.save, %q, big, {progress = true}))
      print('after', io.open(%q) == nil)
    ]], path, path, path, path))
    assert.matches("^[^\n]*\nfalse\tmat%.save: interrupted\nafter\ttrue\nstatus=0\n$", out)
  end)
end)
