-- select.lua: masked selection and comparisons, side by side with NumPy.
--
--   mpl tests/bench/select.lua [n [runs]]      (defaults: 1e7 elements, 21 runs)
--
-- x[mask] with a random mask that keeps about half of the elements (the
-- worst case for branches), and one that keeps a tenth; the comparison that
-- makes a mask; where and clip.  Each case makes a new result every run;
-- the figure is the median of the runs after one warm-up.  NumPy
-- (/usr/bin/python3, Debian's python3-numpy) runs the same cases on the
-- same sizes in the same run.  NumPy's masks are its booleans (1 byte an
-- element), mpl's are 0/1 matrices (8 bytes).
local n = math.tointeger(tonumber(arg and arg[1]) or 10000000)
local runs = math.tointeger(tonumber(arg and arg[2]) or 21)

local common = dofile((arg and arg[0]:match("^(.*)/") or ".") .. "/common.lua")
local function time(f) return common.time(f, runs) end

mat.seed(1)
local x = mat.rand(1, n)
local half, tenth = x:lt(0.5), x:lt(0.1)
local cases = {
  { "x[x < 0.5]", function() local _ = x[half] end, "x[half]" },
  { "x[x < 0.1]", function() local _ = x[tenth] end, "x[tenth]" },
  { "x:lt(0.5)", function() local _ = x:lt(0.5) end, "x < 0.5" },
  { "where", function() local _ = mat.where(half, x, 0) end, "np.where(half, x, 0.0)" },
  { "clip", function() local _ = x:clip(0.2, 0.8) end, "np.clip(x, 0.2, 0.8)" },
  { "x:count()", function() local _ = half:count() end, "np.count_nonzero(half)" },
}
local mine = {}
for i, c in ipairs(cases) do mine[i] = time(c[2]) end

local exprs = {}
for i, c in ipairs(cases) do exprs[i] = c[3] end
local theirs = common.numpy([[
x = np.random.default_rng(1).random(n)
half, tenth = x < 0.5, x < 0.1]], exprs, n, runs)

print(("selection, n = %d, median of %d runs (mat.procs() = %d)"):format(n, runs, mat.procs()))
print(("%-12s %10s %10s %10s"):format("", "mpl ms", "NumPy ms", "NumPy/mpl"))
for i, c in ipairs(cases) do
  local t = theirs[i]
  print(("%-12s %10.2f %10s %10s"):format(c[1], mine[i],
        t and ("%.2f"):format(t) or "-", t and ("%.2fx"):format(t / mine[i]) or "-"))
end
if not theirs[1] then print("(NumPy not available: install python3-numpy)") end
