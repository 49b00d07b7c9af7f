-- repl_spec.lua: the REPL of the real `mpl` binary on a real terminal.
--
-- Each test runs MPL_BIN in its own tmux server (tests/lib/tmux.lua), with
-- LUA_INIT* and MPL_PROCS cleared, TERM=xterm, no inputrc and MPL_HISTORY
-- empty unless the test names a file; after_each ends the server and every
-- process it started, whether the test passed or not.  Waits poll with
-- generous timeouts (a loaded machine is slow), except the one limit the
-- REPL promises: Ctrl-C interrupts within a second.

local mat = require "mat"
local proc = require "proc"
local tmux = require "tmux"

local MPL = os.getenv("MPL_BIN") or "mpl"
local util = require "util"
local shquote, readfile = util.shquote, util.readfile

local BANNER_PAT = "^mpl %S+ %(Lua 5%.4%.%d+%)\nLua [^\n]*PUC%-Rio\n"

local temps, sessions = {}, {}
local function tmpname() return util.tmpname(temps) end

-- Poll f() every 50 ms until it returns a true value (at most secs
-- seconds); returns that value, or nil.
local function poll(f, secs)
  local deadline = mat.clock() + secs
  repeat
    local v = f()
    if v then return v end
    os.execute("sleep 0.05")
  until mat.clock() > deadline
  return nil
end

-- Start mpl (extra shell-quoted `args`) in a tmux session and wait for its
-- first prompt.  s.status is a file that receives "status=N" when it
-- exits; s.mpl is its pid.
local function start_mpl(history, args)
  local status = tmpname()
  local cmd = "env -u LUA_INIT -u LUA_INIT_5_4 -u MPL_PROCS TERM=xterm INPUTRC=/dev/null"
    .. " MPL_HISTORY=" .. shquote(history or "") .. " " .. shquote(MPL)
    .. (args or "") .. "; echo \"status=$?\" > " .. shquote(status)
  local s = tmux.new()
  sessions[#sessions + 1] = s
  s:start(cmd, 120, 40)
  s.status = status
  s:expect(BANNER_PAT .. ">")
  s.mpl = tmux.children_named(s.pane, "mpl")[1]
  assert(s.mpl, "no mpl process under the pane")
  s:own(s.mpl)
  return s
end

-- Wait for mpl to exit; returns what the shell wrote ("status=N\n").
local function exit_status(s)
  return poll(function()
    local st = readfile(s.status)
    return st ~= "" and st
  end, 20)
end

-- The set of pids in a list.
local function set(list)
  local t = {}
  for _, p in ipairs(list) do t[p] = true end
  return t
end

after_each(function()
  for i = #sessions, 1, -1 do
    sessions[i]:close()
    sessions[i] = nil
  end
end)

teardown(function()
  for _, p in ipairs(temps) do os.remove(p) end
end)

local HAVE_TMUX = tmux.available()

describe("REPL on a terminal", function()

  it("prints the value of an expression", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = start_mpl()
    s:keys("6 * 7", "Enter")
    s:expect("\n> 6 %* 7\n42\n>\n")
    s:keys("mat.eye(2)", "Enter")
    s:expect("\n> mat%.eye%(2%)\nmat 2x2\n%[%[1%. 0%.%]\n %[0%. 1%.%]%]\n>\n")
    s:keys("'x' .. 1, nil", "Enter")
    s:expect("\n> 'x' %.%. 1, nil\nx1%s+nil\n>\n")
  end)

  it("continues an unfinished for on the next line, then runs it", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = start_mpl()
    s:keys("for i = 1, 3 do", "Enter")
    s:expect("\n> for i = 1, 3 do\n>>\n")
    s:keys("print(i * 11)", "Enter")
    local pane = s:expect("\n>> print%(i %* 11%)\n>>\n")
    assert.is_nil(pane:find("\n11\n"), "the loop ran before its end")
    s:keys("end", "Enter")
    s:expect("\n>> end\n11\n22\n33\n>\n")
  end)

  it("completes mat.ze to mat.zeros with Tab", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = start_mpl()
    s:keys("mat.ze", "Tab")
    s:expect("\n> mat%.zeros\n")
    s:keys("(1, 2)", "Enter")
    s:expect("\n> mat%.zeros%(1, 2%)\nmat 1x2\n%[%[0%. 0%.%]%]\n>\n")
  end)

  it("stops a parallel mat.dot on Ctrl-C within a second, its workers killed", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = start_mpl()
    -- An endless loop of products, each a few seconds long here (so a
    -- Ctrl-C that waited for the product to end would take too long), and
    -- Ctrl-C lands inside one whatever the machine's speed.
    s:keys("a = mat.randn(3000, 3000); c = mat.new(3000, 3000)", "Enter")
    s:expect("\n> a = [^\n]*\n>\n", 60)
    s:keys("while true do mat.dot(a, a, {procs = 2, out = c}) end", "Enter")
    local pool, workers
    assert(poll(function()
      pool = tmux.children_named(s.mpl, "mpl-pool")[1]
      workers = pool and tmux.children_named(pool, "mpl-worker") or {}
      return #workers == 2
    end, 30), "the two workers did not start")
    s:own(pool)
    for _, w in ipairs(workers) do s:own(w) end
    os.execute("sleep 0.2") -- into the first product

    local t0 = mat.clock()
    s:keys("C-c")
    local at, pane = s:wait_for("interrupted", 30)
    local elapsed = mat.clock() - t0
    assert(at, "no \"interrupted\" after Ctrl-C:\n" .. pane)
    assert(elapsed < 1, string.format("\"interrupted\" took %.2f s", elapsed))

    -- Back at the prompt, the product reported its interruption, and the
    -- pool has no worker left (its idle forkserver may stay).
    s:expect("\n%^Cstdin:1: mat%.dot: interrupted\nstack traceback:\n%s*%[C%]: in %?\n%s*%[C%]: in function 'mat%.dot'\n[^>]*\n>\n")
    for _, w in ipairs(workers) do
      assert.is_false(proc.running(w), "worker " .. w .. " still runs")
    end
    for _, c in ipairs(tmux.children_named(s.mpl)) do
      local f = assert(io.open("/proc/" .. c .. "/comm"))
      assert.are.equal("mpl-pool", f:read("l"))
      f:close()
      assert.are.same({}, tmux.children_named(c), "the pool kept processes")
    end

    -- The REPL still works, and a parallel product is right again (on
    -- fresh workers).
    s:keys("x = mat.randn(400, 300); y = mat.randn(300, 500)", "Enter")
    s:keys("mat.dot(x, y, {procs = 2}) == mat.dot(x, y, {procs = 1})", "Enter")
    s:expect("\n> mat%.dot%(x, y, {procs = 2}%) == [^\n]*\ntrue\n>\n")
    pool = tmux.children_named(s.mpl, "mpl-pool")[1]
    assert(pool, "no pool")
    s:own(pool)
    local fresh = tmux.children_named(pool, "mpl-worker")
    assert.are.equal(2, #fresh)
    local old = set(workers)
    for _, w in ipairs(fresh) do
      s:own(w)
      assert.is_nil(old[w])
    end

    s:keys("C-d")
    assert.are.equal("status=0\n", exit_status(s))
    -- Leaving takes the pool along.
    for _, p in ipairs({ pool, fresh[1], fresh[2] }) do
      assert(poll(function() return not proc.running(p) end, 10),
             "process " .. p .. " outlived mpl")
    end
  end)

  it("leaves on Ctrl-D with status 0", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = start_mpl()
    s:keys("C-d")
    assert.are.equal("status=0\n", exit_status(s))
  end)

  it("keeps history across runs: Up recalls the previous session's line", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local hist = tmpname()
    local s = start_mpl(hist)
    s:keys("6 * 7 + 1000", "Enter")
    s:expect("\n1042\n>\n")
    s:keys("C-d")
    assert.are.equal("status=0\n", exit_status(s))
    assert.are.equal("6 * 7 + 1000\n", readfile(hist))

    s = start_mpl(hist)
    s:keys("Up")
    local pane = s:expect("\n> 6 %* 7 %+ 1000\n")
    assert.is_nil(pane:find("1042"), "the recalled line ran before Enter")
    s:keys("Enter")
    s:expect("\n> 6 %* 7 %+ 1000\n1042\n>\n")
    s:keys("C-d")
    assert.are.equal("status=0\n", exit_status(s))
  end)

  it("completes names, prints values, stops loops on Ctrl-C, leaves on Ctrl-D", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local hist = tmpname()
    local s = start_mpl(hist, " -p 3")

    s:keys("mat.proc", "Tab") -- "mat.pro" is also mat.prod
    s:expect("\n> mat%.procs\n")
    s:keys("()", "Enter")
    s:expect("\n> mat%.procs%(%)\n3\n>")

    s:keys("string.for", "Tab")
    s:expect("\n> string%.format\n")
    s:keys("('%03d', 7)", "Enter")
    s:expect("\n007\n>")

    s:keys("s = 'abc'", "Enter", "s:up", "Tab")
    s:expect("\n> s:upper\n")
    s:keys("()", "Enter")
    s:expect("\nABC\n>")

    s:keys("m = mat.zeros(2, 3)", "Enter", "m:sh", "Tab")
    s:expect("\n> m:shape\n")
    s:keys("()", "Enter")
    s:expect("\n2%s+3\n>")

    s:keys("print('busy'); while true do end", "Enter")
    s:expect("\nbusy\n")
    s:keys("C-c")
    s:expect("interrupted!\nstack traceback:")
    s:keys("40 + 2", "Enter")
    s:expect("\n42\n>")

    s:keys("C-d")
    assert.are.equal("status=0\n", exit_status(s))
    local h = readfile(hist)
    assert.truthy(h:find("mat.procs()\n", 1, true))
    assert.truthy(h:find("40 + 2\n", 1, true))
  end)
  it("shows help: ?name, ? alone, help(f), help \"name\", help(m)", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = start_mpl()
    s:keys("?mat.dot", "Enter")
    s:expect("\n> %?mat%.dot\nmat%.dot%(a, b %[, opts%]%) and a %* b\n\nThe matrix product of a")
    s:expect("\n%(docs/lua/parallel%.md%)\n>\n")
    s:keys("C-l")
    s:keys("?", "Enter")
    s:expect("\n> %?\nmat: matrices in shared memory, scripted in Lua%.\n")
    s:expect("\nmat: files  %(docs/lua/files%.md%)\n  mat%.load mat%.save\n")
    s:keys("help(mat.zeros)", "Enter")
    s:expect("\n> help%(mat%.zeros%)\nMaking matrices\n")
    s:keys('help "m:sum"', "Enter")
    s:expect('\n> help "m:sum"\nReductions\n')
    s:keys("m = mat.zeros(2, 3)", "Enter", "help(m)", "Enter")
    s:expect("\n> help%(m%)\na matrix, 2x3: fields rows, cols; methods")
    s:keys("mat.dot", "Enter")
    s:expect("\n> mat%.dot\nmat%.dot%(a, b %[, opts%]%)  %-%- a function; %?mat%.dot for its help\n>\n")
  end)

  it("prints a table's contents: the squares from mat.map", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = start_mpl()
    s:keys("t = mat.map(function(i) return i*i end, 5)", "Enter")
    s:expect("\n> t = mat%.map[^\n]*\n>\n")
    s:keys("t", "Enter")
    s:expect("\n> t\n{1, 4, 9, 16, 25}\n>\n")
    s:keys("c = {m = mat.eye(2)}; c.c = c", "Enter", "c", "Enter")
    s:expect("\n{c = <cycle>, m = <mat 2x2 {{1, 0}, {0, 1}}>}\n>\n")
  end)

  it("prints each statement's wall time after \\time on, until \\time off", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = start_mpl()
    s:keys("a = mat.rand(300, 300)", "Enter")
    s:expect("\n> a = mat%.rand%(300, 300%)\n>\n")
    s:keys("\\time on", "Enter")
    s:expect("\n> \\time on\ntiming is on\n>\n")
    s:keys("mat.dot(a, a)", "Enter")
    s:expect("\n> mat%.dot%(a, a%)\nmat 300x300\n[^>]*%]%]\ntime: %d+%.%d [mu]?s\n>\n")
    s:keys("a.rows", "Enter")
    s:expect("\n> a%.rows\n300\ntime: %d+%.%d [mu]?s\n>\n")
    s:keys("error('x')", "Enter")
    s:expect("\n> error%('x'%)\nstdin:1: x\nstack traceback:\n.-\ntime: %d+%.%d [mu]?s\n>\n")
    s:keys("\\time off", "Enter")
    s:expect("\n> \\time off\ntiming is off\n>\n")
    s:keys("1 + 1", "Enter")
    s:expect("\n> 1 %+ 1\n2\n>\n")
  end)

  it("notes that a line of locals lasts for that line only", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local s = start_mpl()
    s:keys("local m = mat.eye(2)", "Enter")
    s:expect("\n> local m = mat%.eye%(2%)\n%-%- note: local m lasted for this line only; drop 'local' to keep it\n>\n")
    s:keys("local a = 1; print(a)", "Enter")
    s:expect("\n> local a = 1; print%(a%)\n1\n>\n")
  end)

  it("completes a matrix's fields after '.' and file names inside a string", function()
    if not HAVE_TMUX then return pending("tmux not installed") end
    local dir = tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. shquote(dir)))
    local f = assert(io.open(dir .. "/squares_done.csv", "w"))
    f:write("1,4\n9,16\n")
    f:close()
    local ok, err = pcall(function()
      local s = start_mpl()
      s:keys("m = mat.zeros(2, 3)", "Enter", "m.col", "Tab")
      s:expect("\n> m%.col\n") -- col, cols: nothing to add
      s:keys("Tab")
      s:expect("\nm%.col%s+m%.cols%s*\n")
      s:keys("C-u", "m.row", "Tab", "Tab")
      s:expect("\nm%.row%s+m%.rows%s*\n")
      s:keys("s", "Enter")
      s:expect("\n> m%.rows\n2\n>\n")
      s:keys('x = mat.load("' .. dir .. '/squ', "Tab")
      s:expect('\n> x = mat%.load%("' .. dir:gsub("%p", "%%%0") .. '/squares_done%.csv"')
      s:keys(")", "Enter", "x:sum()", "Enter")
      s:expect("\n> x:sum%(%)\n30%.0\n>\n")
    end)
    os.remove(dir .. "/squares_done.csv")
    os.remove(dir)
    assert(ok, err)
  end)
end)
