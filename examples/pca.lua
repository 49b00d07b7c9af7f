-- pca.lua: standardise the columns of a CSV file and find the principal
-- axes -- the eigenvectors of the covariance of the standardised data.
--
--   mpl examples/pca.lua data.csv
--
-- The file has a header line naming the columns and one observation per
-- row.  Each column is centred and scaled to unit standard deviation
-- (ddof = 1), the covariance of the result (the correlation matrix of the
-- data) is decomposed with mat.eigh, and the components are reported from
-- the largest variance down, each eigenvector's sign chosen so that its
-- largest loading is positive.  Run as a chunk (dofile), it returns the
-- eigenvalues (descending, 1 x c) and the eigenvectors (as columns, c x c).

local path = ...
assert(path, "usage: pca.lua data.csv")

local X, names = mat.load(path, { header = true })
local n, c = X:shape()
local Z = (X - X:mean(1)):div(X:std(1, { ddof = 1 }))
local C = mat.cov(Z)
local w, V = mat.eigh(C) -- ascending

-- descending order, signs fixed
local order = w:argsort { descending = true }
local values, vectors = mat.new(1, c), mat.new(c, c)
for k = 1, c do
  local j = order[k]
  values[k] = w[j]
  local v = V:col(j)
  if v:get(v:abs():argmax(), 1) < 0 then v = -v end
  for i = 1, c do vectors:set(i, k, v:get(i, 1)) end
end

print(("%d observations of %d variables (%s)"):format(n, c, table.concat(names, ", ")))
local total = values:sum()
for k = 1, c do
  local loads = {}
  for i = 1, c do loads[i] = ("%s %+.3f"):format(names[i], vectors:get(i, k)) end
  print(("component %d: variance %.4f (%.1f%%): %s"):format(k, values[k],
        100 * values[k] / total, table.concat(loads, ", ")))
end

return values, vectors
