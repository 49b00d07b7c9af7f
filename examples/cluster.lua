-- cluster.lua: two batch jobs spread over MPI ranks, with results that do
-- not depend on how many ranks run them.
--
--   mpl examples/cluster.lua [out.npy]                   one machine
--   mpirun -np 4 mpl examples/cluster.lua [out.npy]      four ranks
--
-- 1. A product of row blocks.  Each rank makes only its rows of A (3000 x
--    800) and of B (800 x 500): mat.mpi.rows tells it which.  mat.mpi.dot
--    multiplies them, broadcasting B's blocks in turn, so no rank ever
--    holds all of B, and the ranks' blocks of the product are gathered
--    and saved as one .npy by rank 0.
-- 2. A Monte Carlo over shared ragged data.  Every rank packs the same
--    ragged dataset (2000 series of different lengths); mat.mpi.map deals
--    the series out over all ranks' workers, each draws bootstrap means
--    from its own seeded stream, and every rank gets all the results.
--
-- The printed figures are equal bit for bit for any number of ranks and
-- workers (the test suite checks it under mpirun).
local mpi = mat.mpi
local out = arg and arg[1]

-- Rows r1..r2 of a matrix given by a formula: any rank can make any rows.
local function rows(r1, r2, cols, s)
  if r2 < r1 then return mat.new(0, cols) end
  local i = mat.range(r1, r2):reshape(r2 - r1 + 1, 1)
  return mat.sin(i * s + mat.range(1, cols):reshape(1, cols) * 0.7)
end

local m, k, n = 3000, 800, 500
local a1, a2 = mpi.rows(m)
local b1, b2 = mpi.rows(k)
local c = mpi.dot(rows(a1, a2, k, 0.013), rows(b1, b2, n, 0.029))
local C = mpi.vcat(c)
if mpi.rank == 0 then
  if out then mat.save(out, C) end
  print(string.format("product: %dx%d, sum %.17g, C[3000][500] %.17g",
                      m, n, mat.sum(C), C:get(m, n)))
end

-- The dataset: series i has 20 + i % 50 values.
local series = {}
for i = 1, 2000 do
  local len = 20 + i % 50
  series[i] = mat.sin(mat.range(1, len) * (0.001 * i)) * 0.02
end
local data = mat.ragged(series)
local means = mpi.map(function(i)
  local x = data[i]
  local len = select(2, x:shape())
  local acc = 0
  for _ = 1, 10 do -- bootstrap: the mean of len values drawn with replacement
    local s = 0
    for _ = 1, len do s = s + x:get(1, math.floor(mat.rand(1, 1):get(1, 1) * len) + 1) end
    acc = acc + s / len
  end
  return acc / 10
end, #data, {seed = 42})
local total = 0
for i = 1, #means do total = total + means[i] end
if mpi.rank == 0 then
  print(string.format("monte carlo: %d series, mean of bootstrap means %.17g", #means, total / #means))
end
