-- select_spec.lua: comparisons, NaN tests, where, maximum/minimum, clip,
-- any/all/count: results, broadcasting, opts.out, views and errors.

local function M(t) return mat.from(t) end
local nan, inf = 0 / 0, math.huge

describe("comparisons", function()
  local a = M{{1, 2, 3}, {4, 5, 6}}
  it("give 0/1 matrices and broadcast", function()
    assert.same({{1, 1, 0}, {0, 0, 0}}, a:lt(3):totable())
    assert.same({{1, 1, 1}, {0, 0, 0}}, a:le(3):totable())
    assert.same({{0, 0, 0}, {1, 1, 1}}, a:gt(3):totable())
    assert.same({{0, 0, 1}, {1, 1, 1}}, a:ge(3):totable())
    assert.same({{0, 0, 1}, {0, 0, 0}}, a:eq(3):totable())
    assert.same({{1, 1, 0}, {1, 1, 1}}, a:ne(3):totable())
    assert.same({{0, 1, 1}, {0, 0, 1}}, a:gt(M{{1}, {5}}):totable())
    assert.same({{0, 0, 0}, {1, 1, 1}}, mat.lt(3, a):totable())
    assert.same({{1, 0, 0}, {0, 1, 0}}, a:eq(M{1, 5, 0}):totable())
    assert.equal(1, mat.lt(1, 2))
  end)

  it("NaN compares false, except ne", function()
    local x = M{nan, 1}
    assert.same({{0, 1}}, x:lt(2):totable())
    assert.same({{0, 1}}, x:eq(1):totable())
    assert.same({{1, 0}}, x:ne(1):totable())
    assert.same({{0, 1}}, x:eq(x):totable())
  end)

  it("work on views and into opts.out, also in place", function()
    local m = M{{1, 2, 3}, {4, 5, 6}}
    local t = m:t()
    assert.same({{0, 0}, {0, 1}, {0, 1}}, t:gt(M{3, 4}):totable())
    local out = mat.zeros(2, 3)
    assert.equal(out, m:ge(5, {out = out}))
    assert.same({{0, 0, 0}, {0, 1, 1}}, out:totable())
    m:gt(2, {out = m})
    assert.same({{0, 0, 1}, {1, 1, 1}}, m:totable())
    -- out overlapping an operand one element further on, over many chunks
    local v = mat.range(1, 2001)
    local want = v:sub(1, 1, 1, 2000):lt(1000)
    mat.lt(v:sub(1, 1, 1, 2000), 1000, {out = v:sub(1, 1, 2, 2001)})
    assert.equal(want, v:sub(1, 1, 2, 2001))
    local w = mat.range(1, 2001)
    mat.where(w:sub(1, 1, 2, 2001):gt(500), w:sub(1, 1, 2, 2001), 0,
              {out = w:sub(1, 1, 1, 2000)})
    assert.equal(0, w[1])
    assert.equal(502, w[501])
    assert.equal(2001, w[2000])
  end)

  it("give the same results when large, at any alignment of out", function()
    -- a result of 2^20 elements and more is stored past the caches; the
    -- same operation on the n x 1 transpose is stored element by element
    local n = 2 ^ 20 + 5
    local v = mat.range(1, n + 1)
    local x = v:sub(1, 1, 1, n)
    local lt = x:t():lt(n / 2):t()
    local clip = x:t():clip(n / 4, n / 2):t()
    assert.equal(lt, x:lt(n / 2))
    assert.equal(clip, x:clip(n / 4, n / 2))
    local o = mat.zeros(1, n + 1):sub(1, 1, 2, n + 1) -- 8 bytes off
    assert.equal(clip, x:clip(n / 4, n / 2, {out = o}))
    assert.equal(lt, mat.where(x:lt(n / 2), 1, 0, {out = o}))
    mat.lt(x, n / 2, {out = v:sub(1, 1, 2, n + 1)}) -- overlapping
    assert.equal(lt, v:sub(1, 1, 2, n + 1))
    assert.equal(1, v[1])
    -- many rows of a view, each line 8 bytes off; row by row for reference
    mat.seed(5)
    local b = mat.rand(1050, 999)
    local ob = mat.zeros(1050, 1000):sub(1, 1050, 2, 1000)
    b:lt(0.5, {out = ob})
    local want = mat.zeros(1050, 999)
    for i = 1, 1050 do
      b:sub(i, i, 1, 999):lt(0.5, {out = want:sub(i, i, 1, 999)})
    end
    assert.equal(want, ob)
  end)

  it("errors name the function and the shapes", function()
    assert.has_error(function() a:lt(mat.ones(3, 2)) end,
                     "m:lt: shape mismatch: 2x3 and 3x2")
    assert.has_error(function() a:lt("x") end,
                     "m:lt: bad argument #2 (matrix or number expected, got string)")
    assert.has_error(function() a:lt(1, {out = mat.zeros(3, 2)}) end,
                     "m:lt: out is 3x2, the result is 2x3")
    assert.has_error(function() a:lt(1, {out = 1}) end,
                     "m:lt: opts.out must be a matrix (got number)")
    assert.has_error(function() a:eq(1, {ot = 1}) end,
                     "m:eq: unknown option 'ot' (known: out)")
  end)
end)

describe("isnan, isinf, isfinite", function()
  local x = M{nan, inf, -inf, 0, -1.5}
  it("test each element", function()
    assert.same({{1, 0, 0, 0, 0}}, mat.isnan(x):totable())
    assert.same({{0, 1, 1, 0, 0}}, mat.isinf(x):totable())
    assert.same({{0, 0, 0, 1, 1}}, x:isfinite():totable())
    assert.equal(1, mat.isnan(nan))
    local out = mat.ones(1, 5)
    mat.isnan(x, {out = out})
    assert.same({{1, 0, 0, 0, 0}}, out:totable())
  end)
end)

describe("mat.where", function()
  it("picks from a or b by the mask, broadcasting all three", function()
    local m = M{{1, -2}, {-3, 4}}
    assert.same({{1, 0}, {0, 4}}, mat.where(m:gt(0), m, 0):totable())
    assert.same({{10, 20}, {-3, 20}}, mat.where(M{{1, 0}, {0, 0}}:add(M{0, 1}), M{10, 20}, m):totable())
    assert.same({{7}, {8}}, mat.where(M{{1}, {0}}, 7, 8):totable())
    local out = mat.zeros(2, 2)
    assert.equal(out, mat.where(m:lt(0), 0, m, {out = out}))
    assert.same({{1, 0}, {0, 4}}, out:totable())
  end)

  it("a NaN in the mask counts as true", function()
    assert.same({{1, 2}}, mat.where(M{nan, 0}, 1, 2):totable())
  end)

  it("errors", function()
    assert.has_error(function() mat.where(mat.ones(2, 2), mat.ones(3, 1), 0) end,
                     "mat.where: shape mismatch: 2x2, 3x1 and 1x1")
    assert.has_error(function() mat.where(mat.ones(2, 2), 1, 0, {out = mat.ones(1, 2)}) end,
                     "mat.where: out is 1x2, the result is 2x2")
  end)
end)

describe("maximum, minimum, clip", function()
  it("maximum and minimum propagate NaN, as NumPy does", function()
    local a, b = M{1, nan, 3, -0.0}, M{2, 0, nan, 0}
    local mx, mn = mat.maximum(a, b), mat.minimum(a, b)
    assert.equal(2, mx[1]); assert.is_true(mx[2] ~= mx[2]); assert.is_true(mx[3] ~= mx[3])
    assert.equal(1, mn[1]); assert.is_true(mn[2] ~= mn[2]); assert.is_true(mn[3] ~= mn[3])
    assert.same({{2, 3}}, mat.maximum(M{1, 3}, 2):totable())
    assert.same({{1}, {2}}, mat.minimum(M{{1}, {5}}, 2):totable())
  end)

  it("clip bounds, keeps NaN, takes one side alone", function()
    local x = M{-5, 0.5, nan, 7}
    local c = x:clip(0, 1)
    assert.equal(0, c[1]); assert.equal(0.5, c[2]); assert.is_true(c[3] ~= c[3]); assert.equal(1, c[4])
    assert.same({{0, 0.5}}, M{-1, 0.5}:clip(0):totable())
    assert.same({{-1, 0.25}}, M{-1, 0.5}:clip(nil, 0.25):totable())
    local out = mat.zeros(1, 2)
    assert.equal(out, mat.clip(M{-1, 3}, 0, 2, {out = out}))
    assert.same({{0, 2}}, out:totable())
    assert.has_error(function() x:clip() end, "m:clip: give lo, hi or both")
    assert.has_error(function() x:clip("a", 1) end, "m:clip: lo must be a number (got string)")
  end)
end)

describe("any, all, count", function()
  local m = M{{0, 1, 2}, {0, 0, nan}}
  it("without dim: a boolean or a count (NaN is nonzero)", function()
    assert.is_true(m:any())
    assert.is_false(m:all())
    assert.equal(3, m:count())
    assert.is_false(mat.zeros(2, 2):any())
    assert.is_true(mat.ones(2, 2):all())
    assert.is_true(mat.zeros(0, 3):all())
    assert.is_false(mat.zeros(0, 3):any())
    assert.equal(0, mat.zeros(3, 0):count())
  end)

  it("with dim: per column (1) or per row (2)", function()
    assert.same({{0, 1, 1}}, m:any(1):totable())
    assert.same({{0, 0, 1}}, m:all(1):totable())
    assert.same({{0, 1, 2}}, m:count(1):totable())
    assert.same({{2}, {1}}, m:count(2):totable())
    assert.same({{0}, {0}}, m:all(2):totable())
    assert.same({{0, 0, 0}}, mat.zeros(0, 3):count(1):totable())
    assert.same({{1, 1, 1}}, mat.zeros(0, 3):all(1):totable())
  end)

  it("on views, and errors", function()
    assert.same({{0}, {1}, {2}}, m:t():count(2):totable())
    assert.has_error(function() m:count(3) end, "m:count: dim must be 1 or 2 (got 3)")
    assert.has_error(function() mat.any(1) end,
                     "mat.any: bad argument #1 (matrix expected, got number)")
  end)

  it("count agrees with a loop on a large random matrix", function()
    mat.seed(3)
    local x = mat.rand(500, 701):lt(0.25)
    local s = 0
    for i = 1, x.rows do for j = 1, x.cols do s = s + x:get(i, j) end end
    assert.equal(s, x:count())
    assert.equal(s, x:sum())
    assert.equal(s, x:count(1):sum())
  end)
end)
