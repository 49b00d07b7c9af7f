-- mat.dot, `*`, mat.procs and mat.workers from Lua: results equal for
-- every procs, errors with their exact messages, workers that die or are
-- interrupted, and procs = 1 never forking.  The C side of the pool has
-- its own tests (tests/c/test_pool.c, tests/c/test_dot.c).
local mat = require "mat"

local MPL = os.getenv("MPL_BIN") or "mpl"

local proc = require "proc"
local self_pid, children, running = proc.self_pid, proc.children, proc.running

-- run a Lua chunk in a fresh mpl with the given options; stdout, status
local function mpl(opts, code)
  local file = os.tmpname()
  local f = assert(io.open(file, "w"))
  f:write(code)
  f:close()
  local p = io.popen(string.format("timeout 60 %s %s %s 2>&1; echo \"status=$?\"",
                                   MPL, opts, file))
  local out = p:read("a")
  p:close()
  os.remove(file)
  local status = tonumber(out:match("status=(%d+)%s*$"))
  return out:gsub("status=%d+%s*$", ""), status
end

-- The side of a square product that keeps two workers busy for about
-- `seconds`: from this process's own rate on a single-threaded product
-- (the CPU, its kernel and its load vary), between 1000 and 8000.
local function busy_side(seconds)
  local a = mat.rand(400, 400)
  mat.dot(a, a, {procs = 1})
  local best = math.huge
  for _ = 1, 3 do
    local t = mat.clock()
    mat.dot(a, a, {procs = 1})
    best = math.min(best, mat.clock() - t)
  end
  local rate = 2 * 400 ^ 3 / best
  local n = math.floor((rate * 2 * seconds / 2) ^ (1 / 3))
  return math.max(1000, math.min(8000, n))
end

describe("mat.dot", function()
  it("gives the same bits for every procs, through the workers", function()
    mat.seed(3)
    for _, shape in ipairs{{500, 500, 500}, {333, 421, 129}, {61, 3000, 77}} do
      local a, b = mat.randn(shape[1], shape[2]), mat.randn(shape[2], shape[3])
      local ref = mat.dot(a, b, {procs = 1})
      for p = 2, 4 do
        assert.is_true(ref == mat.dot(a, b, {procs = p}), "procs " .. p)
      end
      assert.is_true(ref == a * b)
    end
  end)

  it("gives the same bits for every procs on a product cut along k", function()
    -- few rows, a long inner dimension: dot.c sums fixed chunks of k
    mat.seed(5)
    local a, b = mat.randn(20000, 50):t(), mat.randn(20000, 60)
    local ref = mat.dot(a, b, {procs = 1})
    local big = mat.new(52, 62, 7)
    local out = big:sub(2, 51, 2, 61)
    for p = 2, 4 do
      assert.is_true(ref == mat.dot(a, b, {procs = p}), "procs " .. p)
      assert.are.equal(out, mat.dot(a, b, {procs = p, out = out}))
      assert.is_true(ref == out, "out, procs " .. p)
    end
    for _, edge in ipairs{big:sub(1, 1, 1, 62), big:sub(52, 52, 1, 62),
                          big:sub(1, 52, 1, 1), big:sub(1, 52, 62, 62)} do
      assert.are.equal(0, (edge - 7):abs():sum()) -- sentinels untouched
    end
    assert.is_true(ref == a * b)
    assert.is_true(mat.allclose(ref, mat.dot(a:copy(), b, {procs = 1})))
  end)

  it("writes into opts.out, a view, and returns it", function()
    local a, b = mat.from{{1, 2}, {3, 4}}, mat.from{{5, 6}, {7, 8}}
    local big = mat.new(4, 4, -1)
    local out = big:sub(2, 3, 2, 3)
    local r = mat.dot(a, b, {out = out, procs = 2})
    assert.are.equal(out, r)
    assert.are.same({{-1, -1, -1, -1}, {-1, 19, 22, -1}, {-1, 43, 50, -1},
                     {-1, -1, -1, -1}}, big:totable())
  end)

  it("takes transposed views without copying them", function()
    local a = mat.range(1, 6):reshape(2, 3)
    assert.are.same({{14, 32}, {32, 77}}, (a * a:t()):totable())
    assert.are.same({{17, 22, 27}, {22, 29, 36}, {27, 36, 45}},
                    mat.dot(a:t(), a):totable())
  end)

  it("names both shapes on a mismatch", function()
    local a, b = mat.new(3, 4), mat.new(5, 6)
    assert.has_error(function() mat.dot(a, b) end,
                     "mat.dot: shape mismatch: 3x4 * 5x6")
    assert.has_error(function() return a * b end,
                     "a * b: shape mismatch: 3x4 * 5x6")
    assert.has_error(function() mat.dot(a, mat.new(4, 2), {out = mat.new(2, 2)}) end,
                     "mat.dot: out is 2x2, the product is 3x2")
  end)

  it("checks its options", function()
    local a = mat.eye(2)
    assert.has_error(function() mat.dot(a, a, 5) end,
                     "mat.dot: opts must be a table (got number)")
    assert.has_error(function() mat.dot(a, a, {procs = 0}) end,
                     "mat.dot: opts.procs must be between 1 and 4096 (got 0)")
    assert.has_error(function() mat.dot(a, a, {procs = 1.5}) end,
                     "mat.dot: opts.procs must be an integer (got 1.5)")
    assert.has_error(function() mat.dot(a, a, {out = 5}) end,
                     "mat.dot: opts.out must be a matrix (got number)")
    assert.has_error(function() mat.dot(a, "x") end,
                     "mat.dot: bad argument #2 (matrix expected, got string)")
  end)
end)

describe("the worker pool", function()
  it("starts its workers on mat.procs(n) and reuses them", function()
    local out = mpl("-p 2", [[
      print(#mat.workers())
      mat.procs(3)
      local w = mat.workers()
      print(#w)
      local a = mat.rand(400, 400)
      local c = a * a
      local again = mat.workers()
      print(w[1] == again[1] and w[3] == again[3])
    ]])
    assert.are.equal("0\n3\ntrue\n", out)
  end)

  it("never forks with procs = 1", function()
    local out, status = mpl("-p 1", [[
      local a = mat.rand(600, 600)
      local c = a * a
      c = mat.dot(a, a, {procs = 1})
      local f = io.open("/proc/self/stat"); local pid = f:read("n"); f:close()
      f = io.open(("/proc/%d/task/%d/children"):format(pid, pid))
      print(#mat.workers(), (f:read("a"):gsub("%s", "")))
    ]])
    assert.are.equal(0, status)
    assert.are.equal("0\t\n", out)
  end)

  it("raises naming a worker killed mid-call, then works again", function()
    mat.procs(2)
    local n = busy_side(3)
    local a = mat.rand(n, n)
    local out = mat.new(n, n)
    local pids = mat.workers() -- the two that a procs = 2 call uses first
    assert.is_true(#pids >= 2)
    -- killed once it has been computing for 5 clock ticks (so with the
    -- job in hand, however long the call took to post it), plus a moment
    local ticks = "awk '{print $14 + $15}' /proc/%d/stat 2>/dev/null || echo 1000000"
    os.execute(string.format(
      "(b=$(" .. ticks .. "); while [ $(" .. ticks .. ") -lt $((b + 5)) ]; " ..
      "do sleep 0.01; done; sleep 0.1; kill -9 %d) &",
      pids[2], pids[2], pids[2]))
    local t0 = mat.clock()
    local ok, err = pcall(mat.dot, a, a, {out = out})
    assert.is_false(ok)
    assert.are.equal(string.format(
      "mat.dot: worker 2 (pid %d) was killed by signal 9 (Killed)", pids[2]), err)
    assert.is_true(mat.clock() - t0 < 30)
    -- the other worker was stopped too, and the next call is right
    for _ = 1, 100 do
      if not running(pids[1]) then break end
      os.execute("sleep 0.01")
    end
    assert.is_false(running(pids[1]))
    local next = mat.rand(400, 400) -- large enough for the workers
    assert.is_true(mat.dot(next, next, {procs = 2}) ==
                   mat.dot(next, next, {procs = 1}))
    assert.is_true(#mat.workers() >= 2)
    assert.are_not.equal(pids[1], mat.workers()[1])
  end)

  it("stops on Ctrl-C (SIGINT) with \"interrupted\", workers and all", function()
    local file, mark = os.tmpname(), os.tmpname()
    local n = busy_side(5)
    local f = assert(io.open(file, "w"))
    f:write(string.format([[
      mat.procs(2)
      local a = mat.rand(%d, %d)
      io.stderr:write("workers ", table.concat(mat.workers(), " "), "\n")
      io.stderr:flush()
      io.open(%q, "w"):close() -- the product starts now
      local c = mat.dot(a, a)
      print("finished")
    ]], n, n, mark))
    f:close()
    os.remove(mark)
    -- SIGINT once the product has started: after the script marked it
    -- (however long making `a` took on a loaded machine), plus a moment
    -- (no `timeout` wrapper: it would receive the signal instead; a
    -- watchdog kills a hung run instead)
    local p = io.popen(string.format(
      "%s %s 2>&1 & pid=$!; (sleep 60; kill -9 $pid) >/dev/null 2>&1 & dog=$!; " ..
      "for i in $(seq 500); do [ -e %s ] && break; sleep 0.05; done; sleep 0.3; " ..
      "kill -INT $pid; wait $pid; echo status=$?; kill $dog 2>/dev/null",
      MPL, file, mark))
    local out = p:read("a")
    p:close()
    os.remove(file)
    os.remove(mark)
    assert.is_nil(out:find("finished"))
    assert.is_truthy(out:find("interrupted"))
    assert.is_truthy(out:find("status=1"))
    for pid in out:match("workers ([%d ]+)"):gmatch("%d+") do
      for _ = 1, 100 do
        if not running(tonumber(pid)) then break end
        os.execute("sleep 0.01")
      end
      assert.is_false(running(tonumber(pid)))
    end
  end)

  local function interrupted_run(code) return proc.interrupted_run(MPL, code) end

  it("delivers Ctrl-C once: a pcall that caught it goes on", function()
    local n = busy_side(5)
    local out = interrupted_run(string.format(
      "mat.procs(2) local A, C = mat.rand(%d, %d), mat.new(%d, %d) " ..
      "io.open(mark, 'w'):close() " ..
      "local ok, e = pcall(mat.dot, A, A, {procs = 2, out = C}) print(ok, e) " ..
      "print('after')", n, n, n, n))
    assert.are.equal("false\tmat.dot: interrupted\nafter\nstatus=0\n", out)
    -- mat.map the same
    out = interrupted_run(
      "io.open(mark, 'w'):close() " ..
      "local ok, e = pcall(mat.map, function(i) while true do end end, 4, " ..
      "{procs = 2}) print(ok, e) print('after')")
    assert.are.equal("false\tmat.map: interrupted\nafter\nstatus=0\n", out)
    -- a Lua loop: the interpreter's own error, caught once
    out = interrupted_run(
      "io.open(mark, 'w'):close() " ..
      "local ok, e = pcall(function() while true do end end) print(ok, e) " ..
      "print('after')")
    assert.is_truthy(out:find("^false\t.*interrupted!\nafter\nstatus=0\n$"), out)
  end)

  it("stops a product in one process at Ctrl-C, between its row blocks", function()
    local n = busy_side(40) -- about 40 s of work in one process
    local out = interrupted_run(string.format(
      "local A, C = mat.rand(%d, %d), mat.new(%d, %d) " ..
      "io.open(mark, 'w'):close() local t = mat.clock() " ..
      "local ok, e = pcall(mat.dot, A, A, {procs = 1, out = C}) " ..
      "print(ok, e, mat.clock() - t < 15) print('after')", n, n, n, n))
    assert.are.equal("false\tmat.dot: interrupted\ttrue\nafter\nstatus=0\n", out)
  end)

  it("leaves no worker behind when the script ends", function()
    local out = mpl("-p 2", [[
      mat.procs(2)
      print(table.concat(mat.workers(), " "))
    ]])
    local pids = {}
    for p in out:gmatch("%d+") do pids[#pids + 1] = tonumber(p) end
    assert.are.equal(2, #pids)
    for _ = 1, 100 do
      if not running(pids[1]) and not running(pids[2]) then break end
      os.execute("sleep 0.01")
    end
    assert.is_false(running(pids[1]))
    assert.is_false(running(pids[2]))
  end)

  it("is the only family of processes mpl starts", function()
    local mine = children(self_pid())
    mat.procs(2)
    local now = children(self_pid())
    assert.is_true(#now <= #mine + 1) -- at most the forkserver
  end)
end)
