-- Busted spec for arithmetic: the operators with broadcasting, mat.add &
-- co. with opts.out, the elementwise functions, m:apply, the reductions,
-- mat.allclose, mat.diag and the random numbers.  Every operation is
-- checked on views (rows, columns, sub-blocks, transposes) as well as on
-- whole matrices, and every error message exactly.

local mat = require "mat"

local inf, nan = math.huge, 0 / 0

local function M(t) return mat.from(t) end

local function same(t, m)
  assert.is_true(mat.ismatrix(m))
  assert.same(t, m:totable())
end

local function shape_of(m) return { m:shape() } end

-- an r x c matrix with element (i, j) = f(i, j)
local function build(r, c, f)
  local m = mat.new(r, c)
  for i = 1, r do
    for j = 1, c do m:set(i, j, f(i, j)) end
  end
  return m
end

-- element by element: got(i, j) == f(a(i, j)) exactly (NaN matches NaN)
local function check_each(got, r, c, f)
  assert.same({ r, c }, shape_of(got))
  for i = 1, r do
    for j = 1, c do
      local want, have = f(i, j), got:get(i, j)
      if not (want == have or (want ~= want and have ~= have)) then
        error(("element (%d, %d): got %.17g, want %.17g"):format(i, j, have, want), 2)
      end
    end
  end
end

local function near(a, b, tol)
  if a == b then return true end
  return math.abs(a - b) <= (tol or 1e-12) * math.max(1, math.abs(a), math.abs(b))
end

-- 1 2 3 / 4 5 6
local function m23() return M { { 1, 2, 3 }, { 4, 5, 6 } } end

-- a 6 x 7 matrix with distinct values and the views cut from it
local function big() return build(6, 7, function(i, j) return i * 10 + j + 0.5 end) end

describe("operators", function()
  it("add and subtract matrices of one shape", function()
    local a, b = m23(), M { { 10, 20, 30 }, { 40, 50, 60 } }
    same({ { 11, 22, 33 }, { 44, 55, 66 } }, a + b)
    same({ { -9, -18, -27 }, { -36, -45, -54 } }, a - b)
    same({ { 1, 2, 3 }, { 4, 5, 6 } }, a) -- operands untouched
  end)

  it("takes a number on either side", function()
    local a = m23()
    same({ { 2, 3, 4 }, { 5, 6, 7 } }, a + 1)
    same({ { 2, 3, 4 }, { 5, 6, 7 } }, 1 + a)
    same({ { 0, 1, 2 }, { 3, 4, 5 } }, a - 1)
    same({ { 9, 8, 7 }, { 6, 5, 4 } }, 10 - a)
    same({ { 0.5, 1, 1.5 }, { 2, 2.5, 3 } }, a / 2)
    same({ { 12, 6, 4 }, { 3, 2.4, 2 } }, 12 / a)
    same({ { 1, 4, 9 }, { 16, 25, 36 } }, a ^ 2)
    same({ { 2, 4, 8 }, { 16, 32, 64 } }, 2 ^ a)
    same({ { 2, 4, 6 }, { 8, 10, 12 } }, a * 2) -- scaling (lmat.c)
  end)

  it("negates, keeping signed zeros and NaN", function()
    same({ { -1, -2, -3 }, { -4, -5, -6 } }, -m23())
    local z = -M { { 0, -0.0 } }
    assert.equal(-inf, 1 / z[1])
    assert.equal(inf, 1 / z[2])
    assert.is_true((-M { { nan } }):get(1, 1) ~= (-M { { nan } }):get(1, 1))
  end)

  it("broadcasts a 1 x c row over the rows and an r x 1 column over the columns", function()
    local a = m23()
    same({ { 11, 22, 33 }, { 14, 25, 36 } }, a + M { { 10, 20, 30 } })
    same({ { 11, 22, 33 }, { 14, 25, 36 } }, M { { 10, 20, 30 } } + a)
    same({ { 0, 1, 2 }, { 2, 3, 4 } }, a - M { { 1 }, { 2 } })
    same({ { 0, -1, -2 }, { -2, -3, -4 } }, M { { 1 }, { 2 } } - a)
    same({ { 2, 3, 4 }, { 5, 6, 7 } }, a + M { { 1 } })
    -- a column and a row give the outer sum, as in NumPy
    same({ { 11, 21 }, { 12, 22 }, { 13, 23 } }, M { { 1 }, { 2 }, { 3 } } + M { { 10, 20 } })
    same({ { 1, 4 }, { 9, 16 } }, M { { 1, 2 }, { 3, 4 } } ^ M { { 2 } })
  end)

  it("raises to elementwise powers, with pow's special cases", function()
    same({ { 1, 4, 27 } }, M { { 1, 2, 3 } } ^ M { { 0, 2, 3 } })
    same({ { 1, 1, 1 } }, M { { nan, inf, 0 } } ^ 0)
    same({ { inf, -inf, 0.5 } }, M { { 0, -0.0, 2 } } ^ -1)
    local r = M { { -8, 4 } } ^ 0.5
    assert.is_true(r[1] ~= r[1])
    assert.equal(2, r[2])
    assert.is_true(near(3, (M { { 27 } } ^ (1 / 3))[1], 1e-15))
  end)

  it("works on rows, columns, sub-blocks and transposes", function()
    local m = big()
    local f = function(i, j) return m:get(i, j) end
    local r, c, s, t = m[2], m:col(3), m:sub(2, 4, 3, 6), m:t()
    check_each(r + 1, 1, 7, function(_, j) return f(2, j) + 1 end)
    check_each(c * 2, 6, 1, function(i) return f(i, 3) * 2 end)
    check_each(s - s, 3, 4, function() return 0 end)
    check_each(s + m:sub(1, 3, 1, 4), 3, 4, function(i, j) return f(i + 1, j + 2) + f(i, j) end)
    check_each(t ^ 2, 7, 6, function(i, j) return f(j, i) ^ 2 end)
    check_each(t - m:t():copy(), 7, 6, function() return 0 end)
    check_each(m:sub(1, 6, 1, 6) + m:sub(1, 6, 2, 7):t(), 6, 6,
      function(i, j) return f(i, j) + f(j, i + 1) end)
    check_each(t + m[1]:t(), 7, 6, function(i, j) return f(j, i) + f(1, i) end)
    check_each(-s:t(), 4, 3, function(i, j) return -f(j + 1, i + 2) end)
    check_each(1 / t:sub(1, 2, 1, 6), 2, 6, function(i, j) return 1 / f(j, i) end)
  end)

  it("compares with == by shape and elements, views too", function()
    local m = big()
    assert.is_true(m:t():t() == m)
    assert.is_true(m:sub(1, 2, 1, 2) == M { { 11.5, 12.5 }, { 21.5, 22.5 } })
    assert.is_false(m == m:copy() + 1)
    assert.is_false(m23() == m23():t())
    assert.is_false(M { { nan } } == M { { nan } })
    assert.is_false(m23() == 1)
  end)

  it("makes empty results from empty operands", function()
    assert.same({ 0, 3 }, shape_of(mat.new(0, 3) + M { { 1, 2, 3 } }))
    assert.same({ 2, 0 }, shape_of(-mat.new(2, 0)))
    assert.same({ 0, 0 }, shape_of(mat.new(0, 0) ^ 2))
  end)

  it("names both shapes when they do not broadcast", function()
    assert.has_error(function() return m23() + m23():t() end,
      "a + b: shape mismatch: 2x3 and 3x2")
    assert.has_error(function() return m23() - M { { 1, 2 } } end,
      "a - b: shape mismatch: 2x3 and 1x2")
    assert.has_error(function() return m23() ^ mat.new(3, 1) end,
      "a ^ b: shape mismatch: 2x3 and 3x1")
    assert.has_error(function() return mat.new(0, 3) + mat.new(2, 3) end,
      "a + b: shape mismatch: 0x3 and 2x3")
  end)

  it("refuses dividing a matrix by a matrix, pointing to div and solve", function()
    assert.has_error(function() return m23() / m23() end,
      "a / b: both operands are matrices (use a:div(b) to divide element by " ..
      "element, mat.solve for a linear system)")
  end)

  it("refuses operands that are not numbers or matrices", function()
    assert.has_error(function() return m23() + "x" end,
      "a + b: bad argument #2 (matrix or number expected, got string)")
    assert.has_error(function() return {} - m23() end,
      "a - b: bad argument #1 (matrix or number expected, got table)")
    assert.has_error(function() return m23() ^ true end,
      "a ^ b: bad argument #2 (matrix or number expected, got boolean)")
    assert.has_error(function() return m23() / "2" end,
      "a / b: bad argument #2 (matrix or number expected, got string)")
  end)

  it("refuses closed matrices", function()
    local a = m23()
    a:close()
    assert.has_error(function() return a + 1 end, "attempt to use a closed matrix")
    assert.has_error(function() return -a end, "attempt to use a closed matrix")
  end)
end)

describe("mat.add, subtract, mul, div, pow", function()
  it("are functions and methods with broadcasting", function()
    local a = m23()
    same({ { 2, 4, 6 }, { 8, 10, 12 } }, mat.add(a, a))
    same({ { 0, 0, 0 }, { 0, 0, 0 } }, a:subtract(a))
    same({ { 1, 4, 9 }, { 16, 25, 36 } }, a:mul(a))
    same({ { 10, 40, 90 }, { 40, 100, 180 } }, a:mul(M { { 10, 20, 30 } }))
    same({ { 1, 1, 1 }, { 1, 1, 1 } }, mat.div(a, a))
    same({ { 1, 2, 3 }, { 2, 2.5, 3 } }, a:div(M { { 1 }, { 2 } }))
    same({ { 1, 8, 27 }, { 64, 125, 216 } }, a:pow(3))
    same({ { 3, 6, 9 }, { 12, 15, 18 } }, mat.mul(3, a))
    same({ { 6, 3, 2 }, { 1.5, 1.2, 1 } }, mat.div(6, a))
  end)

  it("give a number for two numbers", function()
    assert.equal(5, mat.add(2, 3))
    assert.equal(8, mat.pow(2, 3))
    assert.equal(0.5, mat.div(1, 2))
  end)

  it("write into opts.out and return it", function()
    local a, o = m23(), mat.new(2, 3)
    local r = a:add(10, { out = o })
    assert.equal(o, r)
    same({ { 11, 12, 13 }, { 14, 15, 16 } }, o)
    -- a strided out: the transpose of a 3 x 2 matrix
    local t = mat.new(3, 2)
    a:mul(a, { out = t:t() })
    same({ { 1, 16 }, { 4, 25 }, { 9, 36 } }, t)
  end)

  it("work in place and with outputs that overlap an operand", function()
    local a = m23()
    a:add(1, { out = a })
    same({ { 2, 3, 4 }, { 5, 6, 7 } }, a)
    -- row 1 broadcast over the matrix it belongs to
    a:subtract(a[1], { out = a })
    same({ { 0, 0, 0 }, { 3, 3, 3 } }, a)
    -- a square matrix into its own transpose
    local s = M { { 1, 2 }, { 3, 4 } }
    mat.add(s, s:t(), { out = s })
    same({ { 2, 5 }, { 5, 8 } }, s)
    local q = M { { 1, 2 }, { 3, 4 } }
    q:t():mul(1, { out = q })
    same({ { 1, 3 }, { 2, 4 } }, q)
  end)

  it("check out's shape and type and the opts", function()
    local a = m23()
    assert.has_error(function() a:add(a, { out = mat.new(3, 2) }) end,
      "m:add: out is 3x2, the result is 2x3")
    assert.has_error(function() a:mul(1, { out = "x" }) end,
      "m:mul: opts.out must be a matrix (got string)")
    assert.has_error(function() a:div(1, 5) end,
      "m:div: opts must be a table (got number)")
    assert.has_error(function() a:pow(M { { 1, 2 } }) end,
      "m:pow: shape mismatch: 2x3 and 1x2")
    assert.has_error(function() mat.subtract("a", a) end,
      "mat.subtract: bad argument #1 (matrix or number expected, got string)")
    assert.has_error(function() mat.mul(a, nil) end,
      "mat.mul: bad argument #2 (matrix or number expected, got nil)")
  end)
end)

describe("elementwise functions", function()
  local fns = { "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "floor", "ceil" }
  local values = { -2.5, -1, -0.5, 0, 0.25, 1, 2, 3.75, 10, 700 }

  for _, name in ipairs(fns) do
    it(name .. " matches math." .. name .. " as a function and a method", function()
      local ref = math[name] or function(x)
        return name == "tanh" and (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1) or nil
      end
      local m = M { values }
      for _, r in ipairs { mat[name](m), m[name](m) } do
        for j, x in ipairs(values) do
          local want, got = ref(x), r[j]
          if name == "tanh" and x > 300 then want = 1 end
          if want ~= want then
            assert.is_true(got ~= got, name .. "(" .. x .. ")")
          else
            assert.is_true(near(want, got, 1e-14), name .. "(" .. x .. "): " .. got)
          end
        end
      end
      assert.is_true(near(mat[name](m)[9], mat[name](10), 0)) -- a number gives a number
    end)
  end

  it("handles special values like libm", function()
    local e = mat.exp(M { { -inf, inf, 710, -750, nan } })
    assert.same({ 0, inf, inf, 0 }, { e[1], e[2], e[3], e[4] })
    assert.is_true(e[5] ~= e[5])
    local l = mat.log(M { { 0, -1, inf } })
    assert.equal(-inf, l[1])
    assert.is_true(l[2] ~= l[2])
    assert.equal(inf, l[3])
    local s = mat.sqrt(M { { -1, -0.0, 4 } })
    assert.is_true(s[1] ~= s[1])
    assert.equal(-inf, 1 / s[2])
    assert.equal(2, s[3])
    same({ { -1, -0.0, 2 } }, mat.floor(M { { -0.5, -0.0, 2.999 } }))
    assert.equal(-inf, 1 / mat.ceil(M { { -0.5 } })[1])
    same({ { 0, 2 } }, mat.abs(M { { -0.0, -2 } }))
  end)

  it("works on views", function()
    local m = big()
    check_each(mat.sqrt(m:t()), 7, 6, function(i, j) return math.sqrt(m:get(j, i)) end)
    check_each(m:sub(2, 5, 2, 3):floor(), 4, 2, function(i, j) return math.floor(m:get(i + 1, j + 1)) end)
    check_each(m:col(4):exp(), 6, 1, function(i) return mat.exp(m:get(i, 4)) end)
  end)

  it("gives every element the same result wherever it sits", function()
    local v = mat.linspace(-5, 5, 101)
    local whole = mat.exp(v)
    for j = 1, 101, 7 do
      assert.equal(whole[j], mat.exp(v[j]))
      assert.equal(whole[j], mat.exp(v:sub(1, 1, j, 101))[1])
    end
  end)

  it("write into opts.out, also in place", function()
    local m, o = M { { 1, 4 }, { 9, 16 } }, mat.new(2, 2)
    assert.equal(o, mat.sqrt(m, { out = o }))
    same({ { 1, 2 }, { 3, 4 } }, o)
    m:sqrt({ out = m })
    same({ { 1, 2 }, { 3, 4 } }, m)
    m:t():abs({ out = m }) -- into its own transpose
    same({ { 1, 3 }, { 2, 4 } }, m)
  end)

  it("report bad arguments", function()
    assert.has_error(function() mat.exp("x") end,
      "mat.exp: bad argument #1 (matrix or number expected, got string)")
    assert.has_error(function() mat.log(m23(), { out = mat.new(3, 2) }) end,
      "mat.log: out is 3x2, the matrix is 2x3")
    assert.has_error(function() mat.sin(1, { out = mat.new(1, 1) }) end,
      "mat.sin: opts.out needs a matrix argument")
    assert.has_error(function() m23():cos(7) end,
      "m:cos: opts must be a table (got number)")
  end)
end)

describe("m:apply", function()
  it("calls f(x, i, j) per element, in row order, into a new matrix", function()
    local seen = {}
    local r = m23():apply(function(x, i, j)
      seen[#seen + 1] = ("%d%d"):format(i, j)
      return x * 10 + i
    end)
    same({ { 11, 21, 31 }, { 42, 52, 62 } }, r)
    assert.same({ "11", "12", "13", "21", "22", "23" }, seen)
    same({ { 1, 2, 3 }, { 4, 5, 6 } }, m23():apply(function(x) return x end))
  end)

  it("works on views and into opts.out", function()
    local m = big()
    check_each(m:t():apply(function(x) return -x end), 7, 6, function(i, j) return -m:get(j, i) end)
    local s = M { { 1, 2 }, { 3, 4 } }
    s:t():apply(function(x) return x end, { out = s })
    same({ { 1, 3 }, { 2, 4 } }, s)
    mat.apply(s, function(x) return x + 1 end, { out = s })
    same({ { 2, 4 }, { 3, 5 } }, s)
  end)

  it("survives f closing the matrices it works on", function()
    local m = M { { 1, 2, 3 } }
    local r = m:apply(function(x)
      m:close()
      collectgarbage()
      return x * 2
    end)
    same({ { 2, 4, 6 } }, r)
  end)

  it("passes f's errors through and checks what f returns", function()
    assert.has_error(function() m23():apply(function() error("boom", 0) end) end, "boom")
    assert.has_error(function() m23():apply(function(x, i, j) if j == 2 then return "x" end return x end) end,
      "m:apply: the function returned string for element (1, 2), expected a number")
    assert.has_error(function() m23():apply(42) end,
      "m:apply: bad argument #2 (function expected, got number)")
    local callable = setmetatable({}, { __call = function(_, x) return x + 1 end })
    same({ { 2, 3, 4 }, { 5, 6, 7 } }, m23():apply(callable))
  end)
end)

describe("reductions", function()
  it("sum, mean, min and max of everything, of columns (dim 1) and of rows (dim 2)", function()
    local a = m23()
    assert.equal(21, a:sum())
    assert.equal(3.5, a:mean())
    assert.equal(1, a:min())
    assert.equal(6, a:max())
    same({ { 5, 7, 9 } }, a:sum(1))
    same({ { 6 }, { 15 } }, a:sum(2))
    same({ { 2.5, 3.5, 4.5 } }, a:mean(1))
    same({ { 2 }, { 5 } }, a:mean(2))
    same({ { 1, 2, 3 } }, a:min(1))
    same({ { 3 }, { 6 } }, a:max(2))
    same({ { 4, 5, 6 } }, mat.max(a, 1))
    assert.equal(21, mat.sum(a))
  end)

  it("work on views", function()
    local m = big()
    for _, v in ipairs { m:t(), m:sub(2, 5, 3, 6), m:sub(2, 5, 3, 6):t(), m:col(2), m[3] } do
      local r, c = v:shape()
      local s, lo, hi = 0, inf, -inf
      for i = 1, r do
        for j = 1, c do
          local x = v:get(i, j)
          s, lo, hi = s + x, math.min(lo, x), math.max(hi, x)
        end
      end
      assert.is_true(near(s, v:sum()))
      assert.equal(lo, v:min())
      assert.equal(hi, v:max())
      assert.is_true(near(s / (r * c), v:mean()))
      check_each(v:sum(1), 1, c, function(_, j)
        local t = 0
        for i = 1, r do t = t + v:get(i, j) end
        return t
      end)
      check_each(v:max(2), r, 1, function(i)
        local t = -inf
        for j = 1, c do t = math.max(t, v:get(i, j)) end
        return t
      end)
      check_each(v:min(1), 1, c, function(_, j)
        local t = inf
        for i = 1, r do t = math.min(t, v:get(i, j)) end
        return t
      end)
    end
  end)

  it("sum pairwise: a million 0.1s come to 1e5 within 1e-9", function()
    local v = mat.new(1, 1000000, 0.1)
    assert.is_true(math.abs(v:sum() - 1e5) < 1e-9)
    assert.is_true(math.abs(mat.new(1000000, 1, 0.1):sum(1)[1] - 1e5) < 1e-9)
    local plain = 0
    for _ = 1, 1000000 do plain = plain + 0.1 end
    assert.is_true(math.abs(plain - 1e5) > 1e-7) -- what a running sum loses
  end)

  it("sum a contiguous run to the same bits as the same numbers strided", function()
    for _, n in ipairs({ 7, 8, 9, 127, 128, 129, 1000, 100003 }) do
      local m = mat.randn(n, 2)
      local strided = m:col(1)
      local packed = strided:copy()
      assert.equal(("%a"):format(strided:sum()), ("%a"):format(packed:sum()))
      assert.equal(("%a"):format(m:col(2):sum()), ("%a"):format(m:col(2):copy():sum()))
    end
  end)

  it("propagate NaN in min and max", function()
    local m = M { { 1, nan, 3 }, { 4, 5, 6 } }
    assert.is_true(m:min() ~= m:min())
    assert.is_true(m:max() ~= m:max())
    local c = m:max(1)
    assert.is_true(c[2] ~= c[2])
    assert.equal(6, c[3])
  end)

  it("handle empty matrices", function()
    assert.equal(0, mat.new(0, 3):sum())
    assert.is_true(mat.new(0, 3):mean() ~= mat.new(0, 3):mean())
    same({ { 0, 0, 0 } }, mat.new(0, 3):sum(1))
    assert.same({ 0, 1 }, shape_of(mat.new(0, 3):sum(2)))
    assert.same({ 1, 0 }, shape_of(mat.new(3, 0):max(1)))
    assert.has_error(function() mat.new(0, 3):min() end, "m:min: matrix is empty (0x3)")
    assert.has_error(function() mat.new(0, 3):max(1) end, "m:max: matrix is empty (0x3)")
    assert.has_error(function() mat.new(3, 0):min(2) end, "m:min: matrix is empty (3x0)")
  end)

  it("check dim", function()
    assert.has_error(function() m23():sum(3) end, "m:sum: dim must be 1 or 2 (got 3)")
    assert.has_error(function() m23():mean(0) end, "m:mean: dim must be 1 or 2 (got 0)")
    assert.has_error(function() m23():min(1.5) end, "m:min: dim must be an integer (got 1.5)")
    assert.has_error(function() m23():max("x") end, "m:max: dim must be an integer (got string)")
    assert.has_error(function() mat.sum(5) end, "mat.sum: bad argument #1 (matrix expected, got number)")
  end)

  it("norm is the Frobenius norm, safe from overflow and underflow", function()
    assert.equal(5, M { { 3, 0 }, { 0, 4 } }:norm())
    assert.is_true(near(5e200, M { { 3e200, 4e200 } }:norm()))
    assert.is_true(near(5e-200, M { { 3e-200 }, { 4e-200 } }:norm()))
    assert.equal(0, mat.new(2, 2):norm())
    assert.is_true(near(math.sqrt(91), m23():norm()))
    assert.is_true(near(m23():norm(), m23():t():norm(), 0))
    assert.equal(inf, M { { 1, inf } }:norm())
  end)

  it("trace sums the main diagonal, also of non-square matrices and views", function()
    assert.equal(5, M { { 1, 2 }, { 3, 4 } }:trace())
    assert.equal(6, m23():trace())
    assert.equal(6, m23():t():trace())
    local m = big()
    assert.equal(m:get(2, 3) + m:get(3, 4), m:sub(2, 3, 3, 7):trace())
    assert.equal(0, mat.new(0, 0):trace())
  end)
end)

describe("mat.allclose", function()
  it("uses |a - b| <= atol + rtol * |b| with NumPy's defaults", function()
    local a = M { { 1, 2 }, { 3, 4 } }
    assert.is_true(mat.allclose(a, a:copy()))
    assert.is_true(mat.allclose(a, a + 1e-9))
    assert.is_false(mat.allclose(a, a + 1e-3))
    assert.is_true(mat.allclose(a, a + 1e-3, 1e-3))
    assert.is_true(mat.allclose(a, a + 0.5, 0, 0.5))
    assert.is_false(mat.allclose(a, a + 0.5, 0, 0.49))
    assert.is_true(mat.allclose(M { { 0 } }, M { { 1e-9 } }))
  end)

  it("broadcasts and takes numbers", function()
    assert.is_true(mat.allclose(mat.new(3, 2, 7), 7))
    assert.is_true(mat.allclose(mat.new(3, 2, 7), M { { 7, 7 } }))
    assert.is_false(mat.allclose(M { { 1, 2 } }, M { { 1 }, { 2 } }))
  end)

  it("treats equal infinities as close and NaN as never close", function()
    assert.is_true(mat.allclose(M { { inf, -inf } }, M { { inf, -inf } }))
    assert.is_false(mat.allclose(M { { inf } }, M { { -inf } }))
    assert.is_false(mat.allclose(M { { nan } }, M { { nan } }))
  end)

  it("works on views", function()
    local m = big()
    assert.is_true(mat.allclose(m:t():t(), m))
    assert.is_true(mat.allclose(m:sub(1, 3, 1, 3):t(), m:sub(1, 3, 1, 3):copy():t()))
  end)

  it("reports bad arguments", function()
    assert.has_error(function() mat.allclose(m23(), m23():t()) end,
      "mat.allclose: shape mismatch: 2x3 and 3x2")
    assert.has_error(function() mat.allclose(m23(), m23(), -1) end,
      "mat.allclose: rtol must be a non-negative number (got -1)")
    assert.has_error(function() mat.allclose(m23(), m23(), 0, "x") end,
      "mat.allclose: atol must be a non-negative number (got string)")
    assert.has_error(function() mat.allclose(m23(), {}) end,
      "mat.allclose: bad argument #2 (matrix or number expected, got table)")
  end)
end)

describe("mat.diag", function()
  it("puts a vector on a diagonal and takes a matrix's diagonal", function()
    same({ { 1, 0, 0 }, { 0, 2, 0 }, { 0, 0, 3 } }, mat.diag(M { { 1, 2, 3 } }))
    same({ { 1, 0 }, { 0, 2 } }, mat.diag(M { { 1 }, { 2 } }))
    same({ { 1, 5 } }, mat.diag(m23()))
    same({ { 1, 5 } }, m23():t():diag())
    same({ { 2, 0 }, { 0, 5 } }, mat.diag(m23():col(2)))
  end)
end)

describe("random numbers", function()
  it("repeat exactly after mat.seed, with these values on every machine", function()
    mat.seed(42)
    local u, z = mat.rand(1, 3), mat.randn(1, 3)
    assert.same({ "0x1.9e479e2aaa778p-4", "0x1.78fbf9d4ef89cp-2", "0x1.87dae24b6f004p-1" },
      { ("%a"):format(u[1]), ("%a"):format(u[2]), ("%a"):format(u[3]) })
    assert.same({ "-0x1.bbe40c0c5ac22p-1", "-0x1.6048087106c3bp+0", "0x1.6a1631e08077ap+0" },
      { ("%a"):format(z[1]), ("%a"):format(z[2]), ("%a"):format(z[3]) })
    mat.seed(42)
    assert.is_true(mat.rand(1, 3) == u)
    assert.is_true(mat.randn(1, 3) == z)
  end)

  it("differ between seeds", function()
    mat.seed(1)
    local a = mat.randn(4, 4)
    mat.seed(2)
    assert.is_false(mat.randn(4, 4) == a)
    mat.seed()
    assert.is_false(mat.randn(4, 4) == a)
  end)

  it("have the right distributions", function()
    mat.seed(99)
    local n = 400000
    local u, z = mat.rand(1, n), mat.randn(1, n)
    assert.is_true(u:min() >= 0 and u:max() < 1)
    assert.is_true(math.abs(u:mean() - 0.5) < 5 * math.sqrt(1 / 12 / n))
    assert.is_true(math.abs(z:mean()) < 5 / math.sqrt(n))
    local var = (z ^ 2):mean()
    assert.is_true(math.abs(var - 1) < 5 * math.sqrt(2 / n))
    assert.is_true(math.abs((z ^ 4):mean() - 3) < 5 * math.sqrt(96 / n))
    -- tail frequencies: P(|z| > 1), P(|z| > 2), P(|z| > 3)
    local a = mat.abs(z)
    for _, c in ipairs { { 1, 0.31731050786291415 }, { 2, 0.04550026389635842 }, { 3, 0.0026997960632601866 } } do
      local count = a:apply(function(x) return x > c[1] and 1 or 0 end):sum()
      local p = c[2]
      assert.is_true(math.abs(count / n - p) < 5 * math.sqrt(p * (1 - p) / n), "tail " .. c[1])
    end
  end)
end)
