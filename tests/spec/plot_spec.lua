-- plot_spec.lua: pictures (mat.plot, scatter, hist, imagesc) and
-- mat.histogram.  The pictures are looked at: PNG files are decoded
-- (tests/tools/png_colours.py, python3's zlib only) for their size and
-- colours, SVG files counted for their elements, terminal drawings parsed
-- cell by cell (character, foreground and background colour).  Terminal
-- drawings are forced with MPL_PLOT_TERMINAL in a child `mpl`, and drawn
-- once for real on a tmux pane.  mat.histogram is compared with NumPy bit
-- for bit.  gnuplot (Debian's gnuplot-nox) must be installed.

local mat = require "mat"
local tmux = require "tmux"

local MPL = os.getenv("MPL_BIN") or "mpl"
local SRC = os.getenv("MPL_SOURCE_DIR") or ".."
local util = require "util"
local PY, shquote = util.PY, util.shquote
local readfile, writefile = util.readfile, util.writefile

local function exists(path) return readfile(path) ~= nil end

local dir
setup(function()
  assert(os.execute("command -v gnuplot >/dev/null 2>&1"),
         "gnuplot is needed (Debian: apt-get install gnuplot-nox)")
  dir = util.tmpdir()
end)

teardown(function() util.rmtree(dir) end)

local function path(name) return dir .. "/" .. name end

-- Run shell command cmd; its stdout, stderr and whether it succeeded.
local function sh(cmd)
  local out, err = path("out.txt"), path("err.txt")
  local ok = os.execute("timeout 60 " .. cmd .. " >" .. out .. " 2>" .. err .. " </dev/null")
  return readfile(out), readfile(err), ok
end

-- Run an mpl chunk in a child with extra environment (a string of
-- NAME=value words); returns stdout, stderr, success.
local function mpl(code, env)
  return sh("env -u LUA_INIT -u LUA_INIT_5_4 -u MPL_PLOT_TERMINAL -u COLORTERM "
            .. (env or "") .. " " .. shquote(MPL) .. " -e " .. shquote(code))
end

-- Decode a PNG: { w, h, sha, colours = { ["r,g,b"] = {n, cx, cy} } }.
local function png(file)
  local out, err, ok = sh(shquote(PY) .. " " .. shquote(SRC .. "/tests/tools/png_colours.py")
                          .. " " .. shquote(file))
  assert(ok, "png_colours.py failed: " .. tostring(err))
  local p = { colours = {} }
  p.w, p.h = out:match("size (%d+) (%d+)")
  p.w, p.h = tonumber(p.w), tonumber(p.h)
  p.sha = out:match("pixels (%x+)")
  for r, g, b, n, sx, sy in out:gmatch("colour (%d+) (%d+) (%d+) (%d+) (%d+) (%d+)") do
    n = tonumber(n)
    p.colours[r .. "," .. g .. "," .. b] = { n = n, cx = sx / n, cy = sy / n }
  end
  return p
end

local function hex(c)
  return string.format("%d,%d,%d", tonumber(c:sub(2, 3), 16), tonumber(c:sub(4, 5), 16),
                       tonumber(c:sub(6, 7), 16))
end

-- The cells of a terminal drawing: lines of { ch, fg, bg } (colours as
-- "r,g,b" for true colour escapes, "#n" for 256-colour ones, nil for the
-- default).
local function cells(text)
  local lines = {}
  for line in text:gmatch("([^\n]*)\n") do
    local row, fg, bg, i = {}, nil, nil, 1
    while i <= #line do
      local esc = line:match("^\27%[([%d;]*)m", i)
      if esc then
        i = i + #esc + 3
        local p = {}
        for v in esc:gmatch("%d+") do p[#p + 1] = tonumber(v) end
        local k = 1
        while k <= #p do
          local code = p[k]
          if code == 0 then fg, bg, k = nil, nil, k + 1
          elseif code == 39 then fg, k = nil, k + 1
          elseif code == 49 then bg, k = nil, k + 1
          elseif (code == 38 or code == 48) and p[k + 1] == 2 then
            local c = p[k + 2] .. "," .. p[k + 3] .. "," .. p[k + 4]
            if code == 38 then fg = c else bg = c end
            k = k + 5
          elseif (code == 38 or code == 48) and p[k + 1] == 5 then
            if code == 38 then fg = "#" .. p[k + 2] else bg = "#" .. p[k + 2] end
            k = k + 3
          else
            k = k + 1
          end
        end
      else
        local ch = line:match("^[%z\1-\127\194-\244][\128-\191]*", i)
        row[#row + 1] = { ch = ch, fg = fg, bg = bg }
        i = i + #ch
      end
    end
    lines[#lines + 1] = row
  end
  return lines
end

local function text_of(row, a, b)
  local t = {}
  for k = a or 1, b or #row do t[#t + 1] = row[k].ch end
  return table.concat(t)
end

describe("mat.histogram", function()
  local function numpy(m, bins, range)
    local f = path("h.npy")
    mat.save(f, m)
    local code = "import sys, numpy as np\n" ..
      "a = np.load(sys.argv[1]).ravel()\n" ..
      (range and "" or "a = a[np.isfinite(a)]\n") ..
      "c, e = np.histogram(a, bins=int(sys.argv[2])" ..
      (range and (", range=(" .. string.format("%.17g, %.17g", range[1], range[2]) .. ")") or "") .. ")\n" ..
      "print(' '.join(float(x).hex() for x in c)); print(' '.join(float(x).hex() for x in e))\n"
    local out, err, ok = sh(shquote(PY) .. " -c " .. shquote(code) .. " " .. f .. " " .. bins)
    assert(ok, "numpy failed: " .. tostring(err))
    local c, e = out:match("([^\n]*)\n([^\n]*)")
    return c, e
  end

  local function hexes(m)
    local t = {}
    for j = 1, m.cols do
      local v = m:get(1, j)
      t[j] = v == 0 and "0x0.0p+0" or string.format("%a", v)
    end
    return table.concat(t, " ")
  end

  -- Python's float.hex and C's %a spell numbers differently; compare values.
  local function same(ours, theirs)
    local i = 0
    for h in theirs:gmatch("%S+") do
      i = i + 1
      local v = ours:get(1, i)
      local mant, exp = h:match("^(-?0x[%x.]+)p([+-]%d+)$")
      local sign = mant:sub(1, 1) == "-" and -1 or 1
      local ip, fp = mant:match("0x(%x+)%.?(%x*)")
      local x = tonumber(ip, 16) + (fp ~= "" and tonumber(fp, 16) / 16 ^ #fp or 0)
      local want = sign * x * 2.0 ^ tonumber(exp)
      if v ~= want then return false, i, v, want end
    end
    return i == ours.cols
  end

  local cases = {
    { "normal data, 10 bins", function() mat.seed(3) return mat.randn(1, 1000) end, 10 },
    { "matrix, 7 bins", function() mat.seed(4) return mat.rand(30, 20) * 3 - 1 end, 7 },
    { "integers on the edges", function() return mat.range(0, 100):reshape(1, 101) end, 20 },
    { "one value", function() return mat.new(3, 4, 2.5) end, 5 },
    { "NaN and infinities left out", function()
        return mat.from { { 0 / 0, 1, 2, math.huge, 3, -math.huge, 3, 0.1 } } end, 4 },
    { "tenths (edges rounded)", function() return mat.linspace(0, 1, 11) end, 10 },
    { "a range", function() mat.seed(5) return mat.randn(1, 500) end, 8, { -1, 2 } },
    { "a range with NaN", function() return mat.from { { 0 / 0, -1, 0, 0.5, 1, 2 } } end, 3, { 0, 1 } },
    { "a degenerate range", function() return mat.from { { 1, 1, 2 } } end, 3, { 1, 1 } },
  }
  for _, case in ipairs(cases) do
    it("matches NumPy bit for bit: " .. case[1], function()
      local m, bins, range = case[2](), case[3], case[4]
      local c, e = mat.histogram(m, bins, range and { range = range } or nil)
      local nc, ne = numpy(m, bins, range)
      assert.are.equal(1, c.rows)
      assert.are.equal(bins, c.cols)
      assert.are.equal(bins + 1, e.cols)
      local ok, i, a, b = same(c, nc)
      assert(ok, "counts differ at " .. tostring(i) .. ": " .. tostring(a) .. " vs " .. tostring(b) .. "\n" .. hexes(c) .. "\n" .. nc)
      ok, i, a, b = same(e, ne)
      assert(ok, "edges differ at " .. tostring(i) .. ": " .. tostring(a) .. " vs " .. tostring(b) .. "\n" .. hexes(e) .. "\n" .. ne)
    end)
  end

  it("counts every finite value once, the last bin closed", function()
    local c, e = mat.histogram(mat.from { { 0, 1, 2, 3, 4 } }, 4)
    assert.are.same({ { 1, 1, 1, 2 } }, c:totable())
    assert.are.same({ { 0, 1, 2, 3, 4 } }, e:totable())
    c = mat.histogram(mat.from { { 0 / 0, 0 / 0 } }, 2)
    assert.are.same({ { 0, 0 } }, c:totable())
    -- empty matrices, however many rows they claim: range 0..1, nothing counted
    for _, m in ipairs { mat.zeros(0, 3), mat.zeros(1 << 62, 0), mat.zeros(0, 1 << 62):t() } do
      c, e = mat.histogram(m, 2)
      assert.are.same({ { 0, 0 } }, c:totable())
      assert.are.same({ { 0, 0.5, 1 } }, e:totable())
    end
    c, e = mat.histogram(mat.from { { 1, 2, 3 } })
    assert.are.equal(10, c.cols)
    c, e = mat.histogram(mat.from { { 1, 2, 3 } }, { range = { 0, 10 } })
    assert.are.same({ { 0, 1, 1, 1, 0, 0, 0, 0, 0, 0 } }, c:totable())
    -- a strided view counts the same as its copy
    local m = mat.rand(40, 30)
    local v = m:t():sub(3, 20, 5, 33)
    assert.are.same(mat.histogram(v:copy(), 6):totable(), mat.histogram(v, 6):totable())
  end)

  it("refuses bad arguments", function()
    local m = mat.ones(2, 2)
    local function err(f) local ok, e = pcall(f) assert.is_false(ok) return e end
    assert.matches("mat.histogram: bins must be a positive integer %(got 0%)",
                   err(function() mat.histogram(m, 0) end))
    assert.matches("mat.histogram: bins must be an integer %(got 2.5%)",
                   err(function() mat.histogram(m, 2.5) end))
    assert.matches("mat.histogram: unknown option 'bins' %(known: range%)",
                   err(function() mat.histogram(m, 3, { bins = 4 }) end))
    assert.matches("mat.histogram: opts.range must have lo <= hi",
                   err(function() mat.histogram(m, 3, { range = { 2, 1 } }) end))
    assert.matches("mat.histogram: opts.range must be finite",
                   err(function() mat.histogram(m, 3, { range = { 0, math.huge } }) end))
    assert.matches("mat.histogram: opts.range must be {lo, hi}",
                   err(function() mat.histogram(m, 3, { range = { 1 } }) end))
    assert.matches("mat.histogram: bad argument #1 %(matrix expected, got string%)",
                   err(function() mat.histogram("x", 3) end))
  end)
end)

describe("pictures in files", function()
  it("writes a PNG heatmap of the requested size, palette colours at the extremes, row 1 on top", function()
    local f = path("h.png")
    -- the minimum at the top left, the maximum at the bottom right
    local m = mat.from { { 0, 0.5 }, { 0.5, 1 } }
    mat.imagesc(m, { file = f, size = { 300, 200 }, palette = { "#ff0000", "#0000ff" } })
    local p = png(f)
    assert.are.equal(300, p.w)
    assert.are.equal(200, p.h)
    local lo, hi = p.colours["255,0,0"], p.colours["0,0,255"]
    assert(lo and lo.n > 400, "no cell in the palette's first colour")
    assert(hi and hi.n > 400, "no cell in the palette's last colour")
    assert(lo.cy < hi.cy, "row 1 is not on top")
    assert(lo.cx < hi.cx, "column 1 is not on the left")
    -- the middle value gets the palette's middle colour (in the cells
    -- and on the colour bar)
    local mid = p.colours["128,0,128"] or p.colours["127,0,128"] or p.colours["128,0,127"]
    assert(mid and mid.n > 2 * 400, "no cells in the middle colour")
  end)

  it("uses the default palette (viridis) and is not blank", function()
    local f = path("v.png")
    mat.seed(1)
    mat.imagesc(mat.randn(30, 30), { file = f, size = { 200, 160 }, title = "t" })
    local p = png(f)
    assert.are.equal(200, p.w)
    assert.are.equal(160, p.h)
    local n = 0
    for _ in pairs(p.colours) do n = n + 1 end
    assert(n > 50, "too few colours: " .. n)
    assert(p.colours[hex("#440154")], "viridis' first colour is missing")
    assert(p.colours[hex("#fde725")], "viridis' last colour is missing")
    local white = p.colours["255,255,255"]
    assert(p.w * p.h - white.n > 5000, "mostly blank")
  end)

  it("honours opts.range (colour limits): values beyond it take the end colours", function()
    local f = path("r.png")
    mat.imagesc(mat.from { { -5, 5 } }, { file = f, size = { 200, 120 }, range = { -1, 1 },
                                          palette = { "#ff0000", "#00ff00" } })
    local p = png(f)
    assert(p.colours["255,0,0"] and p.colours["0,255,0"])
  end)

  it("draws a large matrix reduced to the picture's resolution", function()
    local f = path("big.png")
    local half = {}
    for j = 1, 2000 do half[j] = j > 1000 and 1 or 0 end
    local m = mat.ones(3000, 1) * mat.from(half)
    mat.imagesc(m, { file = f, size = { 300, 240 }, palette = { "#ff0000", "#0000ff" } })
    local p = png(f)
    local lo, hi = p.colours["255,0,0"], p.colours["0,0,255"]
    assert(lo and hi and lo.n > 500 and hi.n > 500, "halves not drawn")
    assert(lo.cx < hi.cx)
  end)

  it("writes SVG lines, one per column, with the legend's names", function()
    local f = path("l.svg")
    mat.plot(mat.rand(20, 3), mat.range(1, 20), { file = f, legend = { "alpha", "beta", "gamma" },
                                                   title = "three", xlabel = "x", ylabel = "y" })
    local s = readfile(f)
    assert.matches("^<%?xml", s)
    for _, c in ipairs { "0, 114, 178", "230, 159,   0", "0, 158, 115" } do
      assert(s:find("stroke='rgb(" .. (c:match("^%d%d%d") and "" or "  ") .. c .. ")'", 1, true),
             "no line in colour " .. c)
    end
    assert.is_nil(s:find("204, 121, 167", 1, true)) -- no fourth line
    for _, name in ipairs { "alpha", "beta", "gamma", "three" } do
      assert(s:find("<text>" .. name .. "</text>", 1, true), "no text " .. name)
    end
  end)

  it("writes one SVG point per scatter point", function()
    local f = path("p.svg")
    mat.scatter(mat.rand(1, 37), mat.rand(37, 1), { file = f })
    local _, n = readfile(f):gsub("<use xlink:href='#gpPt6' transform=", "")
    assert.are.equal(37, n)
  end)

  it("draws histogram bars as high as the counts and returns them", function()
    local f = path("h.svg")
    local c, e = mat.hist(mat.from { { 1, 2, 2, 3, 3, 3, 4, 4, 4, 4 } }, { file = f, bins = 4 })
    assert.are.same({ { 1, 2, 3, 4 } }, c:totable())
    assert.are.same({ { 1, 1.75, 2.5, 3.25, 4 } }, e:totable())
    local heights = {}
    for pts in readfile(f):gmatch("<polygon fill = 'rgb%(  0, 114, 178%)'[^>]*points = '([^']*)'") do
      local ys = {}
      for y in pts:gmatch(",([%d.]+)") do ys[#ys + 1] = tonumber(y) end
      heights[#heights + 1] = math.max(table.unpack(ys)) - math.min(table.unpack(ys))
    end
    assert.are.equal(4, #heights)
    for i = 2, 4 do
      assert(math.abs(heights[i] / heights[1] - i) < 0.02, "bar " .. i .. " is not " .. i .. " times bar 1")
    end
  end)

  it("writes a PDF", function()
    local f = path("s.pdf")
    mat.scatter(mat.rand(1, 10), mat.rand(1, 10), { file = f, size = { 360, 288 } })
    local s = readfile(f)
    assert.matches("^%%PDF%-", s)
    assert.matches("%%%%EOF%s*$", s)
    assert(s:find("/MediaBox [ 0 0 360 288 ]", 1, true), "not 360x288 points")
  end)

  it("draws hostile text as text and never executes it", function()
    local f = path("hostile.svg")
    local mark = path("pwned")
    local evil = 'q"uote\' back\\slash\\" ; `touch ' .. mark .. '1`\n'
      .. '" ; system("touch ' .. mark .. '2") ; "\n!touch ' .. mark .. '3\n'
      .. 'set output "' .. mark .. '4"\n@x $y & <b>'
    mat.plot(mat.rand(1, 5), { file = f, title = evil, xlabel = evil, ylabel = evil,
                               legend = { evil } })
    for i = 1, 4 do assert.is_false(exists(mark .. i), "gnuplot ran " .. mark .. i) end
    local s = readfile(f)
    assert(s:find("`touch " .. mark .. "1`", 1, true), "title not drawn")
    assert(s:find('system(&quot;touch ' .. mark .. '2&quot;)', 1, true)
           or s:find('system("touch ' .. mark .. '2")', 1, true), "title line 2 not drawn")
    assert(s:find("!touch " .. mark .. "3", 1, true))
    assert(s:find("<text>@x $y &amp; &lt;b></text>", 1, true))
  end)

  it("turns gnuplot's errors into errors naming the call, and keeps the old file", function()
    local f = writefile(path("keep.png"), "old")
    local ok, e = pcall(function() mat.plot(mat.from { { -1, -2, -3 } }, { file = f, logy = true }) end)
    assert.is_false(ok)
    assert.matches("^[^:]*plot_spec.lua:%d+: mat.plot: gnuplot: all points y value undefined!$", e)
    assert.are.equal("old", readfile(f))
    local out = sh("ls -A " .. shquote(dir))
    assert.is_nil(out:find("keep.png.", 1, true), "a temporary file was left: " .. out)
    ok, e = pcall(mat.imagesc, mat.ones(2, 2), { file = path("no/such/dir.png") })
    assert.matches("mat.imagesc: cannot write '.*no/such/dir.png': No such file or directory", e)
  end)

  it("says to install gnuplot-nox when there is no gnuplot", function()
    local empty = path("empty")
    os.execute("mkdir -p " .. shquote(empty))
    local f = path("none.png")
    local _, err, ok = mpl("mat.plot(mat.ones(1, 3), {file = " .. string.format("%q", f) .. "})",
                           "PATH=" .. empty)
    assert.is_falsy(ok)
    assert.matches("mat.plot: gnuplot not found %(install gnuplot%-nox%)", err)
    assert.is_false(exists(f))
    _, err = mpl("mat.imagesc(mat.ones(3, 3), {file = " .. string.format("%q", f) .. "})",
                 "PATH=" .. empty)
    assert.matches("mat.imagesc: gnuplot not found %(install gnuplot%-nox%)", err)
  end)

  it("stops gnuplot on Ctrl-C, raises 'interrupted' and writes no file", function()
    -- a stand-in for gnuplot that presses Ctrl-C for the user, then hangs
    local fake = path("fake")
    os.execute("mkdir -p " .. shquote(fake))
    writefile(fake .. "/gnuplot", "#!/bin/sh\nkill -INT $PPID\nexec sleep 60\n")
    os.execute("chmod +x " .. shquote(fake .. "/gnuplot"))
    local f = path("int.png")
    local t = mat.clock()
    local out, err = mpl("local ok, e = pcall(function() mat.plot(mat.ones(1, 3), {file = "
                         .. string.format("%q", f) .. "}) end) print(e)",
                         "PATH=" .. fake .. ":/usr/bin:/bin")
    assert.matches("mat.plot: interrupted", out or "", 1, false, err)
    assert(mat.clock() - t < 30, "gnuplot was not stopped")
    assert.is_false(exists(f))
    assert.is_nil(sh("ls -A " .. shquote(dir)):find("int.png.", 1, true))
  end)

  it("asks for a file when stdout is not a terminal", function()
    local _, err, ok = mpl("mat.imagesc(mat.eye(3))")
    assert.is_falsy(ok)
    assert.matches("mat.imagesc: stdout is not a terminal: give opts.file %(a .png, .svg or .pdf path%)", err)
  end)
end)

describe("options", function()
  local function err(f, ...)
    local ok, e = pcall(f, ...)
    assert.is_false(ok)
    return e
  end
  local v = mat.from { { 1, 2, 3 } }

  it("are strict", function()
    assert.matches("mat.plot: unknown option 'palette' %(known: file, legend, logy, size, title, xlabel, ylabel%)",
                   err(mat.plot, v, { palette = "gray" }))
    assert.matches("mat.scatter: unknown option 'bins' %(known: file, legend, logy, size, title, xlabel, ylabel%)",
                   err(mat.scatter, v, v, { bins = 3 }))
    assert.matches("mat.hist: unknown option 'legend' %(known: bins, file, logy, range, size, title, xlabel, ylabel%)",
                   err(mat.hist, v, { legend = {} }))
    assert.matches("mat.imagesc: unknown option 'logy' %(known: aspect, file, palette, range, size, title, xlabel, ylabel%)",
                   err(mat.imagesc, v, { logy = true }))
  end)

  it("are checked", function()
    assert.matches("mat.plot: opts.file must end in .png, .svg or .pdf %(got 'x.jpg'%)",
                   err(mat.plot, v, { file = "x.jpg" }))
    assert.matches("mat.plot: opts.title must be a string %(got number%)",
                   err(mat.plot, v, { title = 3, file = "x.png" }))
    assert.matches("mat.plot: opts.legend has 2 names for 1 line",
                   err(mat.plot, v, { legend = { "a", "b" }, file = "x.png" }))
    assert.matches("mat.plot: opts.legend has 1 name for 3 lines",
                   err(mat.plot, mat.ones(4, 3), { legend = { "a" }, file = "x.png" }))
    assert.matches("mat.plot: opts.size must be {w, h}",
                   err(mat.plot, v, { size = { 0, 10 }, file = "x.png" }))
    assert.matches("mat.plot: opts.logy must be a boolean %(got string%)",
                   err(mat.plot, v, { logy = "yes", file = "x.png" }))
    assert.matches("mat.plot: x has 2 elements, y's has 3 %(y is 1x3%)",
                   err(mat.plot, v, mat.ones(1, 2), { file = "x.png" }))
    assert.matches("mat.plot: y must be a matrix %(got string%)", err(mat.plot, "y"))
    assert.matches("mat.scatter: x must be a vector %(1xn or nx1%), got 2x2",
                   err(mat.scatter, mat.ones(2, 2), mat.ones(4, 1)))
    assert.matches("mat.hist: opts.bins must be a positive integer %(got 0%)",
                   err(mat.hist, v, { bins = 0 }))
    assert.matches("mat.imagesc: unknown palette 'nope' %(known: coolwarm, gray, hot, jet, viridis",
                   err(mat.imagesc, v, { palette = "nope" }))
    assert.matches("mat.imagesc: opts.palette must be a name or a table of at least two",
                   err(mat.imagesc, v, { palette = { "#fff" } }))
    assert.matches("mat.imagesc: opts.range must be {lo, hi}, finite, lo < hi %(got {1, 1}%)",
                   err(mat.imagesc, v, { range = { 1, 1 } }))
    assert.matches("mat.imagesc: opts.aspect must be \"equal\", \"auto\" or a positive number %(got 'wide'%)",
                   err(mat.imagesc, v, { aspect = "wide" }))
    assert.matches("mat.imagesc: m is empty %(0x3%)", err(mat.imagesc, mat.zeros(0, 3)))
  end)

  it("name the user's line", function()
    local e = err(function() mat.plot(v, { file = "x.jpg" }) end)
    assert.matches("^[^:]*plot_spec.lua:%d+: ", e)
  end)
end)

describe("pictures on the terminal", function()
  it("draws a heatmap as half blocks in true colour", function()
    -- 2x2 on a 40x12 terminal: each matrix cell is k x k pixels
    local out, err = mpl("mat.imagesc(mat.from{{0, 1}, {2, 0/0}}, {palette = 'gray'})",
                         "MPL_PLOT_TERMINAL=40x12 COLORTERM=truecolor")
    assert(out and out ~= "", err)
    local L = cells(out)
    local img = {}
    for _, row in ipairs(L) do
      local first
      for k, c in ipairs(row) do
        if c.ch == "▀" or c.ch == "▄" then first = first or k end
      end
      if first then img[#img + 1] = { row = row, at = first } end
    end
    assert(#img >= 4, "no image rows:\n" .. out)
    local top, bottom = img[1], img[#img]
    local c = top.row[top.at]
    assert.are.same({ "▀", "0,0,0", "0,0,0" }, { c.ch, c.fg, c.bg }) -- value 0: black
    -- the right half of the top rows is value 1 (the middle of the range)
    local k = top.at
    while top.row[k + 1] and top.row[k + 1].fg == "0,0,0" do k = k + 1 end
    local width = k - top.at + 1
    c = top.row[k + 1]
    assert.are.same({ "▀", "128,128,128", "128,128,128" }, { c.ch, c.fg, c.bg })
    -- the bottom rows: value 2 (white) on the left, NaN (nothing) on the right
    c = bottom.row[bottom.at]
    assert.are.same({ "▀", "255,255,255", "255,255,255" }, { c.ch, c.fg, c.bg })
    c = bottom.row[bottom.at + width]
    assert.are.equal(" ", c.ch)
    assert.is_nil(c.bg)
    -- the colour bar: white at the top, black at the bottom, with the limits
    assert.matches("▀▀ 2$", text_of(top.row))
    assert.matches("▀▀ 0$", text_of(bottom.row))
  end)

  it("draws a heatmap in 256 colours without COLORTERM", function()
    local out = mpl("mat.imagesc(mat.from{{0, 1}}, {palette = 'gray'})", "MPL_PLOT_TERMINAL=30x8")
    local L = cells(out)
    local seen = {}
    for _, row in ipairs(L) do
      for _, c in ipairs(row) do if c.ch == "▀" then seen[c.fg] = true end end
    end
    assert(seen["#16"], "no black (16)") -- the cube's black
    assert(seen["#231"], "no white (231)") -- the cube's white
  end)

  it("draws a large heatmap reduced to the terminal", function()
    local out = mpl("local t = {} for j = 1, 2000 do t[j] = j > 1000 and 1 or 0 end"
                    .. " local m = mat.ones(2000, 1) * mat.from(t)"
                    .. " m:set(1, 1, 0/0); mat.imagesc(m, {palette = 'gray'})",
                    "MPL_PLOT_TERMINAL=50x14 COLORTERM=truecolor")
    local L = cells(out)
    local row, at
    for _, r in ipairs(L) do
      for k, c in ipairs(r) do if c.ch == "▀" then row, at = r, k break end end
      if row then break end
    end
    assert(row, out)
    assert.are.same("0,0,0", row[at].fg) -- the block with a NaN is the mean of the rest
    local last = at
    while row[last + 1] and row[last + 1].ch == "▀" do last = last + 1 end
    assert.are.same("255,255,255", row[last].fg)
  end)

  it("draws a line in braille", function()
    local out = mpl("mat.plot(mat.from{{1, 1, 1, 1}}, {title = 'flat'})",
                    "MPL_PLOT_TERMINAL=40x12")
    local L = cells(out)
    assert.matches("^%s*flat$", text_of(L[1]))
    local dotted = {}
    for i, row in ipairs(L) do
      local t = text_of(row)
      if t:find("[\226][\160-\163]") then dotted[#dotted + 1] = { i = i, t = t } end
    end
    assert.are.equal(1, #dotted, "one row of dots:\n" .. out)
    local line = dotted[1].t:match("│(.*)$") or dotted[1].t:match("┤(.*)$")
    local ch = line:match("^[\226][\160-\163][\128-\191]")
    assert.are.equal(line, ch:rep(#line // #ch), "a straight line of one character")
    assert.truthy(({ ["⠉"] = 1, ["⠒"] = 1, ["⠤"] = 1, ["⣀"] = 1 })[ch])
    assert.matches("^%s+1%s+2.5%s+4$", text_of(L[#L]))
  end)

  it("draws histogram bars with blocks", function()
    local out = mpl("local c = mat.hist(mat.from{{1, 2, 2}}, {bins = 2}); print(c)",
                    "MPL_PLOT_TERMINAL=30x8")
    local L = cells(out)
    -- bins of 1 and 2: the right half full height, the left half half as high
    local top = text_of(L[1]):gsub("█", "#")
    assert.matches("^2 ┤ +#+$", top)
    assert.matches("mat 1x2\n%[%[1%. 2%.%]%]", out)
  end)

  it("draws in a real terminal (tmux)", function()
    if not tmux.available() then return pending("tmux not installed") end
    local s = tmux.new()
    local ok, e = pcall(function()
      s:start("env -u MPL_PLOT_TERMINAL " .. shquote(MPL)
              .. " -e 'mat.plot(mat.linspace(0, 6.28, 100):sin():t())'; sleep 30", 80, 24)
      local pane = s:expect("└─")
      assert(pane:find("[\226][\160-\163]"), "no braille in:\n" .. pane)
    end)
    s:close()
    assert(ok, e)
  end)
end)

describe("the pictures in docs/lua/plot.md", function()
  it("are what the examples there draw", function()
    local _, err, ok = sh(shquote(MPL) .. " " .. shquote(SRC .. "/tests/tools/doc_pictures.lua")
                          .. " " .. shquote(SRC))
    assert(ok, err)
  end)
end)
