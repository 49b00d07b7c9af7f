-- Busted spec: an error names what the user called.  One C function serves
-- both mat.f(m, ...) and m:f(...); its message says "mat.f: ..." when it was
-- called from the module and "m:f: ..." when called as a method.

local mat = require "mat"

local methods = getmetatable(mat.new(1, 1)).__methods

-- every function that is both a module function and a method
local function both()
  local t = {}
  for k, v in pairs(methods) do
    if type(v) == "function" and type(mat[k]) == "function" then t[#t + 1] = k end
  end
  table.sort(t)
  return t
end

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok)
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end

describe("errors name what the user called", function()
  it("for every function registered both ways", function()
    local names = both()
    assert.is_true(#names >= 20)
    for _, k in ipairs(names) do
      local e1 = err_of(mat[k], "bad")
      assert.are.equal("mat." .. k .. ":", e1:sub(1, #k + 5), k .. ": " .. e1)
      local e2 = err_of(methods[k], "bad")
      assert.are.equal("m:" .. k .. ":", e2:sub(1, #k + 3), k .. ": " .. e2)
    end
  end)

  it("in the cases users met", function()
    local a, b = mat.ones(2, 2), mat.ones(2, 2)
    assert.has_error(function() mat.max(a, b) end,
      "mat.max: dim must be an integer (got matrix)")
    assert.has_error(function() a:max(b) end,
      "m:max: dim must be an integer (got matrix)")
    assert.has_error(function() mat.sum(a, 0) end,
      "mat.sum: dim must be 1 or 2 (got 0)")
    assert.has_error(function() a:sum(0) end,
      "m:sum: dim must be 1 or 2 (got 0)")
    assert.has_error(function() mat.inv(mat.new(2, 3)) end,
      "mat.inv: matrix is not square (2x3)")
    assert.has_error(function() mat.new(2, 3):inv() end,
      "m:inv: matrix is not square (2x3)")
    assert.has_error(function() mat.exp(a, { out = 1 }) end,
      "mat.exp: opts.out must be a matrix (got number)")
    assert.has_error(function() a:exp({ out = 1 }) end,
      "m:exp: opts.out must be a matrix (got number)")
  end)

  it("names only the function itself, not others it mentions", function()
    -- a module-only function keeps its name; a method-only one too
    assert.has_error(function() mat.dot(mat.ones(2, 3), mat.ones(2, 3)) end,
      "mat.dot: shape mismatch: 2x3 * 2x3")
    assert.has_error(function() mat.ones(2, 2):row(5) end,
      "m:row: index 5 out of range for a 2x2 matrix")
  end)
end)
