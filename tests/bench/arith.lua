-- arith.lua: the elementwise benchmark, side by side with NumPy.
--
--   mpl tests/bench/arith.lua [n [runs]]      (defaults: 1e7 elements, 21 runs)
--
-- Each operation makes a new result every run (as `r = np.exp(a)` does),
-- the previous result becoming garbage; the figure is the median of the
-- runs after one warm-up.  NumPy (/usr/bin/python3, Debian's python3-numpy)
-- runs the same operations on the same sizes in the same benchmark.  A last
-- section repeats the mpl figures with the arena's retention of freed memory
-- turned off (MPL_ARENA_RETAIN=0), i.e. with every result on freshly
-- faulted pages.
do local b = mat.blas() print(("OpenBLAS kernel %s (chosen by %s), %d threads"):format(b.kernel, b.chosen, b.threads)) end
local n = tonumber(arg and arg[1]) or 10000000
local runs = tonumber(arg and arg[2]) or 21
local child = arg and arg[3] == "--child"

local common = dofile((arg and arg[0]:match("^(.*)/") or ".") .. "/common.lua")
local function time(f) return common.time(f, runs) end

mat.seed(1)
local a, b = mat.rand(1, n), mat.rand(1, n)
local cases = {
  { "exp(a)", function() local _ = mat.exp(a) end, "np.exp(a)" },
  { "a + b", function() local _ = a + b end, "a + b" },
  { "a:mul(b)", function() local _ = a:mul(b) end, "a * b" },
  { "a * 2", function() local _ = a * 2 end, "a * 2" },
  { "sqrt(a)", function() local _ = mat.sqrt(a) end, "np.sqrt(a)" },
  { "sin(a)", function() local _ = mat.sin(a) end, "np.sin(a)" },
  { "a:sum()", function() local _ = a:sum() end, "a.sum()" },
}

local mine = {}
for i, c in ipairs(cases) do mine[i] = time(c[2]) end

if child then -- figures only, for the parent
  for i = 1, #cases do print(mine[i]) end
  return
end

-- NumPy, same sizes and runs
local exprs = {}
for i, c in ipairs(cases) do exprs[i] = c[3] end
local theirs = common.numpy([[
rng = np.random.default_rng(1)
a, b = rng.random(n), rng.random(n)]], exprs, n, runs)

-- mpl again without retention, in a child process with the same workers
local first = -1
while arg[first - 1] do first = first - 1 end
local exe, script = arg[first] or "mpl", arg[0]
local q = io.popen(("MPL_ARENA_RETAIN=0 %s -p %d %s %d %d --child 2>/dev/null"):format(
                   exe, mat.procs(), script, n, runs))
local fresh = {}
for line in q:lines() do fresh[#fresh + 1] = tonumber(line) end
q:close()

print(("elementwise, n = %d, median of %d runs, new result each run (mat.procs() = %d)")
      :format(n, runs, mat.procs()))
print(("%-10s %10s %10s %8s %16s"):format("", "mpl ms", "NumPy ms", "NumPy/mpl",
                                          "mpl no-retain ms"))
for i, c in ipairs(cases) do
  local t = theirs[i]
  print(("%-10s %10.2f %10s %8s %16s"):format(c[1], mine[i],
        t and ("%.2f"):format(t) or "-", t and ("%.2fx"):format(t / mine[i]) or "-",
        fresh[i] and ("%.2f"):format(fresh[i]) or "-"))
end
if not theirs[1] then print("(NumPy not available: install python3-numpy)") end
