-- Busted spec for memory safety when a call runs Lua code that closes its
-- operands: a garbage-collector step running a __gc finalizer, an `opts`
-- table whose __index closes an operand, m:apply's function closing its
-- own matrix.  Every entry point that takes matrices and can run Lua code
-- is called both ways; the call must give the result it gives on
-- untouched operands (or a clean error), never read freed memory (the ASan
-- build checks that), and the operand must be closed afterwards.  Also:
-- N x 0 and 0 x N matrices of huge N in every row loop, and the messages.

local mat = require "mat"

local tmpdir = os.getenv("TMPDIR") or "/tmp"

-- the same numbers: equal shapes and elements (NaN matches NaN)
local function same(a, b)
  if type(a) ~= "userdata" then
    assert.is_true(a == b or (a ~= a and b ~= b), tostring(a) .. " vs " .. tostring(b))
    return
  end
  assert.same({ a:shape() }, { b:shape() })
  assert.is_true(mat.allclose(a, b, 0, 0), "results differ")
end

-- Operands: a, b random square (n x n, large enough that a result makes
-- the collector step), spd symmetric positive definite.
local n = 200
local function operands()
  mat.seed(7)
  local a, b = mat.rand(n, n), mat.rand(n, n)
  local spd = mat.dot(a:t(), a) + mat.eye(n) * n
  return { a = a, b = b, spd = spd }
end

-- Every entry point: name, the call on operands x (a table of matrices)
-- and opts (nil or a table), and which operand it closes.
local cases = {
  { "mat.dot", function(x, o) return mat.dot(x.a, x.b, o) end },
  { "a * b", function(x) return x.a * x.b end },
  { "m * s", function(x) return x.a * 2 end },
  { "mat.solve", function(x) return mat.solve(x.spd, x.b) end },
  { "mat.svd", function(x, o) return (mat.svd(x.a, o)) end },
  { "mat.lstsq", function(x, o) return (mat.lstsq(x.a, x.b, o)) end },
  { "m:inv", function(x) return x.spd:inv() end },
  { "m:det", function(x) return x.spd:det() end },
  { "m:chol", function(x) return x.spd:chol() end },
  { "m:eigh", function(x) return (x.spd:eigh()) end },
  { "mat.add", function(x, o) return mat.add(x.a, x.b, o) end },
  { "a + b", function(x) return x.a + x.b end },
  { "a - b", function(x) return x.a - x.b end },
  { "-a", function(x) return -x.a end },
  { "a ^ 2", function(x) return x.a ^ 2 end },
  { "m:div", function(x, o) return x.a:div(x.b, o) end },
  { "mat.exp", function(x, o) return mat.exp(x.a, o) end },
  { "m:sum", function(x) return x.a:sum() end },
  { "m:sum(1)", function(x) return x.a:sum(1) end },
  { "m:max(2)", function(x) return x.a:max(2) end },
  { "m:norm", function(x) return x.a:norm() end },
  { "mat.allclose", function(x) return mat.allclose(x.a, x.b) end },
  { "m:diag", function(x) return x.a:diag() end },
  { "m:copy", function(x) return x.a:copy() end },
  { "m:t", function(x) return x.a:t():copy() end },
  { "m:reshape", function(x) return x.a:t():reshape(n * n, 1) end },
  { "m:sub", function(x) return x.a:sub(2, n, 2, n):copy() end },
  { "mat.from", function(x) return mat.from(x.a) end },
  { "tostring", function(x) return tostring(x.a) end },
  { "m:totable", function(x) return mat.from(x.a:totable()) end },
  { "mat.ragged", function(x) return mat.ragged(x.a:reshape(1, n * n), { n * n }):values():copy() end },
  { "m[i] = v", function(x) local c = mat.zeros(2, n); c[1] = x.a[1]; return c end },
}

local function describe_result(r)
  return type(r) == "string" and #r or r
end

describe("operands closed during a call", function()
  local reference = {}
  setup(function()
    for _, c in ipairs(cases) do
      local r = c[2](operands())
      reference[c[1]] = type(r) == "userdata" and r:copy() or describe_result(r)
    end
  end)

  for _, c in ipairs(cases) do
    it(c[1] .. " survives a finalizer that closes its operands", function()
      -- The issue's repro: the operands are reachable only through values
      -- whose finalizer closes them; the call's own allocations run it.
      local x = operands()
      local ran = false
      do
        local holder = setmetatable({ x = x }, { __gc = function(h)
          for _, m in pairs(h.x) do m:close() end
          ran = true
        end })
        holder = nil -- luacheck: ignore
      end
      local ok, r = pcall(function()
        -- a full cycle inside the call: collectgarbage from a metamethod
        -- the call runs (opts), else the call's own pressure steps
        local o = setmetatable({}, { __index = function() collectgarbage() end })
        return c[2](x, o)
      end)
      if not ran then collectgarbage() end
      assert.is_true(ran)
      if ok then -- the operands were taken before the finalizer ran
        same(type(r) == "userdata" and r or describe_result(r), reference[c[1]])
      else -- the finalizer ran first: closed at entry
        assert.matches("attempt to use a closed matrix$", r)
      end
      assert.has_error(function() return x.a + 1 end,
                       "attempt to use a closed matrix")
    end)

    it(c[1] .. " survives an opts __index that closes its operands", function()
      local x = operands()
      local o = setmetatable({}, { __index = function()
        for _, m in pairs(x) do m:close() end
      end })
      -- operands closed in __index of a table the call reads: m:apply's
      -- style (below) for calls that read none
      local ok, r = pcall(c[2], x, o)
      if ok then
        local want = reference[c[1]]
        same(type(r) == "userdata" and r or describe_result(r), want)
      else
        assert.matches("attempt to use a closed matrix$", r)
      end
    end)
  end

  it("the issue's repro: mat.dot on an operand its finalizer closes", function()
    local function w()
      local t = setmetatable({ m = mat.rand(400, 400) },
                             { __gc = function(s) s.m:close() end })
      return t.m
    end
    local W = w()
    local ref = W:copy()
    local ok, r = pcall(mat.dot, W, W)
    assert.is_true(ok, tostring(r))
    collectgarbage()
    assert.is_true(mat.allclose(r, mat.dot(ref, ref), 0, 0))
  end)

  it("mat.svd with an opts __index closing the operand gives the right result", function()
    local a = mat.rand(50, 50)
    local u0, s0, v0 = mat.svd(a:copy())
    local u, s, v = mat.svd(a, setmetatable({}, { __index = function() a:close() end }))
    assert.is_true(mat.allclose(s, s0, 0, 0))
    assert.is_true(mat.allclose(u, u0, 0, 0) and mat.allclose(v, v0, 0, 0))
    assert.is_true(s:sum() > 0)
    assert.equal("mat (closed)", tostring(a))
  end)

  it("arithmetic into opts.out survives closing out and the operands", function()
    local a, b, out = mat.rand(n, n), mat.rand(n, n), mat.zeros(n, n)
    local want = a + b
    -- mat.add reads opts.out twice: whether it is there, then the value
    -- (after the operands are taken); the second read closes everything
    local reads = 0
    local o = setmetatable({}, { __index = function(_, k)
      if k ~= "out" then return nil end
      reads = reads + 1
      if reads == 2 then a:close(); b:close(); out:close() end
      return out
    end })
    -- out is taken after it is closed: closed at entry
    assert.has_error(function() mat.add(a, b, o) end,
                     "attempt to use a closed matrix")
    assert.equal(2, reads)
    -- the same with an out that stays open: the sum is right
    local out2, a2, b2 = mat.zeros(n, n), want:copy(), mat.zeros(n, n)
    reads = 0
    local o2 = setmetatable({}, { __index = function(_, k)
      if k ~= "out" then return nil end
      reads = reads + 1
      if reads == 2 then a2:close(); b2:close() end
      return out2
    end })
    mat.add(a2, b2, o2)
    assert.is_true(mat.allclose(out2, want, 0, 0))
  end)

  it("m:apply survives its function closing the matrix and out", function()
    local m = mat.rand(30, 30)
    local want = m * 2
    local r = m:apply(function(v) m:close() return 2 * v end)
    assert.is_true(mat.allclose(r, want, 0, 0))
    assert.equal("mat (closed)", tostring(m))
    local out = mat.zeros(30, 30)
    local m2 = want:copy()
    local r2 = m2:apply(function(v) out:close() return v end, { out = out })
    assert.equal("mat (closed)", tostring(r2))
  end)

  it("mat.save survives an opts __index closing the matrix", function()
    local m = mat.rand(50, 5)
    local want = m:copy()
    local path = os.tmpname() .. ".csv"
    mat.save(path, m, setmetatable({}, { __index = function() m:close() end }))
    assert.is_true(mat.allclose(mat.load(path), want, 1e-15, 0))
    os.remove(path)
  end)

  it("mat.map runs over matrices its finalizers close", function()
    local items = {}
    for i = 1, 4 do items[i] = mat.ones(10, 10) * i end
    local ok, r = pcall(mat.map, function(m) return m:sum() end, items,
      setmetatable({}, { __index = function()
        for _, m in ipairs(items) do m:close() end
      end }))
    -- the workers see the items as the caller left them: closed
    assert.is_false(ok)
    assert.matches("^mat%.map: item %d+: .*attempt to use a closed matrix", r)
  end)

  it("a closed matrix met at entry raises", function()
    local a = mat.ones(2, 2)
    a:close()
    for _, f in ipairs({ function() return mat.dot(a, a) end,
                         function() return a + 1 end,
                         function() return a:sum() end,
                         function() return mat.svd(a) end,
                         function() return mat.save(os.tmpname(), a) end,
                         function() return a:apply(print) end }) do
      assert.has_error(f, "attempt to use a closed matrix")
    end
  end)

  it("a coroutine that died by an error inside a call leaks no pin", function()
    local m = mat.rand(100, 100)
    local co = coroutine.create(function() return mat.dot(m, mat.ones(3, 3)) end)
    local ok, err = coroutine.resume(co)
    assert.is_false(ok)
    assert.matches("shape mismatch", err)
    -- the next call of the same function reuses the dead call's frame
    assert.equal(100, mat.dot(m, mat.ones(100, 1)):shape())
  end)
end)

describe("messages", function()
  it("name the function and what is wrong, exactly", function()
    local m = mat.ones(2, 2)
    local R = mat.ragged { { 1, 2 }, { 3 } }
    assert.has_error(function() R.foo = 1 end,
                     "R[k] = v: a ragged has no settable fields (got key 'foo')")
    assert.has_error(function() R[1] = 1 end,
                     "R[i] = v: a ragged's items cannot be replaced (write into the view R[i] instead)")
    assert.has_error(function() m[true] = 1 end,
                     "m[k] = v: index must be an integer (got boolean)")
    assert.has_error(function() m[mat.ones(3, 2)] = 1 end,
                     "m[mask] = v: mask is 3x2, the matrix is 2x2")
    assert.has_error(function() m.foo = 1 end,
                     "m[k] = v: cannot set field 'foo' of a matrix")
    assert.has_error(function() m.close() end,
                     "m:close: bad argument #1 (matrix expected, got no value; call it as m:close())")
    assert.has_error(function() m.close(5) end,
                     "m:close: bad argument #1 (matrix expected, got 5; call it as m:close())")
    assert.has_error(function() R.close() end,
                     "R:close: bad argument #1 (mat.ragged expected, got no value; call it as R:close())")
    assert.has_error(function() mat.new(2, 0 / 0) end,
                     "mat.new: cols must be a non-negative integer (got nan)")
    assert.has_error(function() mat.new(2, -(0 / 0)) end,
                     "mat.new: cols must be a non-negative integer (got nan)")
    assert.has_error(function() mat.new(2, 2, mat.ones(1, 1)) end,
                     "mat.new: fill value must be a number (got matrix)")
    assert.has_error(function() m:set(1, 1, mat.ones(1, 1)) end,
                     "m:set: value must be a number (got matrix)")
    assert.has_error(function() mat.new(2, 2, R) end,
                     "mat.new: fill value must be a number (got mat.ragged)")
    assert.has_error(function() mat.dot(m, m, 5) end,
                     "mat.dot: opts must be a table (got number)")
    assert.has_error(function() mat.save(5, m) end,
                     "mat.save: bad argument #1 (path expected, got number)")
    assert.has_error(function() mat.load({}) end,
                     "mat.load: bad argument #1 (path expected, got table)")
    assert.has_error(function() mat.load("x.csv", 5) end,
                     "mat.load: opts must be a table (got number)")
  end)

  it("keep the position of the Lua code that made the call", function()
    local ok, err = pcall(function() return mat.dot(mat.ones(2, 3), mat.ones(2, 2)) end)
    assert.is_false(ok)
    assert.matches("^[^:]*safety_spec%.lua:%d+: mat%.dot: shape mismatch: 2x3 %* 2x2$", err)
  end)
end)

-- Run a chunk in a fresh mpl under `timeout`; its exit status and output.
local MPL = os.getenv("MPL_BIN") or "mpl"
local function run_chunk(code, secs)
  local f = os.tmpname()
  local h = assert(io.open(f, "w"))
  h:write(code)
  h:close()
  local p = io.popen(string.format("timeout %d %s %s 2>&1; echo \"rc=$?\"", secs, MPL, f))
  local out = p:read("a")
  p:close()
  os.remove(f)
  return tonumber(out:match("rc=(%d+)\n$")), out
end

describe("N x 0 and 0 x N matrices of huge N", function()
  it("go through every row loop at once (a hang is killed by a timeout)", function()
    local rc, out = run_chunk([[
      local N = 1 << 62
      local shapes = { mat.zeros(N, 0), mat.zeros(0, N), mat.zeros(0, N):t(),
                       mat.zeros(N, 0):t() }
      for k, m in ipairs(shapes) do
        local r, c = m:shape()
        assert(m:apply(function() error("called") end):shape() == r)
        assert(m:norm() == 0 and m:sum() == 0 and m:trace() == 0)
        assert(m:copy():shape() == r and mat.from(m):shape() == r)
        assert(m == m:copy() and mat.allclose(m, m))
        assert((m + m):shape() == r and (-m):shape() == r and (m * 2):shape() == r)
        assert(m:exp():shape() == r and mat.add(m, m, { out = m }) == m)
        assert(tostring(m) == string.format("mat %dx%d\n[]", r, c))
        assert(m:diag():shape() == 1)
        if r == 0 then assert(#m:totable() == 0) end
        if c == 0 then assert(m:sum(1):shape() == 1) end
        if r == 0 then assert(m:sum(2):shape() == 0) end
        m:close()
      end
      print("all done")
    ]], 60)
    assert.equal(0, rc, out)
    assert.matches("all done", out)
  end)
end)

-- Run a shell command line under `timeout`: exit status and output.
local function sh(cmd, secs)
  local p = io.popen(string.format("timeout -k 5 %d bash -c %q 2>&1; echo \"rc=$?\"",
                                   secs, cmd))
  local out = p:read("a")
  p:close()
  return tonumber(out:match("rc=(%d+)\n$")), out
end

describe("start-up under tight limits", function()
  -- AddressSanitizer reserves terabytes of shadow memory: it cannot run
  -- under ulimit -v at all, so the address-space cases run in the normal
  -- build only.
  local asan = os.getenv("MPL_SANITIZE") == "1"

  -- OpenBLAS loads without its thread pool under these limits, and the
  -- variable is put back after: scripts see the environment they were given.
  it("ulimit -v: a clear error or a working mpl, never a hang or an empty reason", function()
    if asan then return pending("AddressSanitizer cannot run under ulimit -v") end
    for _, kb in ipairs({ 100000, 200000 }) do
      local rc, out = sh("ulimit -v " .. kb .. "; " .. MPL .. " -e 'print(mat.ones(2, 2):sum())'", 30)
      assert.equal(1, rc, out)
      assert.matches("^mpl: mat: not enough memory for [^\n]+ %(", out)
    end
    for _, kb in ipairs({ 300000, 400000, 500000 }) do
      local rc, out = sh("ulimit -v " .. kb .. "; " .. MPL ..
                   " -e 'print(mat.ones(2, 2):sum(), os.getenv(\"OPENBLAS_NUM_THREADS\"), mat.blas().threads)'", 30)
      assert.equal(0, rc, kb .. ": " .. out)
      assert.equal("4.0\tnil\t1\n", out:gsub("rc=%d+\n$", ""))
    end
  end)

  -- OpenBLAS's work buffer is made before the arena takes the rest of the
  -- address space: a product in a worker or in-process used to retry its
  -- allocation forever.
  it("ulimit -v: products on workers and in-process finish", function()
    if asan then return pending("AddressSanitizer cannot run under ulimit -v") end
    for _, kb in ipairs({ 300000, 500000 }) do
      local rc, out = sh("ulimit -v " .. kb .. "; " .. MPL .. " -e '" ..
        "local a = mat.rand(600, 600) local want = mat.dot(a, a, {procs = 1}) " ..
        "local ok, r = pcall(mat.dot, a, a, {procs = 2}) " ..
        "print(ok and mat.allclose(r, want, 0, 0) or r, mat.solve(a, a):trace())'", 60)
      assert.equal(0, rc, kb .. ": " .. out)
      -- trace(solve(a, a)) is 600 up to rounding, which depends on the draw
      local ok, tr = out:match("^(%S+)\t(%S+)")
      assert.equal("true", ok, out)
      assert.is_true(math.abs(tonumber(tr) - 600) < 1e-6, out)
    end
  end)

  -- Stock lua5.4 loading mat.so gets the same start-up as mpl (the
  -- interpreter is not instrumented: normal build only).
  it("stock lua5.4 with mat.so under ulimit -v", function()
    if asan then return pending("the sanitizer build's mat.so needs an instrumented lua5.4") end
    if not os.execute("command -v lua5.4 >/dev/null") then return pending("no lua5.4") end
    local dir = os.getenv("MPL_MODULE_DIR") or "."
    local rc, out = sh("ulimit -v 300000; lua5.4 -e \"package.cpath = '" .. dir ..
      "/?.so;' .. package.cpath; local mat = require 'mat'; local a = mat.rand(600, 600); " ..
      "local ok, r = pcall(mat.dot, a, a, {procs = 2}); " ..
      "print(mat.blas().threads, ok and mat.allclose(r, mat.dot(a, a, {procs = 1}), 0, 0) or r)\"", 60)
    assert.equal(0, rc, out)
    assert.equal("1\ttrue\n", out:gsub("rc=%d+\n$", ""))
  end)

  it("ulimit -u 2 as an unprivileged user: starts, and a parallel call says why it cannot", function()
    local who = io.popen("id -u"):read("l")
    local prefix
    if who == "0" then
      if not os.execute("command -v setpriv >/dev/null") then
        return pending("setpriv not installed")
      end
      prefix = "setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c "
    else
      prefix = "bash -c "
    end
    -- LeakSanitizer's exit check needs a thread of its own, which the
    -- limit refuses: in the sanitizer build it is off for this one run
    local lsan = asan and "export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\"; " or ""
    -- -p 1: start serial (nobody's other processes, if any, count against
    -- the limit too), then ask for workers
    local script = lsan .. "ulimit -u 2; " .. MPL .. " -p 1 -e '" ..
      "print(mat.ones(2, 2):sum()); print(pcall(mat.procs, 2)); " ..
      "local a = mat.ones(800, 800); print(pcall(mat.dot, a, a, {procs = 2}))'"
    local rc, out = sh(prefix .. string.format("%q", script), 60)
    assert.equal(0, rc, out)
    assert.matches("^4%.0\n", out)
    assert.matches("\nfalse\tmat%.procs: cannot start [%w ]+: Resource temporarily unavailable\n", out)
    -- the pool's helper or its workers, whichever the limit stops first
    assert.matches("\nfalse\tmat%.dot: cannot start [%w ]+: Resource temporarily unavailable\n", out)
    assert.is_nil(out:find("OpenBLAS"), out)
  end)

  -- As nobody (root ignores RLIMIT_NPROC), with no room for a single extra
  -- process or thread: a clear error, never a signal or a hang.
  local function as_nobody()
    if io.popen("id -u"):read("l") ~= "0" then return "bash -c " end
    if not os.execute("command -v setpriv >/dev/null") then return nil end
    return "setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c "
  end

  it("ulimit -u 1 as an unprivileged user: a clear error or a serial mpl", function()
    local prefix = as_nobody()
    if not prefix then return pending("setpriv not installed") end
    -- bash cannot fork under this limit: each mpl replaces it (exec)
    local function run(args)
      return sh(prefix .. string.format("%q", "ulimit -u 1; export ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0; exec " .. MPL .. " " .. args), 60)
    end
    -- more than one worker (the default on several CPUs) is refused by name
    local rc, out = run("-e 'print(mat.ones(2, 2):sum())'")
    assert.is_truthy((rc == 0 and out:match("^4%.0\nrc=0\n$")) or
                     (rc == 1 and out:match("^mpl: mat: cannot start the worker pool: Resource temporarily unavailable\n")), out)
    -- one worker: a serial mpl, products included
    rc, out = run("-p 1 -e 'local a = mat.ones(300, 300) print(mat.dot(a, a):sum(), mat.blas().threads)'")
    assert.equal(0, rc, out)
    assert.equal("27000000.0\t1\n", out:gsub("rc=%d+\n$", ""))
    assert.is_nil(out:find("OpenBLAS"), out)
  end)

  it("stock lua5.4 with mat.so as an unprivileged user under ulimit -u 2", function()
    if asan then return pending("the sanitizer build's mat.so needs an instrumented lua5.4") end
    if not os.execute("command -v lua5.4 >/dev/null") then return pending("no lua5.4") end
    local prefix = as_nobody()
    if not prefix then return pending("setpriv not installed") end
    local dir = os.getenv("MPL_MODULE_DIR") or "."
    local script = "ulimit -u 2; lua5.4 -e \"package.cpath = '" .. dir ..
      "/?.so;' .. package.cpath; local mat = require 'mat'; local a = mat.ones(300, 300); " ..
      "print(mat.blas().threads, pcall(mat.dot, a, a, {procs = 2})); print(mat.dot(a, a, {procs = 1}):sum())\""
    local rc, out = sh(prefix .. string.format("%q", script), 60)
    assert.equal(0, rc, out)
    -- a product this small may run in-process; a parallel one is refused
    assert.is_truthy(out:match("^1\ttrue\tmat 300x300\n") or
                     out:match("^1\tfalse\tmat%.dot: cannot start [%w ]+: Resource temporarily unavailable\n"), out)
    assert.matches("\n27000000%.0\nrc=0\n$", out)
    assert.is_nil(out:find("OpenBLAS"), out)
  end)
end)

-- Ctrl-C during one long call over a big matrix: the core's loops look for
-- the interrupt every MPL__TICK elements, so the call ends with its
-- "interrupted" error at once, a pcall catches it once, and the script
-- goes on (a later call is not disturbed).  The sizes come from rates
-- measured in the script itself, for calls of about 2.5 s.
describe("Ctrl-C in long loops over elements", function()
  -- SIGINT to `mpl -p 1 -e code` once the code marked the start of its
  -- long call (tests/lib/proc.lua)
  local function interrupted_run(code)
    return require("proc").interrupted_run(MPL .. " -p 1", code)
  end

  -- seconds per unit of work: make(k) returns the call doing k units,
  -- timed alone; k grows until it takes long enough to time
  local rate = [[
    local function per_unit(make)
      local k = 1 << 16
      while true do
        local call = make(k)
        local t0 = mat.clock()
        call()
        local dt = mat.clock() - t0
        if dt > 0.1 then return dt / k end
        k = k * 4
      end
    end
  ]]

  it("stops a reduction (broadcast allclose over n x n pairs)", function()
    local out = interrupted_run(rate .. [[
      local s = per_unit(function(k)
        local m = math.floor(math.sqrt(k))
        local a, b = mat.ones(1, m), mat.ones(m, 1)
        return function() mat.allclose(a, b) end
      end)
      local n = math.floor(math.sqrt(2.5 / s))
      local a, b = mat.ones(1, n), mat.ones(n, 1)
      io.open(mark, 'w'):close()
      print(pcall(mat.allclose, a, b))
      print('after', mat.allclose(mat.ones(1, 64), mat.ones(64, 1)), mat.ones(2, 2):sum())
    ]])
    assert.are.equal("false\tmat.allclose: interrupted\nafter\ttrue\t4.0\nstatus=0\n", out)
  end)

  it("stops elementwise work in place (m:pow with out = m)", function()
    local out = interrupted_run(rate .. [[
      local s = per_unit(function(k)
        local m = mat.rand(1, k)
        return function() m:pow(2.5, {out = m}) end
      end)
      local n = math.floor(2.5 / s)
      local a = mat.rand(1, n)
      io.open(mark, 'w'):close()
      print(pcall(a.pow, a, 2.5, {out = a}))
      print('after', (mat.ones(2, 2) ^ 2):sum())
    ]])
    assert.are.equal("false\tm:pow: interrupted\nafter\t4.0\nstatus=0\n", out)
  end)
end)
