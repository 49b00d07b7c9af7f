-- Busted spec for the `mat` module: construction, shape and access, views,
-- the matrix product, tostring, closing, errors and memory reuse.
--
-- Runs under stock lua5.4 with mat.so on LUA_CPATH, and inside the `mpl`
-- interpreter (ctest), where `mat` is preloaded.  Error messages are
-- compared exactly; luassert strips any "file:line: " position prefix.
-- Expected tostring bodies are what NumPy's str() prints for the same data.

local mat = require "mat"

local inf, nan = math.huge, 0 / 0

local function M(t) return mat.from(t) end

-- m:totable() equals the nested table t.
local function same(t, m)
  assert.is_true(mat.ismatrix(m))
  assert.same(t, m:totable())
end

local function shape_of(m) return { m:shape() } end

-- 1 2 3 / 4 5 6 / 7 8 9
local function m3() return M { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } } end

-- an r x c matrix with element (i, j) = f(i, j)
local function build(r, c, f)
  local m = mat.new(r, c)
  for i = 1, r do
    for j = 1, c do m:set(i, j, f(i, j)) end
  end
  return m
end

describe("construction", function()
  describe("mat.new", function()
    it("makes an r x c matrix of zeros", function()
      local m = mat.new(2, 3)
      same({ { 0, 0, 0 }, { 0, 0, 0 } }, m)
      assert.same({ 2, 3 }, shape_of(m))
    end)

    it("fills with the given value", function()
      same({ { 2.5, 2.5 }, { 2.5, 2.5 }, { 2.5, 2.5 } }, mat.new(3, 2, 2.5))
    end)

    it("fills with -0.0 and NaN exactly", function()
      local z = mat.new(2, 2, -0.0)
      assert.equal(-inf, 1 / z:get(2, 2))
      local n = mat.new(1, 2, nan)
      assert.is_true(n:get(1, 2) ~= n:get(1, 2))
    end)

    it("accepts integral floats as sizes", function()
      assert.same({ 2, 3 }, shape_of(mat.new(2.0, 3.0)))
    end)

    it("makes empty matrices", function()
      assert.same({ 0, 3 }, shape_of(mat.new(0, 3)))
      assert.same({ 3, 0 }, shape_of(mat.new(3, 0)))
      assert.same({ 0, 0 }, shape_of(mat.new(0, 0)))
    end)
  end)

  describe("mat.zeros and mat.ones", function()
    it("zeros makes a zero matrix", function()
      same({ { 0, 0 }, { 0, 0 }, { 0, 0 } }, mat.zeros(3, 2))
    end)

    it("ones makes a matrix of ones", function()
      same({ { 1, 1, 1 }, { 1, 1, 1 } }, mat.ones(2, 3))
    end)
  end)

  describe("mat.eye", function()
    it("eye(n) is the n x n identity", function()
      same({ { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } }, mat.eye(3))
    end)

    it("eye(r, c) has ones on the leading diagonal", function()
      same({ { 1, 0, 0, 0 }, { 0, 1, 0, 0 } }, mat.eye(2, 4))
      same({ { 1, 0 }, { 0, 1 }, { 0, 0 } }, mat.eye(3, 2))
    end)

    it("eye(0) is 0 x 0", function()
      assert.same({ 0, 0 }, shape_of(mat.eye(0)))
    end)
  end)

  describe("mat.from", function()
    it("turns a nested table into r x c", function()
      local m = M { { 1, 2, 3 }, { 4, 5, 6 } }
      assert.same({ 2, 3 }, shape_of(m))
      same({ { 1, 2, 3 }, { 4, 5, 6 } }, m)
    end)

    it("turns a flat table into 1 x n", function()
      local m = M { 1, 2, 3, 4 }
      assert.same({ 1, 4 }, shape_of(m))
      same({ { 1, 2, 3, 4 } }, m)
    end)

    it("turns {} into 1 x 0", function()
      assert.same({ 1, 0 }, shape_of(M {}))
    end)

    it("turns { {} } into 1 x 0 and { {}, {} } into 2 x 0", function()
      assert.same({ 1, 0 }, shape_of(M { {} }))
      assert.same({ 2, 0 }, shape_of(M { {}, {} }))
    end)

    it("takes a table of row vectors", function()
      local m = M { M { 1, 2 }, M { 3, 4 }, M { 5, 6 } }
      same({ { 1, 2 }, { 3, 4 }, { 5, 6 } }, m)
    end)

    it("takes strided vectors (columns, rows of a transpose) as rows", function()
      local a = m3()
      same({ { 1, 4, 7 }, { 3, 6, 9 }, { 4, 5, 6 } },
           M { a:col(1), a:t():row(3), a:t():col(2) })
    end)

    it("mixes tables and vectors as rows", function()
      same({ { 1, 2 }, { 3, 4 } }, M { { 1, 2 }, M { 3, 4 } })
    end)

    it("copies a matrix", function()
      local a = m3()
      local b = mat.from(a)
      same(a:totable(), b)
      b:set(1, 1, 100)
      assert.equal(1, a:get(1, 1))
    end)

    it("copies a transposed view into a new matrix", function()
      local a = m3()
      local b = mat.from(a:t())
      same({ { 1, 4, 7 }, { 2, 5, 8 }, { 3, 6, 9 } }, b)
      b:set(1, 2, -1)
      assert.equal(2, a:get(1, 2))
    end)
  end)

  describe("mat.range", function()
    it("includes the end, like a numeric for", function()
      same({ { 1, 2, 3, 4, 5 } }, mat.range(1, 5))
    end)

    it("takes a float step", function()
      same({ { 1, 1.25, 1.5, 1.75, 2 } }, mat.range(1, 2, 0.25))
    end)

    it("range(0, 0.3, 0.1) has 4 elements ending near 0.3", function()
      local r = mat.range(0, 0.3, 0.1)
      assert.same({ 1, 4 }, shape_of(r))
      assert.equal(0, r[1])
      assert.is_true(math.abs(r[4] - 0.3) < 1e-15)
    end)

    it("takes a negative step", function()
      same({ { 5, 4, 3, 2, 1 } }, mat.range(5, 1, -1))
      same({ { 1, 0.5, 0, -0.5 } }, mat.range(1, -0.5, -0.5))
    end)

    it("stops before passing the end", function()
      same({ { 0, 2, 4 } }, mat.range(0, 5, 2))
    end)

    it("has one element when start equals stop", function()
      same({ { 3 } }, mat.range(3, 3))
    end)

    it("is empty (1 x 0) when stop < start with a positive step", function()
      assert.same({ 1, 0 }, shape_of(mat.range(5, 1)))
      assert.same({ 1, 0 }, shape_of(mat.range(1, 5, -1)))
    end)

    it("rejects a zero step", function()
      assert.has_error(function() mat.range(1, 2, 0) end,
                       "mat.range: step must not be zero")
    end)

    it("rejects non-finite bounds", function()
      assert.has_error(function() mat.range(0, inf) end,
                       "mat.range: start, stop and step must be finite")
      assert.has_error(function() mat.range(nan, 1) end,
                       "mat.range: start, stop and step must be finite")
    end)

    it("names itself when the count is too large", function()
      assert.has_error(function() mat.range(0, 1e16) end,
                       "mat.range: too many elements (1e+16)")
      -- 1e15 + 1 elements pass the 2^53 check but cannot be allocated
      assert.error_matches(function() mat.range(0, 1e15) end,
                           "^mat%.range: ")
    end)

    it("rejects non-numbers", function()
      assert.has_error(function() mat.range("a", 2) end,
                       "mat.range: start must be a number (got string)")
      assert.has_error(function() mat.range(1, nil) end,
                       "mat.range: stop must be a number (got nil)")
      assert.has_error(function() mat.range(1, 2, {}) end,
                       "mat.range: step must be a number (got table)")
    end)
  end)

  describe("mat.linspace", function()
    it("gives n evenly spaced points", function()
      same({ { 0, 0.25, 0.5, 0.75, 1 } }, mat.linspace(0, 1, 5))
    end)

    it("ends exactly at b", function()
      local v = mat.linspace(0, 0.3, 4)
      assert.equal(0.3, v[4])
      local w = mat.linspace(-1, 0.7, 13)
      assert.equal(0.7, w[13])
      assert.equal(-1, w[1])
    end)

    it("goes downwards when b < a", function()
      same({ { 2, 1.5, 1 } }, mat.linspace(2, 1, 3))
    end)

    it("n = 1 gives just a", function()
      same({ { 3 } }, mat.linspace(3, 7, 1))
    end)

    it("n = 0 gives 1 x 0", function()
      assert.same({ 1, 0 }, shape_of(mat.linspace(0, 1, 0)))
    end)

    it("rejects a bad count", function()
      assert.has_error(function() mat.linspace(0, 1, -1) end,
                       "mat.linspace: count must be a non-negative integer (got -1)")
      assert.has_error(function() mat.linspace(0, 1, 2.5) end,
                       "mat.linspace: count must be a non-negative integer (got 2.5)")
      assert.has_error(function() mat.linspace(0, 1, "x") end,
                       "mat.linspace: count must be a non-negative integer (got string)")
    end)

    it("names itself when the count is too large", function()
      assert.error_matches(function() mat.linspace(0, 1, 1e15) end,
                           "^mat%.linspace: ")
      assert.error_matches(function() mat.linspace(0, 1, math.maxinteger) end,
                           "^mat%.linspace: ")
    end)

    it("rejects non-number bounds", function()
      assert.has_error(function() mat.linspace("0", 1, 2) end,
                       "mat.linspace: start must be a number (got string)")
    end)
  end)

  describe("mat.rand, mat.randn and mat.seed", function()
    it("rand and randn have the requested shape", function()
      assert.same({ 3, 4 }, shape_of(mat.rand(3, 4)))
      assert.same({ 4, 3 }, shape_of(mat.randn(4, 3)))
      assert.same({ 0, 2 }, shape_of(mat.rand(0, 2)))
    end)

    it("rand values lie in [0, 1) with mean near 1/2", function()
      local n = 20000
      local v = mat.rand(1, n)
      local s = 0
      for i = 1, n do
        local x = v[i]
        assert(x >= 0 and x < 1, "rand value out of [0, 1): " .. x)
        s = s + x
      end
      assert.is_true(math.abs(s / n - 0.5) < 0.02)
    end)

    it("the same seed gives equal matrices", function()
      mat.seed(42)
      local a, an = mat.rand(5, 7), mat.randn(3, 3)
      mat.seed(42)
      local b, bn = mat.rand(5, 7), mat.randn(3, 3)
      assert.is_true(a == b)
      assert.is_true(an == bn)
    end)

    it("seeding forgets a pending normal deviate", function()
      mat.seed(7)
      local a = mat.randn(1, 3) -- odd count: a spare deviate is kept
      mat.seed(7)
      local b = mat.randn(1, 3)
      assert.is_true(a == b)
    end)

    it("different seeds give different matrices", function()
      mat.seed(1)
      local a = mat.rand(4, 4)
      mat.seed(2)
      local b = mat.rand(4, 4)
      assert.is_false(a == b)
    end)

    it("successive draws differ", function()
      mat.seed(3)
      assert.is_false(mat.rand(3, 3) == mat.rand(3, 3))
    end)

    it("randn has mean near 0 and variance near 1 (1e5 samples)", function()
      mat.seed(12345)
      local n = 100000
      local v = mat.randn(1, n)
      local s, s2 = 0, 0
      for i = 1, n do
        local x = v[i]
        s = s + x
        s2 = s2 + x * x
      end
      local mean = s / n
      local var = s2 / n - mean * mean
      assert.is_true(math.abs(mean) < 0.02, "mean " .. mean)
      assert.is_true(math.abs(var - 1) < 0.03, "variance " .. var)
    end)

    it("mat.seed rejects a non-integer seed", function()
      assert.has_error(function() mat.seed(1.5) end,
                       "mat.seed: seed must be an integer (got 1.5)")
      assert.has_error(function() mat.seed("x") end,
                       "mat.seed: seed must be an integer (got string)")
    end)

    it("mat.seed() with no argument reseeds from entropy", function()
      mat.seed()
      local a = mat.rand(2, 2)
      mat.seed()
      assert.is_false(a == mat.rand(2, 2))
    end)
  end)

  describe("mat.procs", function()
    it("reads and sets the default worker count", function()
      local p0 = mat.procs()
      assert.equal("integer", math.type(p0))
      assert.is_true(p0 >= 1)
      finally(function() mat.procs(p0) end)
      assert.equal(3, mat.procs(3))
      assert.equal(3, mat.procs())
      assert.equal(1, mat.procs(1))
    end)

    it("rejects bad counts", function()
      assert.has_error(function() mat.procs(0) end,
                       "mat.procs: worker count must be between 1 and 4096 (got 0)")
      assert.has_error(function() mat.procs(4097) end,
                       "mat.procs: worker count must be between 1 and 4096 (got 4097)")
      assert.has_error(function() mat.procs(2.5) end,
                       "mat.procs: worker count must be an integer (got 2.5)")
      assert.has_error(function() mat.procs("4") end,
                       "mat.procs: worker count must be an integer (got string)")
    end)
  end)

  describe("utilities", function()
    it("mat.clock is a monotonic float", function()
      local t0 = mat.clock()
      assert.equal("float", math.type(t0))
      local prev = t0
      for _ = 1, 1000 do
        local t = mat.clock()
        assert(t >= prev, "clock went backwards")
        prev = t
      end
      local c0 = os.clock()
      while os.clock() - c0 < 0.01 do end
      local dt = mat.clock() - t0
      assert.is_true(dt >= 0.005 and dt < 5, "elapsed " .. dt)
    end)

    it("mat.version is 0.1.0", function()
      assert.equal("0.1.0", mat.version)
    end)

    it("mat.ismatrix tells matrices from other values", function()
      assert.is_true(mat.ismatrix(mat.eye(2)))
      assert.is_true(mat.ismatrix(mat.eye(2):t()))
      assert.is_false(mat.ismatrix({}))
      assert.is_false(mat.ismatrix(1))
      assert.is_false(mat.ismatrix(nil))
      assert.is_false(mat.ismatrix(io.stdout))
    end)
  end)
end)

describe("shape and access", function()
  it("rows, cols and shape()", function()
    local m = mat.new(2, 5)
    assert.equal(2, m.rows)
    assert.equal(5, m.cols)
    local r, c = m:shape()
    assert.equal(2, r)
    assert.equal(5, c)
    assert.equal("integer", math.type(m.rows))
  end)

  it("#m is the row count of a matrix", function()
    assert.equal(3, #mat.new(3, 4))
    assert.equal(0, #mat.new(0, 4))
    assert.equal(2, #mat.new(2, 0))
  end)

  it("#v is n for 1 x n and n x 1 vectors", function()
    assert.equal(5, #mat.new(1, 5))
    assert.equal(5, #mat.new(5, 1))
    assert.equal(1, #mat.new(1, 1))
    assert.equal(0, #mat.new(1, 0))
  end)

  it("get and set", function()
    local m = mat.new(2, 3)
    m:set(2, 3, 7.5)
    m:set(1, 1, -1)
    assert.equal(7.5, m:get(2, 3))
    same({ { -1, 0, 0 }, { 0, 0, 7.5 } }, m)
  end)

  it("get returns floats", function()
    assert.equal("float", math.type(mat.eye(2):get(1, 1)))
  end)

  it("unknown string keys read as nil", function()
    local m = mat.eye(2)
    assert.is_nil(m.foo)
    assert.is_nil(m[true])
  end)

  describe("m[i]", function()
    it("is row i as a 1 x c view when r > 1 and c > 1", function()
      local m = M { { 1, 2, 3 }, { 4, 5, 6 } }
      local r = m[2]
      assert.is_true(mat.ismatrix(r))
      assert.same({ 1, 3 }, shape_of(r))
      same({ { 4, 5, 6 } }, r)
      r[1] = 40
      assert.equal(40, m:get(2, 1))
    end)

    it("is an element for a 1 x n vector", function()
      local v = M { 10, 20, 30 }
      assert.equal(20, v[2])
      assert.equal("number", type(v[3]))
    end)

    it("is an element for an n x 1 vector", function()
      local v = M { { 10 }, { 20 }, { 30 } }
      assert.equal(30, v[3])
    end)

    it("is an element for a 1 x 1 matrix", function()
      assert.equal(1, mat.eye(1)[1])
    end)

    it("m[i][j] reads an element", function()
      local m = m3()
      assert.equal(6, m[2][3])
      assert.equal(7, m[3][1])
    end)

    it("m[i][j] = x writes through to the parent", function()
      local m = m3()
      m[2][3] = 60
      assert.equal(60, m:get(2, 3))
      same({ { 1, 2, 3 }, { 4, 5, 60 }, { 7, 8, 9 } }, m)
    end)

    it("m[i][j] = x writes through a transposed view", function()
      local m = m3()
      local t = m:t()
      t[1][2] = 40 -- t(1,2) is m(2,1)
      assert.equal(40, m:get(2, 1))
      assert.equal(40, t[1][2])
    end)

    it("v[i] = x writes an element of a row vector", function()
      local v = M { 1, 2, 3 }
      v[3] = 9
      same({ { 1, 2, 9 } }, v)
    end)

    it("v[i] = x writes an element of a column view into its parent", function()
      local m = m3()
      local c = m:col(2)
      c[3] = 80
      assert.equal(80, m:get(3, 2))
    end)

    it("m[i] = number fills row i", function()
      local m = m3()
      m[2] = 0
      same({ { 1, 2, 3 }, { 0, 0, 0 }, { 7, 8, 9 } }, m)
    end)

    it("m[i] = table copies into row i", function()
      local m = m3()
      m[1] = { 10, 20, 30 }
      same({ { 10, 20, 30 }, { 4, 5, 6 }, { 7, 8, 9 } }, m)
    end)

    it("m[i] = row vector copies into row i", function()
      local m = m3()
      m[3] = M { -1, -2, -3 }
      same({ { 1, 2, 3 }, { 4, 5, 6 }, { -1, -2, -3 } }, m)
    end)

    it("m[i] = column vector of its own storage copies correctly", function()
      local m = m3()
      m[1] = m:col(3) -- 3, 6, 9 into row 1 (overlaps element (1,3))
      same({ { 3, 6, 9 }, { 4, 5, 6 }, { 7, 8, 9 } }, m)
    end)

    it("m[i] = another row of the same matrix copies it", function()
      local m = m3()
      m[1] = m[3]
      same({ { 7, 8, 9 }, { 4, 5, 6 }, { 7, 8, 9 } }, m)
    end)
  end)

  describe("row, col and sub", function()
    it("row(i) is a 1 x c view", function()
      local m = m3()
      local r = m:row(2)
      same({ { 4, 5, 6 } }, r)
      r:set(1, 2, 50)
      assert.equal(50, m:get(2, 2))
    end)

    it("col(j) is an r x 1 view", function()
      local m = m3()
      local c = m:col(3)
      same({ { 3 }, { 6 }, { 9 } }, c)
      c:set(2, 1, 60)
      assert.equal(60, m:get(2, 3))
    end)

    it("sub(r1, r2, c1, c2) is inclusive", function()
      local m = m3()
      same({ { 2, 3 }, { 5, 6 } }, m:sub(1, 2, 2, 3))
      same({ { 5 } }, m:sub(2, 2, 2, 2))
      same(m:totable(), m:sub(1, 3, 1, 3))
    end)

    it("sub writes through to the parent", function()
      local m = m3()
      local s = m:sub(2, 3, 2, 3)
      s:set(2, 2, 90)
      s[1][1] = 50
      assert.equal(90, m:get(3, 3))
      assert.equal(50, m:get(2, 2))
    end)

    it("sub with r2 = r1 - 1 or c2 = c1 - 1 is empty", function()
      local m = m3()
      assert.same({ 0, 3 }, shape_of(m:sub(2, 1, 1, 3)))
      assert.same({ 3, 0 }, shape_of(m:sub(1, 3, 3, 2)))
      assert.same({ 0, 0 }, shape_of(m:sub(1, 0, 1, 0)))
      assert.same({ 0, 3 }, shape_of(m:sub(4, 3, 1, 3)))
    end)
  end)

  describe("t()", function()
    it("transposes", function()
      local m = M { { 1, 2, 3 }, { 4, 5, 6 } }
      local t = m:t()
      assert.same({ 3, 2 }, shape_of(t))
      same({ { 1, 4 }, { 2, 5 }, { 3, 6 } }, t)
    end)

    it("is a view: writes are visible in the parent", function()
      local m = M { { 1, 2, 3 }, { 4, 5, 6 } }
      m:t():set(3, 1, 30)
      assert.equal(30, m:get(1, 3))
    end)

    it("t():t() is the original, sharing storage", function()
      local m = M { { 1, 2, 3 }, { 4, 5, 6 } }
      local tt = m:t():t()
      assert.is_true(tt == m)
      tt:set(2, 2, 55)
      assert.equal(55, m:get(2, 2))
    end)

    it("transposes vectors", function()
      local v = M { 1, 2, 3 }
      assert.same({ 3, 1 }, shape_of(v:t()))
      assert.equal(3, v:t()[3])
    end)
  end)

  describe("views of views", function()
    it("sub of a transpose", function()
      same({ { 4, 7 }, { 5, 8 } }, m3():t():sub(1, 2, 2, 3))
    end)

    it("col of a sub", function()
      same({ { 5 }, { 8 } }, m3():sub(2, 3, 1, 3):col(2))
    end)

    it("row of a transpose", function()
      local m = m3()
      local r = m:t():row(3)
      same({ { 3, 6, 9 } }, r)
      assert.equal(6, r[2])
      r[1] = 30
      assert.equal(30, m:get(1, 3))
    end)

    it("transpose of a sub", function()
      same({ { 2, 5 }, { 3, 6 } }, m3():sub(1, 2, 2, 3):t())
    end)

    it("sub of a sub of a transpose, and its transpose", function()
      local big = build(5, 6, function(i, j) return 10 * i + j end)
      local v = big:t():sub(2, 5, 2, 4):sub(2, 3, 1, 2)
      -- big:t() (i, j) = big(j, i); sub rows 2..5 cols 2..4, then rows 2..3
      -- cols 1..2: rows 3..4 and cols 2..3 of big:t(), i.e. big(2..3, 3..4)^T
      same({ { 23, 33 }, { 24, 34 } }, v)
      same({ { 23, 24 }, { 33, 34 } }, v:t())
      v:set(2, 1, -1)
      assert.equal(-1, big:get(2, 4))
    end)

    it("row of a col-range sub of a transpose, indexed as a vector", function()
      local big = build(4, 4, function(i, j) return 10 * i + j end)
      local r = big:t():sub(2, 3, 2, 4)[2] -- row 3 of t, cols 2..4 = big(2..4, 3)
      assert.same({ 1, 3 }, shape_of(r))
      assert.equal(23, r[1])
      assert.equal(33, r[2])
      assert.equal(43, r[3])
      assert.equal(3, #r)
    end)

    it("copy of a view of a view is contiguous and correct", function()
      local c = m3():t():sub(2, 3, 1, 3):copy()
      same({ { 2, 5, 8 }, { 3, 6, 9 } }, c)
    end)
  end)

  describe("reshape", function()
    it("reshapes a contiguous matrix into a view", function()
      local m = M { { 1, 2, 3 }, { 4, 5, 6 } }
      local r = m:reshape(3, 2)
      same({ { 1, 2 }, { 3, 4 }, { 5, 6 } }, r)
      r:set(3, 1, 50)
      assert.equal(50, m:get(2, 2))
    end)

    it("reshapes a row view (contiguous) into a view", function()
      local m = m3()
      local r = m:row(2):reshape(3, 1)
      same({ { 4 }, { 5 }, { 6 } }, r)
      r[2] = 0
      assert.equal(0, m:get(2, 2))
    end)

    it("reshapes a sub of whole rows (contiguous) into a view", function()
      local m = m3()
      local r = m:sub(2, 3, 1, 3):reshape(3, 2)
      same({ { 4, 5 }, { 6, 7 }, { 8, 9 } }, r)
      r:set(2, 2, 70)
      assert.equal(70, m:get(3, 1))
    end)

    it("copies a transposed (non-contiguous) matrix: writes not visible", function()
      local m = M { { 1, 2, 3 }, { 4, 5, 6 } }
      local r = m:t():reshape(2, 3)
      same({ { 1, 4, 2 }, { 5, 3, 6 } }, r)
      r:set(1, 1, -1)
      assert.equal(1, m:get(1, 1))
      same({ { 1, 2, 3 }, { 4, 5, 6 } }, m)
    end)

    it("copies a non-contiguous sub", function()
      local m = m3()
      local r = m:sub(1, 2, 1, 2):reshape(1, 4)
      same({ { 1, 2, 4, 5 } }, r)
      r[1] = 100
      assert.equal(1, m:get(1, 1))
    end)

    it("reshapes to an empty shape", function()
      assert.same({ 3, 0 }, shape_of(mat.new(0, 4):reshape(3, 0)))
    end)

    it("rejects a wrong element count", function()
      assert.has_error(function() mat.new(2, 3):reshape(4, 2) end,
                       "m:reshape: cannot reshape a 2x3 matrix into 4x2")
      assert.has_error(function() mat.new(2, 3):reshape(-1, 2) end,
                       "m:reshape: rows must be a non-negative integer (got -1)")
      assert.has_error(function() mat.new(2, 3):reshape(3, 2.5) end,
                       "m:reshape: cols must be a non-negative integer (got 2.5)")
    end)
  end)

  describe("copy and totable", function()
    it("copy is independent", function()
      local m = m3()
      local c = m:copy()
      same(m:totable(), c)
      c:set(1, 1, 100)
      m:set(3, 3, -9)
      assert.equal(1, m:get(1, 1))
      assert.equal(9, c:get(3, 3))
    end)

    it("copy of a transpose has the transposed values", function()
      same({ { 1, 4, 7 }, { 2, 5, 8 }, { 3, 6, 9 } }, m3():t():copy())
    end)

    it("totable returns nested tables of rows", function()
      local t = M { { 1, 2 }, { 3, 4 }, { 5, 6 } }:totable()
      assert.same({ { 1, 2 }, { 3, 4 }, { 5, 6 } }, t)
      assert.same({ { 1, 2, 3 } }, M { 1, 2, 3 }:totable())
      assert.same({}, mat.new(0, 3):totable())
      assert.same({ {}, {} }, mat.new(2, 0):totable())
    end)
  end)

  describe("==", function()
    it("is true for equal shape and elements", function()
      assert.is_true(m3() == m3())
      assert.is_true(m3():t():t() == m3())
      assert.is_true(m3():sub(1, 2, 1, 2) == M { { 1, 2 }, { 4, 5 } })
    end)

    it("is false when an element differs", function()
      local a = m3()
      a:set(3, 3, 9.0000001)
      assert.is_false(a == m3())
      assert.is_true(a ~= m3())
    end)

    it("is false for different shapes", function()
      assert.is_false(mat.new(2, 3) == mat.new(3, 2))
      assert.is_false(mat.new(1, 0) == mat.new(0, 1))
      assert.is_false(M { 1, 2, 3 } == M { { 1 }, { 2 }, { 3 } })
    end)

    it("is true for equal empty matrices", function()
      assert.is_true(mat.new(0, 3) == mat.new(0, 3))
    end)

    it("NaN is not equal to NaN", function()
      assert.is_false(M { { nan, 1 } } == M { { nan, 1 } })
    end)

    it("0 equals -0", function()
      assert.is_true(M { 0.0 } == M { -0.0 })
    end)

    it("a matrix never equals a number or a table", function()
      assert.is_false(mat.eye(1) == 1)
      assert.is_false(mat.eye(1) == { { 1 } })
      assert.is_true(mat.eye(1) ~= 1)
    end)
  end)

  describe("views and garbage collection", function()
    it("a view keeps storage alive after the parent is collected", function()
      local v, r
      do
        local m = m3()
        v = m:t()
        r = m[2]
      end
      collectgarbage()
      collectgarbage()
      same({ { 1, 4, 7 }, { 2, 5, 8 }, { 3, 6, 9 } }, v)
      same({ { 4, 5, 6 } }, r)
    end)

    it("a view of a view outlives both parents", function()
      local s
      do
        local m = build(4, 4, function(i, j) return i * j end)
        s = m:t():sub(2, 3, 2, 3)
      end
      collectgarbage()
      collectgarbage()
      same({ { 4, 6 }, { 6, 9 } }, s)
    end)
  end)
end)

describe("matrix product", function()
  local A = { { 1, 2, 3 }, { 4, 5, 6 } }
  local B = { { 7, 8 }, { 9, 10 }, { 11, 12 } }
  local AB = { { 58, 64 }, { 139, 154 } }
  local ABt = { { 58, 139 }, { 64, 154 } }

  it("a * b is the matrix product", function()
    same(AB, M(A) * M(B))
  end)

  it("mat.dot(a, b) is the matrix product", function()
    same(AB, mat.dot(M(A), M(B)))
    same({ { 1, 2, 3 }, { 4, 5, 6 } }, mat.dot(mat.eye(2), M(A)))
  end)

  it("takes transposed views as inputs", function()
    local at, bt = M { { 1, 4 }, { 2, 5 }, { 3, 6 } }, M { { 7, 9, 11 }, { 8, 10, 12 } }
    same(AB, at:t() * bt:t())
    same(ABt, mat.dot(M(B):t(), M(A):t()))
    same(AB, at:t() * M(B))
    same(AB, M(A) * bt:t())
  end)

  it("takes sub views as inputs", function()
    local big = mat.new(5, 6, -99)
    local a = big:sub(2, 3, 2, 4)
    local b = big:sub(2, 4, 5, 6)
    a[1] = { 1, 2, 3 }
    a[2] = { 4, 5, 6 }
    b[1] = { 7, 8 }
    b[2] = { 9, 10 }
    b[3] = { 11, 12 }
    -- a and b overlap nothing: a is rows 2..3 cols 2..4, b rows 2..4 cols 5..6
    same(AB, a * b)
    same(ABt, b:t() * a:t())
  end)

  it("takes vectors: row times column and column times row", function()
    same({ { 32 } }, M { 1, 2, 3 } * M { 4, 5, 6 }:t())
    same({ { 4, 5 }, { 8, 10 } }, M { 1, 2 }:t() * M { 4, 5 })
    local m = m3()
    same({ { 14 }, { 32 }, { 50 } }, m * m:row(1):t()) -- m times (1, 2, 3)^T
    same({ { 30, 36, 42 } }, m:row(1) * m)
  end)

  it("writes into opts.out and returns it", function()
    local o = mat.new(2, 2, -1)
    local r = mat.dot(M(A), M(B), { out = o })
    assert.is_true(rawequal(o, r))
    same(AB, o)
  end)

  it("writes into a transposed view given as out", function()
    local o = mat.new(2, 2, -1)
    local r = mat.dot(M(A), M(B), { out = o:t() })
    same(AB, r)
    same(ABt, o)
  end)

  it("writes into a sub view given as out", function()
    local o = mat.new(4, 4, -1)
    mat.dot(M(A), M(B), { out = o:sub(2, 3, 3, 4) })
    same({ { -1, -1, -1, -1 }, { -1, -1, 58, 64 }, { -1, -1, 139, 154 },
           { -1, -1, -1, -1 } }, o)
  end)

  it("handles out overlapping an input", function()
    local a = M { { 1, 2 }, { 3, 4 } }
    mat.dot(a, a, { out = a })
    same({ { 7, 10 }, { 15, 22 } }, a)
  end)

  it("handles out being the transpose of an input", function()
    local a = M { { 1, 2 }, { 3, 4 } }
    mat.dot(a, mat.eye(2), { out = a:t() })
    same({ { 1, 3 }, { 2, 4 } }, a)
  end)

  it("empty inner dimension gives zeros", function()
    same({ { 0, 0, 0 }, { 0, 0, 0 } }, mat.new(2, 0) * mat.new(0, 3))
    local o = mat.new(2, 3, 7)
    mat.dot(mat.new(2, 0), mat.new(0, 3), { out = o })
    same({ { 0, 0, 0 }, { 0, 0, 0 } }, o)
  end)

  it("empty outer dimensions give empty results", function()
    assert.same({ 0, 2 }, shape_of(mat.new(0, 3) * mat.new(3, 2)))
    assert.same({ 2, 0 }, shape_of(mat.new(2, 3) * mat.new(3, 0)))
  end)

  it("agrees with a naive product and is identical for every procs", function()
    mat.seed(99)
    local a, b = mat.randn(23, 31), mat.randn(31, 17)
    local p = a * b
    for i = 1, 23 do
      for j = 1, 17 do
        local s = 0
        for k = 1, 31 do s = s + a:get(i, k) * b:get(k, j) end
        assert(math.abs(p:get(i, j) - s) < 1e-12 * (1 + math.abs(s)),
               ("element (%d, %d): %.17g vs %.17g"):format(i, j, p:get(i, j), s))
      end
    end
    assert.is_true(mat.dot(a, b, { procs = 1 }) == p)
    assert.is_true(mat.dot(a, b, { procs = 3 }) == p)
  end)

  it("s * m and m * s scale", function()
    same({ { 2, 4, 6 }, { 8, 10, 12 } }, 2 * M(A))
    same({ { 0.5, 1, 1.5 }, { 2, 2.5, 3 } }, M(A) * 0.5)
    same({ { -1, -4 }, { -2, -5 }, { -3, -6 } }, M(A):t() * -1)
    same({ { 20, 30 } }, 10 * m3():sub(1, 1, 2, 3))
  end)

  it("scaling returns a new matrix", function()
    local a = M(A)
    local b = a * 3
    b:set(1, 1, 0)
    assert.equal(1, a:get(1, 1))
  end)

  it("reports a shape mismatch", function()
    assert.has_error(function() mat.dot(mat.new(2, 3), mat.new(2, 3)) end,
                     "mat.dot: shape mismatch: 2x3 * 2x3")
    assert.has_error(function() return mat.new(2, 3) * mat.new(2, 3) end,
                     "a * b: shape mismatch: 2x3 * 2x3")
    assert.has_error(function() return mat.new(1, 4) * mat.new(1, 4) end,
                     "a * b: shape mismatch: 1x4 * 1x4")
  end)

  it("reports an out of the wrong shape", function()
    assert.has_error(function()
      mat.dot(mat.new(2, 3), mat.new(3, 2), { out = mat.new(3, 3) })
    end, "mat.dot: out is 3x3, the product is 2x2")
    assert.has_error(function()
      mat.dot(mat.new(2, 3), mat.new(3, 2), { out = mat.new(2, 2):t():sub(1, 2, 1, 1) })
    end, "mat.dot: out is 2x1, the product is 2x2")
  end)

  it("reports a shape mismatch (not out) when the inputs mismatch", function()
    assert.has_error(function()
      mat.dot(mat.new(2, 3), mat.new(2, 3), { out = mat.new(3, 3) })
    end, "mat.dot: shape mismatch: 2x3 * 2x3")
  end)

  it("rejects non-matrix operands", function()
    assert.has_error(function() mat.dot(mat.eye(2), "x") end,
                     "mat.dot: bad argument #2 (matrix expected, got string)")
    assert.has_error(function() mat.dot(nil, mat.eye(2)) end,
                     "mat.dot: bad argument #1 (matrix expected, got nil)")
    assert.has_error(function() return mat.eye(2) * {} end,
                     "a * b: bad argument #2 (matrix expected, got table)")
    assert.has_error(function() return mat.eye(2) * true end,
                     "a * b: bad argument #2 (matrix expected, got boolean)")
  end)

  it("names opts.out when it is not a matrix", function()
    -- the message must be about opts.out, not a stack slot ("argument #5")
    assert.error_matches(function()
      mat.dot(mat.eye(2), mat.eye(2), { out = 5 })
    end, "^mat%.dot: .*out.*number")
  end)

  it("rejects a bad opts.procs", function()
    assert.has_error(function() mat.dot(mat.eye(2), mat.eye(2), { procs = 0 }) end,
                     "mat.dot: opts.procs must be between 1 and 4096 (got 0)")
    assert.has_error(function() mat.dot(mat.eye(2), mat.eye(2), { procs = 1.5 }) end,
                     "mat.dot: opts.procs must be an integer (got 1.5)")
  end)
end)

describe("tostring", function()
  local function str(t) return tostring(M(t)) end

  it("prints the identity", function()
    assert.equal("mat 3x3\n[[1. 0. 0.]\n [0. 1. 0.]\n [0. 0. 1.]]",
                 tostring(mat.eye(3)))
  end)

  it("aligns mixed signs and fractions on the point", function()
    assert.equal("mat 2x2\n[[ 1.5   -2.25 ]\n [-0.125  3.   ]]",
                 str { { 1.5, -2.25 }, { -0.125, 3 } })
  end)

  it("aligns negative whole numbers", function()
    assert.equal("mat 2x2\n[[ -1.   2.]\n [  3. -40.]]",
                 str { { -1, 2 }, { 3, -40 } })
  end)

  it("prints -0 with its sign", function()
    assert.equal("mat 1x2\n[[-0.  1.]]", str { { -0.0, 1 } })
  end)

  it("prints an empty matrix as []", function()
    assert.equal("mat 0x3\n[]", tostring(mat.new(0, 3)))
    assert.equal("mat 1x0\n[]", tostring(M {}))
  end)

  it("prints a row vector", function()
    assert.equal("mat 1x3\n[[1. 2. 3.]]", tostring(mat.range(1, 3)))
  end)

  it("prints a column view", function()
    assert.equal("mat 3x1\n[[2.]\n [5.]\n [8.]]", tostring(m3():col(2)))
  end)

  it("prints a transposed view", function()
    assert.equal("mat 2x2\n[[1. 3.]\n [2. 4.]]", tostring(M { { 1, 2 }, { 3, 4 } }:t()))
  end)

  it("rounds to 8 digits and drops trailing zeros", function()
    assert.equal("mat 1x5\n[[0.33333333 0.66666667 0.1        1.         2.        ]]",
                 str { { 1 / 3, 2 / 3, 0.1, 1, 2 } })
    assert.equal("mat 1x2\n[[0.3 1. ]]", str { { 0.1 + 0.2, 1 } })
  end)

  it("prints nan and inf among whole numbers like NumPy", function()
    -- NumPy: [[ nan   1.]\n [ inf -inf]]
    assert.equal("mat 2x2\n[[ nan   1.]\n [ inf -inf]]",
                 str { { nan, 1 }, { inf, -inf } })
  end)

  it("prints nan and inf among fractions like NumPy", function()
    assert.equal("mat 2x2\n[[ nan 0.5 ]\n [-inf 2.25]]",
                 str { { nan, 0.5 }, { -inf, 2.25 } })
  end)

  it("prints a matrix with only nan and inf", function()
    assert.equal("mat 1x3\n[[ nan  inf -inf]]", str { { nan, inf, -inf } })
  end)

  it("prints nan beside scientific notation", function()
    assert.equal("mat 1x3\n[[   nan 1.e+10 1.e+00]]", str { { nan, 1e10, 1 } })
  end)

  it("uses scientific notation for a wide range of magnitudes", function()
    assert.equal("mat 2x2\n[[1.e-05 1.e+00]\n [1.e+10 2.e+00]]",
                 str { { 1e-5, 1 }, { 1e10, 2 } })
  end)

  it("uses scientific notation with signs and digits", function()
    assert.equal("mat 2x2\n[[-1.50e-07  2.00e+00]\n [ 3.25e+00 -4.00e+09]]",
                 str { { -1.5e-7, 2 }, { 3.25, -4e9 } })
    assert.equal("mat 2x2\n[[ 1.e-05 -1.e+00]\n [ 1.e+05  5.e-01]]",
                 str { { 1e-5, -1 }, { 1e5, 0.5 } })
  end)

  it("uses scientific notation from 1e8 up", function()
    assert.equal("mat 1x2\n[[1.23456789e+08 1.00000000e+00]]",
                 str { { 123456789, 1 } })
  end)

  it("uses scientific notation below 1e-4", function()
    assert.equal("mat 1x2\n[[-5.e-01 -1.e-05]]", str { { -0.5, -1e-5 } })
  end)

  it("drops trailing zeros of rounded mantissas like NumPy", function()
    -- NumPy: [[1.2345678e-05 1.0000000e+00]] and [[-3.4449281e-09]]
    assert.equal("mat 1x2\n[[1.2345678e-05 1.0000000e+00]]",
                 str { { 1.234567801e-5, 1 } })
    assert.equal("mat 1x1\n[[-3.4449281e-09]]", str { { -3.4449281009039114e-09 } })
  end)

  it("pads all exponents to three digits when one needs three, like NumPy", function()
    assert.equal("mat 1x2\n[[1.e+100 1.e+000]]", str { { 1e100, 1 } })
    assert.equal("mat 1x2\n[[ 1.0e-300 -2.5e+000]]", str { { 1e-300, -2.5 } })
  end)

  it("abbreviates a 40x50 matrix with ... rows and columns", function()
    local m = build(40, 50, function(i, j) return i * 100 + j end)
    local s = tostring(m)
    local lines = {}
    for l in (s .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
    assert.equal(8, #lines)
    assert.equal("mat 40x50", lines[1])
    assert.equal("[[ 101.  102.  103. ...  148.  149.  150.]", lines[2])
    assert.equal(" [ 201.  202.  203. ...  248.  249.  250.]", lines[3])
    assert.equal(" ...", lines[5])
    assert.equal("mat 40x50\n" ..
                 "[[ 101.  102.  103. ...  148.  149.  150.]\n" ..
                 " [ 201.  202.  203. ...  248.  249.  250.]\n" ..
                 " [ 301.  302.  303. ...  348.  349.  350.]\n" ..
                 " ...\n" ..
                 " [3801. 3802. 3803. ... 3848. 3849. 3850.]\n" ..
                 " [3901. 3902. 3903. ... 3948. 3949. 3950.]\n" ..
                 " [4001. 4002. 4003. ... 4048. 4049. 4050.]]", s)
  end)

  it("chooses the format from the shown elements only", function()
    -- arange(2000).reshape(40, 50): shown values span 0..1999, so NumPy
    -- switches to scientific notation
    local m = build(40, 50, function(i, j) return (i - 1) * 50 + (j - 1) end)
    assert.equal("mat 40x50\n" ..
      "[[0.000e+00 1.000e+00 2.000e+00 ... 4.700e+01 4.800e+01 4.900e+01]\n" ..
      " [5.000e+01 5.100e+01 5.200e+01 ... 9.700e+01 9.800e+01 9.900e+01]\n" ..
      " [1.000e+02 1.010e+02 1.020e+02 ... 1.470e+02 1.480e+02 1.490e+02]\n" ..
      " ...\n" ..
      " [1.850e+03 1.851e+03 1.852e+03 ... 1.897e+03 1.898e+03 1.899e+03]\n" ..
      " [1.900e+03 1.901e+03 1.902e+03 ... 1.947e+03 1.948e+03 1.949e+03]\n" ..
      " [1.950e+03 1.951e+03 1.952e+03 ... 1.997e+03 1.998e+03 1.999e+03]]",
      tostring(m))
  end)

  it("abbreviates only above 1000 elements", function()
    local s = tostring(mat.new(10, 100))
    assert.is_nil(s:find("...", 1, true))
    local t = tostring(mat.new(1001, 1))
    assert.equal("mat 1001x1\n[[0.]\n [0.]\n [0.]\n ...\n [0.]\n [0.]\n [0.]]", t)
  end)
end)

describe("closing", function()
  it("a <close> matrix is closed after its block", function()
    local captured
    do
      local m <close> = mat.eye(2)
      captured = m
      assert.equal(1, m:get(1, 1))
    end
    assert.has_error(function() captured:get(1, 1) end,
                     "attempt to use a closed matrix")
  end)

  it("close() twice is fine", function()
    local m = mat.eye(2)
    m:close()
    m:close()
    assert.has_error(function() m:get(1, 1) end, "attempt to use a closed matrix")
  end)

  it("methods raise on a closed matrix", function()
    local m = mat.eye(3)
    m:close()
    local calls = {
      function() m:shape() end,
      function() m:set(1, 1, 0) end,
      function() m:row(1) end,
      function() m:col(1) end,
      function() m:sub(1, 1, 1, 1) end,
      function() m:t() end,
      function() m:reshape(9, 1) end,
      function() m:copy() end,
      function() m:totable() end,
      function() mat.from(m) end,
      function() return m * mat.eye(3) end,
      function() return mat.eye(3) * m end,
      function() return 2 * m end,
      function() mat.dot(mat.eye(3), mat.eye(3), { out = m }) end,
    }
    for _, f in ipairs(calls) do
      assert.has_error(f, "attempt to use a closed matrix")
    end
  end)

  it("indexing, fields and # raise on a closed matrix", function()
    local m = mat.eye(3)
    m:close()
    assert.has_error(function() return m[1] end, "attempt to use a closed matrix")
    assert.has_error(function() m[1] = 0 end, "attempt to use a closed matrix")
    assert.has_error(function() return m.rows end, "attempt to use a closed matrix")
    assert.has_error(function() return m.cols end, "attempt to use a closed matrix")
    assert.has_error(function() return #m end, "attempt to use a closed matrix")
    assert.has_error(function() return m == mat.eye(3) end,
                     "attempt to use a closed matrix")
  end)

  it("tostring of a closed matrix is 'mat (closed)'", function()
    local m = mat.eye(2)
    m:close()
    assert.equal("mat (closed)", tostring(m))
  end)

  it("a view taken before closing still works", function()
    local m = m3()
    local t, r = m:t(), m[2]
    m:close()
    collectgarbage()
    collectgarbage()
    same({ { 1, 4, 7 }, { 2, 5, 8 }, { 3, 6, 9 } }, t)
    r[1] = 40
    assert.equal(40, t:get(1, 2))
  end)

  it("a closed matrix is collected without trouble", function()
    do
      local m = mat.eye(4)
      m:close()
    end
    collectgarbage()
    collectgarbage()
  end)
end)

describe("errors", function()
  describe("constructor arguments", function()
    it("mat.new rejects wrong types", function()
      assert.has_error(function() mat.new("a", 2) end,
                       "mat.new: rows must be a non-negative integer (got string)")
      assert.has_error(function() mat.new(nil, 2) end,
                       "mat.new: rows must be a non-negative integer (got nil)")
      assert.has_error(function() mat.new({}, 2) end,
                       "mat.new: rows must be a non-negative integer (got table)")
      assert.has_error(function() mat.new(2, "3") end,
                       "mat.new: cols must be a non-negative integer (got string)")
      assert.has_error(function() mat.new(2) end,
                       "mat.new: cols must be a non-negative integer (got no value)")
    end)

    it("mat.new rejects non-integer sizes", function()
      assert.has_error(function() mat.new(2.5, 2) end,
                       "mat.new: rows must be a non-negative integer (got 2.5)")
      assert.has_error(function() mat.new(2, 0.5) end,
                       "mat.new: cols must be a non-negative integer (got 0.5)")
    end)

    it("mat.new rejects negative sizes", function()
      assert.has_error(function() mat.new(-1, 2) end,
                       "mat.new: rows must be a non-negative integer (got -1)")
      assert.has_error(function() mat.new(2, -3) end,
                       "mat.new: cols must be a non-negative integer (got -3)")
    end)

    it("mat.new rejects a bad fill value", function()
      assert.has_error(function() mat.new(2, 2, "x") end,
                       "mat.new: fill value must be a number (got string)")
      assert.has_error(function() mat.new(2, 2, {}) end,
                       "mat.new: fill value must be a number (got table)")
    end)

    it("rejects sizes whose byte count overflows", function()
      assert.has_error(function() mat.new(2 ^ 31, 2 ^ 31) end,
                       "mat.new: 2147483648x2147483648 matrix is too large")
      assert.has_error(function() mat.new(math.maxinteger, 2) end,
                       "mat.new: 9223372036854775807x2 matrix is too large")
      assert.has_error(function() mat.eye(2 ^ 40) end,
                       "mat.eye: 1099511627776x1099511627776 matrix is too large")
      assert.has_error(function() mat.rand(2 ^ 62, 4) end,
                       "mat.rand: 4611686018427387904x4 matrix is too large")
    end)

    it("rejects a matrix too large for memory", function()
      assert.has_error(function() mat.new(200000, 200000) end,
                       "mat.new: not enough memory for a 200000x200000 matrix")
      assert.has_error(function() mat.randn(200000, 200000) end,
                       "mat.randn: not enough memory for a 200000x200000 matrix")
    end)

    it("mat.eye, mat.rand and mat.randn check their sizes", function()
      assert.has_error(function() mat.eye(-1) end,
                       "mat.eye: size must be a non-negative integer (got -1)")
      assert.has_error(function() mat.eye(2, "x") end,
                       "mat.eye: cols must be a non-negative integer (got string)")
      assert.has_error(function() mat.rand(2, -1) end,
                       "mat.rand: cols must be a non-negative integer (got -1)")
      assert.has_error(function() mat.randn(1.5, 1) end,
                       "mat.randn: rows must be a non-negative integer (got 1.5)")
    end)

    it("mat.zeros and mat.ones name themselves in errors", function()
      assert.error_matches(function() mat.zeros("a", 1) end,
                           "^mat%.zeros: rows must be a non%-negative integer")
      assert.error_matches(function() mat.ones(2, 2.5) end,
                           "^mat%.ones: cols must be a non%-negative integer")
    end)
  end)

  describe("mat.from", function()
    it("rejects a non-table argument", function()
      assert.has_error(function() mat.from("x") end,
                       "mat.from: bad argument #1 (table expected, got string)")
      assert.has_error(function() mat.from(nil) end,
                       "mat.from: bad argument #1 (table expected, got nil)")
      assert.has_error(function() mat.from(3) end,
                       "mat.from: bad argument #1 (table expected, got number)")
    end)

    it("names a ragged row", function()
      assert.has_error(function() mat.from { { 1, 2 }, { 3 } } end,
                       "mat.from: row 2 has 1 element, expected 2")
      assert.has_error(function() mat.from { { 1, 2 }, { 3, 4 }, { 5, 6, 7 } } end,
                       "mat.from: row 3 has 3 elements, expected 2")
      assert.has_error(function() mat.from { M { 1, 2 }, M { 1, 2, 3 } } end,
                       "mat.from: row 2 has 3 elements, expected 2")
    end)

    it("names a non-number element", function()
      assert.has_error(function() mat.from { { 1, 2 }, { 3, "a" } } end,
                       "mat.from: element [2][2] is not a number (got string)")
      assert.has_error(function() mat.from { { 1, {} } } end,
                       "mat.from: element [1][2] is not a number (got table)")
      assert.has_error(function() mat.from { 1, "2" } end,
                       "mat.from: element [2] is not a number (got string)")
      assert.has_error(function() mat.from { 1, true } end,
                       "mat.from: element [2] is not a number (got boolean)")
    end)

    it("names a row that is not a table", function()
      assert.has_error(function() mat.from { { 1, 2 }, 3 } end,
                       "mat.from: row 2 is not a table (got number)")
    end)

    it("gives a sensible message for a non-vector matrix as a row", function()
      -- the message must not contradict itself ("4 elements, expected 4")
      local ok, err = pcall(mat.from, { mat.eye(2) })
      assert.is_false(ok)
      assert.is_nil(tostring(err):find("has 4 elements, expected 4", 1, true),
                    "contradictory message: " .. tostring(err))
    end)
  end)

  describe("indices", function()
    local m = M { { 1, 2, 3 }, { 4, 5, 6 } }
    local v = M { 1, 2, 3 }

    it("get and set out of range", function()
      assert.has_error(function() m:get(3, 1) end,
                       "m:get: index (3, 1) out of range for a 2x3 matrix")
      assert.has_error(function() m:get(0, 1) end,
                       "m:get: index (0, 1) out of range for a 2x3 matrix")
      assert.has_error(function() m:get(1, 4) end,
                       "m:get: index (1, 4) out of range for a 2x3 matrix")
      assert.has_error(function() m:set(1, 4, 1) end,
                       "m:set: index (1, 4) out of range for a 2x3 matrix")
      assert.has_error(function() m:set(-1, 1, 1) end,
                       "m:set: index (-1, 1) out of range for a 2x3 matrix")
    end)

    it("get and set with non-integer indices or values", function()
      assert.has_error(function() m:get(1.5, 1) end,
                       "m:get: row index must be an integer (got 1.5)")
      assert.has_error(function() m:get(1, "2") end,
                       "m:get: column index must be an integer (got string)")
      assert.has_error(function() m:set(1, 1, "x") end,
                       "m:set: value must be a number (got string)")
      assert.has_error(function() m:set(1, 1) end,
                       "m:set: value must be a number (got no value)")
    end)

    it("a method called on a non-matrix", function()
      assert.has_error(function() m.get("x", 1, 1) end,
                       "m:get: bad argument #1 (matrix expected, got string)")
      assert.has_error(function() m.totable({}) end,
                       "m:totable: bad argument #1 (matrix expected, got table)")
    end)

    it("row, col and sub out of range", function()
      assert.has_error(function() m:row(3) end,
                       "m:row: index 3 out of range for a 2x3 matrix")
      assert.has_error(function() m:row(0) end,
                       "m:row: index 0 out of range for a 2x3 matrix")
      assert.has_error(function() m:col(4) end,
                       "m:col: index 4 out of range for a 2x3 matrix")
      assert.has_error(function() m:col(1.5) end,
                       "m:col: index must be an integer (got 1.5)")
      assert.has_error(function() m:sub(1, 3, 1, 1) end,
                       "m:sub: rows 1..3, columns 1..1 out of range for a 2x3 matrix")
      assert.has_error(function() m:sub(0, 1, 1, 1) end,
                       "m:sub: rows 0..1, columns 1..1 out of range for a 2x3 matrix")
      assert.has_error(function() m:sub(2, 0, 1, 1) end,
                       "m:sub: rows 2..0, columns 1..1 out of range for a 2x3 matrix")
      assert.has_error(function() m:sub(1, 1, 2, 4) end,
                       "m:sub: rows 1..1, columns 2..4 out of range for a 2x3 matrix")
      assert.has_error(function() m:sub(1, 1, 1) end,
                       "m:sub: last column must be an integer (got no value)")
    end)

    it("m[i] out of range is nil, so ipairs walks the rows", function()
      assert.is_nil(m[3])
      assert.is_nil(m[0])
      assert.is_nil(m[-1])
      assert.has_error(function() return m[1.5] end,
                       "m[i]: index must be an integer (got 1.5)")
      local seen = {}
      for i, r in ipairs(m) do seen[i] = r:totable()[1] end
      assert.same(m:totable(), seen)
    end)

    it("v[i] out of range is nil, so ipairs walks the elements", function()
      assert.is_nil(v[4])
      assert.is_nil(v:t()[0])
      local seen = {}
      for i, x in ipairs(v) do seen[i] = x end
      assert.same(v:totable()[1], seen)
    end)

    it("m[i] = and v[i] = out of range", function()
      assert.has_error(function() m[3] = 1 end,
                       "m[i] = v: index 3 out of range for a 2x3 matrix")
      assert.has_error(function() v[4] = 1 end,
                       "m[i] = v: index 4 out of range for a 1x3 matrix")
      assert.has_error(function() m[1.5] = 1 end,
                       "m[i] = v: index must be an integer (got 1.5)")
    end)

    it("m[i] = and v[i] = with a bad value", function()
      assert.has_error(function() m[1] = "x" end,
                       "m[i] = v: value must be a number, a table or a vector (got string)")
      assert.has_error(function() m[1] = true end,
                       "m[i] = v: value must be a number, a table or a vector (got boolean)")
      assert.has_error(function() v[1] = "x" end,
                       "m[i] = v: value must be a number (got string)")
      assert.has_error(function() v[1] = nil end,
                       "m[i] = v: value must be a number (got nil)")
    end)

    it("m[i] = a table of the wrong length names m[i] = v", function()
      assert.error_matches(function() m[1] = { 1, 2 } end, "^m%[i%] = v: ")
      assert.error_matches(function() m[1] = { 1, "x", 3 } end, "^m%[i%] = v: ")
    end)

    it("a failed m[i] = leaves the row unchanged", function()
      local a = M { { 1, 2, 3 }, { 4, 5, 6 } }
      pcall(function() a[1] = { 7, 8, "x" } end)
      same({ { 1, 2, 3 }, { 4, 5, 6 } }, a)
    end)

    it("setting a string field", function()
      assert.has_error(function() m.foo = 1 end,
                       "m[k] = v: cannot set field 'foo' of a matrix")
      assert.has_error(function() m.rows = 3 end,
                       "m[k] = v: cannot set field 'rows' of a matrix")
    end)
  end)
end)

describe("memory", function()
  -- The loops run in a fresh mpl so that the arena's retention of freed
  -- memory (MPL_ARENA_RETAIN, see src/core/arena.c) can be set: with 0 every
  -- freed large block goes back at once; with a cap, at most the cap stays.
  local MPL = os.getenv("MPL_BIN") or "mpl"

  local function run(retain, body)
    local file = os.tmpname()
    local f = assert(io.open(file, "w"))
    f:write([[
      local function shmem_kb()
        local f = io.open("/proc/self/status")
        local s = f:read("a")
        f:close()
        return tonumber(s:match("RssShmem:%s*(%d+)")) or 0
      end
      collectgarbage(); collectgarbage()
      local base, peak = shmem_kb(), 0
    ]] .. body .. [[
      collectgarbage(); collectgarbage()
      print(peak - base, shmem_kb() - base)
    ]])
    f:close()
    local p = io.popen(("MPL_ARENA_RETAIN=%s timeout 120 %s %s 2>&1"):format(
                       retain, MPL, file))
    local out = p:read("a")
    p:close()
    os.remove(file)
    local peak, after = out:match("^(%-?%d+)%s+(%-?%d+)")
    assert(peak, out)
    return tonumber(peak), tonumber(after)
  end

  local churn = [[
    for k = 1, 2000 do
      local m = mat.new(100, 1000, k)
      assert(m:get(100, 1000) == k)
      if k % 100 == 0 then
        collectgarbage()
        local now = shmem_kb()
        if now > peak then peak = now end
      end
    end
  ]]

  it("creates and drops 2000 matrices of 1e5 elements", function()
    -- 100 live matrices between collections are 80 MB; 2000 are 1.6 GB
    local peak, after = run("0", churn)
    assert.is_true(peak < 200 * 1024, "resident peak grew by " .. peak .. " kB")
    assert.is_true(after < 16 * 1024, "resident grew by " .. after .. " kB after the loop")
    -- with retention, what stays is bounded by the cap
    peak, after = run("64m", churn)
    assert.is_true(peak < (200 + 64) * 1024, "resident peak grew by " .. peak .. " kB")
    assert.is_true(after < (16 + 64) * 1024, "resident grew by " .. after .. " kB after the loop")
  end)

  it("returns the memory of explicitly closed matrices at once", function()
    local _, after = run("0", [[
      for k = 1, 100 do
        local m <close> = mat.new(1000, 1000) -- 8 MB each, 800 MB in all
        m:set(1000, 1000, k)
      end
    ]])
    assert.is_true(after < 16 * 1024, "resident grew by " .. after .. " kB")
  end)
end)
