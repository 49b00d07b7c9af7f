-- Busted spec for linear algebra: mat.solve, m:inv, m:det, mat.chol,
-- mat.eigh, mat.svd and mat.lstsq, on known values and on the properties
-- that define them (A inv(A) = I, U diag(S) V^T = A, R^T R = A, orthonormal
-- eigenvectors), on views as well as whole matrices, with inputs left
-- untouched, and every error message exactly.

local mat = require "mat"

local inf, nan = math.huge, 0 / 0

local function M(t) return mat.from(t) end

local function shape_of(m) return { m:shape() } end

-- |a - b| small everywhere
local function close(a, b, tol)
  assert.same(shape_of(b), shape_of(a))
  assert.is_true(mat.allclose(a, b, 0, tol or 1e-10),
    ("not close (max difference %g)"):format(a:subtract(b):abs():max()))
end

-- A well-conditioned n x n matrix (a random one plus n on the diagonal).
local function wellcond(n, seed)
  mat.seed(seed or 1)
  return mat.randn(n, n) + mat.eye(n) * n
end

-- A symmetric positive definite n x n matrix.
local function spd(n, seed)
  mat.seed(seed or 2)
  local b = mat.randn(n, n)
  return b * b:t() + mat.eye(n) * n
end

-- The shapes a matrix argument can take: whole, transposed, a block of a
-- bigger matrix, a block of a transpose.
local function views(a)
  local r, c = a:shape()
  local host = mat.new(r + 3, c + 4, 99)
  local block = host:sub(2, r + 1, 3, c + 2)
  mat.add(a, 0, { out = block })
  local thost = mat.new(c + 2, r + 5, -7)
  local tblock = thost:sub(2, c + 1, 4, r + 3):t()
  mat.add(a, 0, { out = tblock })
  local tcopy = a:t():copy()
  return { a, tcopy:t(), block, tblock }
end

describe("mat.solve", function()
  it("solves a known system", function()
    local x = mat.solve(M { { 2, 1 }, { 1, 3 } }, M { { 3 }, { 5 } })
    close(x, M { { 0.8 }, { 1.4 } }, 1e-15)
  end)

  it("solves for several right-hand sides, on views, leaving inputs alone", function()
    local a = wellcond(12)
    mat.seed(5)
    local b = mat.randn(12, 3)
    for _, av in ipairs(views(a)) do
      for _, bv in ipairs(views(b)) do
        local keep_a, keep_b = av:copy(), bv:copy()
        local x = mat.solve(av, bv)
        assert.same({ 12, 3 }, shape_of(x))
        close(av * x, bv, 1e-11)
        assert.is_true(av == keep_a and bv == keep_b)
      end
    end
  end)

  it("handles empty systems", function()
    assert.same({ 0, 2 }, shape_of(mat.solve(mat.new(0, 0), mat.new(0, 2))))
    assert.same({ 3, 0 }, shape_of(mat.solve(mat.eye(3), mat.new(3, 0))))
  end)

  it("refuses singular, non-square and mismatched inputs", function()
    assert.has_error(function() mat.solve(M { { 1, 2 }, { 2, 4 } }, M { { 1 }, { 2 } }) end,
      "mat.solve: matrix is singular")
    assert.has_error(function() mat.solve(mat.new(3, 3), mat.new(3, 1)) end,
      "mat.solve: matrix is singular")
    assert.has_error(function() mat.solve(mat.new(2, 3), mat.new(2, 1)) end,
      "mat.solve: matrix is not square (2x3)")
    assert.has_error(function() mat.solve(mat.eye(3), mat.new(2, 1)) end,
      "mat.solve: shape mismatch: 3x3 and 2x1")
    assert.has_error(function() mat.solve(mat.eye(3), mat.new(1, 3)) end,
      "mat.solve: shape mismatch: 3x3 and 1x3")
    assert.has_error(function() mat.solve(mat.eye(2), 5) end,
      "mat.solve: bad argument #2 (matrix expected, got number)")
  end)

  it("refuses a matrix that is singular to working precision", function()
    local ok, err = pcall(mat.solve, M { { 1, 1 }, { 1, 1 + 2 ^ -52 } }, mat.new(2, 1, 1))
    assert.is_false(ok)
    assert.matches("^mat%.solve: matrix is singular to working precision %(reciprocal " ..
      "condition number [%d.e%-]+%)$", err)
  end)
end)

describe("m:inv", function()
  it("inverts a known matrix", function()
    close(M { { 1, 2 }, { 3, 4 } }:inv(), M { { -2, 1 }, { 1.5, -0.5 } }, 1e-15)
    close(mat.inv(M { { 4 } }), M { { 0.25 } }, 0)
  end)

  it("gives A inv(A) = inv(A) A = I on views", function()
    local a = wellcond(20, 3)
    for _, v in ipairs(views(a)) do
      local keep = v:copy()
      local x = v:inv()
      close(v * x, mat.eye(20), 1e-12)
      close(x * v, mat.eye(20), 1e-12)
      assert.is_true(v == keep)
    end
  end)

  it("refuses singular and non-square matrices", function()
    assert.has_error(function() M { { 1, 2 }, { 2, 4 } }:inv() end, "m:inv: matrix is singular")
    assert.has_error(function() mat.new(2, 3):inv() end, "m:inv: matrix is not square (2x3)")
    assert.has_error(function() mat.inv("x") end, "mat.inv: bad argument #1 (matrix expected, got string)")
    local ok, err = pcall(mat.inv, M { { 1, 1 }, { 1, 1 + 2 ^ -52 } })
    assert.is_false(ok)
    assert.matches("^mat.inv: matrix is singular to working precision", err)
  end)

  it("inverts the empty matrix", function()
    assert.same({ 0, 0 }, shape_of(mat.new(0, 0):inv()))
  end)
end)

describe("m:det", function()
  it("computes known determinants", function()
    assert.is_true(math.abs(M { { 1, 2 }, { 3, 4 } }:det() + 2) < 1e-15)
    assert.equal(24, mat.diag(M { { 1, 2, 3, 4 } }):det())
    assert.equal(-1, M { { 0, 1 }, { 1, 0 } }:det())
    assert.equal(1, mat.new(0, 0):det())
    assert.equal(7, mat.det(M { { 7 } }))
  end)

  it("is the same for a matrix, its transpose and views", function()
    local a = wellcond(9, 4)
    local d = a:det()
    for _, v in ipairs(views(a)) do
      assert.is_true(math.abs(v:det() - d) <= 1e-12 * math.abs(d))
      assert.is_true(math.abs(v:t():det() - d) <= 1e-12 * math.abs(d))
    end
  end)

  it("is zero for a singular matrix and does not overflow on the way", function()
    assert.equal(0, M { { 1, 2 }, { 2, 4 } }:det())
    assert.equal(0, mat.new(3, 3):det())
    -- 1e200 * 1e200 * 1e-200 * 1e-200: partial products would overflow
    assert.is_true(math.abs(mat.diag(M { { 1e200, 1e200, 1e-200, 1e-200 } }):det() - 1) < 1e-12)
  end)

  it("refuses non-square matrices", function()
    assert.has_error(function() mat.new(3, 2):det() end, "m:det: matrix is not square (3x2)")
  end)
end)

describe("mat.chol", function()
  it("factors a known matrix into R^T R with R upper triangular", function()
    close(mat.chol(M { { 4, 2 }, { 2, 3 } }), M { { 2, 1 }, { 0, math.sqrt(2) } }, 1e-15)
    close(M { { 9 } }:chol(), M { { 3 } }, 0)
  end)

  it("gives R^T R = A on views", function()
    local a = spd(15)
    for _, v in ipairs(views(a)) do
      local keep = v:copy()
      local r = mat.chol(v)
      close(r:t() * r, v, 1e-11)
      for i = 2, 15 do
        for j = 1, i - 1 do assert.equal(0, r:get(i, j)) end
      end
      assert.is_true(v == keep)
    end
  end)

  it("refuses matrices that are not positive definite, symmetric or square", function()
    assert.has_error(function() mat.chol(M { { 1, 2 }, { 2, 1 } }) end,
      "mat.chol: matrix is not positive definite")
    assert.has_error(function() mat.chol(M { { 0, 0 }, { 0, 0 } }) end,
      "mat.chol: matrix is not positive definite")
    assert.has_error(function() mat.chol(M { { 2, 1 }, { 0, 2 } }) end,
      "mat.chol: matrix is not symmetric")
    assert.has_error(function() mat.chol(mat.new(2, 3)) end,
      "mat.chol: matrix is not square (2x3)")
    assert.has_error(function() mat.chol(M { { nan, 0 }, { 0, 1 } }) end,
      "mat.chol: matrix contains NaN or infinity")
  end)
end)

describe("mat.eigh", function()
  it("finds known eigenvalues in ascending order", function()
    local w, v = mat.eigh(M { { 2, 1 }, { 1, 2 } })
    close(w, M { { 1, 3 } }, 1e-15)
    local s = 1 / math.sqrt(2)
    close(v:abs(), M { { s, s }, { s, s } }, 1e-15)
    local w2 = mat.eigh(mat.diag(M { { 3, -1, 2 } }))
    close(w2, M { { -1, 2, 3 } }, 0)
  end)

  it("gives A V = V diag(w) with orthonormal V on views", function()
    local a = spd(18, 7) - mat.eye(18) * 30 -- some negative eigenvalues too
    for _, m in ipairs(views(a)) do
      local keep = m:copy()
      local w, v = m:eigh()
      assert.same({ 1, 18 }, shape_of(w))
      close(m * v, v:mul(w), 1e-10)
      close(v:t() * v, mat.eye(18), 1e-12)
      for j = 2, 18 do assert.is_true(w[j - 1] <= w[j]) end
      assert.is_true(m == keep)
    end
  end)

  it("refuses non-symmetric, non-square and non-finite input", function()
    assert.has_error(function() mat.eigh(M { { 1, 2 }, { 3, 4 } }) end,
      "mat.eigh: matrix is not symmetric")
    assert.has_error(function() mat.eigh(mat.new(1, 2)) end,
      "mat.eigh: matrix is not square (1x2)")
    assert.has_error(function() mat.eigh(M { { inf } }) end,
      "mat.eigh: matrix contains NaN or infinity")
  end)

  it("handles the empty matrix", function()
    local w, v = mat.eigh(mat.new(0, 0))
    assert.same({ 1, 0 }, shape_of(w))
    assert.same({ 0, 0 }, shape_of(v))
  end)
end)

describe("mat.svd", function()
  it("finds known singular values, in descending order", function()
    local u, s, v = mat.svd(M { { 3, 0 }, { 0, -4 } })
    close(s, M { { 4, 3 } }, 1e-15)
    close(u:mul(s) * v:t(), M { { 3, 0 }, { 0, -4 } }, 1e-15)
  end)

  it("gives U diag(S) V^T = A with orthonormal U and V, thin and full, on views", function()
    mat.seed(11)
    for _, shape in ipairs { { 9, 5 }, { 5, 9 }, { 6, 6 } } do
      local a = mat.randn(shape[1], shape[2])
      local m, n = shape[1], shape[2]
      local k = math.min(m, n)
      for _, av in ipairs(views(a)) do
        local keep = av:copy()
        local u, s, v = mat.svd(av)
        assert.same({ m, k }, shape_of(u))
        assert.same({ 1, k }, shape_of(s))
        assert.same({ n, k }, shape_of(v))
        close(u:mul(s) * v:t(), av, 1e-12)
        close(u:t() * u, mat.eye(k), 1e-12)
        close(v:t() * v, mat.eye(k), 1e-12)
        for j = 2, k do assert.is_true(s[j - 1] >= s[j]) end
        local fu, fs, fv = av:svd({ full = true })
        assert.same({ m, m }, shape_of(fu))
        assert.same({ n, n }, shape_of(fv))
        close(fs, s, 1e-12)
        close(fu:t() * fu, mat.eye(m), 1e-12)
        close(fv:t() * fv, mat.eye(n), 1e-12)
        close(fu:sub(1, m, 1, k):mul(fs) * fv:sub(1, n, 1, k):t(), av, 1e-12)
        assert.is_true(av == keep)
      end
    end
  end)

  it("handles rank-deficient and empty matrices", function()
    local _, s = mat.svd(M { { 1, 2 }, { 2, 4 } })
    assert.is_true(s[2] < 1e-15)
    local u, s0, v = mat.svd(mat.new(3, 0), { full = true })
    assert.same({ 3, 3 }, shape_of(u))
    assert.same({ 1, 0 }, shape_of(s0))
    assert.same({ 0, 0 }, shape_of(v))
  end)

  it("refuses non-finite input and bad options", function()
    assert.has_error(function() mat.svd(M { { 1, nan } }) end,
      "mat.svd: matrix contains NaN or infinity")
    assert.has_error(function() mat.svd(mat.eye(2), true) end,
      "mat.svd: opts must be a table (got boolean)")
  end)
end)

describe("mat.lstsq", function()
  it("fits a line exactly and in the least-squares sense", function()
    local a = M { { 1, 0 }, { 1, 1 }, { 1, 2 }, { 1, 3 } }
    local x, rank, s = mat.lstsq(a, M { { 1 }, { 3 }, { 5 }, { 7 } })
    close(x, M { { 1 }, { 2 } }, 1e-14)
    assert.equal(2, rank)
    assert.same({ 1, 2 }, shape_of(s))
    local y = M { { 1 }, { 2 }, { 2 }, { 5 } }
    local xl = mat.lstsq(a, y)
    close(a:t() * a * xl, a:t() * y, 1e-12) -- the normal equations
  end)

  it("agrees with solve on square systems, on views", function()
    local a = wellcond(8, 9)
    mat.seed(10)
    local b = mat.randn(8, 2)
    for _, av in ipairs(views(a)) do
      local x, rank = mat.lstsq(av, b:t():t())
      assert.equal(8, rank)
      close(x, mat.solve(av, b), 1e-11)
    end
  end)

  it("gives the minimum-norm solution of a rank-deficient system", function()
    local x, rank = mat.lstsq(M { { 1, 1 }, { 1, 1 } }, M { { 2 }, { 2 } })
    assert.equal(1, rank)
    close(x, M { { 1 }, { 1 } }, 1e-14)
    -- an underdetermined system
    local xu, ru = mat.lstsq(M { { 1, 2, 3 } }, M { { 14 } })
    assert.equal(1, ru)
    close(xu, M { { 1 }, { 2 }, { 3 } }, 1e-14)
    -- opts.rcond decides what counts as zero
    local _, r2 = mat.lstsq(M { { 1, 0 }, { 0, 1e-9 } }, M { { 1 }, { 1 } }, { rcond = 1e-6 })
    assert.equal(1, r2)
  end)

  it("refuses mismatched shapes, non-finite input and bad options", function()
    assert.has_error(function() mat.lstsq(mat.new(3, 2), mat.new(4, 1)) end,
      "mat.lstsq: shape mismatch: 3x2 and 4x1")
    assert.has_error(function() mat.lstsq(M { { 1 }, { inf } }, mat.new(2, 1)) end,
      "mat.lstsq: matrix contains NaN or infinity")
    assert.has_error(function() mat.lstsq(mat.eye(2), mat.new(2, 1), { rcond = -1 }) end,
      "mat.lstsq: opts.rcond must be a non-negative number (got -1)")
    assert.has_error(function() mat.lstsq(mat.eye(2), mat.new(2, 1), 3) end,
      "mat.lstsq: opts must be a table (got number)")
  end)
end)
