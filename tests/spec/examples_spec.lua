-- examples_spec.lua: the example scripts run and give right answers:
-- examples/pca.lua against NumPy (run by the test on the same CSV file),
-- examples/option_price.lua against the closed form and against itself
-- (the same seed gives the same bits, also through the `mpl` command).

local mat = require "mat"
_G.mat = _G.mat or mat -- the examples use the global, as under `mpl`

local SRC = os.getenv("MPL_SOURCE_DIR") or ".."
local BIN = os.getenv("MPL_BIN")
local util = require "util"
local PY, shquote = util.PY, util.shquote

local function run_example(name, ...)
  local chunk = assert(loadfile(SRC .. "/examples/" .. name))
  local real_print = _G.print
  _G.print = function() end -- keep the spec's output clean
  local r = table.pack(pcall(chunk, ...))
  _G.print = real_print
  assert(r[1], r[2])
  return table.unpack(r, 2, r.n)
end

describe("examples/pca.lua", function()
  it("finds NumPy's principal axes of the standardised data", function()
    local base = os.tmpname()
    local csv, out = base .. ".csv", base .. "_want.csv"
    local script = [[
import sys, numpy as np
g = np.random.default_rng(11); n = 400
a = g.standard_normal(n); b = 0.8 * a + 0.6 * g.standard_normal(n)
c = g.standard_normal(n) * 3 + 10; d = -0.5 * a + 0.2 * c + g.standard_normal(n)
X = np.column_stack([a, b, c, d])
np.savetxt(sys.argv[1], X, delimiter=',', header='a,b,c,d', comments='', fmt='%.17g')
Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
w, V = np.linalg.eigh(np.cov(Z, rowvar=False))
o = np.argsort(-w, kind='stable'); w, V = w[o], V[:, o]
for k in range(V.shape[1]):
    if V[np.argmax(np.abs(V[:, k])), k] < 0: V[:, k] = -V[:, k]
np.savetxt(sys.argv[2], np.vstack([w, V]), delimiter=',', fmt='%.17g')
]]
    local py = os.tmpname()
    local f = assert(io.open(py, "w"))
    f:write(script)
    f:close()
    assert(os.execute(shquote(PY) .. " " .. py .. " " .. csv .. " " .. out))
    local values, vectors = run_example("pca.lua", csv)
    local want = mat.load(out)
    os.remove(py)
    os.remove(base)
    os.remove(csv)
    os.remove(out)
    assert.is_true(mat.allclose(values, want:row(1), 1e-10, 1e-12))
    assert.is_true(mat.allclose(vectors, want:sub(2, 5, 1, 4), 1e-8, 1e-10))
    assert.is_true(values:get(1, 1) > values:get(1, 4))
  end)
end)

describe("examples/option_price.lua", function()
  it("agrees with Black-Scholes and repeats with its seed", function()
    local r = run_example("option_price.lua", "200000", "3")
    assert.is_true(math.abs(r.price - r.exact) < 4 * r.se)
    assert.is_true(r.se > 0 and r.se < 0.1)
    assert.is_true(math.abs(r.q05 - r.l05) / r.l05 < 0.01)
    assert.is_true(math.abs(r.q95 - r.l95) / r.l95 < 0.01)
    local again = run_example("option_price.lua", "200000", "3")
    assert.are.equal(r.price, again.price)
    assert.are.equal(r.q95, again.q95)
    local other = run_example("option_price.lua", "200000", "4")
    assert.are_not.equal(r.price, other.price)
    if BIN then
      local p = io.popen(shquote(BIN) .. " " .. shquote(SRC .. "/examples/option_price.lua") ..
        " 200000 3")
      local text = p:read("a")
      assert.is_true(p:close())
      assert.matches(("Monte Carlo price %.4f"):format(r.price), text, 1, true)
    end
  end)
end)
