-- lstsq_spec.lua: examples/lstsq.lua runs, on its own data and on a CSV
-- file, and its fit agrees with NumPy's np.linalg.lstsq on the same design
-- matrix (Debian's python3-numpy, run as /usr/bin/python3).

local util = require "util"
local python = util.python
local SRC = os.getenv("MPL_SOURCE_DIR") or ".."

-- Run the example as a chunk with its output captured.
local function run_example(...)
  local chunk = assert(loadfile(SRC .. "/examples/lstsq.lua"))
  local printed, old = {}, _G.print
  _G.print = function(...) printed[#printed + 1] = table.concat({...}, "\t") end
  local ok, res = pcall(chunk, ...)
  _G.print = old
  assert(ok, res)
  return res, table.concat(printed, "\n")
end

local FIT = [[
import sys, numpy as np
A, y = np.load(sys.argv[1]), np.load(sys.argv[2])
beta, _, rank, sv = np.linalg.lstsq(A, y, rcond=None)
resid = y - A @ beta
rss = float((resid ** 2).sum())
n, k = A.shape
sd = (rss / (n - k)) ** 0.5
r2 = 1 - rss / float(((y - y.mean()) ** 2).sum())
se = np.sqrt(np.diag(np.linalg.inv(A.T @ A))) * sd
far = int(np.count_nonzero(np.abs(resid) > 2 * sd))
print(rank, far, repr(r2), repr(sd))
print(*[repr(float(b)) for b in beta.flatten()])
print(*[repr(float(s)) for s in sv])
print(*[repr(float(s)) for s in se])
]]

local function numbers(line)
  local t = {}
  for w in line:gmatch("%S+") do t[#t + 1] = tonumber(w) end
  return t
end

local function close(a, b, tol)
  return math.abs(a - b) <= tol * math.max(1, math.abs(b))
end

describe("examples/lstsq.lua", function()
  local dir
  setup(function()
    util.need_numpy()
    dir = util.tmpdir()
  end)
  teardown(function() util.rmtree(dir) end)

  -- The example's results against NumPy's fit of the same A and y.
  local function check(res)
    mat.save(dir .. "/A.npy", res.A)
    mat.save(dir .. "/y.npy", res.y)
    local lines = {}
    for l in python(FIT, dir .. "/A.npy", dir .. "/y.npy"):gmatch("[^\n]+") do
      lines[#lines + 1] = l
    end
    local head, beta, sv, se = numbers(lines[1]), numbers(lines[2]),
                               numbers(lines[3]), numbers(lines[4])
    assert.equal(head[1], res.rank)
    assert.equal(head[2], res.far)
    assert.is_true(close(res.r2, head[3], 1e-12), res.r2 .. " vs " .. head[3])
    assert.is_true(close(res.sd, head[4], 1e-10), res.sd .. " vs " .. head[4])
    assert.equal(#beta, res.beta.rows)
    for j = 1, #beta do
      assert.is_true(close(res.beta[j], beta[j], 1e-10), res.beta[j] .. " vs " .. beta[j])
      assert.is_true(close(res.se[j], se[j], 1e-8), res.se[j] .. " vs " .. se[j])
    end
    for j = 1, #sv do assert.is_true(close(res.sv[j], sv[j], 1e-12)) end
  end

  it("fits its own data as NumPy does, near the true coefficients", function()
    local res, out = run_example()
    assert.matches("500 observations, 2 predictors, rank 3", out, 1, true)
    assert.is_true(math.abs(res.beta[1] - 2) < 0.05)
    assert.is_true(math.abs(res.beta[2] - 0.5) < 0.05)
    assert.is_true(math.abs(res.beta[3] + 3) < 0.05)
    check(res)
  end)

  it("fits a CSV file as NumPy does", function()
    mat.seed(5)
    local X = mat.rand(200, 3) * 10
    local y = X * mat.from{{1}, {-2}, {0.25}} + 7 + mat.randn(200, 1)
    local path = dir .. "/data.csv"
    mat.save(path, mat.hcat(X, y), {header = "age,dose,weight,response"})
    local res, out = run_example(path)
    assert.matches("200 observations, 3 predictors, rank 4", out, 1, true)
    assert.matches("weight", out, 1, true)
    assert.same({200, 4}, {res.A:shape()})
    assert.same({{1}, {1}}, res.A[{{1, 2}, 1}]:totable())
    check(res)
  end)
end)
