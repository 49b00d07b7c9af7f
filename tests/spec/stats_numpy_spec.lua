-- stats_numpy_spec.lua: the matrix language checked against NumPy itself
-- (Debian's python3-numpy, run as /usr/bin/python3), case by case: the
-- elementwise functions, sorting and order statistics with ties, NaN and
-- empty matrices, ddof, quantile interpolation, unique, cumulative
-- operations, covariance, and the linear algebra (qr signs, eig with
-- complex pairs, pinv and rank tolerances, norm orders).  Inputs go to
-- NumPy as .npy files and its results come back the same way.

local mat = require "mat"

local util = require "util"
local PY, shquote = util.PY, util.shquote

local tmp
setup(function()
  util.need_numpy()
  tmp = util.tmpdir()
end)

teardown(function() util.rmtree(tmp) end)

local PRELUDE = [[
import sys, os, warnings, numpy as np
warnings.simplefilter('ignore')
DIR = sys.argv[1]
I = {f[3:-4]: np.load(os.path.join(DIR, f)) for f in os.listdir(DIR) if f.startswith('in_')}
out = {}
]]

local EPILOGUE = [[

for f in os.listdir(DIR):
    if f.startswith('out_'): os.remove(os.path.join(DIR, f))
for k, v in out.items():
    np.save(os.path.join(DIR, 'out_' + k + '.npy'), np.atleast_2d(np.asarray(v, dtype=float)))
print(' '.join(out.keys()))
]]

-- Run code with the matrices of `inputs` as I['name']; returns a table of
-- the matrices the code put in out['name'].
local function numpy(inputs, code)
  os.execute("rm -f " .. shquote(tmp) .. "/in_*.npy")
  for k, m in pairs(inputs) do mat.save(tmp .. "/in_" .. k .. ".npy", m) end
  local script = tmp .. "/run.py"
  local f = assert(io.open(script, "w"))
  f:write(PRELUDE, code, EPILOGUE)
  f:close()
  local p = io.popen(shquote(PY) .. " " .. shquote(script) .. " " .. shquote(tmp) .. " 2>&1")
  local names = p:read("a")
  assert(p:close(), "python failed: " .. names)
  local res = {}
  for k in names:gmatch("%S+") do res[k] = mat.load(tmp .. "/out_" .. k .. ".npy") end
  return res
end

-- got and want hold the same values in row order (shapes ignored when
-- loose_shape), within rel (0: exactly; NaN matches NaN).
local function check(what, got, want, rel, loose_shape)
  if type(got) == "number" then got = mat.from { { got } } end
  assert(want, what .. ": NumPy gave nothing")
  local n = got.rows * got.cols
  assert.are.equal(want.rows * want.cols, n, what .. ": element count")
  if not loose_shape then
    assert.are.same({ want:shape() }, { got:shape() }, what .. ": shape")
  end
  local g, w = got:reshape(1, n), want:reshape(1, n)
  for i = 1, n do
    local a, b = g:get(1, i), w:get(1, i)
    local ok
    if b ~= b then ok = a ~= a
    elseif rel == 0 then ok = a == b
    else ok = a == b or math.abs(a - b) <= rel * (1 + math.abs(b)) end
    if not ok then
      error(string.format("%s: element %d is %.17g, NumPy says %.17g", what, i, a, b), 2)
    end
  end
end

local data = mat.from {
  { 3, -1, 2.5, 0 / 0, 2.5, -0.0 },
  { 1e300, -2, 0, 7, -1, 1 / 0 },
  { 3, 3, -math.huge, 0.5, 2, -7 },
  { 0.25, 9, 1, -3, 3, 2.5 },
}

local clean = mat.from {
  { 3, -1, 2.5, 4, 2.5, -0.0, 8 },
  { 12, -2, 0, 7, -1, 5, 5 },
  { 3, 3, -6, 0.5, 2, -7, 1 },
  { 0.25, 9, 1, -3, 3, 2.5, 2.5 },
  { 1, 1, 1, 1, 1, 1, 1 },
}

describe("elementwise functions against NumPy", function()
  it("tan, asin ... expm1, trunc, sign, atan2 and round", function()
    mat.seed(7)
    local x = mat.rand(40, 50) * 2 - 1
    x:set(1, 1, 0 / 0)
    x:set(1, 2, -0.0)
    x:set(1, 3, 1 / 0)
    x:set(1, 4, -1 / 0)
    x:set(1, 5, 1)
    x:set(1, 6, -1)
    local y = mat.randn(40, 50)
    local halves = mat.range(-4.5, 4.5, 0.5):reshape(1, 19)
    local r = numpy({ x = x, y = y, h = halves }, [[
x, y, h = I['x'], I['y'], I['h']
for f in ['tan', 'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'log2', 'log10',
          'log1p', 'expm1', 'trunc', 'sign']:
    out[f] = getattr(np, f)(x)
out['big'] = np.sinh(x * 300) + np.cosh(y * 200)
out['atan2'] = np.arctan2(y, x)
t = np.trunc(h)
out['round_away'] = np.where(np.abs(h - t) >= 0.5, t + np.sign(h), t)
out['round_even'] = np.round(h)
]])
    local names = { tan = "tan", arcsin = "asin", arccos = "acos", arctan = "atan",
      sinh = "sinh", cosh = "cosh", log2 = "log2", log10 = "log10",
      log1p = "log1p", expm1 = "expm1", trunc = "trunc", sign = "sign" }
    for np_name, f in pairs(names) do
      local exact = (f == "trunc" or f == "sign") and 0 or 4e-16
      check(f, mat[f](x), r[np_name], exact)
      check("m:" .. f, x[f](x), r[np_name], exact)
    end
    check("sinh/cosh overflow", mat.sinh(x * 300) + mat.cosh(y * 200), r.big, 1e-15)
    check("atan2", mat.atan2(y, x), r.atan2, 4e-16)
    check("round", halves:round(), r.round_away, 0)
    -- NumPy rounds half to even; mpl half away from zero
    assert.are.equal(-5, halves:round():get(1, 1))
    assert.are.equal(-4, r.round_even:get(1, 1))
  end)
end)

describe("sorting against NumPy", function()
  local r
  setup(function()
    r = numpy({ d = data, c = clean }, [[
d, c = I['d'], I['c']
out['sort'] = np.sort(d, axis=None)
out['sort1'] = np.sort(d, axis=0)
out['sort2'] = np.sort(d, axis=1)
out['argsort'] = np.argsort(d, axis=None, kind='stable') + 1
out['argsort1'] = np.argsort(d, axis=0, kind='stable') + 1
out['argsort2'] = np.argsort(d, axis=1, kind='stable') + 1
out['cargsort'] = np.argsort(c, axis=None, kind='stable') + 1
out['unique'] = np.unique(d)
out['cunique'] = np.unique(c)
out['argmax'] = np.argmax(d) + 1
out['argmin'] = np.argmin(d) + 1
out['argmax1'] = np.argmax(d, axis=0) + 1
out['argmin2'] = np.argmin(d, axis=1) + 1
out['cargmax1'] = np.argmax(c, axis=0) + 1
out['cargmin2'] = np.argmin(c, axis=1) + 1
out['max1'] = np.max(d, axis=0)
big = np.random.default_rng(3).integers(0, 1000, 100000).astype(float)
big[::997] = np.nan
out['big'] = big
out['bigsort'] = np.sort(big)
out['bigargsort'] = np.argsort(big, kind='stable') + 1
out['bigunique'] = np.unique(big)
]])
  end)

  it("sort and argsort: stable, NaN last, along every dim", function()
    check("sort", data:sort(), r.sort, 0)
    check("sort(1)", data:sort(1), r.sort1, 0)
    check("sort(2)", data:sort(2), r.sort2, 0)
    check("argsort", data:argsort(), r.argsort, 0)
    check("argsort(1)", data:argsort(1), r.argsort1, 0)
    check("argsort(2)", data:argsort(2), r.argsort2, 0)
    check("argsort with ties", clean:argsort(), r.cargsort, 0)
    check("long sort", r.big:sort(), r.bigsort, 0)
    check("long argsort", r.big:argsort(), r.bigargsort, 0)
  end)

  it("unique", function()
    check("unique", data:unique(), r.unique, 0)
    check("unique with ties", clean:unique(), r.cunique, 0)
    check("long unique", r.big:unique(), r.bigunique, 0)
  end)

  it("argmax and argmin: first on ties, NaN wins", function()
    assert.are.equal(r.argmax:get(1, 1), data:argmax())
    assert.are.equal(r.argmin:get(1, 1), data:argmin())
    check("argmax(1)", data:argmax(1), r.argmax1, 0)
    check("argmin(2)", data:argmin(2), r.argmin2, 0, true)
    check("argmax(1) ties", clean:argmax(1), r.cargmax1, 0)
    check("argmin(2) ties", clean:argmin(2), r.cargmin2, 0, true)
    check("max(1) propagates NaN", data:max(1), r.max1, 0)
  end)
end)

describe("statistics against NumPy", function()
  local r
  setup(function()
    r = numpy({ d = data, c = clean }, [[
d, c = I['d'], I['c']
out['median'] = np.median(d)
out['cmedian'] = np.median(c)
out['cmedian1'] = np.median(c, axis=0)
out['cmedian2'] = np.median(c, axis=1, keepdims=True)
out['dmedian1'] = np.median(d, axis=0)
for i, q in enumerate([0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 1]):
    out['q%d' % i] = np.quantile(c, q)
    out['q%d_1' % i] = np.quantile(c, q, axis=0)
    out['q%d_2' % i] = np.quantile(c, q, axis=1, keepdims=True)
out['dq'] = np.quantile(d, 0.3, axis=1, keepdims=True)
for dd in [0, 1, 2]:
    out['var%d' % dd] = np.var(c, ddof=dd)
    out['std%d_1' % dd] = np.std(c, axis=0, ddof=dd)
    out['var%d_2' % dd] = np.var(c, axis=1, ddof=dd, keepdims=True)
out['var_big_ddof'] = np.var(c[:2, :1], ddof=5)
out['var_n_ddof'] = np.var(c[:2, :1], ddof=2)
out['prod'] = np.prod(c)
out['prod1'] = np.prod(c, axis=0)
out['prod2'] = np.prod(d, axis=1, keepdims=True)
out['cumsum'] = np.cumsum(d)
out['cumsum1'] = np.cumsum(d, axis=0)
out['cumsum2'] = np.cumsum(c, axis=1)
out['cumprod'] = np.cumprod(c)
out['cumprod1'] = np.cumprod(c, axis=0)
out['diff'] = np.diff(d)
out['diff1'] = np.diff(d, axis=0)
out['cov'] = np.cov(c, rowvar=False)
out['corrcoef'] = np.corrcoef(c[:, :4], rowvar=False)
g = np.random.default_rng(4)
out['bt'] = g.integers(0, 500, 200001).astype(float) / 7
out['bn'] = g.standard_normal(100000) * 1e-3 + 5
for k in ['bt', 'bn']:
    out[k + 'med'] = np.median(out[k])
    out[k + 'med_even'] = np.median(out[k][1:])
    for i, q in enumerate([0, 0.3, 0.999, 1]):
        out['%sq%d' % (k, i)] = np.quantile(out[k], q)
lp = np.exp(g.uniform(-1e-3, 1e-3, (1 << 21) + 13))
out['lp'] = lp
out['lpprod'] = np.prod(lp)
out['lpstd'] = np.std(lp)
out['lpnorm'] = np.linalg.norm(lp)
e = np.zeros((0, 3))
out['emedian'] = np.median(e)
out['evar'] = np.var(e)
out['eprod'] = np.prod(e)
out['eprod1'] = np.prod(e, axis=0)
out['estd1'] = np.std(e, axis=0)
]])
  end)

  it("median and quantile (linear interpolation), NaN gives NaN", function()
    check("median NaN", data:median(), r.median, 0)
    check("median", clean:median(), r.cmedian, 0)
    check("median(1)", clean:median(1), r.cmedian1, 0)
    check("median(2)", clean:median(2), r.cmedian2, 0)
    check("median(1) NaN column", data:median(1), r.dmedian1, 0)
    for i, q in ipairs { 0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 1 } do
      local k = "q" .. (i - 1)
      check(k, clean:quantile(q), r[k], 0)
      check(k .. "_1", clean:quantile(q, 1), r[k .. "_1"], 0)
      check(k .. "_2", clean:quantile(q, 2), r[k .. "_2"], 0)
    end
    check("quantile NaN rows", data:quantile(0.3, 2), r.dq, 0)
    for _, k in ipairs { "bt", "bn" } do -- long lines: selection by radix
      local x = r[k]
      check(k .. " median", x:median(), r[k .. "med"], 0)
      check(k .. " median even", x:sub(1, 1, 2, x.cols):median(), r[k .. "med_even"], 0)
      for i, q in ipairs { 0, 0.3, 0.999, 1 } do
        check(k .. " quantile " .. q, x:quantile(q), r[k .. "q" .. (i - 1)], 0)
      end
      local y = x:copy()
      y:set(1, 777, 0 / 0)
      assert.is_true(y:median() ~= y:median())
    end
  end)

  it("var and std with ddof", function()
    for dd = 0, 2 do
      check("var ddof " .. dd, clean:var { ddof = dd }, r["var" .. dd], 1e-14)
      check("std(1) ddof " .. dd, clean:std(1, { ddof = dd }), r["std" .. dd .. "_1"], 1e-14)
      check("var(2) ddof " .. dd, mat.var(clean, 2, { ddof = dd }), r["var" .. dd .. "_2"], 1e-14)
    end
    check("ddof beyond n", clean:sub(1, 2, 1, 1):var { ddof = 5 }, r.var_big_ddof, 0)
    check("ddof = n", clean:sub(1, 2, 1, 1):var { ddof = 2 }, r.var_n_ddof, 0)
  end)

  it("prod, cumsum, cumprod, diff", function()
    check("prod", clean:prod(), r.prod, 1e-15)
    check("prod(1)", clean:prod(1), r.prod1, 1e-15)
    check("prod(2)", data:prod(2), r.prod2, 1e-15)
    check("cumsum", data:cumsum(), r.cumsum, 0)
    -- a long line: pieces on the helper threads, the same bits for any procs
    local lp, got, p0 = r.lp, {}, mat.procs()
    for procs = 1, 2 do
      mat.procs(procs)
      got[procs] = { lp:prod(), lp:std(), lp:norm() }
    end
    mat.procs(p0)
    assert.are.same(got[1], got[2])
    check("long prod", got[1][1], r.lpprod, 1e-11)
    check("long std", got[1][2], r.lpstd, 1e-13)
    check("long norm", got[1][3], r.lpnorm, 1e-13)
    check("cumsum(1)", data:cumsum(1), r.cumsum1, 0)
    check("cumsum(2)", clean:cumsum(2), r.cumsum2, 0)
    check("cumprod", clean:cumprod(), r.cumprod, 0)
    check("cumprod(1)", clean:cumprod(1), r.cumprod1, 0)
    check("diff", data:diff(), r.diff, 0)
    check("diff(1)", data:diff(1), r.diff1, 0)
  end)

  it("cov and corrcoef (rows are observations)", function()
    check("cov", mat.cov(clean), r.cov, 1e-13)
    check("corrcoef", mat.corrcoef(clean:sub(1, 5, 1, 4)), r.corrcoef, 1e-13)
  end)

  it("empty matrices as NumPy", function()
    local e = mat.new(0, 3)
    check("median of nothing", e:median(), r.emedian, 0)
    check("var of nothing", e:var(), r.evar, 0)
    check("prod of nothing", e:prod(), r.eprod, 0)
    check("prod(1) of 0x3", e:prod(1), r.eprod1, 0)
    check("std(1) of 0x3", e:std(1), r.estd1, 0)
    -- NumPy raises for these; so does mpl, saying why
    assert.has_error(function() e:argmax() end, "m:argmax: matrix is empty (0x3)")
    assert.has_error(function() e:quantile(0.5) end, "m:quantile: matrix is empty (0x3)")
    assert.has_error(function() mat.argmin(e, 1) end, "mat.argmin: matrix is empty (0x3)")
  end)
end)

describe("linear algebra against NumPy", function()
  local A = mat.from { { 2, -1, 0, 3 }, { 1, 4, -2, 0 }, { 0, 5, 1, -1 }, { 3, 0, 2, 2 }, { 1, 1, 1, 1 } }
  local R = mat.from { { 0, -2, 1 }, { 3, 1, 0 }, { -1, 4, 2 } } -- a complex pair
  local D = mat.from { { 1, 2, 3 }, { 2, 4, 6 }, { 1, 0, 1 }, { 3, 4, 7 } } -- rank 2
  local r
  setup(function()
    r = numpy({ a = A, r = R, d = D }, [[
a, r, d = I['a'], I['r'], I['d']
q, rr = np.linalg.qr(a)
out['q'], out['r'] = q, rr
q, rr = np.linalg.qr(a.T)
out['qt'], out['rt'] = q, rr
w, v = np.linalg.eig(r)
out['wr'], out['wi'], out['vr'], out['vi'] = w.real, w.imag, v.real, v.imag
out['pinv'] = np.linalg.pinv(a)
out['pinvd'] = np.linalg.pinv(d)
out['rank'] = np.linalg.matrix_rank(d)
out['ranka'] = np.linalg.matrix_rank(a)
out['rank_tol'] = np.linalg.matrix_rank(a, tol=2.0)
out['cond'] = np.linalg.cond(a)
for o, k in [('fro', 'fro'), (1, 'n1'), (2, 'n2'), (np.inf, 'ninf'), ('nuc', 'nuc')]:
    out[k] = np.linalg.norm(a, o)
]])
  end)

  it("qr: thin, LAPACK's signs", function()
    local Q, Rr = mat.qr(A)
    check("Q", Q, r.q, 1e-13)
    check("R", Rr, r.r, 1e-13)
    local Qt, Rt = mat.qr(A:t())
    check("Q wide", Qt, r.qt, 1e-13)
    check("R wide", Rt, r.rt, 1e-13)
  end)

  it("eig of a non-symmetric matrix with a complex pair", function()
    local wr, wi, VR, VI = mat.eig(R)
    check("wr", wr, r.wr, 1e-13)
    check("wi", wi, r.wi, 1e-13)
    check("VR", VR, r.vr, 1e-12)
    check("VI", VI, r.vi, 1e-12)
    assert.is_true(wi:get(1, 1) ~= 0 or wi:get(1, 2) ~= 0)
  end)

  it("pinv, rank, cond and norms with NumPy's tolerances", function()
    check("pinv", mat.pinv(A), r.pinv, 1e-12)
    check("pinv rank deficient", mat.pinv(D), r.pinvd, 1e-12)
    assert.are.equal(r.rank:get(1, 1), mat.rank(D))
    assert.are.equal(r.ranka:get(1, 1), mat.rank(A))
    assert.are.equal(r.rank_tol:get(1, 1), mat.rank(A, 2.0))
    check("cond", mat.cond(A), r.cond, 1e-13)
    check("fro", A:norm(), r.fro, 1e-15)
    check("fro named", A:norm("fro"), r.fro, 1e-15)
    check("norm 1", A:norm(1), r.n1, 0)
    check("norm 2", A:norm(2), r.n2, 1e-14)
    check("norm inf", A:norm(math.huge), r.ninf, 0)
    check("norm nuc", mat.norm(A, "nuc"), r.nuc, 1e-14)
  end)
end)
