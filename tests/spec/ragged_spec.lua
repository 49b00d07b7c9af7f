-- mat.ragged: items packed from tables and vectors, views equal to their
-- sources, zero-copy wrapping of a values matrix, lengths, indexing,
-- closing, and every error with its exact message.  Reading a ragged from
-- mat.map workers is in tests/spec/map_spec.lua.
local mat = require "mat"

describe("mat.ragged", function()
  it("packs tables and vectors; R[i] equals its source", function()
    local col = mat.from{{7}, {8}, {9}}
    local strided = mat.from{{1, 2, 3}, {4, 5, 6}}:col(2) -- a 2x1 view, stride 3
    local src = {{1, 2, 3}, {}, mat.from{4.5, -1}, col, strided, {0.25},
                 mat.from{{1, 2}, {3, 4}}:t()[2]}
    local R = mat.ragged(src)
    assert.are.equal(#src, #R)
    assert.are.same({3, 0, 2, 3, 2, 1, 2}, R:lengths())
    assert.are.same({{1, 2, 3}}, R[1]:totable())
    assert.are.same({1, 0}, {R[2]:shape()})
    assert.are.same({{4.5, -1}}, R[3]:totable())
    assert.are.same({{7, 8, 9}}, R[4]:totable())
    assert.are.same({{2, 5}}, R[5]:totable())
    assert.are.same({{0.25}}, R[6]:totable())
    assert.are.same({{2, 4}}, R[7]:totable())
    assert.are.same({{1, 2, 3, 4.5, -1, 7, 8, 9, 2, 5, 0.25, 2, 4}},
                    R:values():totable())
  end)

  it("equals its sources for many random items", function()
    mat.seed(9)
    local src = {}
    for i = 1, 500 do
      local n = math.floor(mat.rand(1, 1)[1] * 50)
      src[i] = i % 2 == 0 and mat.randn(1, n) or mat.randn(1, n):totable()[1]
    end
    local R = mat.ragged(src)
    for i = 1, 500 do
      local want = mat.ismatrix(src[i]) and src[i] or mat.from(src[i])
      if #src[i] == 0 then
        assert.are.equal(0, #R[i])
      else
        assert.is_true(R[i] == want)
      end
    end
  end)

  it("copies its sources: changing them later does not change it", function()
    local t, v = {1, 2}, mat.from{3, 4}
    local R = mat.ragged{t, v}
    t[1], v[1] = 100, 100
    assert.are.same({{1, 2}}, R[1]:totable())
    assert.are.same({{3, 4}}, R[2]:totable())
  end)

  it("gives views: writes through R[i] change the ragged", function()
    local R = mat.ragged{{1, 2}, {3, 4, 5}}
    local v = R[2]
    v[3] = 50
    R[1][1] = 10
    assert.are.equal(10, R[1][1])
    assert.are.same({{10, 2, 3, 4, 50}}, R:values():totable())
    -- a view outlives the ragged
    R:close()
    assert.are.same({{3, 4, 50}}, v:totable())
  end)

  it("indexes like a Lua array: nil out of range, ipairs works", function()
    local R = mat.ragged{{1}, {2, 3}, {4, 5, 6}}
    assert.is_nil(R[0])
    assert.is_nil(R[4])
    assert.is_nil(R[1.5])
    local sums = {}
    for i, v in ipairs(R) do sums[i] = v:sum() end
    assert.are.same({1, 5, 15}, sums)
    assert.has_error(function() R[1] = mat.from{1} end,
      "R[i] = v: a ragged's items cannot be replaced (write into the view R[i] instead)")
  end)

  it("wraps a values matrix without copying it", function()
    local values = mat.range(1, 10)
    local R = mat.ragged(values, {3, 0, 5, 2})
    assert.are.same({3, 0, 5, 2}, R:lengths())
    assert.are.same({{4, 5, 6, 7, 8}}, R[3]:totable())
    values[4] = -4 -- the same memory
    assert.are.equal(-4, R[3][1])
    R[4][2] = 99
    assert.are.equal(99, values[10])
    -- lengths as a vector, values as any contiguous matrix
    local R2 = mat.ragged(mat.range(1, 6):reshape(2, 3), mat.from{{1}, {5}})
    assert.are.same({1, 5}, R2:lengths())
    assert.are.same({{2, 3, 4, 5, 6}}, R2[2]:totable())
    assert.are.equal(0, #mat.ragged(mat.new(1, 0), {}))
  end)

  it("prints and measures itself", function()
    local R = mat.ragged{{1, 2}, {3}}
    assert.are.equal("ragged 2 items, 3 numbers", tostring(R))
    assert.are.equal("ragged 1 item, 1 number", tostring(mat.ragged{{1}}))
    assert.are.equal("ragged 0 items, 0 numbers", tostring(mat.ragged{}))
    assert.are.equal(2, #R)
  end)

  it("closes once, with <close> too", function()
    local R = mat.ragged{{1, 2}}
    R:close()
    R:close()
    assert.are.equal("ragged (closed)", tostring(R))
    assert.has_error(function() return #R end, "attempt to use a closed ragged")
    assert.has_error(function() return R[1] end, "attempt to use a closed ragged")
    assert.has_error(function() R:lengths() end, "attempt to use a closed ragged")
    assert.has_error(function() R:values() end, "attempt to use a closed ragged")
    local kept
    do
      local S <close> = mat.ragged{{1}}
      kept = S
    end
    assert.are.equal("ragged (closed)", tostring(kept))
  end)

  it("names the item and element at fault", function()
    assert.has_error(function() mat.ragged(5) end,
                     "mat.ragged: bad argument #1 (table expected, got number)")
    assert.has_error(function() mat.ragged{{1}, {2}, "x"} end,
                     "mat.ragged: item 3 is not a table or vector (got string)")
    assert.has_error(function() mat.ragged{{1}, {2}, {3, "y"}} end,
                     "mat.ragged: item 3, element 2 is not a number (got string)")
    assert.has_error(function() mat.ragged{{1}, mat.ones(2, 2)} end,
                     "mat.ragged: item 2 is a 2x2 matrix, not a vector")
    local closed = mat.ones(1, 2)
    closed:close()
    assert.has_error(function() mat.ragged{closed} end, "attempt to use a closed matrix")
  end)

  it("checks values and lengths", function()
    local v = mat.range(1, 6)
    assert.has_error(function() mat.ragged(v, {2, 3}) end,
                     "mat.ragged: lengths add up to 5, values has 6 numbers")
    assert.has_error(function() mat.ragged(v, {2, -1, 5}) end,
                     "mat.ragged: length 2 must be a non-negative integer (got -1)")
    assert.has_error(function() mat.ragged(v, {2, 1.5}) end,
                     "mat.ragged: length 2 must be a non-negative integer (got 1.5)")
    assert.has_error(function() mat.ragged(v, "x") end,
      "mat.ragged: bad argument #2 (table or vector of lengths expected, got string)")
    assert.has_error(function() mat.ragged(v, mat.ones(2, 2)) end,
      "mat.ragged: bad argument #2 (table or vector of lengths expected, got matrix)")
    assert.has_error(function() mat.ragged("x", {1}) end,
                     "mat.ragged: bad argument #1 (matrix expected, got string)")
    assert.has_error(function() mat.ragged(mat.ones(3, 3):col(1), {3}) end,
                     "mat.ragged: values must be a contiguous matrix (use values:copy())")
  end)

  it("names the user's line in its errors, not its own Lua part", function()
    local closed = mat.ones(1, 2)
    closed:close()
    local line = debug.getinfo(1, "l").currentline
    local cases = {
      {function() mat.ragged(5) end, "mat%.ragged: bad argument #1"},
      {function() mat.ragged{{1}, "x"} end, "mat%.ragged: item 2 is not"},
      {function() mat.ragged{{1}, {"y"}} end, "mat%.ragged: item 2, element 1"},
      {function() mat.ragged{mat.ones(2, 2)} end, "mat%.ragged: item 1 is a 2x2"},
      {function() mat.ragged{closed} end, "attempt to use a closed matrix"},
      {function() mat.ragged(mat.range(1, 3), {1}) end, "mat%.ragged: lengths add"},
    }
    for k, case in ipairs(cases) do
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.matches("^[^\n]*ragged_spec%.lua:" .. (line + 1 + k) .. ": " .. case[2], err)
    end
  end)

  it("packs many small items and large vectors alike", function()
    local t = {}
    for i = 1, 20000 do t[i] = i % 3 == 0 and mat.range(1, i % 7 + 1) or {i, -i} end
    t[#t + 1] = mat.range(1, 300000):t() -- a column: strided
    local R = mat.ragged(t)
    assert.are.equal(20001, #R)
    assert.are.equal(2, #R[1])
    assert.are.same({1, -1}, {R[1][1], R[1][2]})
    assert.are.equal(3 % 7 + 1, #R[3])
    assert.are.equal(300000, #R[20001])
    assert.are.equal(300000.0, R[20001][300000])
    assert.are.equal(mat.range(1, 300000):sum(), R[20001]:sum())
  end)
end)
