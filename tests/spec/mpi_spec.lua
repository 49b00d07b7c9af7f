-- mat.mpi under Open MPI's mpirun: ranks, moving values, row-distributed
-- products with the same bits for every number of ranks and workers, and
-- failures that end the job instead of hanging.  Every run is under
-- `timeout`; as root (CI containers) Open MPI needs the two ALLOW
-- variables; --oversubscribe lets 4 ranks run on 2 cores; vader's single
-- copy mechanism needs ptrace, which containers may forbid, so it is off.
local proc = require "proc"

local bin = assert(os.getenv("MPL_BIN"), "MPL_BIN not set")
local moddir = os.getenv("MPL_MODULE_DIR")
local sanitize = os.getenv("MPL_SANITIZE") == "1"

local function sh(cmd)
  local f = io.popen(cmd .. " 2>&1; echo \"status=$?\"")
  local out = f:read("a")
  f:close()
  local status = tonumber(out:match("status=(%d+)\n$"))
  return out:gsub("status=%d+\n$", ""), status
end

local has_mpi = select(2, sh("ldd " .. bin .. " | grep -q libmpi")) == 0 and
  select(2, sh("command -v mpirun")) == 0

local ENV = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " ..
  "OMPI_MCA_rmaps_base_oversubscribe=1 ASAN_OPTIONS=detect_leaks=0 "
local MCA = "--oversubscribe --mca btl_vader_single_copy_mechanism none"

local function script(code)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  return path
end

-- Run code on np ranks (np = 0: plain mpl, no launcher); output, status.
local function mpirun(np, code, extra, limit)
  local path = script(code)
  local cmd
  if np == 0 then
    cmd = ("%s timeout %d %s %s"):format(ENV, limit or 60, bin, path)
  else
    cmd = ("%s timeout %d mpirun %s %s -np %d %s %s"):format(
      ENV, limit or 60, MCA, extra or "", np, bin, path)
  end
  local out, status = sh(cmd)
  os.remove(path)
  return out, status
end

-- The lines a run printed that start with "R<rank> ", by rank.
local function by_rank(out)
  local t = {}
  for r, line in out:gmatch("R(%d+) ([^\n]*)") do t[tonumber(r)] = line end
  return t
end

if not has_mpi then
  describe("mat.mpi", function()
    it("is skipped: this build has MPI off (MPL_MPI=OFF or Open MPI not found)", function()
      print("\nmpi_spec: SKIPPED, this build has MPI off")
    end)
  end)
  return
end

describe("mat.mpi starting", function()
  it("is one rank without a launcher, and every call still works", function()
    local out, status = mpirun(0, [[
      local mpi = mat.mpi
      assert(mpi.rank == 0 and mpi.size == 1)
      assert(mpi.bcast(7) == 7)
      assert(mpi.allreduce(2.5) == 2.5)
      local v = mpi.vcat(mat.eye(3))
      assert(v == mat.eye(3))
      assert(mpi.gather("x")[1] == "x")
      local r1, r2 = mpi.rows(10)
      assert(r1 == 1 and r2 == 10)
      local a = mat.rand(300, 40)
      -- summed in row groups of 256, in order
      local p1, p2 = a:sub(1, 256, 1, 40), a:sub(257, 300, 1, 40)
      assert(mpi.gram(a) == p1:t() * p1 + p2:t() * p2)
      local t = mpi.map(function(i) return i * 2 end, 5)
      assert(#t == 5 and t[5] == 10)
      print("ok")
    ]])
    assert.are.equal(0, status, out)
    assert.are.equal("ok\n", out)
  end)

  it("gives each rank its number and the size under mpirun", function()
    local out, status = mpirun(3, [[
      mat.mpi.barrier()
      print("R" .. mat.mpi.rank .. " " .. mat.mpi.size)
    ]])
    assert.are.equal(0, status, out)
    assert.are.same({[0] = "3", "3", "3"}, by_rank(out))
  end)

  it("works from mat.so under stock lua5.4", function()
    if sanitize or not moddir or select(2, sh("command -v lua5.4")) ~= 0 then
      return pending("stock lua5.4 does not load a sanitizer build's mat.so")
    end
    local path = script(([[
      package.cpath = %q .. "/?.so;" .. package.cpath
      local mat = require "mat"
      local s = mat.mpi.allreduce(mat.mpi.rank + 1)
      local v = mat.mpi.vcat(mat.new(2, 2, mat.mpi.rank))
      print("R" .. mat.mpi.rank .. " " .. s .. " " .. v:get(3, 1))
    ]]):format(moddir))
    local out, status = sh(ENV .. "timeout 60 mpirun " .. MCA .. " -np 2 lua5.4 " .. path)
    os.remove(path)
    assert.are.equal(0, status, out)
    assert.are.same({[0] = "3 1.0", "3 1.0"}, by_rank(out))
  end)
end)

describe("mat.mpi moving values", function()
  it("broadcasts, sends, gathers and scatters matrices, views and Lua values", function()
    local out, status = mpirun(3, [[
      local mpi = mat.mpi
      local r = mpi.rank
      local big = mat.range(1, 12):reshape(3, 4)
      -- a view with a row stride and a transposed view (copied to send)
      local x = mpi.bcast(r == 1 and {m = big:sub(2, 3, 2, 4), t = big:t(), s = "x\0y", n = 2^53, f = false} or nil, 1)
      assert(x.m == big:sub(2, 3, 2, 4) and x.t == big:t() and x.s == "x\0y" and x.n == 2^53 and x.f == false)
      local col = mpi.bcast(r == 0 and big:col(2) or nil)
      assert(col == big:col(2))
      if r == 0 then mpi.send({1, {2, 3}, k = big}, 2, 5) end
      if r == 2 then local v = mpi.recv(0, 5); assert(v[2][2] == 3 and v.k == big) end
      local g = mpi.gather(r * 10, 2)
      if r == 2 then assert(g[1] == 0 and g[3] == 20) else assert(g == nil) end
      local ag = mpi.allgather(mat.new(1, 2, r))
      assert(#ag == 3 and ag[3]:get(1, 2) == 2)
      local s = mpi.scatter(r == 0 and {"a", "b", "c"} or nil)
      assert(s == ({"a", "b", "c"})[r + 1])
      local v = mpi.vcat(mat.new(r + 1, 2, r))
      assert(select(1, v:shape()) == 6 and v:get(6, 2) == 2)
      local whole = mat.rand(1000, 3)
      whole = mpi.bcast(whole)
      assert(mpi.vcat(mpi.split(whole)) == whole)
      local ok, e = pcall(mpi.vcat, mat.new(2, r + 1, 0))
      assert(not ok and e:find("mat.mpi.vcat: rank 1's block has 2 columns, rank 0's 1", 1, true), e)
      assert(mpi.allreduce(r + 0.5, "max") == 2.5)
      local m = mpi.allreduce(mat.new(2, 2, r + 1), "prod")
      assert(m == mat.new(2, 2, 6))
      print("R" .. r .. " ok")
    ]])
    assert.are.equal(0, status, out)
    assert.are.same({[0] = "ok", "ok", "ok"}, by_rank(out))
  end)

  it("cuts messages into pieces (MPL_MPI_PIECE lowers the piece size)", function()
    local out, status = mpirun(2, [[
      local r = mat.mpi.rank
      mat.seed(3)
      local a = mat.rand(333, 77)
      local v = a:sub(1, 333, 3, 77)
      local b = mat.mpi.bcast(r == 0 and v or nil)
      assert(b == v)
      local t = mat.mpi.allgather(r == 0 and string.rep("ab", 5000) or "z")
      assert(t[1] == string.rep("ab", 5000) and t[2] == "z")
      print("R" .. r .. " ok")
    ]], "-x MPL_MPI_PIECE=1000")
    assert.are.equal(0, status, out)
    assert.are.same({[0] = "ok", "ok"}, by_rank(out))
  end)
end)

describe("mat.load and mat.save with {rows = \"block\"}", function()
  it("reads each rank's rows and writes one .npy from every rank's block", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    -- a file the save replaces keeps its mode, and its owner when the
    -- saver may give it (root: the file is given to nobody first)
    local root = io.popen("id -u"):read("l") == "0"
    assert(os.execute("echo old > " .. dir .. "/kept.npy && chmod 0604 " .. dir .. "/kept.npy"))
    if root then assert(os.execute("chown 65534:65534 " .. dir .. "/kept.npy")) end
    -- a link is followed: the file it points to is replaced, the link stays
    assert(os.execute("echo old > " .. dir .. "/real.npy && ln -s real.npy " .. dir .. "/link.npy"))
    local out, status = mpirun(3, ([[
      local mpi, dir = mat.mpi, %q
      mat.seed(7)
      local W = mat.rand(1000, 40)
      local A = W:sub(1, 1000, 1, 37):copy()
      if mpi.rank == 0 then mat.save(dir .. "/whole.npy", A) end
      mpi.barrier()
      local b = mat.load(dir .. "/whole.npy", {rows = "block"})
      local r1, r2 = mpi.rows(1000)
      assert(b == A:sub(r1, r2, 1, 37), "load")
      -- views with a row stride, saved collectively
      mat.save(dir .. "/blocks.npy", W:sub(r1, r2, 1, 37), {rows = "block"})
      mat.save(dir .. "/kept.npy", b, {rows = "block"})
      mat.save(dir .. "/link.npy", b, {rows = "block"})
      mpi.barrier()
      assert(mat.load(dir .. "/blocks.npy") == A, "save")
      assert(mat.load(dir .. "/kept.npy") == A, "save over a file")
      assert(mat.load(dir .. "/real.npy") == A, "save through a link")
      local ok, err = pcall(mat.save, dir .. "/no/such/dir/x.npy", b, {rows = "block"})
      print("R" .. mpi.rank .. " " .. tostring(ok) .. " " .. err)
      local ok2, err2 = pcall(mat.load, dir .. "/whole.npy", {rows = "all"})
      print("R" .. (mpi.rank + 10) .. " " .. err2)
    ]]):format(dir))
    local left = io.popen("ls " .. dir):read("a")
    local kept = io.popen("stat -c '%a %u' " .. dir .. "/kept.npy"):read("l")
    local linked = os.execute("test -L " .. dir .. "/link.npy")
    os.execute("rm -rf " .. dir)
    assert.are.equal(0, status, out)
    local lines = by_rank(out)
    for r = 0, 2 do
      assert.matches("^false .-mat%.save: rank 0: .-/no/such/dir/x%.npy%.mpl%-.-: No such file or directory$", lines[r])
      assert.matches('mat%.load: opts%.rows must be "block" %(got all%)$', lines[r + 10])
    end
    assert.are.equal("blocks.npy\nkept.npy\nlink.npy\nreal.npy\nwhole.npy\n", left) -- no temporary file left
    assert.is_true(linked)
    assert.are.equal(root and "604 65534" or "604 " .. io.popen("id -u"):read("l"), kept)
  end)
end)

describe("mat.mpi products and map", function()
  -- One run per number of ranks; each prints digests of mpi.dot, mpi.gram
  -- and mpi.map for procs 1..3: all must be equal across ranks, runs and
  -- procs, and equal to the pieces computed by one process.
  local code = [[
    local mpi = mat.mpi
    local m, k, n = 700, 600, 90
    mat.seed(11)
    local A, B = mat.randn(m, k), mat.randn(k, n)
    local a1, a2 = mpi.rows(m)
    local b1, b2 = mpi.rows(k)
    local a, b = A:sub(a1, a2, 1, k):copy(), B:sub(b1, b2, 1, n):copy()
    local function digest(x)
      local h = 0
      for i = 1, select(1, x:shape()) do
        for j = 1, select(2, x:shape()) do
          h = (h * 31 + math.floor(math.abs(x:get(i, j)) * 2^40)) % 2^50
        end
      end
      return string.format("%.0f", h)
    end
    local out = {}
    for procs = 1, 3 do
      local c = mpi.vcat(mpi.dot(a, b, {procs = procs}))
      local g = mpi.gram(a, {procs = procs})
      local f = function(i) return mat.rand(1, 2):get(1, 1) + i end
      local t = mpi.map(f, 9, {procs = procs, seed = 5})
      local u = mat.map(f, 9, {procs = procs, seed = 5})
      for i = 1, 9 do assert(t[i] == u[i], "mpi.map equals mat.map") end
      out[#out + 1] = digest(c) .. "/" .. digest(g) .. "/" .. string.format("%.17g", t[9])
    end
    print("R" .. mpi.rank .. " " .. table.concat(out, " "))
  ]]
  it("gives identical bits for 1 to 4 ranks and 1 to 3 workers, on every rank", function()
    local seen
    for np = 1, 4 do
      local out, status = mpirun(np, code, nil, 120)
      assert.are.equal(0, status, out)
      local lines = by_rank(out)
      for r = 0, np - 1 do
        local d = lines[r]
        assert.is_truthy(d, out)
        local first = d:match("^(%S+)")
        assert.are.equal(first .. " " .. first .. " " .. first, d)
        seen = seen or d
        assert.are.equal(seen, d, "np=" .. np .. " rank " .. r)
      end
    end
  end)

  it("gives the same bits over TCP as over shared memory", function()
    local shm = by_rank((mpirun(2, code, nil, 120)))
    local out, status = mpirun(2, code, "--mca btl tcp,self --mca btl_tcp_if_include lo", 120)
    assert.are.equal(0, status, out)
    local tcp = by_rank(out)
    assert.is_truthy(shm[0])
    assert.are.same(shm, tcp)
  end)

  it("multiplies matrices that do not fit in one rank's arena", function()
    -- MPL_ARENA_SIZE=36M per rank; A (2000x1600) and B (1600x1000) take
    -- 38.4 MB together; each rank holds a quarter of each.
    local out, status = mpirun(4, [[
      local mpi = mat.mpi
      local m, k, n, p = 2000, 1600, 1000, 20000
      assert(not pcall(function() local a, b = mat.new(m, k), mat.new(k, n) end))
      collectgarbage()
      local function rows(r1, r2, cols, s) -- rows r1..r2 of a formula matrix
        if r2 < r1 then return mat.new(0, cols) end
        local i = mat.range(r1, r2):reshape(r2 - r1 + 1, 1)
        return mat.sin(i * s + mat.range(1, cols):reshape(1, cols) * 0.11)
      end
      local a1, a2 = mpi.rows(m)
      local b1, b2 = mpi.rows(k)
      local a = rows(a1, a2, k, 0.37)
      local c = mpi.dot(a, rows(b1, b2, n, 0.23))
      collectgarbage()
      -- the same rows of the product, in eight pieces of B made one by one
      local ref = mat.new(a2 - a1 + 1, n)
      for q = 0, 7 do
        local r1, r2 = q * 200 + 1, q * 200 + 200
        ref = ref + a:sub(1, a2 - a1 + 1, r1, r2) * rows(r1, r2, n, 0.23)
        collectgarbage()
      end
      local worst = mat.max(mat.abs(c - ref))
      a, ref, c = nil, nil, nil
      collectgarbage()
      local x1, x2 = mpi.rows(p)
      local g = mpi.gram(rows(x1, x2, 300, 0.05))
      local gref = mat.new(300, 300)
      for q = 0, 9 do
        local x = rows(q * 2000 + 1, q * 2000 + 2000, 300, 0.05)
        gref = gref + x:t() * x
        collectgarbage()
      end
      local gworst = mat.max(mat.abs(g - gref))
      print("R" .. mpi.rank .. " " .. tostring(worst < 1e-9) .. " " .. tostring(gworst < 1e-7))
    ]], "-x MPL_ARENA_SIZE=36M", 120)
    assert.are.equal(0, status, out)
    assert.are.same({[0] = "true true", "true true", "true true", "true true"}, by_rank(out))
  end)

  it("equals the product computed in pieces by one process", function()
    local out, status = mpirun(2, [[
      local mpi = mat.mpi
      local m, k, n = 700, 600, 90
      mat.seed(11)
      local A, B = mat.randn(m, k), mat.randn(k, n)
      local a1, a2 = mpi.rows(m)
      local b1, b2 = mpi.rows(k)
      local c = mpi.vcat(mpi.dot(A:sub(a1, a2, 1, k), B:sub(b1, b2, 1, n)))
      local g = mpi.gram(A:sub(a1, a2, 1, k))
      local function close(x, y)
        local d = x - y
        local worst = 0
        for i = 1, select(1, d:shape()) do for j = 1, select(2, d:shape()) do
          worst = math.max(worst, math.abs(d:get(i, j)))
        end end
        return worst < 1e-9
      end
      assert(close(c, A * B), "dot")
      assert(close(g, A:t() * A), "gram")
      print("R" .. mpi.rank .. " ok")
    ]])
    assert.are.equal(0, status, out)
    assert.are.same({[0] = "ok", "ok"}, by_rank(out))
  end)
end)

describe("mat.mpi failures", function()
  it("raises on every rank when one rank fails inside a collective", function()
    local out, status = mpirun(3, [[
      local mpi = mat.mpi
      local ok, err = pcall(mpi.bcast, mpi.rank == 1 and function() end or 1, 1)
      print("R" .. mpi.rank .. " " .. tostring(ok) .. " " .. err)
      local ok2, err2 = pcall(mpi.map, function(i)
        if i == 5 then error("bad item") end
        return i
      end, 6, {procs = 1})
      print("R" .. (mpi.rank + 10) .. " " .. tostring(ok2) .. " " .. err2)
      -- 7 rows: rank 0 must hold them all, rank 2 has some
      local n = mpi.rank == 2 and 3 or (mpi.rank == 0 and 4 or 0)
      local ok3, err3 = pcall(mpi.dot, mat.new(n, 6), mat.new(2, 4))
      print("R" .. (mpi.rank + 20) .. " " .. tostring(ok3) .. " " .. err3)
    ]])
    assert.are.equal(0, status, out)
    local lines = by_rank(out)
    for r = 0, 2 do
      assert.matches("^false .-mat%.mpi%.bcast: rank 1: cannot send a function value$", lines[r])
      -- item 5 of 6 is rank 2's (items 5 and 6)
      assert.matches("^false .-mat%.mpi%.map: rank 2: item 5: .-bad item", lines[r + 10])
      assert.matches("^false .-mat%.mpi%.dot: rank 0's block of a has 4 rows; mat%.mpi%.rows%(7%) gives it 7$", lines[r + 20])
    end
  end)

  it("ends the job with MPI_Abort when an error escapes the script", function()
    local t0 = os.time()
    local out, status = mpirun(3, [[
      if mat.mpi.rank == 1 then error("boom from rank one") end
      mat.mpi.barrier()
    ]])
    assert.are_not.equal(0, status)
    assert.are_not.equal(124, status, "the job hung")
    assert.matches("boom from rank one", out)
    assert.matches("stack traceback", out)
    assert.matches("rank 1 exited with status 1: ending the job %(MPI_Abort%)", out)
    assert.is_true(os.time() - t0 < 30)
  end)

  it("ends the job when a rank is killed, leaving no process behind", function()
    local pidfile = os.tmpname()
    local out, status = mpirun(2, ([[
      mat.procs(2)
      local a = mat.rand(400, 400)
      local _ = mat.dot(a, a, {procs = 2})  -- the pool's workers are up
      local function tree(pid, acc)
        acc[#acc + 1] = pid
        local f = io.open(("/proc/%%d/task/%%d/children"):format(pid, pid))
        if f then
          for c in f:read("a"):gmatch("%%d+") do tree(tonumber(c), acc) end
          f:close()
        end
        return acc
      end
      local f = assert(io.open("/proc/self/stat"))
      local me = math.tointeger(f:read("n"))
      f:close()
      local pids = tree(me, {})
      local out = assert(io.open(%q, "a"))
      out:write(table.concat(pids, " "), "\n")
      out:close()
      mat.mpi.barrier()
      if mat.mpi.rank == 1 then os.execute("kill -KILL " .. me) end
      mat.mpi.barrier()
    ]]):format(pidfile))
    assert.are_not.equal(0, status)
    assert.are_not.equal(124, status, "the job hung: " .. out)
    os.execute("sleep 1")
    local f = assert(io.open(pidfile))
    local all = f:read("a")
    f:close()
    os.remove(pidfile)
    local n = 0
    for pid in all:gmatch("%d+") do
      n = n + 1
      assert.is_false(proc.running(tonumber(pid)), "process " .. pid .. " is left")
    end
    assert.is_true(n >= 4, all) -- two ranks, each with its pool's processes
  end)
end)

describe("examples/cluster.lua", function()
  it("prints and saves the same bits on 4 ranks (shared memory and TCP) as on one", function()
    local src = assert(os.getenv("MPL_SOURCE_DIR"), "MPL_SOURCE_DIR not set")
    local ex = src .. "/examples/cluster.lua"
    local function run(launch)
      local npy = os.tmpname() .. ".npy"
      local out, status = sh(ENV .. "timeout 120 " .. launch .. " " .. bin .. " " .. ex .. " " .. npy)
      assert.are.equal(0, status, out)
      local f = assert(io.open(npy, "rb"))
      local bytes = f:read("a")
      f:close()
      os.remove(npy)
      return out, bytes
    end
    local one, one_npy = run("")
    assert.matches("product: 3000x500", one)
    assert.matches("monte carlo: 2000 series", one)
    for _, extra in ipairs{"", "--mca btl tcp,self --mca btl_tcp_if_include lo"} do
      local out, npy = run("mpirun " .. MCA .. " " .. extra .. " -np 4")
      assert.are.equal(one, out)
      assert.is_true(npy == one_npy)
    end
  end)
end)
