-- monte_carlo.lua: parallel Monte Carlo over a large ragged dataset.
--
--   mpl examples/monte_carlo.lua [arrays] [--gb G] [--boot B] [--procs P]
--                                [--reps R] [--seed S]
--
-- The dataset is a panel of daily returns: `arrays` assets (default 10^4),
-- each with a history of its own length, all packed into one shared buffer
-- (mat.ragged).  Each asset has a true mean return mu and volatility sigma
-- that the script knows, so the estimate can be checked.
--
-- The Monte Carlo part is the Bayesian bootstrap (Rubin, 1981): B times
-- per asset, weight its returns with random Dirichlet(1, ..., 1) weights
-- (normalised Exp(1) draws) and take the weighted mean; the spread of
-- those B means is the standard error of the asset's mean return.  The
-- script reports two things a statistician would check: that the
-- bootstrap variance agrees with the textbook s^2 / n on average, and that
-- the intervals mean +- 1.96 SE cover the true mu about 95% of the time.
--
-- mat.map runs the assets in parallel.  Every worker reads the whole
-- dataset in place (it is shared memory: no copy, no pickling), gets its
-- own random stream per asset from opts.seed (so every procs gives the
-- same numbers), and returns two small numbers per asset.  The script
-- times procs = 1 against procs = P and, from inside the workers, sums
-- the proportional set size (PSS) of the caller and all its workers while
-- they run: the memory the whole family really uses, compared with the
-- size of the dataset.
--
-- --gb G sizes the dataset in gigabytes instead of by the count of arrays
-- (the benchmark in tests/bench/map.lua runs it with --gb 2).  Run as a
-- chunk (dofile), it returns a table of its figures.

local args = {...}
local opt = {arrays = 10000, gb = nil, boot = 50, procs = mat.procs(), reps = 1,
             seed = 2024}
do
  local i = 1
  while i <= #args do
    local a = args[i]
    local key = a:match("^%-%-(%a+)$")
    if key then
      local v = tonumber(args[i + 1])
      if opt[key] == nil and key ~= "gb" or not v then
        error("usage: monte_carlo.lua [arrays] [--gb G] [--boot B] [--procs P] " ..
              "[--reps R] [--seed S]")
      end
      opt[key] = v
      i = i + 2
    else
      opt.arrays = assert(math.tointeger(tonumber(a)), "arrays must be an integer")
      i = i + 1
    end
  end
end

local MB = 1024 * 1024

-- ---- the dataset --------------------------------------------------------

local t0 = mat.clock()
mat.seed(opt.seed)
local n = opt.arrays
local mean_len = opt.gb and math.floor(opt.gb * 1024 ^ 3 / 8 / n) or 1000
local lengths, total = {}, 0
local draw = mat.rand(1, n)
for i = 1, n do
  lengths[i] = math.floor(mean_len * (0.5 + draw[i])) + 2 -- [L/2, 3L/2)
  total = total + lengths[i]
end
-- one allocation for every value, then each asset's slice scaled in place
local values = mat.randn(1, total)
local R = mat.ragged(values, lengths)
local mu, sigma = {}, {}
local mus, sigmas = mat.randn(1, n), mat.rand(1, n)
for i = 1, n do
  mu[i] = 5e-4 * mus[i]            -- true mean daily return
  sigma[i] = 0.01 + 0.02 * sigmas[i] -- true daily volatility
  local x = R[i]
  mat.mul(x, sigma[i], {out = x})
  mat.add(x, mu[i], {out = x})
end
values, draw, mus, sigmas = nil, nil, nil, nil
collectgarbage()
local data_bytes = total * 8
local built = mat.clock() - t0

-- ---- memory, measured from inside a worker ------------------------------

local function pss_kb(pid)
  local f = io.open("/proc/" .. pid .. "/smaps_rollup")
  if not f then return 0 end
  local kb = tonumber(f:read("a"):match("\nPss:%s+(%d+) kB")) or 0
  f:close()
  return kb
end

-- PSS of pid and all its descendants, in kB
local function family_pss(pid)
  local kb = pss_kb(pid)
  local f = io.open(string.format("/proc/%d/task/%d/children", pid, pid))
  if f then
    for child in f:read("a"):gmatch("%d+") do kb = kb + family_pss(child) end
    f:close()
  end
  return kb
end

local function parent_pid()
  local f = assert(io.open("/proc/self/stat"))
  local ppid = f:read("a"):match("%) %a (%d+)")
  f:close()
  return ppid
end

-- ---- the Monte Carlo item -----------------------------------------------

local B = math.tointeger(opt.boot)
local last_sample -- per worker: each worker has its own copy

-- Bayesian bootstrap of one asset's mean return: B weighted means with
-- Dirichlet(1, ..., 1) weights.  (Exp(1) weights are -log U; the sign
-- cancels in the weighted mean, so log U serves.)
local function asset(x, i)
  local len = #x
  local xt = x:t()
  local mean = x:sum() / len
  local d = x - mean
  local s2 = mat.dot(d, d:t())[1] / (len - 1)
  local sum, sum2 = 0, 0
  for _ = 1, B do
    local w = mat.rand(1, len)
    mat.log(w, {out = w})
    local m = mat.dot(w, xt)[1] / w:sum()
    sum, sum2 = sum + m, sum2 + m * m
  end
  local bmean = sum / B
  local bvar = (sum2 - B * bmean * bmean) / (B - 1)
  local r = {ratio = bvar / (s2 / len),
             covered = math.abs(mean - mu[i]) <= 1.96 * math.sqrt(bvar)}
  local now = mat.clock()
  if not last_sample or now - last_sample > 1 then
    last_sample = now
    r.pss = family_pss(parent_pid())
  end
  return r
end

-- CPU seconds used by this process's reaped children (the workers).
local function children_cpu()
  local f = assert(io.open("/proc/self/stat"))
  local cu, cs = f:read("a"):match("%) %a" .. string.rep(" %S+", 12) .. " (%d+) (%d+)")
  f:close()
  return (tonumber(cu) + tonumber(cs)) / 100
end

-- One timed map: results, seconds, the workers' CPU seconds, and the
-- largest PSS any worker sampled during it.
local function run(procs)
  collectgarbage()
  local c, t = children_cpu(), mat.clock()
  local results = mat.map(asset, R, {procs = procs, seed = opt.seed})
  t, c = mat.clock() - t, children_cpu() - c
  local pss = 0
  for i = 1, n do
    if results[i].pss and results[i].pss > pss then pss = results[i].pss end
  end
  return results, t, c, pss * 1024
end

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

-- ---- run it -------------------------------------------------------------

print(string.format("dataset: %d arrays, %d numbers (%.1f MB), built in %.2f s",
                    n, total, data_bytes / MB, built))
print(string.format("Bayesian bootstrap, %d replicates per array", B))

-- procs = 1 and procs = P alternate, so both see the same conditions on a
-- machine whose load changes; each time is the median of the runs
local P = math.tointeger(opt.procs)
local serial, parallel
local times1, timesp, cpu1, cpup, pss1, pssp = {}, {}, {}, {}, 0, 0
for rep = 1, opt.reps do
  local t, c, pss
  serial, t, c, pss = run(1)
  times1[rep], cpu1[rep], pss1 = t, c, math.max(pss1, pss)
  parallel, t, c, pss = run(P)
  timesp[rep], cpup[rep], pssp = t, c, math.max(pssp, pss)
end
local function list(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = string.format("%.2f", v) end
  return table.concat(s, " ")
end
local runs = string.format("procs = 1: %s s (workers' CPU %s s); procs = %d: %s s " ..
                           "(workers' CPU %s s)", list(times1), list(cpu1), P,
                           list(timesp), list(cpup))
local t1, tp = median(times1), median(timesp)

local same, ratio, covered = true, 0, 0
for i = 1, n do
  local a, b = serial[i], parallel[i]
  if a.ratio ~= b.ratio or a.covered ~= b.covered then same = false end
  ratio = ratio + a.ratio
  covered = covered + (a.covered and 1 or 0)
end
ratio, covered = ratio / n, covered / n

print(string.format("  bootstrap variance / textbook s^2/n, mean over arrays: %.3f " ..
                    "(expect about 1)", ratio))
print(string.format("  true mean inside mean +- 1.96 SE: %.1f%% of arrays " ..
                    "(expect about 95%%)", 100 * covered))
if opt.reps > 1 then print("runs, in order: " .. runs) end
print(string.format("procs = 1: %.2f s", t1))
print(string.format("procs = %d: %.2f s, speedup %.2fx, results identical: %s",
                    P, tp, t1 / tp, same and "yes" or "NO"))
print(string.format("memory (total PSS of mpl and its workers while they run): " ..
                    "procs = 1: %.1f MB = %.3fx the data; procs = %d: %.1f MB = %.3fx",
                    pss1 / MB, pss1 / data_bytes, P, pssp / MB, pssp / data_bytes))

return {arrays = n, numbers = total, data_bytes = data_bytes, boot = B, procs = P,
        t1 = t1, tp = tp, speedup = t1 / tp, runs = runs, pss1 = pss1, pssp = pssp,
        ratio = ratio, coverage = covered, identical = same}
