-- select_numpy_spec.lua: indexing, masks, comparison and selection, joining
-- and shaping checked case by case against NumPy itself (Debian's
-- python3-numpy, run as /usr/bin/python3): the same inputs, NumPy's
-- result next to mpl's, the same shape and the same values (bit for bit,
-- -0 included; any NaN matches any NaN).

local util = require "util"
local python = util.python

-- The inputs, built the same way on both sides: A (4x5) with a NaN and an
-- infinity, B (4x5) small integers with ties, S (2x3), T (2x2).
local INPUTS_PY = [==[
import numpy as np
A = (np.arange(20, dtype=float).reshape(4, 5) + 1) * 0.5 - 3
A[1, 2] = np.nan
A[3, 0] = np.inf
A[0, 4] = -0.0
i, j = np.indices((4, 5))
B = ((i * 7 + j * 3) % 5 - 2).astype(float)
S = np.array([[1., -2, 3], [0, 5, -6]])
T = np.array([[0., 1], [1, 2]])
Z02, Z03, Z20, Z30 = np.zeros((0, 2)), np.zeros((0, 3)), np.zeros((2, 0)), np.zeros((3, 0))
]==]

local function inputs()
  local A = mat.new(4, 5)
  for i = 1, 4 do
    for j = 1, 5 do A:set(i, j, ((i - 1) * 5 + (j - 1) + 1) * 0.5 - 3) end
  end
  A:set(2, 3, 0 / 0)
  A:set(4, 1, math.huge)
  A:set(1, 5, -0.0)
  local B = mat.new(4, 5)
  for i = 1, 4 do
    for j = 1, 5 do B:set(i, j, ((i - 1) * 7 + (j - 1) * 3) % 5 - 2) end
  end
  return A, B, mat.from{{1, -2, 3}, {0, 5, -6}}, mat.from{{0, 1}, {1, 2}}
end

-- name, mpl expression (a function of A, B, S, T), NumPy expression.
local CASES = {
  {"slice rows, step cols", function(A) return A[{{2, 4}, {1, 5, 2}}] end, "A[1:4, 0:5:2]"},
  {"rows reversed", function(A) return A[{{-1, 1, -1}, {}}] end, "A[::-1, :]"},
  {"negative steps both", function(A) return A[{{4, 1, -2}, {-2, 2, -1}}] end, "A[3::-2, 3:0:-1]"},
  {"step 3 from the end", function(A) return A[{{}, {-1, 1, -3}}] end, "A[:, ::-3]"},
  {"empty row range", function(A) return A[{{3, 2}, {}}] end, "A[2:2, :]"},
  {"one row kept 2-D", function(A) return A[{2, {}}] end, "A[1:2, :]"},
  {"last column", function(A) return A[{{}, -1}] end, "A[:, -1:]"},
  {"element", function(A) return mat.full(1, 1, A[{-1, -2}]) end, "A[-1:, -2:-1]"},
  {"mask gt 0 (NaN false)", function(A) return A[A:gt(0)] end, "A[A > 0][None, :]"},
  {"mask isnan", function(A) return A[mat.isnan(A)] end, "A[np.isnan(A)][None, :]"},
  {"mask of a view", function(A) local v = A[{{-1, 1, -1}, {2, 5, 2}}]; return v[v:le(2)] end,
   "A[::-1, 1:5:2][A[::-1, 1:5:2] <= 2][None, :]"},
  {"mask write", function(A) local C = A:copy(); C[C:lt(0)] = 0; return C end,
   "C = A.copy(); C[C < 0] = 0; R = C"},
  {"mask write values", function(A, B) local C = A:copy(); C[B:eq(0)] = B[B:eq(0)]:add(7); return C end,
   "C = A.copy(); C[B == 0] = B[B == 0] + 7; R = C"},
  {"slice write broadcast", function(A) local C = A:copy(); C[{{1, 4, 2}, {}}] = mat.range(1, 5); return C end,
   "C = A.copy(); C[0:4:2, :] = np.arange(1, 6); R = C"},
  {"index rows", function(A) return A:index(1, {3, 1, -1}) end, "A[[2, 0, -1], :]"},
  {"index cols", function(A) return A:index(2, mat.from{5, 5, 1}) end, "A[:, [4, 4, 0]]"},
  {"lt", function(A, B) return A:lt(B) end, "A < B"},
  {"le scalar", function(A) return A:le(2) end, "A <= 2"},
  {"eq self (NaN)", function(A) return A:eq(A) end, "A == A"},
  {"ne self (NaN)", function(A) return A:ne(A) end, "A != A"},
  {"ge row broadcast", function(A, B) return A:ge(B[{1, {}}]) end, "A >= B[0:1, :]"},
  {"gt column broadcast", function(A, B) return B:gt(A[{{}, 2}]) end, "B > A[:, 1:2]"},
  {"isnan", function(A) return mat.isnan(A) end, "np.isnan(A)"},
  {"isinf", function(A) return mat.isinf(A) end, "np.isinf(A)"},
  {"isfinite", function(A) return mat.isfinite(A) end, "np.isfinite(A)"},
  {"where", function(A, B) return mat.where(A:gt(0), A, B) end, "np.where(A > 0, A, B)"},
  {"where NaN mask", function(A, B) return mat.where(A, 1, B) end, "np.where(A, 1.0, B)"},
  {"maximum NaN", function(A, B) return mat.maximum(A, B) end, "np.maximum(A, B)"},
  {"minimum NaN", function(A, B) return mat.minimum(A, B) end, "np.minimum(A, B)"},
  {"maximum -0", function() return mat.maximum(mat.from{-0.0, 0.0}, mat.from{0.0, -0.0}) end,
   "np.maximum(np.array([[-0.0, 0.0]]), np.array([[0.0, -0.0]]))"},
  {"clip NaN inf", function(A) return A:clip(-1, 2) end, "np.clip(A, -1, 2)"},
  {"clip lo > hi", function(A) return A:clip(2, -1) end, "np.clip(A, 2, -1)"},
  {"count dim 1", function(A) return A:count(1) end, "np.count_nonzero(A, axis=0)[None, :].astype(float)"},
  {"any dim 2", function(_, B) return B:any(2) end, "B.any(axis=1)[:, None]"},
  {"all dim 1", function(_, B) return B:all(1) end, "B.all(axis=0)[None, :]"},
  {"hcat", function(A, B) return mat.hcat(A, B) end, "np.hstack([A, B])"},
  {"vcat", function(A, B, S) return mat.vcat(A, B) end, "np.vstack([A, B])"},
  {"hcat ones column", function(_, _, S) return mat.hcat(1, S) end, "np.hstack([np.ones((2, 1)), S])"},
  {"cat dim 2 of views", function(A) return mat.cat({A[{{}, {-1, 1, -2}}], A:t():t()}, 2) end,
   "np.concatenate([A[:, ::-2], A], axis=1)"},
  {"flatten of a transpose", function(_, _, S) return S:t():flatten() end, "S.T.flatten()[None, :]"},
  {"tile", function(_, _, S) return S:tile(2, 3) end, "np.tile(S, (2, 3))"},
  {"tril -1", function(A) return A:tril(-1) end, "np.tril(A, -1)"},
  {"triu 2", function(A) return A:triu(2) end, "np.triu(A, 2)"},
  {"tril of a wide one", function(_, _, S) return S:tril() end, "np.tril(S)"},
  {"outer", function(_, _, S, T) return mat.outer(S, T) end, "np.outer(S, T)"},
  {"kron", function(_, _, S, T) return mat.kron(S, T) end, "np.kron(S, T)"},
  {"kron with NaN", function(A, _, _, T) return mat.kron(T, A[{{1, 2}, {2, 3}}]) end, "np.kron(T, A[0:2, 1:3])"},
  -- empty matrices
  {"hcat 0x2 0x3", function() return mat.hcat(mat.zeros(0, 2), mat.zeros(0, 3)) end, "np.hstack([Z02, Z03])"},
  {"vcat 2x0 3x0", function() return mat.vcat(mat.zeros(2, 0), mat.zeros(3, 0)) end, "np.vstack([Z20, Z30])"},
  {"kron empty", function() return mat.kron(mat.zeros(0, 2), mat.ones(2, 3)) end, "np.kron(Z02, np.ones((2, 3)))"},
  {"tile 0x3", function() return mat.zeros(0, 3):tile(2, 2) end, "np.tile(Z03, (2, 2))"},
  {"tril 3x0", function() return mat.zeros(3, 0):tril() end, "np.tril(Z30)"},
  {"flatten 3x0", function() return mat.zeros(3, 0):flatten() end, "Z30.flatten()[None, :]"},
  {"mask of 0x3", function() local z = mat.zeros(0, 3); return z[z:eq(0)] end, "Z03[Z03 == 0][None, :]"},
  {"outer empty", function(_, _, S) return mat.outer(mat.zeros(1, 0), S) end, "np.outer(np.zeros(0), S)"},
  {"compare 0x3 with a row", function() return mat.zeros(0, 3):lt(mat.ones(1, 3)) end, "Z03 < np.ones((1, 3))"},
  {"where on 3x0", function() return mat.where(mat.zeros(3, 0), 1, 2) end, "np.where(Z30, 1.0, 2.0)"},
  {"count of 0x3 by column", function() return mat.zeros(0, 3):count(1) end,
   "np.count_nonzero(Z03, axis=0)[None, :].astype(float)"},
}

-- NumPy's results, one line per case: rows, cols, then float.hex of each
-- element in row order.
local function numpy_results()
  local lines = {INPUTS_PY, "def out(R):",
    "    R = np.asarray(R, dtype=float)",
    "    R = R.reshape(1, -1) if R.ndim == 1 else R",
    "    print(R.shape[0], R.shape[1], *[float(x).hex() for x in R.flatten()])"}
  for _, c in ipairs(CASES) do
    if c[3]:find("R = ", 1, true) then
      lines[#lines + 1] = c[3]
      lines[#lines + 1] = "out(R)"
    else
      lines[#lines + 1] = "out(" .. c[3] .. ")"
    end
  end
  local res = {}
  for line in python(table.concat(lines, "\n") .. "\n"):gmatch("[^\n]+") do
    local t = {}
    for w in line:gmatch("%S+") do t[#t + 1] = w end
    res[#res + 1] = t
  end
  return res
end

local function value(s)
  if s == "nan" then return 0 / 0 end
  if s == "inf" then return math.huge end
  if s == "-inf" then return -math.huge end
  return assert(tonumber(s), s)
end

local function same_bits(x, y)
  if x ~= x then return y ~= y end
  return x == y and (x ~= 0 or 1 / x == 1 / y)
end

describe("against NumPy", function()
  local expect
  setup(function()
    util.need_numpy()
    expect = numpy_results()
    assert.equal(#CASES, #expect)
  end)

  for k, c in ipairs(CASES) do
    it(c[1] .. " (" .. c[3] .. ")", function()
      local got = c[2](inputs())
      local e = expect[k]
      local r, cc = tonumber(e[1]), tonumber(e[2])
      assert.same({r, cc}, {got:shape()})
      local n = 0
      for i = 1, r do
        for j = 1, cc do
          n = n + 1
          local want, have = value(e[2 + n]), got:get(i, j)
          if not same_bits(want, have) then
            error(("element (%d, %d): NumPy %s, mpl %s"):format(i, j, e[2 + n], tostring(have)))
          end
        end
      end
    end)
  end
end)
