-- numpy_spec.lua: .npy interoperability with NumPy itself (Debian's
-- python3-numpy, run as /usr/bin/python3).  NumPy writes every supported
-- dtype, order, format version and dimensionality and mpl must read the
-- same float64 values bit for bit; mpl writes files that np.load must read
-- bit for bit; a mapped matrix and NumPy see each other's writes.

local util = require "util"
local python = util.python

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- The elements of m as little-endian float64 bytes in row-major order.
local function mhex(m)
  local t = {}
  for i = 1, m.rows do
    for j = 1, m.cols do t[#t + 1] = string.pack("<d", m:get(i, j)) end
  end
  return hex(table.concat(t))
end

local tmp
setup(function()
  util.need_numpy()
  tmp = util.tmpdir()
end)

teardown(function() util.rmtree(tmp) end)

local WRITE = [[
import sys, numpy as np
d = sys.argv[1]
def base(dt, shape):
    n = int(np.prod(shape))
    if dt[1] == 'f':
        v = np.linspace(-1e3, 1e3, n) / 7
        specials = [np.nan, np.inf, -np.inf, -0.0, 5e-324, 1e308, 0.1, 1e-310]
        v[:min(n, len(specials))] = specials[:n]
    elif dt[1] == 'b':
        v = np.arange(n) % 3 == 0
    elif dt == '|u1':
        v = (np.arange(n) * 37) % 256
    elif dt == '|i1':
        v = (np.arange(n) * 37) % 256 - 128
    else:
        big = 2**31 - 1 if dt[2] == '4' else 2**62 + 1
        v = (np.arange(n) - n // 2) * 12345
        v[:2] = [big, -big - 1][:n]
    return np.array(v).astype(dt).reshape(shape)
def put(name, a, version=None):
    with open(d + '/' + name + '.npy', 'wb') as f:
        np.lib.format.write_array(f, a, version=version)
    two = a.reshape(1, -1) if a.ndim < 2 else a
    print(name, two.shape[0], two.shape[1],
          np.ascontiguousarray(two.astype('<f8')).tobytes().hex())
for dt in ['<f8', '>f8', '<f4', '<i4', '<i8', '|u1', '|i1', '|b1']:
    tag = dt[1:] + ('be' if dt[0] == '>' else '')
    a = base(dt, (5, 7))
    for version in [(1, 0), (2, 0), (3, 0)]:
        v = 'v%d' % version[0]
        put('%s_C_%s' % (tag, v), np.ascontiguousarray(a), version)
        put('%s_F_%s' % (tag, v), np.asfortranarray(a), version)
    put(tag + '_1d', base(dt, (9,)))
    put(tag + '_0d', base(dt, ()))
    put(tag + '_big_F', np.asfortranarray(base(dt, (130, 257))))
put('empty_0x4', np.zeros((0, 4)))
put('empty_4x0', np.zeros((4, 0)))
put('empty_1d', np.zeros((0,)))
put('row', base('<f8', (1, 6)))
put('col_F', np.asfortranarray(base('<f8', (6, 1))))
np.save(d + '/slice.npy', base('<f8', (8, 6))[::2, 1::2])
s = np.ascontiguousarray(base('<f8', (8, 6))[::2, 1::2])
print('slice', 4, 3, s.tobytes().hex())
]]

describe("NumPy writes, mpl reads", function()
  local out
  setup(function() out = python(WRITE, tmp) end)

  it("every dtype, order, version and shape, bit for bit", function()
    local n = 0
    for name, r, c, h in out:gmatch("(%S+) (%d+) (%d+) (%x*)\n") do
      local m = mat.load(tmp .. "/" .. name .. ".npy")
      assert.same({tonumber(r), tonumber(c)}, {m.rows, m.cols}, name)
      assert.equal(h, mhex(m), name)
      n = n + 1
    end
    assert.equal(8 * 9 + 6, n)
  end)

  it("maps NumPy's float64 files in place", function()
    for _, name in ipairs{"f8_C_v1", "f8_F_v2", "f8_C_v3", "f8_big_F", "f8_1d", "row"} do
      local p = tmp .. "/" .. name .. ".npy"
      assert.equal(mhex(mat.load(p)), mhex(mat.load(p, {mmap = true})), name)
    end
  end)
end)

-- Large arrays go into shared memory another way (written through the
-- arena's descriptor, spliced from the file for native float64): odd
-- sizes, every dtype and order, read back bit for bit.
local BIG = [[
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(5)
v = rng.standard_normal(1031 * 517) * 1e3
v[:6] = [np.nan, np.inf, -np.inf, -0.0, 5e-324, 1e308]
for dt in ['<f8', '>f8', '<f4', '<i4', '<i8', '|u1', '|b1']:
    tag = dt[1:] + ('be' if dt[0] == '>' else '')
    a = (v if dt[1] == 'f' else np.round(v * (1 if dt[1] != 'u' else 0.1)) % (256 if dt[1] == 'u' else 2**31)).astype(dt)
    np.save(d + '/big_' + tag + '.npy', a.reshape(1031, 517))
    print('big_' + tag)
np.save(d + '/big_f8_F.npy', np.asfortranarray(v.reshape(1031, 517)))
np.save(d + '/big_f4_F.npy', np.asfortranarray(v.astype('<f4').reshape(517, 1031)))
np.save(d + '/big_f8_1d.npy', v[:300007])
print('big_f8_F\nbig_f4_F\nbig_f8_1d')
]]

local SAME = [[
import sys, numpy as np
d = sys.argv[1]
for name in sys.argv[2:]:
    want = np.load(d + '/' + name + '.npy').astype('<f8')
    want = np.ascontiguousarray(want.reshape(1, -1) if want.ndim < 2 else want)
    got = np.load(d + '/got_' + name + '.npy')
    print(name, got.shape == want.shape and got.tobytes() == want.tobytes())
]]

describe("large NumPy arrays", function()
  it("every dtype and order, odd sizes, bit for bit", function()
    local names = {}
    for name in python(BIG, tmp):gmatch("%S+") do
      local m = mat.load(tmp .. "/" .. name .. ".npy")
      assert.is_true(m.rows * m.cols * 8 >= 2 ^ 20, name)
      mat.save(tmp .. "/got_" .. name .. ".npy", m)
      names[#names + 1] = name
    end
    assert.equal(10, #names)
    local out = python(SAME, tmp, table.unpack(names))
    for _, name in ipairs(names) do
      assert.truthy(out:find(name .. " True\n", 1, true), name .. ": " .. out)
    end
  end)
end)

local READ = [[
import sys, numpy as np
for p in sys.argv[1:]:
    a = np.load(p)
    with open(p, 'rb') as f:
        np.lib.format.read_magic(f)
        np.lib.format.read_array_header_1_0(f)
        off = f.tell()
    m = np.load(p, mmap_mode='r')
    assert (m.tobytes() == a.tobytes()), p
    print(p.rsplit('/', 1)[1], a.dtype.str, 'x'.join(map(str, a.shape)),
          a.flags.f_contiguous and a.ndim > 1 and min(a.shape) > 1, off % 64, a.tobytes().hex())
]]

describe("mpl writes, NumPy reads", function()
  it("'<f8' C order, 64-byte aligned, bit for bit", function()
    mat.seed(11)
    local specials = mat.from{{0 / 0, math.huge, -math.huge, -0.0, 5e-324},
                              {1e308, 0.1, 1e-310, 2 ^ 53 + 2, -1 / 3}}
    local big = mat.randn(50, 60)
    local cases = {
      specials = specials,
      transposed = big:t(),
      block = big:sub(3, 20, 7, 9),
      one = mat.from{{42}},
      row = mat.randn(1, 7),
      col = mat.randn(7, 1),
      empty = mat.new(0, 0),
      empty_rows = mat.new(0, 3),
      big = big,
    }
    local paths = {}
    for name, m in pairs(cases) do
      paths[#paths + 1] = tmp .. "/mpl_" .. name .. ".npy"
      mat.save(paths[#paths], m)
    end
    local out = python(READ, table.unpack(paths))
    local seen = 0
    for file, dt, shape, fortran, align, h in
        out:gmatch("(%S+) (%S+) (%S+) (%a+) (%d+) (%x*)\n") do
      local m = cases[file:match("^mpl_(.*)%.npy$")]
      assert.equal("<f8", dt)
      assert.equal(m.rows .. "x" .. m.cols, shape)
      assert.equal("False", fortran)
      assert.equal("0", align)
      assert.equal(mhex(m), h, file)
      seen = seen + 1
    end
    assert.equal(#paths, seen)
  end)
end)

describe("a mapped matrix and NumPy", function()
  it("see each other's writes", function()
    local p = tmp .. "/shared.npy"
    python("import sys, numpy as np\nnp.save(sys.argv[1], np.arange(12.0).reshape(3, 4))\n", p)
    local m = mat.load(p, {mmap = true})
    m:set(2, 3, 7.25)
    assert.equal("7.25\n", python("import sys, numpy as np\nprint(np.load(sys.argv[1])[1, 2])\n", p))
    python("import sys, numpy as np\na = np.load(sys.argv[1], mmap_mode='r+')\na[2, 3] = -5.5\na.flush()\n", p)
    assert.equal(-5.5, m:get(3, 4))
    m:close()
  end)
end)

-- .npz archives both ways: NumPy's savez and savez_compressed (every
-- dtype mpl reads, C and Fortran order) read by mpl, and mpl's stored and
-- deflated archives read by np.load, bit for bit.
local NPZ_WRITE = [==[
import sys, numpy as np
rng = np.random.default_rng(5)
arrs = {
    'f8': rng.standard_normal((4, 5)),
    'f4_fortran': np.asfortranarray(rng.standard_normal((3, 6)).astype('<f4')),
    'i8': np.arange(-6, 6, dtype='<i8').reshape(3, 4),
    'big_endian': rng.standard_normal((2, 3)).astype('>f8'),
    'specials': np.array([[np.nan, np.inf, -np.inf, -0.0, 5e-324]]),
    'empty': np.zeros((0, 3)),
    'vector': np.arange(7.0),
}
np.savez(sys.argv[1], **arrs)
np.savez_compressed(sys.argv[2], **arrs)
for k in sorted(arrs):
    a = np.atleast_2d(arrs[k]).astype('<f8')
    print(k, 'x'.join(map(str, a.shape)), a.tobytes().hex())
]==]

local NPZ_READ = [[
import sys, zipfile, numpy as np
for p in sys.argv[1:]:
    with zipfile.ZipFile(p) as z:
        kinds = {i.filename: i.compress_type for i in z.infolist()}
    with np.load(p) as f:
        for k in sorted(f.files):
            a = f[k]
            print(p.rsplit('/', 1)[1], k, kinds[k + '.npy'], a.dtype.str,
                  'x'.join(map(str, a.shape)), a.tobytes().hex())
]]

describe(".npz archives", function()
  it("mpl reads np.savez and np.savez_compressed bit for bit", function()
    local plain, packed = tmp .. "/np_plain.npz", tmp .. "/np_packed.npz"
    local out = python(NPZ_WRITE, plain, packed)
    local a, b = mat.load(plain), mat.load(packed)
    local seen = 0
    for k, shape, h in out:gmatch("(%S+) (%S+) (%x*)\n") do
      for _, t in ipairs{a, b} do
        assert.equal(shape, t[k].rows .. "x" .. t[k].cols, k)
        assert.equal(h, mhex(t[k]), k)
      end
      assert.equal(h, mhex(mat.load(packed, {name = k})), k)
      seen = seen + 1
    end
    assert.equal(7, seen)
    local n = 0
    for _ in pairs(a) do n = n + 1 end
    assert.equal(7, n)
  end)

  it("NumPy reads mpl's stored and deflated archives bit for bit", function()
    mat.seed(12)
    local big = mat.randn(40, 30)
    local ms = {
      specials = mat.from{{0 / 0, math.huge, -math.huge, -0.0, 5e-324}},
      transposed = big:t(),
      block = big:sub(3, 20, 7, 9),
      empty = mat.new(0, 4),
      big = big,
    }
    local plain, packed = tmp .. "/mpl_plain.npz", tmp .. "/mpl_packed.npz"
    mat.save(plain, ms)
    mat.save(packed, ms, {compress = true})
    local out = python(NPZ_READ, plain, packed)
    local seen = 0
    for file, k, kind, dt, shape, h in
        out:gmatch("(%S+) (%S+) (%d+) (%S+) (%S+) (%x*)\n") do
      assert.equal(file == "mpl_plain.npz" and "0" or "8", kind) -- stored, deflated
      assert.equal("<f8", dt)
      assert.equal(ms[k].rows .. "x" .. ms[k].cols, shape)
      assert.equal(mhex(ms[k]), h, k)
      seen = seen + 1
    end
    assert.equal(10, seen)
  end)
end)

describe("float128 .npy", function()
  it("converts to double as NumPy's astype(float) does, and refuses overflow", function()
    local p, be, big = tmp .. "/f16.npy", tmp .. "/f16_be.npy", tmp .. "/f16_big.npy"
    local out = python([==[
import sys, numpy as np
a = np.array([[1.5, -2.25, 1e-320], [np.inf, np.longdouble(1) / 3, -0.0]], dtype=np.longdouble)
np.save(sys.argv[1], a)
np.save(sys.argv[2], a.astype('>f16'))
np.save(sys.argv[3], np.array([[1.0, np.longdouble(1e308) * 100]], dtype=np.longdouble))
print(a.astype('<f8').tobytes().hex())
]==], p, be, big)
    assert.equal(out:match("%x+"), mhex(mat.load(p)))
    assert.equal(out:match("%x+"), mhex(mat.load(be)))
    local ok, e = pcall(mat.load, big)
    assert.is_false(ok)
    assert.equal("mat.load: '" .. big .. "', byte 144: a float128 value is too large for a double "
                 .. "(more than 1.8e308)", e)
  end)
end)
