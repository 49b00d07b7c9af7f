-- lstsq.lua: an ordinary least-squares fit, written as a NumPy user writes
-- it.
--
--   mpl examples/lstsq.lua [data.csv]
--
-- data.csv has a header line and numeric columns: the predictors first,
-- the response last.  Without a file the script makes its own data (500
-- rows, y = 2 + 0.5 x1 - 3 x2 + noise, seeded) so the fit can be checked
-- against the coefficients that made it.  Run as a chunk (dofile), it
-- returns its results (tests/spec/lstsq_spec.lua compares them with NumPy's).
--
-- NumPy                                     mpl
--   A = np.hstack([np.ones((n, 1)), X])       A = mat.hcat(1, X)
--   beta, _, rank, sv = np.linalg.lstsq(A, y) beta, rank, sv = mat.lstsq(A, y)
--   resid = y - A @ beta                      resid = y - A * beta
--   out = np.abs(resid) > 2 * sd              out = resid:abs():gt(2 * sd)
--   y[out]                                    y[out]

local path = ...
local X, y, names
if path then
  local data
  data, names = mat.load(path, {header = true})
  X, y = data[{{}, {1, -2}}], data[{{}, -1}] -- every column but the last; the last
else
  mat.seed(42)
  local n = 500
  X = mat.randn(n, 2)
  y = 2 + X * mat.from{{0.5}, {-3}} + mat.randn(n, 1) * 0.1
  names = {"x1", "x2", "y"}
end
local n, p = X:shape()

local A = mat.hcat(1, X) -- the design matrix [1 X]
local beta, rank, sv = mat.lstsq(A, y)
local fitted = A * beta
local resid = y - fitted
local rss = resid:pow(2):sum()
local r2 = 1 - rss / (y - y:mean()):pow(2):sum()
local sd = math.sqrt(rss / (n - p - 1))

-- Standard errors from the diagonal of sd^2 (A^T A)^-1.
local se = mat.diag((A:t() * A):inv()):sqrt() * sd

print(("%d observations, %d predictors, rank %d, condition %.3g"):format(
      n, p, rank, sv[1] / sv[{-1}]))
print(("%-12s %12s %12s"):format("", "estimate", "std. error"))
for j = 1, p + 1 do
  print(("%-12s %12.6f %12.6f"):format(j == 1 and "(intercept)" or names[j - 1],
        beta[j], se[j]))
end
print(("R^2 %.6f, residual sd %.6f"):format(r2, sd))

-- Observations more than two residual sds away from the fit.
local far = resid:abs():gt(2 * sd)
print(("%d of %d residuals beyond 2 sd (%.1f%%); the largest %.4f"):format(
      far:count(), n, 100 * far:count() / n, resid:abs():max()))

return {A = A, y = y, beta = beta, rank = rank, sv = sv, r2 = r2, sd = sd,
        se = se, far = far:count()}
