-- dot.lua: the mat.dot benchmark.  Runs bench_dot (built beside this
-- script's output directory by the `bench` target) for the large cases,
-- then measures the per-call cost of a 4x4 product from Lua.
do local b = mat.blas() print(("OpenBLAS kernel %s (chosen by %s), %d threads"):format(b.kernel, b.chosen, b.threads)) end
local here = arg and arg[0]:match("^(.*)/") or "."
local exe = os.getenv("MPL_BENCH_DOT") or "./bench_dot"
local ok = os.execute(exe)
if not ok then io.stderr:write("dot.lua: cannot run ", exe, "\n") end

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local a, b = mat.rand(4, 4), mat.rand(4, 4)
local per = {}
for r = 1, 9 do
  local n = 200000
  local t0 = mat.clock()
  for _ = 1, n do local _ = a * b end
  per[r] = (mat.clock() - t0) / n
end
collectgarbage()
print(string.format("dot 4x4 * 4x4 from Lua (a * b, new result): %.3f us per call",
                    median(per) * 1e6))
local out = mat.new(4, 4)
local opts = {out = out}
for r = 1, 9 do
  local n = 200000
  local t0 = mat.clock()
  for _ = 1, n do mat.dot(a, b, opts) end
  per[r] = (mat.clock() - t0) / n
end
print(string.format("dot 4x4 * 4x4 from Lua (mat.dot into out): %.3f us per call",
                    median(per) * 1e6))
local _ = here
