-- tostring(m) against NumPy's str() of the same values: random matrices
-- (whole numbers, fractions, tiny and huge magnitudes, nan, inf, wide rows
-- that wrap, large matrices that are summarised), generated and printed by
-- /usr/bin/python3 with NumPy; our text must be the header line plus
-- exactly NumPy's.
local mat = require "mat"

local python = "/usr/bin/python3"
local tools = (os.getenv("MPL_SOURCE_DIR") or "..") .. "/tests/tools"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("tostring", function()
  it("prints what NumPy's str() prints, after the shape line", function()
    local lua_file, exp_file = os.tmpname(), os.tmpname()
    local ok = os.execute(string.format("%s %s/numpy_str_cases.py %s %s 400",
                                        python, tools, lua_file, exp_file))
    assert.is_true(ok, "generating the cases with NumPy failed")
    local cases = dofile(lua_file)
    local expected = {}
    for block in read(exp_file):gmatch("(.-)\n@@\n") do
      expected[#expected + 1] = block
    end
    os.remove(lua_file)
    os.remove(exp_file)
    assert.are.equal(400, #cases)
    assert.are.equal(#cases, #expected)
    for i, t in ipairs(cases) do
      local m = mat.from(t)
      local want = string.format("mat %dx%d\n%s", m.rows, m.cols, expected[i])
      assert.are.equal(want, tostring(m), "case " .. i)
    end
  end)
end)
