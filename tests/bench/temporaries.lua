-- temporaries.lua: the cost of short-lived matrices, and the Monte Carlo
-- that lives on them, side by side with Python's multiprocessing.
--
-- 1. Allocation costs: per call, make a 1xN matrix (N = 10^2, 10^4, 10^6)
--    and free it, either at once (m:close()) or by dropping it to the
--    garbage collector, in a fresh mpl, in an mpl that has just freed
--    ~320 MB of matrices (more than the arena keeps populated), and inside
--    a mat.map worker.  Each context runs in a process of its own.
-- 2. The Monte Carlo: ~320 MB of ragged data (items of ~80 KB: 4000 arrays
--    of 5000-15000 doubles; ~8 KB: 40000 of 500-1500; ~800 KB: 400 of
--    50000-150000), built from separate matrices that are then dropped, as
--    a script would; per item 8 replicates of
--    `w = mat.rand(1, #x); x:mul(w):sum() / w:sum()` under mat.map with
--    procs = 1 and 2.  When python3 has NumPy, the same array lengths are
--    run in multiprocessing.Pool (fork) with NumPy (temporaries.py),
--    alternating with mpl in one run; times are medians.  Also printed:
--    the speedup of procs = 2, and the total PSS of mpl and its workers
--    (sampled from /proc by the workers) over the data's size.
-- Targets: mpl <= 0.8x Python's time, speedup >= 1.8 on two free cores,
-- PSS <= 1.10x the data (sampled by the workers every quarter second from
-- a quarter second into the call: the memory of the call once its workers
-- run).
--   MPL_BENCH_TEMP_REPS  runs per configuration (default 3)
--   MPL_BENCH_PYTHON     the Python with NumPy (default /usr/bin/python3, else python3)
local mpl = arg and arg[-1] or "mpl"
local self = arg and arg[0] or "tests/bench/temporaries.lua"
local reps = math.tointeger(tonumber(os.getenv("MPL_BENCH_TEMP_REPS") or "3")) or 3
local MB = 1024 * 1024

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  return s[(#s + 1) // 2]
end

-- The lengths both sides use: array i of count has lo + (i * 7919) % (hi - lo + 1).
local function length(i, lo, hi) return lo + ((i - 1) * 7919) % (hi - lo + 1) end

-- ~320 MB of separate matrices packed into a ragged, then dropped: the
-- large free a script makes when it builds its data.
local function build(count, lo, hi)
  local t, bytes = {}, 0
  for i = 1, count do
    t[i] = mat.rand(1, length(i, lo, hi))
    bytes = bytes + 8 * #t[i]
  end
  local R = mat.ragged(t)
  t = nil
  collectgarbage()
  collectgarbage()
  return R, bytes
end

-- ---- 1. allocation costs --------------------------------------------------

local SIZES = {1e2, 1e4, 1e6}
local CALLS = {[1e2] = 20000, [1e4] = 4000, [1e6] = 100}

-- Seconds per allocate + free of a 1xn matrix, over `calls` calls.
local function cost(n, calls, close)
  local t = mat.clock()
  if close then
    for _ = 1, calls do mat.new(1, n):close() end
  else
    for _ = 1, calls do local _ = mat.new(1, n) end
  end
  return (mat.clock() - t) / calls
end

-- The six figures of one context, in microseconds, as one line.
local function costs(items)
  local out = {}
  for _, n in ipairs(SIZES) do
    for _, close in ipairs({true, false}) do
      local calls = CALLS[n]
      cost(n, calls // 10 + 1, close) -- settle
      local sum = 0
      for k = 1, items do sum = sum + cost(n, calls // items, close) end
      out[#out + 1] = string.format("%.2f", sum / items * 1e6)
    end
  end
  return table.concat(out, " ")
end

if arg and arg[1] == "--alloc" then
  local where = arg[2]
  if where == "freed" then
    local R = build(4000, 5000, 15000)
    print(costs(1), R and "")
  elseif where == "worker" then
    -- eight items per worker: a worker that faults its pages in again for
    -- every item shows it here
    local r = mat.map(function() return costs(1) end, 8, {procs = 1})
    local sums = {}
    for _, line in ipairs(r) do
      local k = 0
      for v in line:gmatch("%S+") do
        k = k + 1
        sums[k] = (sums[k] or 0) + tonumber(v) / #r
      end
    end
    for k, v in ipairs(sums) do sums[k] = string.format("%.2f", v) end
    print(table.concat(sums, " "))
  else
    print(costs(1))
  end
  return
end

-- ---- 2. the Monte Carlo -------------------------------------------------

local function pss_kb(pid)
  local f = io.open("/proc/" .. pid .. "/smaps_rollup")
  if not f then return 0 end
  local kb = tonumber(f:read("a"):match("\nPss:%s+(%d+) kB")) or 0
  f:close()
  return kb
end

local function comm(pid)
  local f = io.open("/proc/" .. pid .. "/comm")
  local name = f and f:read("l")
  if f then f:close() end
  return name
end

-- PSS of pid and its descendants that are mpl's (workers, helper: named
-- mpl-*), not the Python side this script runs meanwhile, in kB
local function family_pss(pid)
  local kb = pss_kb(pid)
  local f = io.open(string.format("/proc/%d/task/%d/children", pid, pid))
  if f then
    for child in f:read("a"):gmatch("%d+") do
      if (comm(child) or ""):match("^mpl") then kb = kb + family_pss(child) end
    end
    f:close()
  end
  return kb
end

local function own_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("a"):match("^(%d+)")
  f:close()
  return pid
end

if arg and arg[1] == "--variant" then
  local count, lo, hi = tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
  local R, bytes = build(count, lo, hi)
  local caller, last = own_pid(), nil
  local function item(x)
    local s = 0
    for _ = 1, 8 do
      local w = mat.rand(1, #x)
      s = s + x:mul(w):sum() / w:sum()
    end
    local now, pss = mat.clock(), nil
    last = last or now -- the first sample a quarter second into the call
    if now - last > 0.25 then
      last = now
      pss = family_pss(caller)
    end
    return pss and {s, pss} or s
  end
  local function run(procs)
    collectgarbage()
    local t = mat.clock()
    local r = mat.map(item, R, {procs = procs, seed = 7})
    t = mat.clock() - t
    local pss = 0
    for i = 1, #r do
      if type(r[i]) == "table" and r[i][2] > pss then pss = r[i][2] end
    end
    return t, pss * 1024
  end
  -- Python, driven through its stdin, answering through a FIFO
  local py, answers, python3
  for _, exe in ipairs({os.getenv("MPL_BENCH_PYTHON") or "/usr/bin/python3", "python3"}) do
    if not python3 and os.execute(exe .. " -c 'import numpy' 2>/dev/null") then python3 = exe end
  end
  if python3 then
    local dir = io.popen("mktemp -d"):read("l")
    local fifo = dir .. "/answers"
    assert(os.execute("mkfifo " .. fifo))
    local script = self:gsub("%.lua$", ".py")
    py = io.popen(string.format("%s %s %d %d %d 8 > %s", python3, script, count, lo, hi,
                                fifo), "w")
    answers = assert(io.open(fifo, "r"))
    assert(answers:read("l"):match("^ready"))
    os.remove(fifo)
    os.remove(dir)
  end
  local function python(procs)
    py:write(procs, "\n")
    py:flush()
    local t, pss = answers:read("l"):match("^(%S+) (%S+)$")
    return tonumber(t), tonumber(pss) * 1024
  end
  local T = {m1 = {}, m2 = {}, p1 = {}, p2 = {}}
  local pss_m, pss_p = 0, 0
  for rep = 1, reps do
    local t, p
    T.m1[rep] = run(1)
    if py then T.p1[rep] = python(1) end
    t, p = run(2)
    T.m2[rep], pss_m = t, math.max(pss_m, p)
    if py then
      t, p = python(2)
      T.p2[rep], pss_p = t, math.max(pss_p, p)
    end
  end
  if py then
    py:write("quit\n")
    py:close()
    answers:close()
  end
  local m1, m2 = median(T.m1), median(T.m2)
  local line = string.format("%.2f %.2f %.3f", m1, m2, pss_m / bytes)
  if py then
    line = line .. string.format(" %.2f %.2f %.3f", median(T.p1), median(T.p2),
                                 pss_p / bytes)
  end
  print(line)
  return
end

-- ---- the driver -----------------------------------------------------------

local function sub(args)
  local p = io.popen(string.format("%s %s %s", mpl, self, args))
  local out = p:read("a")
  assert(p:close(), "temporaries.lua " .. args .. " failed")
  return out:match("^%s*(.-)%s*$")
end

print("temporaries: allocate + free of a 1xN matrix, microseconds per call " ..
      "(close: m:close(); gc: dropped to the collector)")
print(string.format("  %-34s %10s %10s %10s %10s %10s %10s", "where", "1e2 close",
                    "1e2 gc", "1e4 close", "1e4 gc", "1e6 close", "1e6 gc"))
for _, w in ipairs({{"fresh", "caller, fresh"},
                    {"freed", "caller, after a 320 MB free"},
                    {"worker", "mat.map worker (mean of 8 items)"}}) do
  local v = {}
  for x in sub("--alloc " .. w[1]):gmatch("%S+") do v[#v + 1] = x end
  print(string.format("  %-34s %10s %10s %10s %10s %10s %10s", w[2], table.unpack(v)))
end

print(string.format("temporaries: Monte Carlo, 8 replicates per item, ~320 MB " ..
                    "of ragged data, medians of %d (alternating runs)", reps))
for _, v in ipairs({{"~8 KB", 40000, 500, 1500}, {"~80 KB", 4000, 5000, 15000},
                    {"~800 KB", 400, 50000, 150000}}) do
  local r = {}
  for x in sub(string.format("--variant %d %d %d", v[2], v[3], v[4])):gmatch("%S+") do
    r[#r + 1] = tonumber(x)
  end
  local line = string.format("  %-8s items (%5d): mpl procs=1 %.2f s, procs=2 %.2f s " ..
                             "(speedup %.2f), PSS %.3fx the data", v[1], v[2], r[1],
                             r[2], r[1] / r[2], r[3])
  if r[4] then
    line = line .. string.format("; Python %.2f s, %.2f s (speedup %.2f, PSS %.3fx); " ..
                                 "mpl/Python: procs=1 %.2f, procs=2 %.2f", r[4], r[5],
                                 r[4] / r[5], r[6], r[1] / r[4], r[2] / r[5])
  else
    line = line .. "; Python with NumPy not found"
  end
  print(line)
end
