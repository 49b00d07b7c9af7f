-- mpi.lua: the mat.mpi benchmark (figures, not pass/fail).  Same-run
-- ratios, each the median of MPL_BENCH_MPI_REPS (default 3) alternating
-- runs, timed inside the script between barriers (launcher start-up and
-- making the data are not counted):
--   map:  mat.mpi.map on 2 ranks x 1 worker   vs mat.map with 2 workers
--   dot:  mat.mpi.dot on 2 ranks x 1 worker   vs mat.dot with procs = 2
--   gram: mat.mpi.gram on 2 ranks x 1 worker  vs mat.dot(A^T, A), procs = 2
-- the MPI runs over shared memory (vader) and over TCP on the loopback.
-- A ratio is one-machine time / MPI time: 1.0 keeps pace.  Skipped when
-- mpirun is missing or this mpl was built without MPI.
local mpl = arg and arg[-1] or "mpl"
local reps = tonumber(os.getenv("MPL_BENCH_MPI_REPS") or "3")
local env = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
local mca = "--oversubscribe --mca btl_vader_single_copy_mechanism none"
local tcp = "--mca btl tcp,self --mca btl_tcp_if_include lo"

if not os.execute("command -v mpirun >/dev/null && ldd " .. mpl .. " | grep -q libmpi") then
  print("mpi benchmark: skipped (no mpirun, or mpl built without MPI)")
  return
end

local N, D, M, P = 2500, 2500, 40000, 400 -- dot: N x D x N; gram: M x P
local scripts = {
  map = [[
    local function f(i) local s = 0 for j = 1, 3e6 do s = s + (i * j) %% 7 end return s end
    local n = 48
    if %s then
      mat.mpi.barrier() local t = mat.clock()
      mat.mpi.map(f, n, {procs = 1})
      mat.mpi.barrier() t = mat.clock() - t
      if mat.mpi.rank == 0 then print(t) end
    else
      local t = mat.clock() mat.map(f, n, {procs = 2}) print(mat.clock() - t)
    end]],
  dot = [[
    local n, k = ]] .. N .. ", " .. D .. [[
    mat.seed(1)
    if %s then
      local mpi = mat.mpi
      local a1, a2 = mpi.rows(n)
      local b1, b2 = mpi.rows(k)
      local a, b = mat.rand(a2 - a1 + 1, k), mat.rand(b2 - b1 + 1, n)
      mpi.barrier() local t = mat.clock()
      mpi.dot(a, b, {procs = 1})
      mpi.barrier() t = mat.clock() - t
      if mpi.rank == 0 then print(t) end
    else
      local a, b = mat.rand(n, k), mat.rand(k, n)
      local t = mat.clock() mat.dot(a, b, {procs = 2}) print(mat.clock() - t)
    end]],
  gram = [[
    local m, p = ]] .. M .. ", " .. P .. [[
    mat.seed(1)
    if %s then
      local mpi = mat.mpi
      local r1, r2 = mpi.rows(m)
      local a = mat.rand(r2 - r1 + 1, p)
      mpi.barrier() local t = mat.clock()
      mpi.gram(a, {procs = 1})
      mpi.barrier() t = mat.clock() - t
      if mpi.rank == 0 then print(t) end
    else
      local a = mat.rand(m, p)
      local t = mat.clock() mat.dot(a:t(), a, {procs = 2}) print(mat.clock() - t)
    end]],
}

local function run(kind, how)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(scripts[kind]:format(how == "one" and "false" or "true"))
  f:close()
  local cmd
  if how == "one" then
    cmd = env .. "timeout 600 " .. mpl .. " " .. path
  else
    cmd = ("%s timeout 600 mpirun %s %s -np 2 %s %s"):format(
      env, mca, how == "tcp" and tcp or "", mpl, path)
  end
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  os.remove(path)
  return tonumber(out:match("([%d.e+-]+)%s*$")) or error(kind .. " " .. how .. ": " .. out)
end

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

print(("mat.mpi benchmark: median of %d alternating runs; ratio = one machine / MPI"):format(reps))
for _, kind in ipairs{"map", "dot", "gram"} do
  local times = {one = {}, shm = {}, tcp = {}}
  for _ = 1, reps do
    for _, how in ipairs{"one", "shm", "tcp"} do
      table.insert(times[how], run(kind, how))
    end
  end
  local one, shm, t = median(times.one), median(times.shm), median(times.tcp)
  print(("%-5s one machine %.3f s | 2 ranks shm %.3f s (ratio %.2f) | 2 ranks tcp %.3f s (ratio %.2f)"):format(
    kind, one, shm, one / shm, t, one / t))
end
