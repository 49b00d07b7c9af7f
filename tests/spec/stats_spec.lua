-- Busted spec for the statistics, order, new elementwise functions, new
-- linear algebra and random sampling of the `mat` module: shapes and the
-- dim rule, views, opts.out, options, and every error message exactly
-- (stats_numpy_spec.lua checks the values against NumPy).

local mat = require "mat"

local nan = 0 / 0

local function M(t) return mat.from(t) end

local function same(t, m)
  assert.is_true(mat.ismatrix(m))
  assert.same(t, m:totable())
end

describe("the dim rule", function()
  local m = M { { 3, 1, 2 }, { 6, 5, 4 } }

  it("no dim: elements in row order; a vector keeps its shape", function()
    same({ { 1, 2, 3, 4, 5, 6 } }, m:sort())
    same({ { 3, 4, 6, 12, 17, 21 } }, m:cumsum())
    same({ { 1 }, { 3 }, { 2 } }, M { { 1 }, { 3 }, { 2 } }:argsort():reshape(3, 1))
    same({ { 1 }, { 2 }, { 3 } }, M { { 2 }, { 1 }, { 3 } }:sort())
    assert.are.equal(720, m:prod())
    assert.are.equal(3.5, m:median())
    assert.are.equal(4, m:argmax())
  end)

  it("dim 1 down columns, dim 2 along rows", function()
    same({ { 3, 1, 2 }, { 6, 5, 4 } }, m:sort(1))
    same({ { 1, 2, 3 }, { 4, 5, 6 } }, m:sort(2))
    same({ { 18, 5, 8 } }, m:prod(1))
    same({ { 6 }, { 120 } }, m:prod(2))
    same({ { 1 }, { 1 } }, m:argmax(2))
    same({ { 1, 1, 1 } }, m:argmin(1))
    same({ { 3, 4, 2 } }, m:diff(1))
    same({ { -2, 1 }, { -1, -1 } }, m:diff())
    same({ { 4.5, 3, 3 } }, m:median(1))
    same({ { 3, 1, 2 }, { 9, 6, 6 } }, m:cumsum(1))
  end)

  it("an options table may stand in for the dim", function()
    same({ { 6, 5, 4, 3, 2, 1 } }, m:sort { descending = true })
    same({ { 3, 2, 1 }, { 6, 5, 4 } }, m:sort(2, { descending = true }))
    assert.are.equal(3.5, m:var { ddof = 1 })
    assert.are.equal(17.5 / 6, m:var())
    same({ { 1.5, 2, 1 } }, m:std(1))
  end)
end)

describe("sort and argsort", function()
  it("are stable, NaN last even descending", function()
    local v = M { { 2, nan, 1, 2, -0.0, 0, 1 } }
    same({ { 5, 6, 3, 7, 1, 4, 2 } }, v:argsort())
    same({ { 1, 4, 3, 7, 5, 6, 2 } }, v:argsort { descending = true })
    local s = v:sort { descending = true }
    assert.is_true(s:get(1, 7) ~= s:get(1, 7))
    -- -0 keeps its sign and its place among the zeros
    local z = v:sort()
    assert.are.equal(-math.huge, 1 / z:get(1, 1))
    assert.are.equal(math.huge, 1 / z:get(1, 2))
  end)

  it("work on views and into opts.out", function()
    local big = M { { 9, 8, 7 }, { 6, 5, 4 }, { 3, 2, 1 } }
    same({ { 3, 6, 9 } }, big:col(1):t():sort())
    same({ { 6, 9 }, { 5, 8 } }, big:sub(1, 2, 1, 2):t():sort(2))
    local out = mat.new(1, 9)
    assert.are.equal(out, big:sort { out = out })
    same({ { 1, 2, 3, 4, 5, 6, 7, 8, 9 } }, out)
    local o2 = mat.new(3, 3)
    big:argsort(1, { out = o2 })
    same({ { 3, 3, 3 }, { 2, 2, 2 }, { 1, 1, 1 } }, o2)
    -- in place
    local w = M { { 3, 1, 2 } }
    w:sort { out = w }
    same({ { 1, 2, 3 } }, w)
  end)

  it("long lines sort as short ones do", function()
    mat.seed(5)
    local x = mat.randint(1, 50, 1, 5000)
    local s, i = x:sort(), x:argsort()
    for k = 2, 5000 do
      assert(s:get(1, k - 1) <= s:get(1, k))
      local a, b = i:get(1, k - 1), i:get(1, k)
      if s:get(1, k - 1) == s:get(1, k) then assert(a < b) end
    end
    assert.are.equal(x:get(1, i:get(1, 1)), s:get(1, 1))
    assert.are.equal(50, x:unique().cols)
  end)

  it("errors", function()
    local m = M { { 1, 2 } }
    assert.has_error(function() m:sort(3) end, "m:sort: dim must be 1 or 2 (got 3)")
    assert.has_error(function() m:sort { desc = true } end,
      "m:sort: unknown option 'desc' (known: descending, out)")
    assert.has_error(function() mat.argsort(m, { out = mat.new(2, 2) }) end,
      "mat.argsort: out is 2x2, the result is 1x2")
    assert.has_error(function() m:sort { out = 5 } end,
      "m:sort: opts.out must be a matrix (got number)")
    assert.has_error(function() m:cumsum { out = mat.new(2, 1), x = 1 } end,
      "m:cumsum: unknown option 'x' (known: out)")
  end)
end)

describe("statistics", function()
  it("quantile, median and unique", function()
    local m = M { { 1, 2, 3, 4 } }
    assert.are.equal(1.75, m:quantile(0.25))
    assert.are.equal(4, m:quantile(1))
    assert.are.equal(2.5, mat.median(m))
    local u = M { { 4, nan, 2, 1, nan, 2 } }:unique()
    same({ { 1, 2, 4 } }, u:sub(1, 1, 1, 3))
    assert.are.equal(4, u.cols)
    assert.is_true(u:get(1, 4) ~= u:get(1, 4))
    assert.are.same({ 1, 0 }, { mat.new(3, 0):unique():shape() })
  end)

  it("cov and corrcoef", function()
    local x = M { { 1, 2 }, { 2, 4 }, { 3, 6.5 } }
    local c = mat.cov(x)
    assert.are.equal(1, c:get(1, 1))
    assert.is_true(math.abs(c:get(1, 2) - 2.25) < 1e-14)
    local r = mat.corrcoef(x)
    assert.are.equal(1, r:get(1, 1))
    assert.is_true(r:get(1, 2) > 0.99 and r:get(1, 2) <= 1)
  end)

  it("errors name the function and the problem", function()
    local m = M { { 1, 2 } }
    assert.has_error(function() m:quantile(1.5) end,
      "m:quantile: q must be between 0 and 1 (got 1.5)")
    assert.has_error(function() m:quantile("x") end,
      "m:quantile: q must be a number (got string)")
    assert.has_error(function() m:std { ddof = -1 } end,
      "m:std: opts.ddof must be a non-negative number (got -1)")
    assert.has_error(function() m:var { dof = 1 } end,
      "m:var: unknown option 'dof' (known: ddof)")
    assert.has_error(function() mat.median(m, 0) end,
      "mat.median: dim must be 1 or 2 (got 0)")
    assert.has_error(function() m:median { x = 1 } end,
      "m:median: dim must be an integer (got table)")
    assert.has_error(function() mat.cov("x") end,
      "mat.cov: bad argument #1 (matrix expected, got string)")
    assert.has_error(function() mat.new(2, 0):argmax(2) end,
      "m:argmax: matrix is empty (2x0)")
  end)
end)

describe("new elementwise functions", function()
  it("are functions and methods, take numbers, opts.out and views", function()
    assert.are.equal(3, mat.log2(8))
    assert.are.equal(-3, mat.round(-2.5))
    assert.are.equal(3, mat.round(2.5))
    assert.are.equal(-2, mat.trunc(-2.7))
    assert.are.equal(-1, mat.sign(-0.1))
    assert.are.equal(math.pi / 4, mat.atan2(1, 1))
    local m = M { { 0.5, -1.5 }, { 2.5, 9 } }
    same({ { 1, -2 }, { 3, 9 } }, m:round())
    local out = mat.new(2, 1)
    assert.are.equal(out, m:col(1):round { out = out })
    same({ { 1 }, { 3 } }, out)
    same({ { 0, 1 } }, mat.atan2(M { { 0, 1 } }, 1):apply(function(x) return x * 4 / math.pi end):round())
    assert.has_error(function() mat.atan2(M { { 1, 2 } }, M { { 1, 2, 3 } }) end,
      "mat.atan2: shape mismatch: 1x2 and 1x3")
    assert.has_error(function() m:log10 { out = mat.new(1, 1) } end,
      "m:log10: out is 1x1, the matrix is 2x2")
  end)
end)

describe("linear algebra", function()
  it("qr, eig, pinv, rank, cond, norm", function()
    local A = M { { 1, 2 }, { 3, 4 }, { 5, 6 } }
    local Q, R = mat.qr(A)
    assert.is_true(mat.allclose(Q * R, A))
    assert.is_true(mat.allclose(Q:t() * Q, mat.eye(2)))
    assert.are.equal(0, R:get(2, 1))
    local wr, wi = mat.eig(M { { 0, -1 }, { 1, 0 } })
    same({ { 0, 0 } }, wr)
    same({ { 1, -1 } }, wi)
    assert.is_true(mat.allclose(mat.pinv(A) * A, mat.eye(2)))
    assert.are.equal(1, mat.rank(M { { 1, 2 }, { 2, 4 } }))
    assert.are.equal(math.huge, mat.cond(M { { 1, 0 }, { 0, 0 } }))
    assert.are.equal(12, A:norm(1))
    assert.are.equal(11, A:norm(math.huge))
    assert.has_error(function() A:norm(3) end,
      "m:norm: ord must be \"fro\", 1, 2, math.huge or \"nuc\" (got 3)")
    assert.has_error(function() mat.eig(A) end, "mat.eig: matrix is not square (3x2)")
    assert.has_error(function() mat.qr(M { { nan } }) end,
      "mat.qr: matrix contains NaN or infinity")
    assert.has_error(function() mat.rank(A, -1) end,
      "mat.rank: tol must be a non-negative number (got -1)")
    assert.has_error(function() mat.cond(mat.new(0, 0)) end,
      "mat.cond: matrix is empty (0x0)")
  end)
end)

describe("random integers and samples", function()
  it("come from the seeded stream", function()
    mat.seed(42)
    local a, p, c = mat.randint(-3, 3, 4, 5), mat.permutation(10), mat.choice(5, 8)
    mat.seed(42)
    assert.are.equal(a, mat.randint(-3, 3, 4, 5))
    assert.are.equal(p, mat.permutation(10))
    assert.are.equal(c, mat.choice(5, 8))
    assert.is_true(a:min() >= -3 and a:max() <= 3)
    same({ { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 } }, p:sort())
    local x = mat.randint(0, 1, 1, 20000)
    assert.is_true(math.abs(x:mean() - 0.5) < 0.02)
    local s = mat.choice(M { { 10, 20 }, { 30, 40 } }, 4, { replace = false })
    same({ { 10, 20, 30, 40 } }, s:sort())
  end)

  it("errors", function()
    assert.has_error(function() mat.randint(3, 1, 1, 1) end,
      "mat.randint: hi must be at least lo (got 3 and 1)")
    assert.has_error(function() mat.randint(1.5, 3, 1, 1) end,
      "mat.randint: lo must be an integer (got 1.5)")
    assert.has_error(function() mat.choice(3, 4, { replace = false }) end,
      "mat.choice: cannot take 4 of 3 elements without replacement")
    assert.has_error(function() mat.choice(mat.new(1, 0), 1) end,
      "mat.choice: nothing to choose from (0 elements)")
    assert.has_error(function() mat.choice(3, 1, { replaced = 1 }) end,
      "mat.choice: unknown option 'replaced' (known: replace)")
    assert.has_error(function() mat.permutation(-1) end,
      "mat.permutation: n must be a non-negative integer (got -1)")
  end)
end)

describe("long reductions (vectorised, split over helper threads)", function()
  it("min, max, argmax and argmin see NaN and infinities anywhere", function()
    local n = 2 ^ 21 + 5
    mat.seed(3)
    local a = mat.rand(1, n)
    local hi, lo = a:max(), a:min()
    assert.is_true(hi < 1 and hi > 0.999 and lo >= 0 and lo < 0.001)
    assert.are.equal(a:get(1, a:argmax()), hi)
    assert.are.equal(a:get(1, a:argmin()), lo)
    a:set(1, n - 1, math.huge)
    assert.are.equal(math.huge, a:max())
    assert.are.equal(n - 1, a:argmax())
    a:set(1, 1000001, -math.huge)
    assert.are.equal(-math.huge, a:min())
    assert.are.equal(1000001, a:argmin())
    a:set(1, 1500000, nan)
    local m1, m2 = a:max(), a:min()
    assert.is_true(m1 ~= m1 and m2 ~= m2)
    assert.are.equal(1500000, a:argmax())
    assert.are.equal(1500000, a:argmin())
    -- ties go to the first place, whichever thread finds which
    local t = mat.rand(1, n)
    t:set(1, 1234567, 2)
    t:set(1, 300000, 2)
    t:set(1, 2000000, -1)
    t:set(1, 7, -1)
    for procs = 1, 2 do
      mat.procs(procs)
      assert.are.equal(300000, t:argmax())
      assert.are.equal(7, t:argmin())
      assert.are.equal(1, mat.new(1, n, -math.huge):argmax())
      assert.are.equal(n, mat.hcat(mat.zeros(1, n - 1), 1):argmax())
    end
    -- sums and variances have the same bits on 1 and 2 threads
    local c = a:copy()
    c:set(1, 1500000, 0.5)
    local bits = {}
    for procs = 1, 2 do
      mat.procs(procs)
      bits[procs] = ("%a %a %a"):format(c:sum(), c:var(), c:std({ ddof = 1 }))
    end
    assert.are.equal(bits[1], bits[2])
    -- the same on a 2-D contiguous matrix and a transposed view
    local b = a:sub(1, 1, 1, 2 ^ 21):reshape(1024, 2048)
    assert.is_true(b:max() ~= b:max())
    assert.is_true(b:t():min() ~= b:t():min())
    assert.are.equal(1500000, b:argmax())
  end)
end)

describe("long quantiles (radix selection, split over helper threads)", function()
  -- the quantile from a sorted copy, NumPy's interpolation
  local function by_sort(x, q)
    local s, n = x:sort(), #x
    local vi = (n - 1) * q
    local lo = math.floor(vi)
    local a, b = s[lo + 1], s[math.min(lo + 2, n)]
    local t = vi - lo
    return t >= 0.5 and b - (b - a) * (1 - t) or a + (b - a) * t
  end

  it("match a sorted copy for every procs, strided lines, ties and zeros", function()
    mat.seed(9)
    local n = 200001
    local cases = {
      mat.randn(1, n),                        -- both signs
      mat.randint(-3, 3, 1, n) * 0.5,         -- ties, +0 and -0 below
      mat.hcat(mat.ones(1, n - 1), 2), -- the next rank in another bucket
      mat.hcat(mat.new(1, 100000, 1), mat.new(1, 100000, 2)),
    }
    local z = cases[2]
    for i = 1, n, 3 do if z[i] == 0 then z[i] = -0.0 end end
    for _, x in ipairs(cases) do
      for _, q in ipairs({ 0, 0.25, 0.5, 0.999, 1 }) do
        local want = by_sort(x, q)
        for procs = 1, 2 do
          mat.procs(procs)
          assert.are.equal(want, x:quantile(q))
        end
      end
      local s = x:sort()
      local n2 = #x
      local want = n2 % 2 == 1 and s[(n2 + 1) // 2] or (s[n2 // 2] + s[n2 // 2 + 1]) / 2
      assert.are.equal(want, x:median())
      local cols = mat.vcat(x, x):t() -- lines of stride 2
      assert.are.equal(want, cols:col(2):median())
      assert.are.equal(want, cols:median(1)[2])
      assert.are.equal(by_sort(x, 0.3), cols:quantile(0.3, 1)[1])
    end
    mat.procs(2)
  end)
end)

describe("N x 0 of any N", function()
  it("takes no time", function()
    local z = mat.zeros(1 << 62, 0)
    assert.are.same({ (1 << 62) - 1, 0 }, { z:diff(1):shape() })
    assert.are.same({ 1 << 62, 0 }, { z:cumsum(2):shape() })
    assert.are.equal(0, z:norm(1))
    assert.are.equal(0, z:norm(math.huge))
    assert.are.same({ 1 << 62, 0 }, { z:sort(2):shape() })
    assert.are.same({ 1, 0 }, { z:unique():shape() })
  end)
end)
