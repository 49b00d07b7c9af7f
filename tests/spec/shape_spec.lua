-- shape_spec.lua: joining and shaping (hcat, vcat, cat, flatten, tile,
-- tril, triu, full, outer, kron) and strict options of the older
-- functions (load, save, dot, svd, lstsq, every opts.out taker).

local function M(t) return mat.from(t) end

describe("hcat, vcat, cat", function()
  local a, b = M{{1, 2}, {3, 4}}, M{{5}, {6}}
  it("join side by side and downwards", function()
    assert.same({{1, 2, 5}, {3, 4, 6}}, mat.hcat(a, b):totable())
    assert.same({{1, 2}, {3, 4}, {7, 8}}, mat.vcat(a, M{7, 8}):totable())
    assert.same({{1, 2}, {3, 4}, {1, 2}, {3, 4}}, mat.cat({a, a}):totable())
    assert.same({{1, 2, 1, 2}, {3, 4, 3, 4}}, mat.cat({a, a}, 2):totable())
  end)

  it("a number is a column (hcat) or row (vcat) of itself", function()
    assert.same({{1, 1, 2}, {1, 3, 4}}, mat.hcat(1, a):totable())
    assert.same({{0, 0}, {1, 2}, {3, 4}}, mat.vcat(0, a):totable())
    assert.same({{1, 2, 3}}, mat.hcat(1, 2, 3):totable())
    assert.same({{1}, {2}}, mat.vcat(1, 2):totable())
  end)

  it("views, also reversed, and empty operands", function()
    local r = a[{{-1, 1, -1}, {}}]
    assert.same({{3, 4, 1, 2}, {1, 2, 3, 4}}, mat.hcat(r, a):totable())
    assert.same({{1, 2}, {3, 4}}, mat.vcat(mat.zeros(0, 2), a):totable())
    assert.same({{1, 2}, {3, 4}}, mat.hcat(mat.zeros(2, 0), a):totable())
    assert.same({0, 0}, {mat.hcat():shape()})
  end)

  it("errors name the operand and the shapes", function()
    assert.has_error(function() mat.hcat(a, M{1, 2, 3}) end,
                     "mat.hcat: argument 2 is 1x3, argument 1 has 2 rows")
    assert.has_error(function() mat.vcat(a, b) end,
                     "mat.vcat: argument 2 is 2x1, argument 1 has 2 columns")
    assert.has_error(function() mat.cat({a, "x"}) end,
                     "mat.cat: item 2 must be a matrix or a number (got string)")
    assert.has_error(function() mat.cat(a) end,
                     "mat.cat: bad argument #1 (table of matrices expected, got matrix)")
    assert.has_error(function() mat.cat({a}, 3) end, "mat.cat: dim must be 1 or 2 (got 3)")
  end)
end)

describe("flatten, tile, tril, triu, full", function()
  local m = M{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
  it("flatten is a 1 x n copy in row order", function()
    local f = m:t():flatten()
    assert.same({{1, 4, 7, 2, 5, 8, 3, 6, 9}}, f:totable())
    f[1] = 0
    assert.equal(1, m:get(1, 1))
  end)

  it("tile repeats", function()
    assert.same({{1, 2, 1, 2}, {1, 2, 1, 2}}, M{1, 2}:tile(2, 2):totable())
    assert.same({{1, 2}, {1, 2}}, M{1, 2}:tile(2):totable())
    assert.same({0, 4}, {M{1, 2}:tile(0, 2):shape()})
    assert.has_error(function() m:tile(-1, 1) end,
                     "m:tile: row count must be a non-negative integer (got -1)")
  end)

  it("tril and triu with k, as NumPy", function()
    assert.same({{1, 0, 0}, {4, 5, 0}, {7, 8, 9}}, m:tril():totable())
    assert.same({{1, 2, 0}, {4, 5, 6}, {7, 8, 9}}, m:tril(1):totable())
    assert.same({{0, 0, 0}, {4, 0, 0}, {7, 8, 0}}, m:tril(-1):totable())
    assert.same({{1, 2, 3}, {0, 5, 6}, {0, 0, 9}}, m:triu():totable())
    assert.same({{0, 2, 3}, {0, 0, 6}, {0, 0, 0}}, mat.triu(m, 1):totable())
    assert.same({{1, 2}, {0, 5}, {0, 0}}, m[{{}, {1, 2}}]:triu():totable())
  end)

  it("tril and triu into opts.out, also in place", function()
    local out = mat.zeros(3, 3)
    assert.equal(out, m:tril(-1, {out = out}))
    assert.same({{0, 0, 0}, {4, 0, 0}, {7, 8, 0}}, out:totable())
    local c = m:copy()
    assert.equal(c, c:triu{out = c})
    assert.same({{1, 2, 3}, {0, 5, 6}, {0, 0, 9}}, c:totable())
    assert.has_error(function() m:tril(0, {out = mat.zeros(2, 3)}) end,
                     "m:tril: out is 2x3, the matrix is 3x3")
    assert.has_error(function() m:triu{ot = 1} end,
                     "m:triu: unknown option 'ot' (known: out)")
    assert.has_error(function() m:triu(1.5) end, "m:triu: k must be an integer (got 1.5)")
  end)

  it("full", function()
    assert.same({{7, 7}}, mat.full(1, 2, 7):totable())
    assert.has_error(function() mat.full(1, 2) end,
                     "mat.full: fill value must be a number (got no value)")
  end)
end)

describe("outer, kron", function()
  it("outer of any two vectors (matrices are flattened)", function()
    assert.same({{3, 4}, {6, 8}}, mat.outer(M{1, 2}, M{{3}, {4}}):totable())
    assert.same({{1, 2}, {2, 4}, {3, 6}, {4, 8}},
                mat.outer(M{{1, 2}, {3, 4}}, M{1, 2}):totable())
  end)

  it("kron", function()
    assert.same({{0, 1, 0, 2}, {1, 0, 2, 0}, {0, 3, 0, 4}, {3, 0, 4, 0}},
                mat.kron(M{{1, 2}, {3, 4}}, M{{0, 1}, {1, 0}}):totable())
    assert.same({0, 6}, {mat.kron(mat.zeros(0, 2), mat.ones(2, 3)):shape()})
  end)
end)

describe("strict options", function()
  local a = mat.eye(2)
  local cases = {
    {function() mat.dot(a, a, {proc = 2}) end, "mat.dot: unknown option 'proc' (known: out, procs, progress)"},
    {function() mat.svd(a, {ful = true}) end, "mat.svd: unknown option 'ful' (known: full)"},
    {function() mat.lstsq(a, a, {rcnd = 1}) end, "mat.lstsq: unknown option 'rcnd' (known: rcond)"},
    {function() mat.load("x.csv", {skiprows = 1}) end,
     "mat.load: unknown option 'skiprows' (known: cols, format, header, mmap, na, name, progress, sep, skip)"},
    {function() mat.save(os.tmpname(), a, {seperator = ","}) end,
     "mat.save: unknown option 'seperator' (known: compress, format, header, progress, sep)"},
    {function() mat.exp(a, {ot = a}) end, "mat.exp: unknown option 'ot' (known: out)"},
    {function() mat.exp(1, {ot = a}) end, "mat.exp: unknown option 'ot' (known: out)"},
    {function() a:add(1, {outt = a}) end, "m:add: unknown option 'outt' (known: out)"},
    {function() a:apply(math.abs, {o = a}) end, "m:apply: unknown option 'o' (known: out)"},
    {function() mat.where(a, 1, 2, {into = a}) end, "mat.where: unknown option 'into' (known: out)"},
    {function() mat.maximum(a, 1, {[1] = a}) end, "mat.maximum: unknown option 1 (known: out)"},
    {function() a:clip(0, 1, {ou = a}) end, "m:clip: unknown option 'ou' (known: out)"},
    {function() mat.isnan(a, 5) end, "mat.isnan: opts must be a table (got number)"},
  }
  for i, c in ipairs(cases) do
    it("case " .. i .. ": " .. c[2], function()
      assert.has_error(c[1], c[2])
    end)
  end

  it("known options still work", function()
    local out = mat.zeros(2, 2)
    assert.equal(out, mat.dot(a, a, {procs = 1, out = out}))
    local u, s, v = mat.svd(a, {full = true})
    assert.same({2, 2}, {u:shape()})
    assert.equal(out, mat.exp(a, {out = out}))
  end)
end)
