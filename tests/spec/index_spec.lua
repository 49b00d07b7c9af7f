-- index_spec.lua: table indexing (m[{i, j}], ranges, steps, negative
-- indices), masks, m:index, m:fill, m:assign, and their errors.

local function M(t) return mat.from(t) end

-- 3x4 with 1..12 in row order
local function grid() return M{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}} end

describe("m[{i, j}]", function()
  it("reads and writes one element, negative indices from the end", function()
    local m = grid()
    assert.equal(7, m[{2, 3}])
    assert.equal(12, m[{-1, -1}])
    assert.equal(9, m[{-1, 1}])
    m[{1, -1}] = 40
    assert.equal(40, m:get(1, 4))
    m[{-3, 2}] = -2
    assert.equal(-2, m:get(1, 2))
  end)

  it("a vector takes one index, as v[i]", function()
    local v = mat.range(1, 5)
    assert.equal(5, v[{-1}])
    v[{2}] = 20
    assert.equal(20, v[2])
    local c = v:t()
    assert.equal(20, c[{2}])
    assert.same({{2}, {3}, {4}}, M{{1, 2, 3, 4, 5}}:t()[{{2, 4}}]:totable())
  end)

  it("a row index alone gives the row, as m[i]", function()
    assert.same({{5, 6, 7, 8}}, grid()[{2}]:totable())
    assert.same({{9, 10, 11, 12}}, grid()[{-1}]:totable())
  end)
end)

describe("m[{rows, cols}]", function()
  it("ranges are inclusive and give views", function()
    local m = grid()
    local v = m[{{1, 2}, {2, 3}}]
    assert.same({{2, 3}, {6, 7}}, v:totable())
    v[{1, 1}] = 0
    assert.equal(0, m:get(1, 2))
  end)

  it("{} is everything, a number keeps its dimension", function()
    local m = grid()
    assert.same({{3}, {7}, {11}}, m[{{}, 3}]:totable())
    assert.same({{5, 6, 7, 8}}, m[{2, {}}]:totable())
    assert.same(m:totable(), m[{}]:totable())
    assert.same(m:totable(), m[{{}, {}}]:totable())
  end)

  it("steps, also negative, and negative bounds", function()
    local m = grid()
    assert.same({{1, 3}, {9, 11}}, m[{{1, 3, 2}, {1, -1, 2}}]:totable())
    assert.same({{12, 11, 10, 9}, {8, 7, 6, 5}, {4, 3, 2, 1}},
                m[{{-1, 1, -1}, {-1, 1, -1}}]:totable())
    assert.same({{12, 9}}, m[{-1, {4, 1, -3}}]:totable())
    assert.same({{2}, {6}, {10}}, m[{{1, -1}, {-3}}]:totable())
  end)

  it("empty ranges give empty views", function()
    local m = grid()
    local e = m[{{2, 1}, {}}]
    assert.same({0, 4}, {e:shape()})
    e = m[{{}, {1, 3, -1}}]
    assert.same({3, 0}, {e:shape()})
  end)

  it("reversed views read, write and compute like any other", function()
    local m = grid()
    local r = m[{{-1, 1, -1}, {}}]
    assert.equal(78, r:sum())
    assert.same({{9, 10, 11, 12}}, r[1]:totable())
    local p = r * mat.eye(4)
    assert.same(r:totable(), p:totable())
    r[{1, {}}] = 0
    assert.same({0, 0, 0, 0}, m:totable()[3])
    assert.same((r + 1):totable(), (r:copy() + 1):totable())
  end)

  it("assigning a number fills, a matrix broadcasts", function()
    local m = grid()
    m[{{2, 3}, {1, 2}}] = 0
    assert.same({{1, 2, 3, 4}, {0, 0, 7, 8}, {0, 0, 11, 12}}, m:totable())
    m[{{}, 1}] = M{{7}, {8}, {9}}
    assert.same({7, 8, 9}, {m:get(1, 1), m:get(2, 1), m:get(3, 1)})
    m[{{1, 2}, {}}] = M{1, 2, 3, 4}
    assert.same({{1, 2, 3, 4}, {1, 2, 3, 4}}, m[{{1, 2}}]:totable())
    m[{{1, 3, 2}, {4, 1, -1}}] = M{{-1}, {-2}}
    assert.same({-1, -1, -1, -1}, m:totable()[1])
    assert.same({-2, -2, -2, -2}, m:totable()[3])
  end)

  it("assignment from an overlapping view of itself", function()
    local m = M{1, 2, 3, 4, 5}
    m[{{2, 5}}] = m[{{1, 4}}]
    assert.same({{1, 1, 2, 3, 4}}, m:totable())
    local r = M{1, 2, 3, 4}
    r[{}] = r[{{-1, 1, -1}}]
    assert.same({{4, 3, 2, 1}}, r:totable())
  end)

  it("assignment of a transposed view of itself", function()
    local m = M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
    m[{}] = m:t()
    assert.same({{1, 4, 7}, {2, 5, 8}, {3, 6, 9}}, m:totable())
    local c = M{{1, 2}, {3, 4}}
    c[{{}, {-1, 1, -1}}] = c
    assert.same({{2, 1}, {4, 3}}, c:totable())
  end)

  it("keeps -0 and NaN bits when it copies", function()
    local m = mat.zeros(1, 2)
    m[{{1, 2}}] = M{-0.0, 0 / 0}
    assert.equal("-0.0", tostring(m:get(1, 1)))
    assert.is_true(m:get(1, 2) ~= m:get(1, 2))
  end)
end)

describe("indexing errors", function()
  local m = grid()
  it("name the index, the range and the shape", function()
    assert.has_error(function() return m[{4, 1}] end,
      "m[{...}]: row index 4 out of range (1..3 or -3..-1) for a 3x4 matrix")
    assert.has_error(function() return m[{1, -5}] end,
      "m[{...}]: column index -5 out of range (1..4 or -4..-1) for a 3x4 matrix")
    assert.has_error(function() return m[{{0, 2}, 1}] end,
      "m[{...}]: row index 0 out of range (1..3 or -3..-1) for a 3x4 matrix")
    assert.has_error(function() return m[{{1, 9}}] end,
      "m[{...}]: row index 9 out of range (1..3 or -3..-1) for a 3x4 matrix")
    assert.has_error(function() m[{1, 5}] = 0 end,
      "m[{...}] = v: column index 5 out of range (1..4 or -4..-1) for a 3x4 matrix")
    assert.has_error(function() return M{1, 2}[{3}] end,
      "m[{...}]: element index 3 out of range (1..2 or -2..-1) for a 1x2 matrix")
    assert.has_error(function() return mat.zeros(0, 2)[{1, 1}] end,
      "m[{...}]: row index 1 out of range (no rows) for a 0x2 matrix")
  end)

  it("extreme integers are range errors, huge steps one element", function()
    local big, small = math.maxinteger, math.mininteger
    assert.has_error(function() return m[{{small, big}}] end,
      "m[{...}]: row index " .. small .. " out of range (1..3 or -3..-1) for a 3x4 matrix")
    assert.has_error(function() return m[{{1, big}}] end,
      "m[{...}]: row index " .. big .. " out of range (1..3 or -3..-1) for a 3x4 matrix")
    assert.same({{1, 2, 3, 4}}, m[{{1, 3, big}}]:totable())
    assert.same({{12}}, m[{-1, {-1, 1, small}}]:totable())
    assert.same({0, 4}, {m[{{1, 3, small}}]:shape()})
  end)

  it("name what is wrong with the key", function()
    assert.has_error(function() return m[{1, 2, 3}] end,
      "m[{...}]: a matrix has 2 dimensions (got 3 indices)")
    assert.has_error(function() return m[{1.5, 1}] end,
      "m[{...}]: row index must be an integer (got 1.5)")
    assert.has_error(function() return m[{"a", 1}] end,
      "m[{...}]: row index must be an integer or a range table ({a, b}, {a, b, step} or {}) (got string)")
    assert.has_error(function() return m[{{1, 2, 0}}] end,
      "m[{...}]: row step must not be zero")
    assert.has_error(function() return m[{{1, 2, 1, 1}}] end,
      "m[{...}]: a row range has at most 3 entries {a, b, step} (got 4)")
    assert.has_error(function() m[{{1, 2}, {}}] = mat.ones(3, 4) end,
      "m[{...}] = v: cannot assign a 3x4 matrix to a 2x4 one")
    assert.has_error(function() m[{{1, 2}, {}}] = "x" end,
      "m[{...}] = v: value must be a number or a matrix (got string)")
    assert.has_error(function() m[{1, 1}] = "x" end,
      "m[{...}] = v: value must be a number (got string)")
  end)

  it("m:get and assignments stay strict, m[i] reads give nil", function()
    assert.is_nil(m[4])
    assert.has_error(function() m:get(4, 1) end,
      "m:get: index (4, 1) out of range for a 3x4 matrix")
    assert.has_error(function() m[4] = 1 end,
      "m[i] = v: index 4 out of range for a 3x4 matrix")
  end)

  it("name the user's line, for reads as for writes", function()
    local ok, e = pcall(function() return m[{9, 1}] end)
    assert.is_false(ok)
    assert.matches("index_spec%.lua:%d+: m%[{%.%.%.}%]: row index 9", e)
    ok, e = pcall(function() return m[mat.ones(1, 1)] end)
    assert.matches("index_spec%.lua:%d+: m%[mask%]: mask is 1x1", e)
    ok, e = pcall(function() m[{9, 1}] = 0 end)
    assert.matches("index_spec%.lua:%d+: m%[{%.%.%.}%] = v: row index 9", e)
  end)

  it("a closed matrix says so", function()
    local c = grid()
    c:close()
    assert.has_error(function() return c[{1, 1}] end, "attempt to use a closed matrix")
    assert.has_error(function() c[{1, 1}] = 1 end, "attempt to use a closed matrix")
  end)
end)

describe("masks", function()
  it("m[mask] is a 1 x k copy in row order", function()
    local m = grid()
    local s = m[m:gt(6)]
    assert.same({{7, 8, 9, 10, 11, 12}}, s:totable())
    s[{1}] = 0
    assert.equal(7, m:get(2, 3))
    assert.same({1, 0}, {m[mat.zeros(3, 4)]:shape()})
  end)

  it("a mask may be a view, and m a view", function()
    local m = grid()
    local v = m[{{-1, 1, -1}, {1, 4, 3}}] -- rows reversed, columns 1 and 4
    assert.same({{9, 12}, {5, 8}, {1, 4}}, v:totable())
    assert.same({{12, 5, 8}}, v[v:gt(4):mul(v:ne(9))]:totable())
  end)

  it("m[mask] = number, matrix of m's shape, or k values", function()
    local m = grid()
    m[m:gt(10)] = 0
    assert.same({9, 10, 0, 0}, m:totable()[3])
    local n = grid()
    n[n:lt(3)] = n * 10
    assert.same({10, 20, 3, 4}, n:totable()[1])
    local k = grid()
    k[k:ge(11)] = M{-11, -12}
    assert.same({9, 10, -11, -12}, k:totable()[3])
    local s = grid()
    s[s] = 1 -- every element is nonzero
    assert.equal(12, s:sum())
  end)

  it("errors name the shapes", function()
    local m = grid()
    assert.has_error(function() return m[mat.ones(2, 2)] end,
      "m[mask]: mask is 2x2, the matrix is 3x4")
    assert.has_error(function() m[mat.ones(4, 3)] = 1 end,
      "m[mask] = v: mask is 4x3, the matrix is 3x4")
    assert.has_error(function() m[m:gt(10)] = M{1, 2, 3} end,
      "m[mask] = v: value is 1x3; give a number, a 3x4 matrix or a vector of 2 (the selected count)")
    assert.has_error(function() m[m:gt(10)] = {} end,
      "m[mask] = v: value must be a number or a matrix (got table)")
  end)

  it("selects the same elements as a loop on 10^6 random values", function()
    mat.seed(7)
    local x = mat.rand(1000, 1001) -- many blocks, shared by the threads
    local mask = x:lt(0.3)
    local s = x[mask]
    local t, k = {}, 0
    for _, row in ipairs(x:totable()) do
      for _, v in ipairs(row) do
        if v < 0.3 then k = k + 1; t[k] = v end
      end
    end
    assert.equal(k, s.cols)
    assert.equal(k, mask:count())
    local got = s:totable()[1]
    for i = 1, k do if t[i] ~= got[i] then assert.equal(t[i], got[i]) end end
    local v = x:sub(1, 1000, 1, 1000) -- a view with a contiguous mask
    local vm = v:lt(0.3)
    assert.equal(v:copy()[vm], v[vm])
    assert.equal(v[vm], v[mask:sub(1, 1000, 1, 1000)]) -- a view as mask
    local y = x:copy()
    y[mask] = s:mul(-1)
    assert.equal(k, y:lt(0):count())
    assert.equal(-x[mask]:sum(), y[y:lt(0)]:sum())
  end)
end)

describe("m:index, m:fill, m:assign", function()
  it("m:index copies rows or columns in the order given", function()
    local m = grid()
    local r = m:index(1, {3, 1, -1})
    assert.same({{9, 10, 11, 12}, {1, 2, 3, 4}, {9, 10, 11, 12}}, r:totable())
    r[{1, 1}] = 0
    assert.equal(9, m:get(3, 1))
    assert.same({{4, 1}, {8, 5}, {12, 9}}, m:index(2, M{4, 1}):totable())
    assert.same({3, 0}, {m:index(2, {}):shape()})
  end)

  it("m:index errors", function()
    local m = grid()
    assert.has_error(function() m:index(3, {1}) end, "m:index: dim must be 1 or 2 (got 3)")
    assert.has_error(function() m:index(1, {4}) end,
      "m:index: row index 4 out of range (1..3 or -3..-1) for a 3x4 matrix")
    assert.has_error(function() m:index(2, {1.5}) end,
      "m:index: column index must be an integer (got 1.5)")
    assert.has_error(function() m:index(1, "x") end,
      "m:index: indices must be a table or a vector (got string)")
    assert.has_error(function() m:index(1, mat.ones(2, 2)) end,
      "m:index: indices must be a vector (got a 2x2 matrix)")
  end)

  it("m:fill and m:assign work in place and return m", function()
    local m = grid()
    assert.equal(m, m:fill(3))
    assert.equal(36, m:sum())
    local v = m[{{}, 2}]
    assert.equal(v, v:assign(M{{1}, {2}, {3}}))
    assert.same({3, 1, 3, 3}, m:totable()[1])
    m:assign(M{1, 2, 3, 4})
    assert.same({1, 2, 3, 4}, m:totable()[3])
    m:assign(0)
    assert.equal(0, m:sum())
    assert.has_error(function() m:assign(mat.ones(2, 4)) end,
      "m:assign: cannot assign a 2x4 matrix to a 3x4 one")
    assert.has_error(function() m:assign() end,
      "m:assign: value must be a number or a matrix (got no value)")
    assert.has_error(function() m:fill("x") end,
      "m:fill: value must be a number (got string)")
  end)
end)
