-- files.lua: loading speed of mat.load against NumPy, in the same run.
--
--   mpl tests/bench/files.lua [csv_mb [npy_mb]]     (defaults: 100, 1024)
--
-- Writes a CSV of random doubles (%.17g, 10 columns) and a float64 .npy in
-- $TMPDIR (or /tmp), then times, with a warm page cache (medians of
-- several runs): mat.load vs numpy.loadtxt on the CSV; mat.load vs
-- np.load on the .npy, next to a copy of the same bytes in memory (the
-- "memory speed" reference: a:copy() populates fresh shared memory and
-- copies into it), then both loads followed by a sum of every element (the
-- first touch of the pages in this process is part of the cost: mat.load
-- leaves them to be mapped on first use, np.load maps them as it reads);
-- mat.load{mmap = true} on the big file and on a small one.  Needs
-- /usr/bin/python3 with numpy (MPL_PYTHON overrides).
do local b = mat.blas() print(("OpenBLAS kernel %s (chosen by %s), %d threads"):format(b.kernel, b.chosen, b.threads)) end

local csv_mb = tonumber(arg and arg[1]) or 100
local npy_mb = tonumber(arg and arg[2]) or 1024
local PY = os.getenv("MPL_PYTHON") or "/usr/bin/python3"
local dir = (os.getenv("TMPDIR") or "/tmp") .. "/mpl-bench-files-" .. tostring(os.time())

local function sh(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) // 2] or (t[n // 2] + t[n // 2 + 1]) / 2
end

local function time(runs, f)
  local t = {}
  for i = 1, runs do
    collectgarbage()
    local t0 = mat.clock()
    f()
    t[i] = mat.clock() - t0
  end
  return median(t)
end

local function size_of(p)
  local f = assert(io.open(p, "rb"))
  local n = f:seek("end")
  f:close()
  return n
end

-- Median seconds of `stmt` run `runs` times by NumPy on path.
local function numpy(runs, stmt, path)
  local code = ([[
import sys, time, numpy as np
p = sys.argv[1]
t = []
for i in range(%d):
    t0 = time.perf_counter(); a = %s; t.append(time.perf_counter() - t0)
    del a
t.sort(); n = len(t)
print(t[n // 2] if n %% 2 else (t[n // 2 - 1] + t[n // 2]) / 2)
]]):format(runs, stmt)
  local script = dir .. "/bench.py"
  local f = assert(io.open(script, "w"))
  f:write(code)
  f:close()
  local p = io.popen(sh(PY) .. " " .. sh(script) .. " " .. sh(path))
  local out = p:read("a")
  p:close()
  return tonumber(out)
end

assert(os.execute("mkdir -p " .. sh(dir)))
print(("files benchmark (csv %d MB, npy %d MB, %s, warm page cache)"):format(
  csv_mb, npy_mb, os.getenv("MPL_SANITIZE") == "1" and "SANITIZED" or "release"))

-- CSV: 10 columns of randn * 100, %.17g (about 20 bytes a value).
local csv = dir .. "/data.csv"
do
  mat.seed(1)
  local rows = math.floor(csv_mb * 1e6 / (10 * 21))
  mat.save(csv, mat.randn(rows, 10) * 100)
end
local csv_bytes = size_of(csv)
local m
local t_mpl = time(5, function() m = mat.load(csv) end)
local shape = m.rows .. "x" .. m.cols
m = nil
local t_np = numpy(3, "np.loadtxt(p, delimiter=',')", csv)
print(("  csv %6.1f MB %-12s mat.load %7.3f s (%6.0f MB/s)   numpy.loadtxt %7.3f s   speedup %.1fx")
      :format(csv_bytes / 1e6, shape, t_mpl, csv_bytes / 1e6 / t_mpl, t_np, t_np / t_mpl))
os.remove(csv)

-- .npy: float64, C order.
local npy = dir .. "/data.npy"
local small = dir .. "/small.npy"
do
  local cols = 1024
  local rows = math.floor(npy_mb * 2 ^ 20 / (8 * cols))
  local a = mat.new(rows, cols, 1.5)
  mat.save(npy, a)
  mat.save(small, mat.new(1024, cols, 1.5))
  local t_copy = time(5, function() local c = a:copy(); c:close() end)
  a:close()
  local npy_bytes = size_of(npy)
  local t_load = time(5, function() local k = mat.load(npy); k:close() end)
  local t_npl = numpy(5, "np.load(p)", npy)
  print(("  npy %6.1f MB %-12s mat.load %7.3f s (%6.0f MB/s)   np.load %7.3f s   in-memory copy %7.3f s (%6.0f MB/s)")
        :format(npy_bytes / 1e6, rows .. "x" .. cols, t_load, npy_bytes / 1e6 / t_load,
                t_npl, t_copy, npy_bytes / 1e6 / t_copy))
  local t_sum = time(5, function() local k = mat.load(npy); k:sum(); k:close() end)
  local t_npsum = numpy(5, "np.load(p).sum()", npy)
  print(("  npy load then sum: mat.load + m:sum() %7.3f s   np.load(p).sum() %7.3f s")
        :format(t_sum, t_npsum))
  local t_map = time(21, function() local k = mat.load(npy, {mmap = true}); k:close() end)
  local t_map_small = time(21, function() local k = mat.load(small, {mmap = true}); k:close() end)
  local t_npm = numpy(21, "np.load(p, mmap_mode='r+')", npy)
  print(("  mmap: mat.load{mmap=true} %.1f us (%.0f MB file), %.1f us (%.0f MB file)   np.load(mmap_mode='r+') %.1f us")
        :format(t_map * 1e6, npy_bytes / 1e6, t_map_small * 1e6, size_of(small) / 1e6, t_npm * 1e6))
end
os.execute("rm -rf " .. sh(dir))
