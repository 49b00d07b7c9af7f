-- mat.map: results in item order, every result type, uneven items,
-- errors with the item and the worker's traceback, reproducible random
-- streams with a seed and distinct ones without, workers killed, exiting
-- or interrupted, no process left behind, the progress bar.  The core
-- (src/par/team.c) has its own tests in tests/c/test_team.c.
local mat = require "mat"

local MPL = os.getenv("MPL_BIN") or "mpl"

local proc = require "proc"
local self_pid, children, running = proc.self_pid, proc.children, proc.running

-- wait (a generous hang guard) until pid is gone
local function gone(pid)
  for _ = 1, 500 do
    if not running(pid) then return true end
    os.execute("sleep 0.01")
  end
  return false
end

-- fields of /proc/<pid>/smaps_rollup in kB
local function rollup(pid)
  local f = assert(io.open("/proc/" .. pid .. "/smaps_rollup"))
  local t = {}
  for k, v in f:read("a"):gmatch("([%w_]+):%s+(%d+) kB") do t[k] = tonumber(v) end
  f:close()
  return t
end

local function maps_mention(what)
  local f = assert(io.open("/proc/self/maps"))
  local n = 0
  for line in f:lines() do
    if line:find(what, 1, true) then n = n + 1 end
  end
  f:close()
  return n
end

-- run a Lua chunk in a fresh mpl; stdout, stderr, status
local function mpl(code, args)
  local file, err = os.tmpname(), os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write(code)
  f:close()
  local p = io.popen(string.format("timeout 60 %s %s %s 2>%s; echo \"status=$?\"",
                                   MPL, file, args or "", err))
  local out = p:read("a")
  p:close()
  f = assert(io.open(err))
  local errout = f:read("a")
  f:close()
  os.remove(file)
  os.remove(err)
  local status = tonumber(out:match("status=(%d+)%s*$"))
  return (out:gsub("status=%d+%s*$", "")), errout, status
end

describe("mat.map", function()
  it("returns results in item order, for a count and for an array", function()
    local r = mat.map(function(i) return i * i end, 1000, {procs = 3})
    assert.are.equal(1000, #r)
    for i = 1, 1000 do assert.are.equal(i * i, r[i]) end
    local words = {"a", "bb", "ccc", "dddd", "eeeee"}
    assert.are.same({"1:a", "2:bb", "3:ccc", "4:dddd", "5:eeeee"},
                    mat.map(function(w, i) return i .. ":" .. w end, words,
                            {procs = 2, chunk = 1}))
    for _, chunk in ipairs{1, 3, 64} do
      local s = mat.map(function(i) return -i end, 200, {procs = 3, chunk = chunk})
      for i = 1, 200 do assert.are.equal(-i, s[i]) end
    end
  end)

  it("gives an empty table for no items, without forking", function()
    local before = children(self_pid())
    assert.are.same({}, mat.map(error, {}))
    assert.are.same({}, mat.map(error, 0))
    assert.are.same(before, children(self_pid()))
  end)

  it("brings back every result type", function()
    local r = mat.map(function()
      return {
        yes = true, no = false, int = 42, neg = -7, float = 1.5, whole = 2.0,
        inf = 1 / 0, ninf = -1 / 0, nan = 0 / 0, nzero = -0.0,
        maxint = math.maxinteger, minint = math.mininteger,
        str = "a\0b", long = string.rep("xyz", 100000),
        nested = {a = {b = {c = "deep"}}, list = {1, 2, {3, {4}}}},
        [1.5] = "float key", [true] = "boolean key", [-3] = "negative key",
        [{}] = "table key",
        small = mat.from{{1, 2}, {3, 4}},
        view = mat.from{{1, 2}, {3, 4}}:t(),
        empty = mat.new(0, 3),
        10, 20, 30,
      }
    end, 1)[1]
    assert.is_true(r.yes)
    assert.is_false(r.no)
    assert.are.equal("integer", math.type(r.int))
    assert.are.equal(42, r.int)
    assert.are.equal(-7, r.neg)
    assert.are.equal(1.5, r.float)
    assert.are.equal("float", math.type(r.whole))
    assert.are.equal(math.huge, r.inf)
    assert.are.equal(-math.huge, r.ninf)
    assert.is_true(r.nan ~= r.nan)
    assert.are.equal(-math.huge, 1 / r.nzero)
    assert.are.equal(math.maxinteger, r.maxint)
    assert.are.equal(math.mininteger, r.minint)
    assert.are.equal("a\0b", r.str)
    assert.are.equal(string.rep("xyz", 100000), r.long)
    assert.are.equal("deep", r.nested.a.b.c)
    assert.are.same({1, 2, {3, {4}}}, r.nested.list)
    assert.are.equal("float key", r[1.5])
    assert.are.equal("boolean key", r[true])
    assert.are.equal("negative key", r[-3])
    local tkey
    for k, v in pairs(r) do
      if type(k) == "table" then tkey = v end
    end
    assert.are.equal("table key", tkey)
    assert.are.same({10, 20, 30}, {r[1], r[2], r[3]})
    assert.is_true(r.small == mat.from{{1, 2}, {3, 4}})
    assert.is_true(r.view == mat.from{{1, 3}, {2, 4}})
    assert.are.same({0, 3}, {r.empty:shape()})
  end)

  it("leaves holes for nil results", function()
    local r = mat.map(function(i) if i % 2 == 1 then return i end end, 6, {procs = 2})
    assert.are.same({1, nil, 3, nil, 5, nil}, {r[1], r[2], r[3], r[4], r[5], r[6]})
  end)

  it("brings large matrices back through shared memory, not the pipe", function()
    collectgarbage()
    collectgarbage()
    local before = maps_mention("mpl-map-results")
    local r = mat.map(function(i)
      local m = mat.range(1, 20000):reshape(100, 200) * i
      return {m = m, t = m:t(), small = mat.ones(2, 2) * i}
    end, 4, {procs = 2})
    for i = 1, 4 do
      local m = mat.range(1, 20000):reshape(100, 200) * i
      assert.is_true(r[i].m == m)
      assert.is_true(r[i].t == m:t())
      assert.is_true(r[i].small == mat.ones(2, 2) * i)
    end
    -- the call's results region outlives the call while a result lives
    assert.are.equal(before + 1, maps_mention("mpl-map-results"))
    r[2].m[3][4] = -1 -- an ordinary, writable matrix
    assert.are.equal(-1, r[2].m:get(3, 4))
    r = nil
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, maps_mention("mpl-map-results"))
  end)

  it("passes array items, ragged items, matrix rows and proxies to f", function()
    local R = mat.ragged{{1, 2, 3}, {4}, {}, {5, 6}}
    assert.are.same({6, 4, 0, 11},
                    mat.map(function(v) return v:sum() end, R, {procs = 2}))
    local m = mat.from{{1, 2}, {3, 4}, {5, 6}}
    assert.are.same({3, 7, 11}, mat.map(function(row) return row:sum() end, m))
    local proxy = setmetatable({}, {
      __len = function() return 3 end,
      __index = function(_, i) return i * 10 end})
    assert.are.same({10, 20, 30}, mat.map(function(x) return x end, proxy))
    local callable = setmetatable({}, {__call = function(_, x, i) return x + i end})
    assert.are.same({2, 4}, mat.map(callable, {1, 2}))
  end)

  it("lets f see the script's closures and matrices, without their changes leaking back", function()
    local big = mat.rand(300, 400)
    local offset = 100
    counter = 0
    local r = mat.map(function(i)
      counter = counter + 1
      return big[i]:sum() + offset
    end, 300, {procs = 3})
    for i = 1, 300 do assert.are.equal(big[i]:sum() + offset, r[i]) end
    assert.are.equal(0, counter)
    mat.map(function() counter = counter + 1 end, 3, {procs = 1})
    assert.are.equal(0, counter)
    counter = nil
  end)

  it("writes through the caller's matrices land in the caller's memory", function()
    local out = mat.zeros(1, 10)
    mat.map(function(i) out[i] = i * i end, 10, {procs = 3, chunk = 1})
    assert.are.same({{1, 4, 9, 16, 25, 36, 49, 64, 81, 100}}, out:totable())
  end)

  it("balances uneven items: a worker stuck in one item runs only its chunk", function()
    -- item 1 cannot finish before item 100 ran, so the other worker must
    -- get there through the guided chunks; the stuck one ran only its
    -- first chunk (100 / (4 * 2) = 12 items)
    local flag = mat.zeros(1, 1)
    local pids = mat.map(function(i)
      if i == 1 then
        local t0 = mat.clock()
        while flag[1] == 0 do
          if mat.clock() - t0 > 60 then error("hang guard") end
        end
      end
      if i == 100 then flag[1] = 1 end
      return self_pid()
    end, 100, {procs = 2})
    local stuck, n = pids[1], 0
    for i = 1, 100 do
      if pids[i] == stuck then n = n + 1 end
    end
    assert.are.equal(12, n)
    for i = 1, 12 do assert.are.equal(stuck, pids[i]) end
  end)

  it("runs nested maps and keeps BLAS and mat.procs to one per worker", function()
    assert.are.same({{1, 2, 3}, {2, 4, 6}},
      mat.map(function(i) return mat.map(function(j) return i * j end, 3) end, 2))
    local a = mat.rand(200, 200)
    local r = mat.map(function() return {mat.procs(), a * a} end, 2, {procs = 2})
    assert.are.equal(1, r[1][1])
    assert.is_true(mat.allclose(r[2][2], mat.dot(a, a, {procs = 1})))
  end)

  it("checks its arguments", function()
    local f = function(x) return x end
    assert.has_error(function() mat.map(5, 3) end,
                     "mat.map: bad argument #1 (function expected, got number)")
    assert.has_error(function() mat.map(f, "x") end,
                     "mat.map: bad argument #2 (table or count expected, got string)")
    assert.has_error(function() mat.map(f, -1) end,
                     "mat.map: count must be a non-negative integer (got -1)")
    assert.has_error(function() mat.map(f, 1.5) end,
                     "mat.map: count must be a non-negative integer (got 1.5)")
    assert.has_error(function() mat.map(f, 3, 5) end,
                     "mat.map: opts must be a table (got number)")
    assert.has_error(function() mat.map(f, 3, {procs = 0}) end,
                     "mat.map: opts.procs must be between 1 and 4096 (got 0)")
    assert.has_error(function() mat.map(f, 3, {procs = 1.5}) end,
                     "mat.map: opts.procs must be an integer (got 1.5)")
    assert.has_error(function() mat.map(f, 3, {chunk = 0}) end,
                     "mat.map: opts.chunk must be a positive integer (got 0)")
    assert.has_error(function() mat.map(f, 3, {seed = "x"}) end,
                     "mat.map: opts.seed must be an integer (got string)")
    assert.has_error(function() mat.map(f, 3, {progress = 1}) end,
                     "mat.map: opts.progress must be a boolean (got number)")
    assert.has_error(function() mat.map(f, 3, {progress = mat.ones(1, 1)}) end,
                     "mat.map: opts.progress must be a boolean (got matrix)")
  end)

  it("refuses options it does not know, naming the ones it does", function()
    local f = function(x) return x end
    local known = " (known: chunk, procs, progress, seed)"
    assert.has_error(function() mat.map(f, 3, {seeds = 1}) end,
                     "mat.map: unknown option 'seeds'" .. known)
    assert.has_error(function() mat.map(f, 3, {procs = 2, Procs = 2}) end,
                     "mat.map: unknown option 'Procs'" .. known)
    assert.has_error(function() mat.map(f, 3, {2}) end,
                     "mat.map: unknown option 1" .. known)
    -- checked before anything runs, with no items too
    assert.has_error(function() mat.map(f, 0, {progres = true}) end,
                     "mat.map: unknown option 'progres'" .. known)
    -- every known option at once is fine
    assert.are.same({1, 2, 3}, mat.map(f, 3, {procs = 2, chunk = 1, seed = 5,
                                              progress = false}))
  end)

  it("names the user's line in its errors, not its own Lua part", function()
    local f = function(x) return x end
    local line = debug.getinfo(1, "l").currentline
    local cases = {
      function() mat.map(f, 3, {seeds = 1}) end,   -- line + 2: C.check_opts
      function() mat.map(f, 3, {procs = 0}) end,   -- line + 3: C.error
      function() mat.map(f, 3, {seed = "x"}) end,  -- line + 4: C.check_int
      function() mat.map(5, 3) end,                -- line + 5: C.map_items
    }
    for k, case in ipairs(cases) do
      local ok, err = pcall(case)
      assert.is_false(ok)
      assert.matches("^[^\n]*map_spec%.lua:" .. (line + 1 + k) .. ": mat%.map: ", err)
    end
  end)
end)

describe("mat.map failures", function()
  it("raise with the item, the worker's message and its traceback", function()
    local ok, err = pcall(mat.map, function(i)
      if i == 7 then error("boom") end
      return i
    end, 10, {procs = 2})
    assert.is_false(ok)
    assert.matches("^mat%.map: item 7: [^\n]*map_spec%.lua:%d+: boom\n" ..
                   "worker stack traceback:\n", err)
    assert.matches("in function 'error'", err, 1, true)
    ok, err = pcall(mat.map, function() error({}) end, 1)
    assert.matches("^mat%.map: item 1: %(error object is a table value%)\n", err)
    ok, err = pcall(mat.map, function()
      error(setmetatable({}, {__tostring = function() return "custom" end}))
    end, 1)
    assert.matches("^mat%.map: item 1: custom\n", err)
    local proxy = setmetatable({}, {
      __len = function() return 2 end,
      __index = function(_, i) if i == 2 then error("no item 2") end return i end})
    ok, err = pcall(mat.map, function(x) return x end, proxy, {procs = 1})
    assert.matches("^mat%.map: item 2: [^\n]*no item 2\n", err)
  end)

  it("stop the other workers at once", function()
    local pid2 = mat.zeros(1, 1)
    local ok, err = pcall(mat.map, function(i)
      if i == 2 then
        pid2[1] = self_pid()
        local t0 = mat.clock()
        while mat.clock() - t0 < 60 do end -- until stopped
        return "not stopped"
      end
      while pid2[1] == 0 do end
      error("stop")
    end, 2, {procs = 2, chunk = 1})
    assert.is_false(ok)
    assert.matches("^mat%.map: item 1: [^\n]*: stop\n", err)
    assert.is_true(gone(math.tointeger(pid2[1])))
  end)

  it("name results that cannot travel", function()
    local cases = {
      {function() return print end, "cannot return a function"},
      {function() return coroutine.create(print) end, "cannot return a thread"},
      {function() return io.stdout end, "cannot return a FILE*"},
      {function() return mat.ragged{{1}} end, "cannot return a mat.ragged"},
      {function() return {x = {f = print}} end, "cannot return a function"},
      {function() local m = mat.ones(2, 2); m:close(); return m end,
       "cannot return a closed matrix"},
      {function()
         local t = {}
         local c = t
         for _ = 1, 300 do c[1] = {}; c = c[1] end
         return t
       end, "cannot return tables nested more than 200 deep"},
    }
    for _, case in ipairs(cases) do
      assert.has_error(function() mat.map(case[1], 3, {procs = 1}) end,
                       "mat.map: item 1: " .. case[2])
    end
    -- a table seen twice is no cycle
    local shared = {1, 2}
    local r = mat.map(function() return {shared, shared} end, 1)[1]
    assert.are.same({{1, 2}, {1, 2}}, r)
  end)

  it("send a shared sub-table once and keep the sharing, cycles too", function()
    -- 2^20 paths to the leaf, 21 tables: encoded once each
    local r = mat.map(function()
      local t = {1}
      for _ = 1, 20 do t = {t, t} end
      return t
    end, 4, {procs = 2})
    for i = 1, 4 do
      local x = r[i]
      for _ = 1, 20 do
        assert.is_true(rawequal(x[1], x[2]))
        x = x[1]
      end
      assert.are.same({1}, x)
    end
    local c = mat.map(function(i)
      local t = {i = i}
      t.self = t
      t[1] = {up = t, [t] = "key"}
      return t
    end, 3, {procs = 2})
    for i = 1, 3 do
      assert.equal(i, c[i].i)
      assert.is_true(rawequal(c[i], c[i].self))
      assert.is_true(rawequal(c[i], c[i][1].up))
      assert.equal("key", c[i][1][c[i]])
    end
    -- one matrix twice is one matrix, small or in the results region
    local m = mat.map(function()
      local a, b = mat.ones(2, 2), mat.ones(300, 300)
      return {a, a, b, {b}}
    end, 3)
    for i = 1, 3 do
      assert.is_true(rawequal(m[i][1], m[i][2]))
      assert.is_true(rawequal(m[i][3], m[i][4][1]))
      assert.equal(90000, m[i][3]:sum())
    end
    -- each result has its own: results of different items share nothing
    local shared = {1}
    local s = mat.map(function() return {shared, shared} end, 2, {procs = 1})
    assert.is_true(rawequal(s[1][1], s[1][2]) and rawequal(s[2][1], s[2][2]))
    assert.is_false(rawequal(s[1][1], s[2][1]))
  end)

  it("start a count of 1e9 at once and stop on Ctrl-C", function()
    -- before: a 1e9-slot result table (16 GB) was made before forking
    local mark = os.tmpname()
    local file = os.tmpname()
    local f = assert(io.open(file, "w"))
    f:write([[
      local mark = ...
      mat.map(function(i)
        if i == 1 then io.open(mark, "w"):close() end
        return i
      end, 1e9, {procs = 2})
      print("finished")
    ]])
    f:close()
    os.remove(mark)
    local p = io.popen(string.format(
      "%s %s %s 2>&1 & pid=$!; (sleep 60; kill -9 $pid) >/dev/null 2>&1 & dog=$!; " ..
      "for i in $(seq 600); do [ -e %s ] && break; sleep 0.05; done; sleep 0.3; " ..
      "grep VmHWM /proc/$pid/status; kill -INT $pid; wait $pid; echo status=$?; " ..
      "kill $dog 2>/dev/null",
      MPL, file, mark, mark))
    local out = p:read("a")
    p:close()
    os.remove(file)
    os.remove(mark)
    assert.is_nil(out:find("finished"), out)
    assert.is_truthy(out:find("interrupted"), out)
    assert.is_truthy(out:find("status=1"), out)
    local hwm = tonumber(out:match("VmHWM:%s+(%d+) kB"))
    assert.is_truthy(hwm and hwm < 2000000, out) -- well under 16 GB
  end)

  it("name the item a killed worker held, at once", function()
    local pid = mat.zeros(1, 1)
    local t0 = mat.clock()
    local ok, err = pcall(mat.map, function(i)
      if i == 5 then
        pid[1] = self_pid()
        os.execute("kill -9 " .. self_pid())
      end
      return i
    end, 10, {procs = 2, chunk = 1})
    assert.is_false(ok)
    assert.is_true(mat.clock() - t0 < 10)
    assert.matches("^mat%.map: item 5: worker %d %(pid " .. math.tointeger(pid[1]) ..
                   "%) was killed by signal 9 %(Killed%)$", err)
  end)

  it("name a worker killed from outside while it runs an item", function()
    local pids = mat.zeros(1, 2)
    local t0 = mat.clock()
    local ok, err = pcall(mat.map, function(i)
      pids[i] = self_pid()
      if i == 2 then
        os.execute(string.format("(sleep 0.3; kill -9 %d) &", self_pid()))
      end
      local t = mat.clock()
      while mat.clock() - t < 60 do end -- until killed or stopped
    end, 2, {procs = 2, chunk = 1})
    assert.is_false(ok)
    assert.is_true(mat.clock() - t0 < 30)
    assert.matches("^mat%.map: item 2: worker %d %(pid " .. math.tointeger(pids[2]) ..
                   "%) was killed by signal 9 %(Killed%)$", err)
    assert.is_true(gone(math.tointeger(pids[1])))
  end)

  it("report os.exit in a worker as its exit", function()
    local ok, err = pcall(mat.map, function(i)
      if i == 2 then os.exit(3) end
      return i
    end, 4, {procs = 1})
    assert.is_false(ok)
    assert.matches("^mat%.map: item 2: worker 1 %(pid %d+%) exited with status 3$", err)
  end)

  it("leave no worker behind, after success or failure", function()
    local me = self_pid()
    local before = children(me)
    local pids = mat.map(function() return self_pid() end, 20, {procs = 3, chunk = 1})
    pcall(mat.map, function(i) if i == 3 then error("x") end return self_pid() end, 20,
          {procs = 3, chunk = 1})
    pcall(mat.map, function(i)
      if i == 3 then os.execute("kill -9 " .. self_pid()) end
    end, 20, {procs = 3, chunk = 1})
    assert.are.same(before, children(me))
    for _, pid in ipairs(pids) do assert.is_false(running(pid)) end
  end)

  it("stop on Ctrl-C (SIGINT), workers and all", function()
    local pidfile = os.tmpname()
    local file = os.tmpname()
    local f = assert(io.open(file, "w"))
    f:write([[
      local pidfile = ...
      mat.map(function(i)
        local g = io.open("/proc/self/stat"); local pid = g:read("n"); g:close()
        g = io.open(pidfile, "a"); g:write(math.tointeger(pid), "\n"); g:close()
        while true do end
      end, 4, {procs = 2, chunk = 1})
      print("finished")
    ]])
    f:close()
    local p = io.popen(string.format(
      "%s %s %s 2>&1 & pid=$!; (sleep 60; kill -9 $pid) >/dev/null 2>&1 & dog=$!; " ..
      "sleep 1; kill -INT $pid; wait $pid; echo status=$?; kill $dog 2>/dev/null",
      MPL, file, pidfile))
    local out = p:read("a")
    p:close()
    os.remove(file)
    assert.is_nil(out:find("finished"))
    assert.is_truthy(out:find("interrupted"))
    assert.is_truthy(out:find("status=1"))
    f = assert(io.open(pidfile))
    local n = 0
    for pid in f:lines() do
      n = n + 1
      assert.is_true(gone(tonumber(pid)))
    end
    f:close()
    os.remove(pidfile)
    assert.are.equal(2, n)
  end)
end)

describe("mat.map random streams", function()
  local function draws()
    return {u = mat.rand(1, 3), n = mat.randn(2, 2), x = mat.rand(1, 1)[1]}
  end

  it("are the same for every procs and chunking with a seed", function()
    local ref = mat.map(draws, 40, {seed = 42, procs = 1})
    for _, o in ipairs{{procs = 2}, {procs = 3}, {procs = 3, chunk = 1},
                       {procs = 2, chunk = 7}} do
      o.seed = 42
      local r = mat.map(draws, 40, o)
      for i = 1, 40 do
        assert.is_true(r[i].u == ref[i].u and r[i].n == ref[i].n and r[i].x == ref[i].x)
      end
    end
    -- item i's stream depends on (seed, i) only
    local other = mat.map(draws, 40, {seed = 43, procs = 2})
    assert.is_false(other[1].u == ref[1].u)
    assert.is_false(ref[1].u == ref[2].u)
    local tail = mat.map(function(i) return draws(i + 10) end, {1, 2, 3}, {seed = 42})
    assert.is_true(tail[1].u == ref[1].u)
  end)

  it("are distinct per worker without a seed, and leave the caller's alone", function()
    mat.seed(1)
    local mine = mat.rand(1, 1)[1]
    mat.seed(1)
    local r = mat.map(function() return mat.rand(1, 1)[1] end, 90, {procs = 3, chunk = 1})
    local seen = {}
    for i = 1, 90 do
      assert.is_nil(seen[r[i]])
      seen[r[i]] = true
    end
    assert.is_nil(seen[mine])
    assert.are.equal(mine, mat.rand(1, 1)[1]) -- the caller's stream did not move
  end)
end)

describe("mat.map with a large ragged dataset", function()
  it("lets every worker read all of it without copying it", function()
    local lens, total = {}, 0
    for i = 1, 10000 do
      lens[i] = 500 + (i * 7919) % 1000
      total = total + lens[i]
    end
    local R = mat.ragged(mat.randn(1, total), lens) -- about 80 MB
    local sum = R:values():sum()
    local r = mat.map(function()
      local s = 0
      for j = 1, #R do s = s + R[j]:sum() end
      local m = rollup("self")
      return {s = s, private = m.Private_Dirty + m.Private_Clean}
    end, 2, {procs = 2, chunk = 1})
    for i = 1, 2 do
      assert.is_true(math.abs(r[i].s - sum) < 1e-6 * total)
      assert.is_true(r[i].private < 16 * 1024, "private kB " .. r[i].private)
    end
  end)
end)

describe("mat.map output", function()
  it("draws a progress bar on stderr only when asked to (not in a pipe)", function()
    local code = [[
      local slow = function(i) local t = mat.clock() while mat.clock() - t < 0.01 do end return i end
      local r = mat.map(slow, 50, {procs = 2, progress = ...})
      print(#r)
    ]]
    local out, err, status = mpl((code:gsub("%.%.%.", "true")))
    assert.are.equal(0, status)
    assert.are.equal("50\n", out)
    assert.matches("\rmat%.map %[#+%] 50/50 100%% [%d.]+ items/s, [%d.]+s +\n$", err)
    out, err = mpl((code:gsub("%.%.%.", "nil")))
    assert.are.equal("50\n", out)
    assert.are.equal("", err)
    out, err = mpl((code:gsub("%.%.%.", "false")))
    assert.are.equal("", err)
  end)

  it("shows what workers print, and the caller's buffered output once", function()
    local out, err, status = mpl([[
      io.write("head ")
      mat.map(function(i) io.write("item ", i, "\n") end, 3, {procs = 2, chunk = 1})
      print("tail")
    ]])
    assert.are.equal(0, status, err)
    assert.are.equal(1, select(2, out:gsub("head ", "")))
    for i = 1, 3 do assert.is_truthy(out:find("item " .. i .. "\n", 1, true)) end
    assert.is_truthy(out:find("tail\n$"))
  end)
end)

describe("mat.map workers' memory", function()
  -- Page faults per item, counted by the worker itself: each item makes
  -- a hundred 80 KB temporaries (2000 pages); once warm, a worker reuses
  -- the same pages item after item instead of faulting them in again.
  it("reuses warm pages for each item's temporaries", function()
    local out, err, status = mpl([[
      local function minflt()
        local f = io.open("/proc/self/stat")
        local s = f:read("a")
        f:close()
        return tonumber(s:match("%) %a" .. string.rep(" %S+", 6) .. " (%d+)"))
      end
      local x = mat.rand(1, 10000)
      local r = mat.map(function()
        local f0, s = minflt(), 0
        for _ = 1, 50 do
          local w = mat.rand(1, 10000)
          s = s + x:mul(w):sum() / w:sum()
        end
        return minflt() - f0
      end, 40, {procs = 1})
      local late = {table.unpack(r, 11)}
      table.sort(late)
      print(late[#late // 2], r[1])
    ]])
    assert.are.equal(0, status, err)
    local median = tonumber(out:match("^(%d+)"))
    assert.is_truthy(median, out)
    assert.is_true(median < 200, "median page faults per item: " .. out)
  end)
end)
