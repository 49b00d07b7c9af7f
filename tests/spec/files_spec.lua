-- files_spec.lua: mat.load and mat.save: every format, every option, exact
-- error messages for malformed and hostile files, memory mapping.
--
-- The hostile files live in tests/fuzz/hostile/ (written by
-- tests/fuzz/make_corpus.py); big ones are generated here in a temp dir.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local HOSTILE = here .. "../fuzz/hostile/"
local CORPUS = here .. "../fuzz/corpus/"
local MPL = os.getenv("MPL_BIN")

local util = require "util"
local shquote, readfile, writefile = util.shquote, util.mustread, util.writefile

local tmp
local function T(name) return tmp .. "/" .. name end

local function bits(x) return string.pack("<d", x) end

-- Bitwise equality of two matrices (NaN payloads and -0 included).
local function same_bits(a, b)
  if a.rows ~= b.rows or a.cols ~= b.cols then return false end
  for i = 1, a.rows do
    for j = 1, a.cols do
      if bits(a:get(i, j)) ~= bits(b:get(i, j)) then return false end
    end
  end
  return true
end

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return e
end

local specials = {0.1, -0.0, 0.0, 1e-310, 5e-324, 2.2250738585072014e-308,
                  1.7976931348623157e308, -math.huge, math.huge, 1 / 3,
                  -123456789.125, 2 ^ 53 + 2, 1e22, 1e23}

setup(function() tmp = util.tmpdir() end)

teardown(function() util.rmtree(tmp) end)

describe("round trips", function()
  local function sample(r, c)
    mat.seed(7)
    local m = mat.randn(r, c) * 1e3
    local k = 0
    for i = 1, r do
      for j = 1, c do
        k = k + 1
        if k <= #specials then m:set(i, j, specials[k]) end
      end
    end
    return m
  end

  for _, ext in ipairs{"csv", "tsv", "txt", "npy", "mtx"} do
    it("is bit-exact through ." .. ext, function()
      for _, shape in ipairs{{1, 1}, {4, 5}, {1, 17}, {17, 1}} do
        local m = sample(shape[1], shape[2])
        mat.save(T("r." .. ext), m)
        assert.is_true(same_bits(mat.load(T("r." .. ext)), m))
      end
      local nan = mat.from{{0 / 0, 1}}
      mat.save(T("n." .. ext), nan)
      local back = mat.load(T("n." .. ext))
      assert.is_true(back:get(1, 1) ~= back:get(1, 1))
      assert.equal(1, back:get(1, 2))
    end)
  end

  it("saves views (transposes, sub-blocks) in their logical order", function()
    local m = sample(6, 4)
    for _, ext in ipairs{"csv", "npy", "mtx"} do
      mat.save(T("t." .. ext), m:t())
      assert.is_true(same_bits(mat.load(T("t." .. ext)), m:t()))
      mat.save(T("s." .. ext), m:sub(2, 5, 2, 3))
      assert.is_true(same_bits(mat.load(T("s." .. ext)), m:sub(2, 5, 2, 3)))
    end
  end)

  it("keeps empty matrices in .npy and .mtx", function()
    for _, ext in ipairs{"npy", "mtx"} do
      for _, shape in ipairs{{0, 3}, {3, 0}, {0, 0}} do
        mat.save(T("e." .. ext), mat.new(shape[1], shape[2]))
        local m = mat.load(T("e." .. ext))
        assert.same(shape, {m.rows, m.cols})
      end
    end
  end)
end)

describe("text files", function()
  it("picks the separator from the extension", function()
    local m = mat.from{{1, 2}, {3, 4}}
    mat.save(T("a.csv"), m)
    mat.save(T("a.tsv"), m)
    mat.save(T("a.txt"), m)
    assert.equal("1,2\n3,4\n", readfile(T("a.csv")))
    assert.equal("1\t2\n3\t4\n", readfile(T("a.tsv")))
    assert.equal("1 2\n3 4\n", readfile(T("a.txt")))
  end)

  it("takes opts.sep, and ' ' as runs of blanks", function()
    writefile(T("s.csv"), "1;2.5\n-3;4\n")
    assert.equal(mat.from{{1, 2.5}, {-3, 4}}, mat.load(T("s.csv"), {sep = ";"}))
    writefile(T("w.csv"), "  1   2\t 3\n4\t\t5 6   \n")
    assert.equal(mat.from{{1, 2, 3}, {4, 5, 6}}, mat.load(T("w.csv"), {sep = " "}))
    assert.equal(mat.from{{1, 2, 3}, {4, 5, 6}}, mat.load(T("w.csv"), {format = "txt"}))
    writefile(T("t.txt"), "1\t2\n3\t4\n")
    assert.equal(mat.from{{1, 2}, {3, 4}}, mat.load(T("t.txt"), {sep = "\t"}))
    mat.save(T("p.csv"), mat.from{{1, 2}}, {sep = "|"})
    assert.equal("1|2\n", readfile(T("p.csv")))
  end)

  it("skips comments, blank lines, a BOM and CRs; trims blanks", function()
    writefile(T("c.csv"), "\239\187\191# made by hand\r\n\r\n 1 , 2 # two\r\n"
                          .. "   \r\n#3,4\r\n\t5,6\r\n")
    assert.equal(mat.from{{1, 2}, {5, 6}}, mat.load(T("c.csv")))
  end)

  it("reads nan and inf in any case", function()
    writefile(T("n.csv"), "nan,NaN,-nan,inf,-Inf,+INFINITY,1e999,-1e999\n")
    local m = mat.load(T("n.csv"))
    for j = 1, 3 do assert.is_true(m:get(1, j) ~= m:get(1, j)) end
    assert.same({math.huge, -math.huge, math.huge, math.huge, -math.huge},
                {m:get(1, 4), m:get(1, 5), m:get(1, 6), m:get(1, 7), m:get(1, 8)})
  end)

  it("returns the header line with opts.header", function()
    writefile(T("h.csv"), "# units: m\n\n\"x\",\"y\" \r\n1,2\n3,4\n")
    local m, h = mat.load(T("h.csv"), {header = true})
    assert.equal(mat.from{{1, 2}, {3, 4}}, m)
    assert.same({"x", "y"}, h)
    assert.equal(1, select("#", mat.load(T("h.csv"), {header = true}):copy()))
    assert.has_error(function() mat.load(T("h.csv"), {header = false}) end,
                     "mat.load: '" .. T("h.csv") .. "', line 3: field 1 is not a number: "
                     .. "'x' (a header line needs the header option)")
  end)

  it("writes opts.header as the first line on save", function()
    mat.save(T("hs.csv"), mat.from{{1, 2}}, {header = "x,y"})
    assert.equal("x,y\n1,2\n", readfile(T("hs.csv")))
    local m, h = mat.load(T("hs.csv"), {header = true})
    assert.same({"x", "y"}, h)
    assert.equal(mat.from{{1, 2}}, m)
    assert.has_error(function() mat.save(T("hs.csv"), m, {header = "a\nb"}) end,
                     "mat.save: opts.header must be a single line")
    assert.has_error(function() mat.save(T("hs.npy"), m, {header = "a"}) end,
                     "mat.save: opts.header is only for text files (.csv, .tsv, .txt)")
    assert.has_error(function() mat.save(T("hs.csv"), m, {header = 1}) end,
                     "mat.save: opts.header must be a string (got number)")
  end)

  it("reads a 10 MB line in linear time", function()
    local n = 10 * 1024 * 1024 // 2
    writefile(T("long.csv"), string.rep("1,", n - 1) .. "7\n")
    local t0 = mat.clock()
    local m = mat.load(T("long.csv"))
    assert.same({1, n}, {m.rows, m.cols})
    assert.equal(7, m:get(1, n))
    writefile(T("junk.csv"), "1,2\n" .. string.rep("a", 10 * 1024 * 1024) .. "\n")
    assert.has_error(function() mat.load(T("junk.csv")) end,
                     "mat.load: '" .. T("junk.csv") .. "', line 2: field 1 is not a number: '"
                     .. string.rep("a", 40) .. "'...")
    writefile(T("digits.csv"), string.rep("9", 10 * 1024 * 1024) .. "\n")
    assert.equal(math.huge, mat.load(T("digits.csv")):get(1, 1))
    local limit = os.getenv("MPL_SANITIZE") == "1" and 30 or 5
    assert.is_true(mat.clock() - t0 < limit)
  end)

  it("does not depend on the C locale of the host", function()
    if not MPL then
      pending("MPL_BIN is not set")
      return
    end
    local loc = T("locales")
    if not os.execute("mkdir " .. shquote(loc) .. " && localedef -i de_DE -f UTF-8 "
                      .. shquote(loc .. "/de_DE.UTF-8") .. " >/dev/null 2>&1") then
      pending("localedef cannot build de_DE.UTF-8 here")
      return
    end
    writefile(T("l.csv"), "1.5,2.25\n")
    local script = writefile(T("l.lua"), [[
      assert(os.setlocale("de_DE.UTF-8"), "no locale")
      assert(tonumber("1,5") == 1.5, "locale not in effect")
      local m = mat.load(arg[1])
      assert(m:get(1, 1) == 1.5 and m:get(1, 2) == 2.25, "misread")
      mat.save(arg[2], m)
      io.write(io.open(arg[2]):read("a"))
    ]])
    local p = io.popen("LOCPATH=" .. shquote(loc) .. " " .. shquote(MPL) .. " "
                      .. shquote(script) .. " " .. shquote(T("l.csv")) .. " "
                      .. shquote(T("l2.csv")) .. " 2>&1")
    local out = p:read("a")
    p:close()
    assert.equal("1.5,2.25\n", out)
  end)
end)

describe("Matrix Market", function()
  local function load_text(text)
    return mat.load(writefile(T("m.mtx"), text))
  end

  it("reads coordinate matrices of every symmetry", function()
    assert.equal(mat.from{{1.5, 0, 0, 0}, {0, 1000, 0, 0}, {0, 0, 0, -2}},
                 mat.load(CORPUS .. "mtx/coord.mtx"))
    assert.equal(mat.from{{1, 0, -4}, {0, 0, 0}, {-4, 0, 9}},
                 mat.load(CORPUS .. "mtx/sym.mtx"))
    assert.equal(mat.from{{0, -5, 0}, {5, 0, 1}, {0, -1, 0}},
                 mat.load(CORPUS .. "mtx/skew.mtx"))
    assert.equal(mat.from{{0, 1}, {1, 0}}, mat.load(CORPUS .. "mtx/pattern.mtx"))
  end)

  it("adds coordinate entries given twice", function()
    assert.equal(mat.from{{3, 0}, {0, 0}}, load_text(
      "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n1 1 2\n"))
  end)

  it("reads arrays column by column, triangles when symmetric", function()
    assert.equal(mat.from{{1, 3, 5}, {2, 4, 6}}, mat.load(CORPUS .. "mtx/array.mtx"))
    assert.equal(mat.from{{1, 2, 3}, {2, 4, 5}, {3, 5, 6}},
                 mat.load(CORPUS .. "mtx/array_sym.mtx"))
    assert.equal(mat.from{{0, -1, -2}, {1, 0, -3}, {2, 3, 0}},
                 mat.load(CORPUS .. "mtx/array_skew.mtx"))
    assert.equal(mat.from{{1, 3}, {2, 4}}, load_text(
      "%%MatrixMarket matrix array integer general\n% c\n\n2 2\n1 2\n% mid\n3\n4\n"))
  end)

  it("writes array real general, column-major", function()
    mat.save(T("w.mtx"), mat.from{{1, 2}, {3, 0.1}})
    assert.equal("%%MatrixMarket matrix array real general\n2 2\n1\n3\n2\n"
                 .. "0.10000000000000001\n", readfile(T("w.mtx")))
  end)
end)

describe(".npy files", function()
  local a = mat.new(3, 4)
  for i = 1, 3 do
    for j = 1, 4 do a:set(i, j, ((i - 1) * 4 + j - 1) / 7) end
  end

  it("reads every dtype in C and Fortran order", function()
    for _, dt in ipairs{"f8", "f4", "i4", "i8", "u1", "b1"} do
      for _, order in ipairs{"C", "F"} do
        local m = mat.load(CORPUS .. "npy/" .. dt .. "_" .. order .. ".npy")
        assert.same({3, 4}, {m.rows, m.cols})
        for i = 1, 3 do
          for j = 1, 4 do
            local v = a:get(i, j) * 3
            local want = dt == "f8" and v or dt == "f4" and string.unpack("<f", string.pack("<f", v))
                         or dt == "b1" and (a:get(i, j) > 0.5 and 1 or 0) or math.floor(v)
            assert.equal(want, m:get(i, j))
          end
        end
      end
    end
    assert.is_true(same_bits(mat.load(CORPUS .. "npy/f8_C.npy"),
                             mat.load(CORPUS .. "npy/f8be_C.npy")))
  end)

  it("reads versions 2 and 3, 1-D as 1xn, 0-D as 1x1, empty arrays", function()
    assert.is_true(same_bits(a, mat.load(CORPUS .. "npy/v2.npy")))
    assert.is_true(same_bits(a, mat.load(CORPUS .. "npy/v3.npy")))
    assert.equal(mat.from{{0, 1, 2, 3, 4}}, mat.load(CORPUS .. "npy/1d.npy"))
    assert.equal(mat.from{{2.5}}, mat.load(CORPUS .. "npy/0d.npy"))
    local e = mat.load(CORPUS .. "npy/empty.npy")
    assert.same({0, 3}, {e.rows, e.cols})
  end)

  it("writes a 64-byte aligned version 1.0 '<f8' C-order header", function()
    mat.save(T("h.npy"), mat.new(2, 3))
    local s = readfile(T("h.npy"))
    assert.equal("\147NUMPY\1\0", s:sub(1, 8))
    local hlen = string.unpack("<I2", s, 9)
    assert.equal(0, (10 + hlen) % 64)
    assert.equal("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                 s:sub(11, 10 + hlen):match("^(.-)%s*$"))
    assert.equal(10 + hlen + 48, #s)
  end)
end)

describe("opts.mmap", function()
  it("maps a float64 file, writes through, works in mat.dot", function()
    mat.seed(3)
    local m = mat.randn(40, 30)
    mat.save(T("m.npy"), m)
    local k = mat.load(T("m.npy"), {mmap = true})
    assert.is_true(same_bits(m, k))
    k:set(1, 2, 42.5)
    k[2][1] = -1
    local s = readfile(T("m.npy"))
    assert.equal(42.5, string.unpack("<d", s, 128 + 8 + 1))
    assert.equal(-1, string.unpack("<d", s, 128 + 30 * 8 + 1))
    m:set(1, 2, 42.5)
    m:set(2, 1, -1)
    local want = mat.dot(m, m:t(), {procs = 1})
    assert.is_true(same_bits(want, mat.dot(k, k:t(), {procs = 2})))
    assert.is_true(same_bits(want, mat.dot(k, m:t(), {procs = 2})))
    local v = k:row(3)
    k:close()
    assert.equal(m:get(3, 5), v:get(1, 5)) -- views keep the mapping
    v:close()
    collectgarbage()
    assert.is_true(same_bits(m, mat.load(T("m.npy"))))
  end)

  it("maps Fortran order as a column-major matrix", function()
    local k = mat.load(CORPUS .. "npy/f8_F.npy", {mmap = true})
    assert.is_true(same_bits(k, mat.load(CORPUS .. "npy/f8_C.npy")))
  end)

  it("refuses what it cannot map, with the reason", function()
    local f4 = CORPUS .. "npy/f4_C.npy"
    assert.has_error(function() mat.load(f4, {mmap = true}) end,
      "mat.load: '" .. f4 .. "': the mmap option needs float64 in this machine's "
      .. "byte order ('<f8'); the file holds '<f4' (load it without mmap to convert it)")
    local be = CORPUS .. "npy/f8be_C.npy"
    assert.has_error(function() mat.load(be, {mmap = true}) end,
      "mat.load: '" .. be .. "': the mmap option needs float64 in this machine's "
      .. "byte order ('<f8'); the file holds '>f8' (load it without mmap to convert it)")
    writefile(T("x.csv"), "1\n")
    assert.has_error(function() mat.load(T("x.csv"), {mmap = true}) end,
      "mat.load: '" .. T("x.csv") .. "': the mmap option is only for .npy files")
    assert.has_error(function() mat.load(HOSTILE .. "npy_truncated.npy", {mmap = true}) end,
      "mat.load: '" .. HOSTILE .. "npy_truncated.npy', byte 128: the data is truncated: "
      .. "shape (10, 10) of '<f8' needs 800 bytes, the file has 100 after the header")
  end)
end)

describe("options", function()
  it("are checked", function()
    writefile(T("o.csv"), "1\n")
    local p = T("o.csv")
    assert.has_error(function() mat.load(p, {format = 1}) end,
                     "mat.load: opts.format must be a string (got number)")
    assert.has_error(function() mat.load(p, {format = "xls"}) end,
                     "mat.load: unknown format 'xls'")
    assert.has_error(function() mat.load(T("o.dat")) end,
                     "mat.load: cannot tell the format of '" .. T("o.dat")
                     .. "' (use .csv, .tsv, .txt, .npy, .npz or .mtx, or opts.format)")
    assert.has_error(function() mat.load(p, {sep = ",,"}) end,
                     "mat.load: opts.sep must be one character")
    assert.has_error(function() mat.load(p, {sep = "."}) end,
                     "mat.load: '" .. p .. "': '.' cannot be a separator (it can be part of a number)")
    assert.has_error(function() mat.load(p, {header = "yes"}) end,
                     "mat.load: opts.header must be a boolean (got string)")
    assert.has_error(function() mat.load(p, {mmap = 1}) end,
                     "mat.load: opts.mmap must be a boolean (got number)")
    assert.has_error(function() mat.load(CORPUS .. "npy/f8_C.npy", {header = true}) end,
                     "mat.load: '" .. CORPUS .. "npy/f8_C.npy': the header option is only "
                     .. "for text files (.csv, .tsv, .txt)")
    assert.has_error(function() mat.load(T("none.csv")) end,
                     "mat.load: '" .. T("none.csv") .. "': cannot open: No such file or directory")
    assert.has_error(function() mat.load(tmp, {format = "csv"}) end,
                     "mat.load: '" .. tmp .. "': cannot read: Is a directory")
    assert.equal(mat.from{{1}}, mat.load(p, {format = "CSV"}))
  end)

  it("reads from a pipe", function()
    local fifo = T("fifo")
    assert(os.execute("mkfifo " .. shquote(fifo) .. " && (printf '1,2\\n3,4\\n' > "
                      .. shquote(fifo) .. " &)"))
    assert.equal(mat.from{{1, 2}, {3, 4}}, mat.load(fifo, {format = "csv"}))
    assert.has_error(function() mat.load(fifo, {format = "npy", mmap = true}) end)
  end)
end)

describe("hostile files", function()
  local cases = {
    npy_bad_magic = "byte 0: not a .npy file (bad magic)",
    npy_short = "byte 0: not a .npy file (bad magic)",
    npy_bad_version = "byte 6: unsupported .npy version 4.0 (1.0, 2.0 and 3.0 are)",
    npy_header_past_end = "byte 8: header length 5000 runs past the end of the file (144 bytes)",
    npy_header_huge = "byte 8: header length 4294967280 is more than 10000 (NumPy's limit)",
    npy_not_dict = "byte 10: the header is not a dict",
    npy_missing_key = "byte 64: the header has no 'shape' key",
    npy_extra_key = "byte 66: unexpected key 'x' (a header has 'descr', 'fortran_order' and 'shape')",
    npy_duplicate_key = "byte 66: duplicate key 'shape'",
    npy_object = "byte 20: object arrays (descr '|O') cannot be loaded",
    npy_complex = "byte 20: complex dtype '<c16' is not supported",
    npy_structured = "byte 20: structured dtypes (a list descr) are not supported",
    npy_negative_dim = "byte 61: negative dimension in the shape",
    npy_float_dim = "byte 61: dimensions must be integers",
    npy_not_tuple = "byte 62: shape must be a tuple (a 1-tuple is written (n,))",
    npy_3d = "byte 10: 3-dimensional arrays are not supported (shape (1, 2, 1))",
    npy_dim_huge = "byte 61: dimension too large",
    npy_overflow = "byte 10: shape (4294967296, 4294967296) is too large (its byte count overflows)",
    npy_truncated = "byte 128: the data is truncated: shape (10, 10) of '<f8' needs 800 bytes, "
                    .. "the file has 100 after the header",
    npy_bad_bool = "byte 44: fortran_order must be True or False",
    npy_unterminated = "byte 63: unterminated string in the descr",
    mtx_long_token = "line 1: object '" .. string.rep("x", 40) .. "'... is not supported (only 'matrix')",
    mtx_not_mm = "line 1: not a Matrix Market file (the first line must start with %%MatrixMarket)",
    mtx_garbage_size = "line 2: bad size line '3 x 3' (expected 'rows cols entries')",
    mtx_nnz_huge = "line 2: 18446744073709551615 entries announced, but the rest of the file "
                   .. "(6 bytes) holds at most 1",
    mtx_nnz_overflow = "line 2: bad size line '3 3 18446744073709551616' (expected 'rows cols entries')",
    mtx_index_zero = "line 3: index (0, 1) out of range for a 3x3 matrix",
    mtx_index_beyond = "line 3: index (2, 4) out of range for a 3x3 matrix",
    mtx_few_entries = "line 4: the file ends after 2 of the 3 entries announced on line 2",
    mtx_more_entries = "line 4: more entries than the 1 announced on line 2",
    mtx_sym_not_square = "line 2: a symmetric matrix must be square, this one is 3x4",
    mtx_complex = "line 1: complex matrices cannot be loaded: mpl holds real matrices",
    mtx_hermitian = "line 1: hermitian matrices are complex and cannot be loaded: mpl holds real matrices",
    mtx_negative_unsigned = "line 3: value '-1' is not an unsigned integer",
    mtx_bad_value = "line 3: value '2.5' is not an integer",
    mtx_array_huge = "line 2: a 100000x100000 array needs more values than the rest of the "
                     .. "file (2 bytes) can hold",
    mtx_array_short = "line 5: the file ends after 3 of the 4 values of a 2x2 array",
    mtx_pattern_array = "line 1: a pattern matrix must be in coordinate format",
    mtx_no_size = "line 2: the file ends before the size line",
    csv_ragged = "line 4: 2 fields, expected 3 as on line 1",
    csv_too_many = "line 2: 3 fields, expected 2 as on line 1",
    csv_empty = "the file is empty",
    csv_comments_only = "no data (only blank lines and comments)",
    csv_nonnumeric = "line 2: field 2 is not a number: 'four'",
    csv_empty_field = "line 1: field 2 is empty",
    csv_trailing_sep = "line 1: field 3 is empty",
    csv_wide_then_short = "line 2: 1 field, expected 1000 as on line 1",
    csv_binary = "line 2: field 1 is not a number: '\\x00\\xff\\x93NUMPY'",
    csv_unclosed_quote = "line 1: a quoted field is not closed",
    csv_text_after_quote = "line 1: text after the closing quote of a field",
    csv_zip = "byte 0: this is a zip archive (a .npz file?), not text",
    csv_utf16 = "byte 0: this is UTF-16 text; mpl reads UTF-8 (convert it with iconv -f UTF-16 -t UTF-8)",
    csv_gz_truncated = "byte 22: the gzip data is truncated",
    npz_not_npy = "member 'notes.txt' is not a .npy array",
    npz_not_zip = "not a readable zip archive (Not a zip archive)",
    csv_hex = "line 1: field 1 is not a number: '0x10'",
    csv_header_only = "line 1: field 1 is not a number: 'x'",
  }

  local names = {}
  for name in pairs(cases) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    it("rejects " .. name, function()
      local ext = name:match("^(%a+)_")
      local path = HOSTILE .. name .. "." .. ext
      local msg = cases[name]
      local where = msg:match("^line %d+: ") or msg:match("^byte %d+: ")
      local want = where and ("mat.load: '" .. path .. "', " .. msg)
                   or ("mat.load: '" .. path .. "': " .. msg)
      assert.equal(want, err_of(mat.load, path))
    end)
  end

  it("has a case for every file in the directory", function()
    local p = io.popen("ls " .. shquote(HOSTILE))
    for f in p:lines() do
      assert.is_not_nil(cases[f:match("^(.*)%.")], f)
    end
    p:close()
  end)

  it("says 'no data after the header' for a header alone", function()
    local p = HOSTILE .. "csv_header_only.csv"
    assert.equal("mat.load: '" .. p .. "', line 1: no data after the header",
                 err_of(mat.load, p, {header = true}))
  end)

  it("refuses a short row after a long first line without a huge allocation", function()
    local p = writefile(T("wide.csv"), string.rep("1,", 999999) .. "1\n" .. string.rep("2\n", 999999))
    assert.equal("mat.load: '" .. p .. "', line 2: 1 field, expected 1000000 as on line 1",
                 err_of(mat.load, p))
  end)

  it("refuses a dense coordinate matrix larger than memory", function()
    local p = writefile(T("big.mtx"), "%%MatrixMarket matrix coordinate real general\n"
                        .. "4000000000 4000000000 1\n1 1 1\n")
    assert.equal("mat.load: '" .. p .. "', line 2: a dense 4000000000x4000000000 matrix is too large",
                 err_of(mat.load, p))
  end)
end)

-- Run a script in a real mpl process (args after it) and send it SIGINT
-- `delay` seconds after it created the file named by its last argument
-- (the mark); a watchdog kills a hung run.  writer, if given, is a shell
-- command run beside it and waited for.  Returns the output and status.
local function interrupt_run(script, args, delay, writer)
  local mark = T("mark")
  os.remove(mark)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = shquote(a) end
  local p = io.popen(string.format(
    "%s & w=$!; %s %s %s %s 2>&1 & pid=$!; (sleep 60; kill -9 $pid) >/dev/null 2>&1 & dog=$!; " ..
    "for i in $(seq 1200); do [ -e %s ] && break; sleep 0.05; done; sleep %s; " ..
    "kill -INT $pid; wait $pid; echo status=$?; kill $dog $w 2>/dev/null; wait $w",
    writer or "true", shquote(MPL), shquote(writefile(T("int.lua"), script)),
    table.concat(quoted, " "), shquote(mark), shquote(mark), delay))
  local out = p:read("a")
  p:close()
  return out
end

local function no_temps(dir)
  local p = io.popen("ls -a " .. shquote(dir))
  local names = p:read("a")
  p:close()
  assert.is_nil(names:find("mpl%-tmp"), names)
end

describe("saving never clobbers", function()
  it("writes /dev/stdout through, after what was printed, from a real mpl", function()
    if not MPL then return pending("MPL_BIN is not set") end
    local script = [[print("before"); mat.save("/dev/stdout", mat.from{{1, 2}}, {format = "csv"}); print("after")]]
    local users = {""}
    local root = io.popen("id -u"):read("l") == "0"
    local nobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups "
    -- (only where nobody can reach the binary: not in a checkout under /root)
    if root and os.execute(nobody .. shquote(MPL) .. " -e '' 2>/dev/null") then
      users[2] = nobody
    end
    for _, who in ipairs(users) do
      local p = io.popen(who .. shquote(MPL) .. " -e " .. shquote(script) .. " 2>&1 | cat")
      assert.equal("before\n1,2\nafter\n", p:read("a"), who)
      p:close()
      local out = T("stdout.txt")
      os.remove(out)
      assert.is_true(os.execute(who .. shquote(MPL) .. " -e " .. shquote(script) ..
                                " > " .. shquote(out)))
      assert.equal("before\n1,2\nafter\n", readfile(out))
    end
  end)

  it("keeps /dev/null a device and a symlink a link", function()
    local root = io.popen("id -u"):read("l") == "0"
    mat.save("/dev/null", mat.ones(2, 2), {format = "csv"})
    assert.is_true(os.execute("test -c /dev/null"))
    writefile(T("target.csv"), "old\n")
    assert.is_true(os.execute("ln -s target.csv " .. shquote(T("link.csv"))))
    mat.save(T("link.csv"), mat.from{{5, 6}})
    assert.is_true(os.execute("test -L " .. shquote(T("link.csv"))))
    assert.equal("5,6\n", readfile(T("target.csv")))
    writefile(T("ro.csv"), "ro\n")
    assert.is_true(os.execute("chmod 444 " .. shquote(T("ro.csv"))))
    if root then
      mat.save(T("ro.csv"), mat.from{{7}})
      assert.equal("7\n", readfile(T("ro.csv")))
    else
      assert.equal("mat.save: cannot write '" .. T("ro.csv") .. "': Permission denied",
                   err_of(mat.save, T("ro.csv"), mat.from{{7}}))
    end
    no_temps(tmp)
  end)

  it("saves N x 0 and 0 x N of any N at once, refuses empty matrices as text", function()
    local big = mat.zeros(1 << 62, 0)
    mat.save(T("e.npy"), big)
    mat.save(T("e.mtx"), mat.zeros(0, 1 << 62))
    assert.equal(128, #readfile(T("e.npy")))
    assert.equal(1 << 62, mat.load(T("e.npy")).rows)
    assert.equal(1 << 62, mat.load(T("e.mtx")).cols)
    assert.equal("mat.save: a 4611686018427387904x0 matrix cannot be saved as text "
                 .. "(it would read back as an empty file); use .npy or .mtx",
                 err_of(mat.save, T("e.csv"), big))
    for _, m in ipairs({ mat.zeros(0, 3), mat.zeros(0, 0) }) do
      assert.equal(string.format("mat.save: a %dx%d matrix cannot be saved as text "
                   .. "(it would read back as an empty file); use .npy or .mtx",
                   m.rows, m.cols), err_of(mat.save, T("e.txt"), m))
    end
    assert.is_nil(io.open(T("e.txt")))
    no_temps(tmp)
  end)

  it("stops a long save on Ctrl-C, keeping the old file and no temporary", function()
    if not MPL then return pending("MPL_BIN is not set") end
    -- rows for a save of several seconds, from this machine's measured rate
    local m = mat.rand(20000, 10)
    local t0 = os.clock()
    mat.save(T("rate.csv"), m)
    local rows = math.floor(20000 * 4 / math.max(os.clock() - t0, 1e-3))
    writefile(T("big.csv"), "old\n")
    local out = interrupt_run([[
      local path, rows, mark = ...
      local m = mat.rand(math.tointeger(rows), 10)
      io.open(mark, "w"):close()
      mat.save(path, m)
      print("finished")
    ]], {T("big.csv"), rows}, 0.3)
    assert.is_nil(out:find("finished"), out)
    assert.is_truthy(out:find("mat.save: interrupted"), out)
    assert.is_truthy(out:find("status=1"), out)
    assert.equal("old\n", readfile(T("big.csv")))
    no_temps(tmp)
  end)
end)

describe("streams", function()
  it("refuses /dev/zero and /dev/urandom at once in every format", function()
    for _, fmt in ipairs{"csv", "tsv", "txt", "mtx", "npy", "npz"} do
      for _, dev in ipairs{"/dev/zero", "/dev/urandom"} do
        local e = err_of(mat.load, dev, {format = fmt})
        local why = fmt == "npy" and "not a .npy file %(bad magic%)"
                    or fmt == "npz" and "not a .npz file %(bad magic%)"
                    or "a NUL byte: this is not a text file"
        assert.is_truthy(e:find("^mat.load: '" .. dev .. "', byte %d+: " .. why .. "$"), e)
      end
    end
  end)

  it("stops waiting for a FIFO's writer (load) or reader (save) on Ctrl-C", function()
    if not MPL then return pending("MPL_BIN is not set") end
    local fifo = T("lonely")
    os.remove(fifo)
    assert.is_true(os.execute("mkfifo " .. shquote(fifo)))
    for _, call in ipairs{"mat.load(fifo, {format = 'csv'})",
                          "mat.save(fifo, mat.ones(2, 2), {format = 'csv'})"} do
      local out = interrupt_run([[
        local fifo, mark = ...
        io.open(mark, "w"):close()
        ]] .. call .. [[
        print("finished")
      ]], {fifo}, 0.3)
      assert.is_truthy(out:find(call:match("^mat%.%a+") .. ": .*interrupted"), out)
      assert.is_nil(out:find("finished"), out)
      assert.is_truthy(out:find("status=1"), out)
    end
    assert.is_true(os.execute("test -p " .. shquote(fifo)))
  end)

  it("stops reading an endless FIFO on Ctrl-C", function()
    if not MPL then return pending("MPL_BIN is not set") end
    local fifo = T("endless")
    os.remove(fifo)
    assert.is_true(os.execute("mkfifo " .. shquote(fifo)))
    local out = interrupt_run([[
      local fifo, mark = ...
      io.open(mark, "w"):close()
      mat.load(fifo, {format = "csv"})
      print("finished")
    ]], {fifo}, 0.5, "yes 1,2 > " .. shquote(fifo) .. " 2>/dev/null")
    assert.is_truthy(out:find("mat.load: '" .. fifo .. "': interrupted", 1, true), out)
    assert.is_nil(out:find("finished"), out)
    assert.is_truthy(out:find("status=1"), out)
  end)
end)

describe("gzip", function()
  it("saves NAME.FMT.gz compressed and loads it back in every format", function()
    mat.seed(21)
    local m = mat.randn(30, 7)
    for _, fmt in ipairs{"csv", "tsv", "txt", "npy", "mtx"} do
      local plain, gz = T("g." .. fmt), T("g." .. fmt .. ".gz")
      mat.save(plain, m)
      mat.save(gz, m)
      assert.equal("\x1f\x8b\x08", readfile(gz):sub(1, 3), fmt)
      local p = io.popen("gzip -dc " .. shquote(gz))
      assert.equal(readfile(plain), p:read("a"), fmt) -- the same bytes inside
      assert.is_true(p:close())
      assert.is_true(same_bits(mat.load(plain), mat.load(gz)), fmt)
    end
  end)

  it("is recognised by its magic bytes, whatever the name, also from a pipe", function()
    writefile(T("m.txt"), "1 2\n3 4\n")
    assert(os.execute("gzip -c " .. shquote(T("m.txt")) .. " > " .. shquote(T("m.csv"))))
    assert.equal(mat.from{{1, 2}, {3, 4}}, mat.load(T("m.csv"), {sep = " "}))
    mat.save(T("n.npy.gz"), mat.from{{5, 6}})
    os.rename(T("n.npy.gz"), T("n.npy"))
    assert.equal(mat.from{{5, 6}}, mat.load(T("n.npy")))
    local fifo = T("gzfifo")
    assert(os.execute("mkfifo " .. shquote(fifo) .. " && (cat " .. shquote(T("n.npy"))
                      .. " > " .. shquote(fifo) .. " &)"))
    assert.equal(mat.from{{5, 6}}, mat.load(fifo, {format = "npy"}))
  end)

  it("reads several gzip members one after the other", function()
    writefile(T("a.csv"), "1,2\n")
    writefile(T("b.csv"), "3,4\n")
    assert(os.execute("(gzip -c " .. shquote(T("a.csv")) .. "; gzip -c " .. shquote(T("b.csv"))
                      .. ") > " .. shquote(T("ab.csv.gz"))))
    assert.equal(mat.from{{1, 2}, {3, 4}}, mat.load(T("ab.csv.gz")))
  end)

  it("names truncated, corrupt and padded gzip data, and refuses mmap", function()
    mat.save(T("c.csv.gz"), mat.randn(50, 4))
    local z = readfile(T("c.csv.gz"))
    writefile(T("cut.csv"), z:sub(1, #z - 10))
    assert.has_error(function() mat.load(T("cut.csv")) end,
                     "mat.load: '" .. T("cut.csv") .. "', byte " .. (#z - 10)
                     .. ": the gzip data is truncated")
    writefile(T("bad.csv"), z:sub(1, 12) .. ("\xff"):rep(20) .. z:sub(33))
    local e = err_of(mat.load, T("bad.csv"))
    assert.is_truthy(e:find("^mat.load: '.-', byte %d+: corrupt gzip data %(.+%)$"), e)
    writefile(T("pad.csv"), z .. "junk")
    assert.has_error(function() mat.load(T("pad.csv")) end,
                     "mat.load: '" .. T("pad.csv") .. "', byte " .. #z
                     .. ": data after the end of the gzip stream")
    mat.save(T("m.npy.gz"), mat.ones(2, 2))
    assert.has_error(function() mat.load(T("m.npy.gz"), {mmap = true}) end,
                     "mat.load: '" .. T("m.npy.gz") .. "': the mmap option cannot map a "
                     .. "gzip-compressed file; decompress it first, or load it without mmap")
  end)
end)

describe(".npz archives", function()
  it("round-trip stored and deflated, one by name, in name order", function()
    mat.seed(22)
    local ms = {a = mat.randn(3, 4), b = mat.randn(20, 2):t(), ["with space"] = mat.new(0, 3)}
    for _, opts in ipairs{{}, {compress = true}} do
      mat.save(T("r.npz"), ms, opts)
      local back = mat.load(T("r.npz"))
      local n = 0
      for k, m in pairs(back) do
        assert.is_true(same_bits(ms[k], m), k)
        n = n + 1
      end
      assert.equal(3, n)
      assert.is_true(same_bits(ms.b, mat.load(T("r.npz"), {name = "b"})))
      local z = readfile(T("r.npz"))
      assert.is_truthy(z:find("a.npy", 1, true) < z:find("b.npy", 1, true))
    end
    local fifo = T("npzin")
    assert(os.execute("mkfifo " .. shquote(fifo) .. " && (cat " .. shquote(T("r.npz"))
                      .. " > " .. shquote(fifo) .. " &)"))
    assert.is_true(same_bits(ms.a, mat.load(fifo, {format = "npz"}).a)) -- from a pipe
    mat.save(T("z.npz"), {z = mat.new(100, 100)})
    assert.is_true(#readfile(T("z.npz")) > 80000)
    mat.save(T("z.npz"), {z = mat.new(100, 100)}, {compress = true})
    assert.is_true(#readfile(T("z.npz")) < 1000) -- deflated
  end)

  it("refuses what is not an archive of matrices, saying why", function()
    mat.save(T("s.npz"), {a = mat.from{{1.5, 2.5}}})
    local z = readfile(T("s.npz"))
    local at = z:find("\0\0\0\0\0\0\xf8\x3f", 1, true) -- 1.5, stored
    writefile(T("crc.npz"), z:sub(1, at + 6) .. "\x3e" .. z:sub(at + 8))
    assert.has_error(function() mat.load(T("crc.npz")) end,
                     "mat.load: '" .. T("crc.npz") .. "': member 'a.npy': CRC error")
    assert.has_error(function() mat.load(T("s.npz"), {name = "b"}) end,
                     "mat.load: '" .. T("s.npz") .. "': no matrix named 'b'")
    writefile(T("t.npz"), "1,2\n")
    local e = err_of(mat.load, T("t.npz"))
    assert.is_truthy(e:find("^mat.load: '.-': not a readable zip archive %(.+%)$"), e)
    mat.save(T("w.npz"), {notes = mat.ones(1, 1)}) -- the member renamed in both headers:
    writefile(T("w.npz"), (readfile(T("w.npz")):gsub("notes%.npy", "notes.txt")))
    assert.has_error(function() mat.load(T("w.npz")) end,
                     "mat.load: '" .. T("w.npz") .. "': member 'notes.txt' is not a .npy array")
    assert.has_error(function() mat.load(T("s.npz"), {mmap = true}) end,
                     "mat.load: the mmap option is only for .npy files")
    assert.has_error(function() mat.load(T("s.npz"), {name = 1}) end,
                     "mat.load: opts.name must be a string (got number)")
  end)

  it("saves only a table of named matrices, to a seekable file", function()
    local m = mat.ones(2, 2)
    assert.has_error(function() mat.save(T("e.npz"), {}) end,
                     "mat.save: no matrices to save in '" .. T("e.npz") .. "'")
    assert.has_error(function() mat.save(T("e.npz"), {m}) end,
                     "mat.save: a .npz archive's keys must be names (got a number key)")
    assert.has_error(function() mat.save(T("e.npz"), m) end)
    assert.has_error(function() mat.save(T("e.csv"), m, {compress = true}) end,
                     "mat.save: opts.compress is only for .npz files")
    assert.has_error(function() mat.save(T("e.npz.gz"), {a = m}) end)
    assert.is_nil(io.open(T("e.npz")))
    local fifo = T("npzfifo")
    assert(os.execute("mkfifo " .. shquote(fifo) .. " && (cat " .. shquote(fifo)
                      .. " > /dev/null &)"))
    assert.has_error(function() mat.save(fifo, {a = m}, {format = "npz"}) end,
                     "mat.save: cannot write '" .. fifo .. "': a .npz archive is "
                     .. "written with seeks, and this is a pipe")
  end)
end)

describe("text as people write it", function()
  it("reads RFC 4180 quoted fields: separators, doubled quotes and line breaks inside", function()
    writefile(T("q.csv"), '"name","x","y"\n"Smith, J.",1.5,"2"\n"say ""hi""\nthere", -3 ,4\n')
    local m, h = mat.load(T("q.csv"), {header = true, cols = {2, 3}})
    assert.same({"name", "x", "y"}, h)
    assert.equal(mat.from{{1.5, 2}, {-3, 4}}, m)
    assert.has_error(function() mat.load(T("q.csv"), {header = true}) end,
                     "mat.load: '" .. T("q.csv") .. "', line 2: field 1 is not a number: 'Smith, J.'")
  end)

  it("picks columns by number or header name, in the order asked", function()
    writefile(T("c.csv"), "date,a,b,c\n2024-01-01,1,2,3\n2024-01-02,4,5,6\n")
    local m = mat.load(T("c.csv"), {header = true, cols = {"c", 2}})
    assert.equal(mat.from{{3, 1}, {6, 4}}, m)
    assert.has_error(function() mat.load(T("c.csv"), {header = true, cols = {"d"}}) end,
                     "mat.load: '" .. T("c.csv") .. "': opts.cols names 'd', which the header does not have")
    assert.has_error(function() mat.load(T("c.csv"), {header = true, cols = {5}}) end,
                     "mat.load: '" .. T("c.csv") .. "': opts.cols has column 5, the file has 4")
    assert.has_error(function() mat.load(T("c.csv"), {header = true, cols = {2, "a"}}) end,
                     "mat.load: '" .. T("c.csv") .. "': opts.cols has column 2 twice")
    assert.has_error(function() mat.load(T("c.csv"), {cols = {"a"}, skip = 1}) end,
                     "mat.load: '" .. T("c.csv") .. "': opts.cols names columns: that needs opts.header")
    assert.has_error(function() mat.load(T("c.csv"), {cols = {0}}) end,
                     "mat.load: opts.cols[1] must be a column number (from 1) or a header name")
    assert.has_error(function() mat.load(T("c.csv"), {cols = 2}) end,
                     "mat.load: opts.cols must be a table of column numbers or names (got number)")
  end)

  it("reads opts.na strings and empty fields as NaN only when asked", function()
    writefile(T("na.csv"), "1,NA,3\n,5,N/A\n")
    local m = mat.load(T("na.csv"), {na = {"NA", "N/A"}})
    assert.equal(2, m.rows)
    assert.equal(1, m:get(1, 1))
    for _, ij in ipairs{{1, 2}, {2, 1}, {2, 3}} do
      local v = m:get(ij[1], ij[2])
      assert.is_true(v ~= v, ij[1] .. "," .. ij[2])
    end
    assert.has_error(function() mat.load(T("na.csv")) end,
                     "mat.load: '" .. T("na.csv") .. "', line 1: field 2 is not a number: 'NA'")
    assert.has_error(function() mat.load(T("na.csv"), {na = "NA"}) end,
                     "mat.load: '" .. T("na.csv") .. "', line 2: field 3 is not a number: 'N/A'")
    assert.has_error(function() mat.load(T("na.csv"), {na = 1}) end,
                     "mat.load: opts.na must be a string or a table of strings (got number)")
  end)

  it("skips opts.skip lines, reads CR-only line ends", function()
    writefile(T("s.csv"), "exported by a tool, version 2\nrows follow\nx,y\n1,2\n")
    local m, h = mat.load(T("s.csv"), {skip = 2, header = true})
    assert.equal(mat.from{{1, 2}}, m)
    assert.same({"x", "y"}, h)
    assert.has_error(function() mat.load(T("s.csv"), {skip = -1}) end,
                     "mat.load: opts.skip must be a number of lines (>= 0)")
    writefile(T("cr.csv"), "x,y\r1,2\r3,4\r")
    local c, hc = mat.load(T("cr.csv"), {header = true})
    assert.equal(mat.from{{1, 2}, {3, 4}}, c)
    assert.same({"x", "y"}, hc)
    assert.has_error(function() mat.load(T("c.npy"), {skip = 1}) end,
                     "mat.load: '" .. T("c.npy") .. "': opts.cols, opts.na and opts.skip are "
                     .. "only for text files (.csv, .tsv, .txt)")
  end)

  it("hints at opts.header only when a later line parses", function()
    writefile(T("h1.csv"), "a,b\n1,2\n")
    writefile(T("h2.csv"), "a,b\nc,d\n")
    assert.has_error(function() mat.load(T("h1.csv")) end,
                     "mat.load: '" .. T("h1.csv") .. "', line 1: field 1 is not a number: 'a' "
                     .. "(a header line needs the header option)")
    assert.has_error(function() mat.load(T("h2.csv")) end,
                     "mat.load: '" .. T("h2.csv") .. "', line 1: field 1 is not a number: 'a'")
  end)
end)

describe("Matrix Market as SciPy reads it", function()
  local function mtx(name, text)
    return mat.load(writefile(T(name .. ".mtx"), text))
  end

  it("ignores a value after a pattern entry", function()
    assert.equal(mat.from{{1, 0}, {1, 0}},
                 mtx("pv", "%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 1 5\n2 1 7\n"))
  end)

  it("mirrors symmetric entries above the diagonal; keeps a skew-symmetric diagonal", function()
    assert.equal(mat.from{{0, 5, 0}, {5, 0, 0}, {0, 0, 1}},
                 mtx("sa", "%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n1 2 5\n3 3 1\n"))
    assert.equal(mat.from{{4, 3}, {-3, 0}},
                 mtx("kd", "%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 2\n1 1 4\n1 2 3\n"))
  end)

  it("reads unsigned-integer, '+2' in the size line, '%' after an entry", function()
    assert.equal(mat.from{{0, 2 ^ 64}},
                 mtx("u", "%%MatrixMarket matrix coordinate unsigned-integer general\n"
                          .. "+1 +2 1\n1 2 18446744073709551615 % the largest uint64\n"))
    assert.equal(mat.from{{1}, {2}},
                 mtx("ac", "%%MatrixMarket matrix array real general\n2 1 % size\n1 % first\n2\n"))
  end)
end)
