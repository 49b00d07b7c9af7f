-- mat.mpi: SPMD work over MPI ranks (docs/lua/mpi.md), written over the C
-- helpers of src/lua/lmpi.c.
--
-- Every collective call runs in two steps: each rank prepares its part
-- (checks its arguments, packs what it sends) under pcall, then all ranks
-- agree (C.mpi_agree): when any rank failed, every rank raises
-- "mat.mpi.fn: rank r: <that rank's message>" before anything moves, so
-- no rank is left waiting for one that raised.  Shapes are exchanged
-- before data, and checked the same way at every rank, so a mismatch
-- raises everywhere too.  Without a launcher this is one rank: the same
-- calls work and nothing travels.
local mat, C = ...

local rank, size = C.mpi_info()
local mpi = {rank = rank, size = size}
mat.mpi = mpi

local INTERNAL = -1 -- tag of mpl's own point-to-point messages

-- Raise rank who's message msg, naming the rank.
local function raise(fn, who, msg)
  if size == 1 then error(msg, 0) end
  local plain = fn:gsub("%.", "%%.")
  msg = msg:gsub("^(.-)" .. plain .. ": ", "%1", 1)
  C.error(("%s: rank %d: %s"):format(fn, who, msg))
end

-- Raise at every rank when some rank's preparation failed.
local function sync(fn, ok, err)
  local who, msg = C.mpi_agree(ok, not ok and tostring(err) or nil)
  if who then raise(fn, who, msg) end
end

-- pcall(prep, ...) then sync; returns prep's results.
local function prepared(fn, prep, ...)
  local r = table.pack(pcall(prep, ...))
  sync(fn, r[1], r[2])
  return table.unpack(r, 2, r.n)
end

local function check_rank(fn, r, what, default)
  if r == nil and default ~= nil then return default end
  if math.type(r) ~= "integer" or r < 0 or r >= size then
    C.error(("%s: %s must be a rank from 0 to %d (got %s)"):format(
      fn, what, size - 1, tostring(r)))
  end
  return r
end

local function check_tag(fn, tag)
  if tag == nil then return 0 end
  if math.type(tag) ~= "integer" or tag < 0 or tag > 32767 then
    C.error(("%s: tag must be an integer from 0 to 32767 (got %s)"):format(
      fn, tostring(tag)))
  end
  return tag
end

local function check_matrix(fn, m, what)
  if not mat.ismatrix(m) then
    C.error(("%s: %s must be a matrix (got %s)"):format(fn, what, type(m)))
  end
end

function mpi.barrier()
  C.mpi_barrier()
end

function mpi.bcast(x, root)
  local fn = "mat.mpi.bcast"
  local p = prepared(fn, function()
    root = check_rank(fn, root, "root", 0)
    if rank == root then return C.mpi_pack(x, fn) end
  end)
  local v = C.mpi_bcast(p, root, fn)
  if rank == root then return x end
  return v
end

function mpi.send(x, dest, tag)
  local fn = "mat.mpi.send"
  dest = check_rank(fn, dest, "dest")
  if dest == rank then C.error(fn .. ": dest must be another rank") end
  C.mpi_send(C.mpi_pack(x, fn), dest, check_tag(fn, tag), fn)
end

function mpi.recv(src, tag)
  local fn = "mat.mpi.recv"
  src = check_rank(fn, src, "src")
  if src == rank then C.error(fn .. ": src must be another rank") end
  return C.mpi_recv(src, check_tag(fn, tag), fn)
end

function mpi.gather(x, root)
  local fn = "mat.mpi.gather"
  local p = prepared(fn, function()
    root = check_rank(fn, root, "root", 0)
    return C.mpi_pack(x, fn)
  end)
  if rank ~= root then
    C.mpi_send(p, root, INTERNAL, fn)
    return nil
  end
  local t = {}
  for r = 0, size - 1 do
    if r == rank then t[r + 1] = x else t[r + 1] = C.mpi_recv(r, INTERNAL, fn) end
  end
  return t
end

-- Every rank's value, in rank order, at every rank (p: this rank's packed).
local function exchange(fn, p, own)
  local t = {}
  for r = 0, size - 1 do
    local v = C.mpi_bcast(r == rank and p or nil, r, fn)
    t[r + 1] = r == rank and own or v
  end
  return t
end

function mpi.allgather(x)
  local fn = "mat.mpi.allgather"
  local p = prepared(fn, C.mpi_pack, x, fn)
  return exchange(fn, p, x)
end

function mpi.scatter(t, root)
  local fn = "mat.mpi.scatter"
  local packed = prepared(fn, function()
    root = check_rank(fn, root, "root", 0)
    if rank ~= root then return nil end
    if type(t) ~= "table" or #t ~= size then
      C.error(("%s: t must be a table of %d values, one per rank (got %s)"):format(
        fn, size, type(t) == "table" and #t .. " values" or type(t)))
    end
    local p = {}
    for r = 0, size - 1 do p[r + 1] = C.mpi_pack(t[r + 1], fn) end
    return p
  end)
  if rank ~= root then return C.mpi_recv(root, INTERNAL, fn) end
  for r = 0, size - 1 do
    if r ~= rank then C.mpi_send(packed[r + 1], r, INTERNAL, fn) end
  end
  return t[root + 1]
end

-- ---- row-distributed matrices ----

local function check_count(fn, n, what)
  if math.type(n) ~= "integer" or n < 0 then
    C.error(("%s: %s must be a non-negative integer (got %s)"):format(
      fn, what, tostring(n)))
  end
end

function mpi.rows(n)
  check_count("mat.mpi.rows", n, "n")
  local r0, r1 = C.mpi_block(n)
  return r0 + 1, r1
end

-- Every rank's shape {rows, cols} (and extra numbers), in rank order.
local function shapes(fn, m, extra)
  local mine = {m:shape()}
  for _, v in ipairs(extra or {}) do mine[#mine + 1] = v end
  return exchange(fn, C.mpi_pack(mine, fn), mine)
end

-- Every rank's block shape, for blocks stacked in rank order: the shapes,
-- the total number of rows and the columns they all must have.
local function stacked(fn, p)
  local sh = shapes(fn, p)
  local total, cols = 0, sh[1][2]
  for r = 1, size do
    if sh[r][2] ~= cols then
      C.error(("%s: rank %d's block has %d columns, rank 0's %d"):format(
        fn, r - 1, sh[r][2], cols))
    end
    total = total + sh[r][1]
  end
  return sh, total, cols
end

function mpi.vcat(m)
  local fn = "mat.mpi.vcat"
  local p = prepared(fn, function()
    check_matrix(fn, m, "m")
    return C.mpi_pack(m, fn)
  end)
  local sh, total, cols = stacked(fn, p)
  local out = prepared(fn, mat.new, total, cols)
  local off = 0
  for r = 0, size - 1 do
    local n = sh[r + 1][1]
    if n > 0 and cols > 0 then
      if r == rank then
        C.mpi_set_rows(out, off, p)
        C.mpi_bcast_into(p, r)
      else
        C.mpi_bcast_into(out:sub(off + 1, off + n, 1, cols), r)
      end
    end
    off = off + n
  end
  return out
end

function mpi.split(m)
  check_matrix("mat.mpi.split", m, "m")
  local rows, cols = m:shape()
  local r1, r2 = mpi.rows(rows)
  return m:sub(r1, r2, 1, cols):copy()
end

local ops = {sum = true, prod = true, min = true, max = true}

local function combine(op, a, b)
  if op == "sum" then return a + b end
  if op == "prod" then return a * b end
  if a ~= a or b ~= b then return a ~= a and a or b end
  if op == "min" then return b < a and b or a end
  return b > a and b or a
end

local function same_kind(a, b)
  if type(a) == "number" or type(b) == "number" then return type(a) == type(b) end
  local ar, ac = a:shape()
  local br, bc = b:shape()
  return ar == br and ac == bc
end

function mpi.allreduce(x, op)
  local fn = "mat.mpi.allreduce"
  op = op or "sum"
  local p = prepared(fn, function()
    if not ops[op] then
      C.error(("%s: op must be \"sum\", \"min\", \"max\" or \"prod\" (got %s)"):format(
        fn, tostring(op)))
    end
    if type(x) ~= "number" then check_matrix(fn, x, "x") end
    return C.mpi_pack(x, fn)
  end)
  local all = exchange(fn, p, x)
  local first = all[1]
  for r = 2, size do
    if not same_kind(all[r], first) then
      C.error(("%s: rank %d's value does not match rank 0's in kind or shape"):format(
        fn, r - 1))
    end
  end
  if type(first) == "number" then
    local acc = first
    for r = 2, size do acc = combine(op, acc, all[r]) end
    return acc
  end
  local acc = first:copy()
  for r = 2, size do C.mpi_combine(acc, all[r], op) end
  return acc
end

local function procs_of(fn, opts)
  C.check_opts(fn, opts, {"procs"})
  local procs = opts and opts.procs or mat.procs()
  if math.type(procs) ~= "integer" or procs < 1 then
    C.error(("%s: opts.procs must be a positive integer (got %s)"):format(
      fn, tostring(procs)))
  end
  return procs
end

-- Check that rank r's block of a distributed matrix of m rows has the rows
-- mpi.rows gives it.
local function check_blocks(fn, what, sh, i, m)
  for r = 0, size - 1 do
    local r0, r1 = C.mpi_block(m, r)
    if sh[r + 1][i] ~= r1 - r0 then
      C.error(("%s: rank %d's block of %s has %d rows; mat.mpi.rows(%d) gives it %d"):format(
        fn, r, what, sh[r + 1][i], m, r1 - r0))
    end
  end
end

function mpi.dot(a, b, opts)
  local fn = "mat.mpi.dot"
  local procs, bp = prepared(fn, function()
    check_matrix(fn, a, "a")
    check_matrix(fn, b, "b")
    return procs_of(fn, opts), C.mpi_pack(b, fn)
  end)
  local ar, ac = a:shape()
  local br, bc = bp:shape()
  local sh = exchange(fn, C.mpi_pack({ar, ac, br, bc}, fn), {ar, ac, br, bc})
  local m, k = 0, 0
  for r = 1, size do
    m, k = m + sh[r][1], k + sh[r][3]
    if sh[r][2] ~= sh[1][2] or sh[r][4] ~= sh[1][4] then
      C.error(("%s: rank %d's blocks are %dx%d and %dx%d, rank 0's %dx%d and %dx%d"):format(
        fn, r - 1, sh[r][1], sh[r][2], sh[r][3], sh[r][4], sh[1][1], sh[1][2],
        sh[1][3], sh[1][4]))
    end
  end
  if k ~= sh[1][2] then
    C.error(("%s: a has %d columns but b's blocks have %d rows in all"):format(
      fn, sh[1][2], k))
  end
  check_blocks(fn, "a", sh, 1, m)
  check_blocks(fn, "b", sh, 3, k)
  return C.mpi_dot(a, bp, m, sh[1][4], procs)
end

function mpi.gram(a, opts)
  local fn = "mat.mpi.gram"
  local procs = prepared(fn, function()
    check_matrix(fn, a, "a")
    return procs_of(fn, opts)
  end)
  local sh = shapes(fn, a)
  local m = 0
  for r = 1, size do
    m = m + sh[r][1]
    if sh[r][2] ~= sh[1][2] then
      C.error(("%s: rank %d's block has %d columns, rank 0's %d"):format(
        fn, r - 1, sh[r][2], sh[1][2]))
    end
  end
  check_blocks(fn, "a", sh, 1, m)
  return C.mpi_gram(a, m, procs)
end

-- ---- map ----

function mpi.map(f, items, opts)
  local fn = "mat.mpi.map"
  local n, lo, hi, seed
  local part = prepared(fn, function()
    C.check_opts(fn, opts, {"procs", "seed", "chunk", "progress"})
    if type(items) == "number" then
      check_count(fn, items, "count")
      n = items
    elseif type(items) == "table" then
      n = #items
    else
      C.error(("%s: bad argument #2 (table or count expected, got %s)"):format(
        fn, type(items)))
    end
    lo, hi = n * rank // size, n * (rank + 1) // size
    seed = opts and opts.seed
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.seed = nil
    local count = type(items) == "number"
    local ok, res = pcall(mat.map, function(j)
      local i = lo + j
      if seed then C.mpi_seed_item(seed, i) end
      if count then return f(i) end
      return f(items[i], i)
    end, hi - lo, o)
    if not ok then
      error((tostring(res):gsub("mat%.map: item (%d+): ", function(j)
        return "item " .. (lo + tonumber(j)) .. ": "
      end, 1)), 0)
    end
    return res
  end)
  local counts = exchange(fn, C.mpi_pack(n, fn), n)
  for r = 1, size do
    if counts[r] ~= n then
      C.error(("%s: rank %d has %d items, this rank %d"):format(fn, r - 1, counts[r], n))
    end
  end
  local all = exchange(fn, C.mpi_pack(part, fn), part)
  local out = {}
  for r = 0, size - 1 do
    local base = n * r // size
    for j, v in pairs(all[r + 1]) do out[base + j] = v end
  end
  return out
end

-- ---- files: mat.load and mat.save with {rows = "block"} ----

-- The header of a .npy file: descr, fortran order, dims, data offset; nil
-- when path is not a .npy file.
local function npy_header(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local pre = f:read(10)
  if not pre or #pre < 10 or pre:sub(1, 6) ~= "\147NUMPY" then
    f:close()
    return nil
  end
  local hlen, start = string.unpack("<I2", pre, 9), 10
  if pre:byte(7) >= 2 then
    local more = f:read(2) or ""
    hlen, start = string.unpack("<I4", pre:sub(9, 10) .. more), 12
  end
  local h = f:read(hlen) or ""
  f:close()
  local dims = {}
  for d in (h:match("'shape'%s*:%s*%(([^)]*)%)") or "x"):gmatch("%d+") do
    dims[#dims + 1] = math.tointeger(tonumber(d))
  end
  return {descr = h:match("'descr'%s*:%s*'([^']*)'"),
          fortran = h:match("'fortran_order'%s*:%s*(%a+)") == "True",
          dims = dims, offset = start + hlen}
end

local function block_opts(fn, opts)
  if opts.rows ~= "block" then
    C.error(("%s: opts.rows must be \"block\" (got %s)"):format(fn, tostring(opts.rows)))
  end
  local rest = {}
  for k, v in pairs(opts) do if k ~= "rows" then rest[k] = v end end
  return rest
end

local load, save = mat.load, mat.save

-- This rank's rows of the file: a .npy of <f8 in C order is read at the
-- rows' offset (pread), nothing else of it; other files are read whole,
-- then cut.
local function load_block(path, opts)
  local rest = block_opts("mat.load", opts)
  if size == 1 then return load(path, rest) end
  local h = next(rest) == nil and type(path) == "string" and npy_header(path)
  if h and h.descr == "<f8" and not h.fortran and #h.dims >= 1 and #h.dims <= 2 then
    local n, cols = h.dims[1], h.dims[2]
    if not cols then n, cols = 1, h.dims[1] end
    local r1, r2 = mpi.rows(n)
    return C.mpi_pread(path, h.offset + (r1 - 1) * cols * 8, r2 - r1 + 1, cols)
  end
  local m = load(path, rest)
  if not mat.ismatrix(m) then C.error("mat.load: {rows = \"block\"} needs a file of one matrix") end
  return mpi.split(m)
end

local function npy_bytes_header(rows, cols)
  local dict = ("{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }"):format(rows, cols)
  local pad = 64 - (10 + #dict + 1) % 64
  if pad == 64 then pad = 0 end
  dict = dict .. string.rep(" ", pad) .. "\n"
  return "\147NUMPY\1\0" .. string.pack("<I2", #dict) .. dict
end

-- Every rank's block into one .npy, in rank order: rank 0 writes the
-- header into a temporary file beside path, every rank writes its rows at
-- their offset, and rank 0 renames the file onto path once all succeeded,
-- after giving it the mode (and owner) of the file it replaces.  A link at
-- path is followed, as mat.save follows it: the file it points to is
-- replaced, the link stays.
local function save_block(path, m, opts)
  local fn = "mat.save"
  local rest = block_opts(fn, opts)
  if size == 1 then return save(path, m, rest) end
  local p = prepared(fn, function()
    if type(path) ~= "string" or not path:match("%.npy$") or next(rest) then
      C.error(fn .. ": {rows = \"block\"} writes a .npy file, with no other option")
    end
    check_matrix(fn, m, "m")
    return C.mpi_pack(m, fn)
  end)
  local sh, total, cols = stacked(fn, p)
  local header = npy_bytes_header(total, cols)
  local target -- rank 0: path with its links followed, as mat.save writes
  local tmp = prepared(fn, function()
    if rank ~= 0 then return nil end
    target = C.mpi_follow(path)
    local name = ("%s.mpl-%d-%d.tmp"):format(target, os.time(), math.random(1 << 30))
    local f, err = io.open(name, "wb")
    if not f then C.error(fn .. ": " .. err) end
    f:write(header)
    f:close()
    return name
  end)
  local name = C.mpi_bcast(tmp and C.mpi_pack(tmp, fn), 0, fn)
  if rank ~= 0 then tmp = name end
  local before = 0
  for r = 1, rank do before = before + sh[r][1] end
  local ok, err = pcall(C.mpi_pwrite, tmp, #header + before * cols * 8, p)
  local who, msg = C.mpi_agree(ok, not ok and tostring(err) or nil)
  if who then
    if rank == 0 then os.remove(tmp) end
    raise(fn, who, msg)
  end
  local renamed, why = true, nil
  if rank == 0 then
    renamed, why = pcall(C.mpi_save_like, tmp, target)
    if renamed then renamed, why = os.rename(tmp, target) end
    if not renamed then os.remove(tmp) end
  end
  sync(fn, renamed, why)
end

-- opts.rows is read raw: an __index on opts runs only inside the C
-- functions, which keep their matrices alive meanwhile.
function mat.load(path, opts)
  if type(opts) == "table" and rawget(opts, "rows") ~= nil then return load_block(path, opts) end
  return load(path, opts)
end

function mat.save(path, m, opts)
  if type(opts) == "table" and rawget(opts, "rows") ~= nil then return save_block(path, m, opts) end
  return save(path, m, opts)
end

return mpi
