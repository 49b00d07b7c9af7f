-- index.lua: the cost of the plain indexing paths, m[i] (a row view of a
-- matrix, an element of a vector) and m[i][j], per call.
--
--   mpl tests/bench/index.lua [calls]      (default 2e6 calls per case)
--
-- Table indexing (m[{i, j}], slices, masks) shares __index and
-- __newindex with these paths; this benchmark is how to check that it does
-- not slow them: run an old and a new build of mpl on it in alternation
-- and compare the per-call figures (medians of 7 runs of each case, in
-- processor time, os.clock, which a loaded machine disturbs less than
-- wall time).
local n = math.tointeger(tonumber(arg and arg[1]) or 2e6)
local m = mat.rand(100, 50)
local v = mat.rand(1, 100)

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local function per_call(f)
  f(n // 10)
  local t = {}
  for k = 1, 7 do
    local t0 = os.clock()
    f(n)
    t[k] = (os.clock() - t0) / n * 1e9
  end
  return median(t)
end

local cases = {
  { "v[i]", function(k)
      local s = 0
      for i = 1, k do s = s + v[i % 100 + 1] end
      return s
    end },
  { "m[i]", function(k)
      local r
      for i = 1, k do r = m[i % 100 + 1] end
      return r
    end },
  { "m[i][j]", function(k)
      local s = 0
      for i = 1, k do s = s + m[i % 100 + 1][i % 50 + 1] end
      return s
    end },
  { "v[i] = x", function(k)
      for i = 1, k do v[i % 100 + 1] = i end
    end },
  { "m.rows", function(k)
      local s = 0
      for _ = 1, k do s = s + m.rows end
      return s
    end },
}
for _, c in ipairs(cases) do
  print(("%-10s %8.1f ns per call"):format(c[1], per_call(c[2])))
end
