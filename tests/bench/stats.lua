-- stats.lua: sorting, order statistics, cumulative sums and reductions,
-- side by side with NumPy in the same run.
--
--   mpl tests/bench/stats.lua [n [runs [rounds]]]   (defaults: 1e7, 5, 3)
--
-- The data are n uniform random numbers in one row (NumPy: a 1-D array of
-- the same numbers, written to a .npy file and loaded).  Each figure is the
-- median over `rounds` rounds of the median of `runs` timed calls after a
-- warm-up; mpl and NumPy (/usr/bin/python3) take turns round by round, so
-- a busy machine slows both alike.  NumPy runs its reductions on one
-- thread, but for its norm, which is OpenBLAS's dot on OpenBLAS's threads:
-- the last line gives it again with OpenBLAS on one thread.  mpl uses its
-- helper threads for long lines (sort, median, quantile, argmax, argmin,
-- and every reduction).  The ratio is NumPy's time over mpl's: above 1,
-- mpl is faster.
local n = tonumber(arg and arg[1]) or 10000000
local runs = tonumber(arg and arg[2]) or 5
local rounds = tonumber(arg and arg[3]) or 3
local common = dofile((arg and arg[0]:match("^(.*)/") or ".") .. "/common.lua")
local median = common.median
local function time(f) return common.time(f, runs) end

mat.seed(1)
local a = mat.rand(1, n)
local cases = {
  { "sort", function() return a:sort() end, "np.sort(a)" },
  { "argsort", function() return a:argsort() end, "np.argsort(a, kind='stable')" },
  { "median", function() return a:median() end, "np.median(a)" },
  { "quantile(0.3)", function() return a:quantile(0.3) end, "np.quantile(a, 0.3)" },
  { "cumsum", function() return a:cumsum() end, "np.cumsum(a)" },
  { "unique", function() return a:unique() end, "np.unique(a)" },
  { "argmax", function() return a:argmax() end, "np.argmax(a)" },
  { "argmin", function() return a:argmin() end, "np.argmin(a)" },
  { "sum", function() return a:sum() end, "a.sum()" },
  { "mean", function() return a:mean() end, "a.mean()" },
  { "min", function() return a:min() end, "a.min()" },
  { "max", function() return a:max() end, "a.max()" },
  { "prod", function() return a:prod() end, "a.prod()" },
  { "std", function() return a:std() end, "a.std()" },
  { "var", function() return a:var() end, "a.var()" },
  { "norm", function() return a:norm() end, "np.linalg.norm(a)" },
}
-- run by NumPy with OpenBLAS on one thread
local one_thread = { "norm (1 thread)", cases[#cases][2], "np.linalg.norm(a)" }

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir " .. dir))
mat.save(dir .. "/a.npy", a)
local setup = ("a = np.load('%s/a.npy').ravel()"):format(dir)
local exprs = {}
for k, c in ipairs(cases) do exprs[k] = c[3] end

local tm, tn = {}, {}
for r = 1, rounds do
  local times, ok = common.numpy(setup, exprs, n, runs)
  assert(ok, "NumPy failed")
  local t1 = common.numpy(setup, { one_thread[3] }, n, runs, "OPENBLAS_NUM_THREADS=1")
  times[#cases + 1] = t1[1]
  for i, t in ipairs(times) do
    tn[i] = tn[i] or {}
    tn[i][r] = t
  end
  for k, c in ipairs(cases) do
    tm[k] = tm[k] or {}
    tm[k][r] = time(c[2])
    collectgarbage()
  end
end
os.execute("rm -rf " .. dir)
cases[#cases + 1] = one_thread
tm[#cases] = tm[#cases - 1]

print(("stats: n = %d, median of %d runs, median of %d rounds (ms); helper threads: %d")
  :format(n, runs, rounds, mat.procs()))
print(("%-16s %10s %10s %8s"):format("operation", "mpl", "NumPy", "ratio"))
for k, c in ipairs(cases) do
  local m, p = median(tm[k]), median(tn[k])
  print(("%-16s %10.2f %10.2f %7.2fx"):format(c[1], m, p, p / m))
end
