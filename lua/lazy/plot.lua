-- lazy/plot.lua: pictures of matrices -- mat.plot, mat.scatter, mat.hist,
-- mat.imagesc.  Compiled on the first call of one of them (lua/pictures.lua
-- installs the entry points); returns the four functions.
--
-- DESIGN.  Each call checks its arguments and options, then draws either
-- to a file, through gnuplot (one process per picture, fed a script and
-- the data in binary over a pipe: C.gnuplot), or, without opts.file and
-- with stdout on a terminal, as text on the terminal: braille dots for
-- lines and points, eighth blocks for histogram bars, half blocks in 256
-- or true colours for heatmaps.  Nothing here loops over the elements of
-- the data: a large matrix is first reduced in C to the resolution of the
-- picture (C.block_mean), lines become braille cells in C (C.braille),
-- ranges come from C.finite_range.  User text (titles, labels, legend
-- names) reaches gnuplot only as octal escapes inside double quotes, and
-- every text is drawn "noenhanced": a title is shown, never interpreted.
local mat, C = ...
local M = {}

-- Colour maps: evenly spaced stops, interpolated linearly in RGB (as
-- gnuplot's `set palette defined` does, so files and terminal agree).
local PALETTES = {
  viridis = { "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
              "#1f9e89", "#35b779", "#6ece58", "#fde725" },
  gray = { "#000000", "#ffffff" },
  hot = { "#000000", "#e00000", "#ffd000", "#ffffff" },
  jet = { "#00007f", "#0000ff", "#007fff", "#00ffff", "#7fff7f",
          "#ffff00", "#ff7f00", "#ff0000", "#7f0000" },
  coolwarm = { "#3b4cc0", "#dddddd", "#b40426" },
}

-- Line colours, in turn (Okabe and Ito's colour-blind safe set).
local SERIES = { "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
                 "#d55e00", "#f0e442", "#000000" }

local function fail(fn, fmt, ...)
  C.error(fn .. ": " .. string.format(fmt, ...))
end

local function typename(v)
  return mat.ismatrix(v) and "matrix" or type(v)
end

local function shape(m) return m.rows .. "x" .. m.cols end

local function need_matrix(fn, v, what)
  if not mat.ismatrix(v) then
    fail(fn, "%s must be a matrix (got %s)", what, typename(v))
  end
  if v.rows * v.cols == 0 then fail(fn, "%s is empty (%s)", what, shape(v)) end
end

local function need_vector(fn, v, what)
  need_matrix(fn, v, what)
  if v.rows ~= 1 and v.cols ~= 1 then
    fail(fn, "%s must be a vector (1xn or nx1), got %s", what, shape(v))
  end
  return v.rows * v.cols
end

-- ---- options ---------------------------------------------------------

local function check_string(fn, opts, k)
  local v = opts[k]
  if v ~= nil and type(v) ~= "string" then
    fail(fn, "opts.%s must be a string (got %s)", k, typename(v))
  end
end

local function check_pair(fn, opts, k)
  local v = opts[k]
  if v == nil then return nil end
  if type(v) ~= "table" or #v ~= 2 or type(v[1]) ~= "number"
      or type(v[2]) ~= "number" then
    fail(fn, "opts.%s must be a table of two numbers (got %s)", k, typename(v))
  end
  return v[1], v[2]
end

local function file_kind(fn, file)
  if type(file) ~= "string" then
    fail(fn, "opts.file must be a string (got %s)", typename(file))
  end
  local ext = file:match("%.(%w+)$")
  ext = ext and ext:lower()
  if ext ~= "png" and ext ~= "svg" and ext ~= "pdf" then
    fail(fn, "opts.file must end in .png, .svg or .pdf (got '%s')", file)
  end
  return ext
end

local function palette_of(fn, p)
  if p == nil then return PALETTES.viridis end
  if type(p) == "string" then
    if PALETTES[p] then return PALETTES[p] end
    local names = {}
    for k in pairs(PALETTES) do names[#names + 1] = k end
    table.sort(names)
    fail(fn, "unknown palette '%s' (known: %s, or a table of \"#rrggbb\" colours)",
         p, table.concat(names, ", "))
  end
  local ok = type(p) == "table" and #p >= 2
  for i = 1, ok and #p or 0 do
    ok = ok and type(p[i]) == "string" and p[i]:match("^#%x%x%x%x%x%x$") ~= nil
  end
  if not ok then
    fail(fn, "opts.palette must be a name or a table of at least two \"#rrggbb\" colours")
  end
  return p
end

-- Check the options every picture shares; returns the normalised set.
local function common(fn, opts, known)
  C.check_opts(fn, opts, known)
  opts = opts or {}
  local o = { title = opts.title, xlabel = opts.xlabel, ylabel = opts.ylabel }
  for _, k in ipairs { "title", "xlabel", "ylabel" } do check_string(fn, opts, k) end
  if opts.file ~= nil then o.file, o.kind = opts.file, file_kind(fn, opts.file) end
  local w, h = check_pair(fn, opts, "size")
  if w and (math.type(w) ~= "integer" and w ~= math.floor(w)
            or math.type(h) ~= "integer" and h ~= math.floor(h)
            or w < 16 or h < 16 or w > 16384 or h > 16384) then
    fail(fn, "opts.size must be {w, h}, whole numbers of pixels from 16 to 16384 (got {%s, %s})",
         w, h)
  end
  o.w, o.h = math.tointeger(w or 640), math.tointeger(h or 480)
  if opts.logy ~= nil and type(opts.logy) ~= "boolean" then
    fail(fn, "opts.logy must be a boolean (got %s)", typename(opts.logy))
  end
  o.logy = opts.logy
  return o, opts
end

-- The legend's names for n series (nil: no legend).
local function legend_of(fn, legend, n)
  if legend == nil then return nil end
  if type(legend) ~= "table" then
    fail(fn, "opts.legend must be a table of names (got %s)", typename(legend))
  end
  if #legend ~= n then
    fail(fn, "opts.legend has %d name%s for %d line%s", #legend,
         #legend == 1 and "" or "s", n, n == 1 and "" or "s")
  end
  for i = 1, n do
    if type(legend[i]) ~= "string" then
      fail(fn, "opts.legend[%d] must be a string (got %s)", i, typename(legend[i]))
    end
  end
  return legend
end

-- ---- gnuplot -----------------------------------------------------------

-- A gnuplot string that shows s as it is: every byte but letters, digits
-- and spaces as an octal escape, so no quote, newline, backquote or @ of
-- the user's text can end the string or start a command.
local function gpstr(s)
  return '"' .. s:gsub("[^%w ]", function(c)
    return string.format("\\%03o", c:byte())
  end) .. '"'
end

local function num(x) return string.format("%.17g", x) end

local function header(o)
  local t = {}
  if o.kind == "png" then
    t[1] = string.format("set terminal pngcairo size %d,%d noenhanced", o.w, o.h)
  elseif o.kind == "svg" then
    t[1] = string.format("set terminal svg size %d,%d noenhanced background rgb 'white'",
                         o.w, o.h)
  else
    t[1] = string.format("set terminal pdfcairo size %.4fin,%.4fin noenhanced",
                         o.w / 72, o.h / 72)
  end
  t[#t + 1] = "set encoding utf8"
  for _, k in ipairs { "title", "xlabel", "ylabel" } do
    if o[k] then t[#t + 1] = "set " .. k .. " " .. gpstr(o[k]) .. " noenhanced" end
  end
  if o.logy then t[#t + 1] = "set logscale y" end
  return t
end

-- Run gnuplot on the script lines and the data parts that follow them.
local function gnuplot(fn, o, lines, data)
  local parts = { table.concat(lines, "\n") .. "\n" }
  for _, d in ipairs(data) do parts[#parts + 1] = d end
  local ok, msg, notfound = C.gnuplot(o.file, parts)
  if ok then return end
  if notfound then fail(fn, "gnuplot not found (install gnuplot-nox)") end
  if msg:match("^cannot ") or msg:match("^interrupted") then fail(fn, "%s", msg) end
  local said = msg:match("line %d+: *([^\n]-)%s*\n") or msg:match("([^\n]*%S)")
  fail(fn, "gnuplot: %s", said or msg)
end

-- ---- terminal ----------------------------------------------------------

local function hexrgb(s)
  return tonumber(s:sub(2, 3), 16), tonumber(s:sub(4, 5), 16),
         tonumber(s:sub(6, 7), 16)
end

-- The colour at t in [0, 1] of a palette, as r, g, b.
local function palette_rgb(pal, t)
  local x = t * (#pal - 1)
  local i = math.min(math.floor(x), #pal - 2)
  local f = x - i
  local r1, g1, b1 = hexrgb(pal[i + 1])
  local r2, g2, b2 = hexrgb(pal[i + 2])
  return math.floor(r1 + (r2 - r1) * f + 0.5), math.floor(g1 + (g2 - g1) * f + 0.5),
         math.floor(b1 + (b2 - b1) * f + 0.5)
end

local LEVELS = { 0, 95, 135, 175, 215, 255 }

-- The xterm 256-colour index nearest to r, g, b (the 6x6x6 cube or the
-- grey ramp).
local function xterm256(r, g, b)
  local function level(v)
    local best, bi = math.huge, 1
    for i, l in ipairs(LEVELS) do
      if math.abs(v - l) < best then best, bi = math.abs(v - l), i end
    end
    return bi - 1
  end
  local ri, gi, bi = level(r), level(g), level(b)
  local cr, cg, cb = LEVELS[ri + 1], LEVELS[gi + 1], LEVELS[bi + 1]
  local dc = (r - cr) ^ 2 + (g - cg) ^ 2 + (b - cb) ^ 2
  local gidx = math.max(0, math.min(23, math.floor(((r + g + b) / 3 - 8) / 10 + 0.5)))
  local gv = 8 + 10 * gidx
  local dg = (r - gv) ^ 2 + (g - gv) ^ 2 + (b - gv) ^ 2
  return dg < dc and 232 + gidx or 16 + 36 * ri + 6 * gi + bi
end

-- The terminal the picture is drawn on: columns, rows and colour depth.
local function terminal(fn)
  local env = os.getenv("MPL_PLOT_TERMINAL")
  local w, h
  if env and env ~= "" then
    w, h = env:match("^(%d+)x(%d+)$")
    if not w then
      fail(fn, "MPL_PLOT_TERMINAL must be COLUMNSxROWS, e.g. 80x24 (got '%s')", env)
    end
    w, h = tonumber(w), tonumber(h)
  else
    w, h = C.term_size()
    if not w then
      fail(fn, "stdout is not a terminal: give opts.file (a .png, .svg or .pdf path) to write the picture to a file")
    end
  end
  local ct = (os.getenv("COLORTERM") or ""):lower()
  return { w = math.max(w, 24), h = math.max(h, 8),
           truecolor = ct == "truecolor" or ct == "24bit" }
end

-- The escape that sets the foreground (or background) to r, g, b.
local function sgr(term, bg, r, g, b)
  if term.truecolor then
    return string.format("\27[%d;2;%d;%d;%dm", bg and 48 or 38, r, g, b)
  end
  return string.format("\27[%d;5;%dm", bg and 48 or 38, xterm256(r, g, b))
end

local RESET = "\27[0m"

local function fmt(x)
  local s = string.format("%.4g", math.abs(x) < 1e-12 and 0 or x)
  return s == "-0" and "0" or s
end

-- The middle of lo..hi for a tick label: 0 when it is 0 but for rounding.
local function mid(lo, hi)
  local m = (lo + hi) / 2
  return math.abs(m) < 1e-3 * (hi - lo) and 0 or m
end

local function center(s, w)
  local n = utf8.len(s) or #s
  if n >= w then return s end
  return string.rep(" ", (w - n) // 2) .. s
end

local function pad(s, w) return s .. string.rep(" ", w - (utf8.len(s) or #s)) end
local function rpad(s, w) return string.rep(" ", w - (utf8.len(s) or #s)) .. s end

-- A text line of width w with a at the left, b in the middle, c at the
-- right.
local function spread(w, a, b, c)
  local line = pad(a, w)
  if b and #b + #a + #c + 2 < w then
    local at = (w - #b) // 2
    line = line:sub(1, at) .. b .. line:sub(at + #b + 1)
  end
  return line:sub(1, w - #c) .. c
end

-- Control characters of a title shown on one terminal line.
local function oneline(s) return (s:gsub("%c", " ")) end

local function emit(lines)
  io.stdout:write(table.concat(lines, "\n"), "\n")
  io.stdout:flush()
end

-- ---- lines and points --------------------------------------------------

-- The series of a plot: y a vector (one line) or a matrix (one line per
-- column); x a vector of the same length or nil.
local function series_of(fn, y, x, xname)
  need_matrix(fn, y, "y")
  local list = {}
  if y.rows == 1 or y.cols == 1 then
    list[1] = y
  else
    for j = 1, y.cols do list[j] = y:col(j) end
  end
  local n = list[1].rows * list[1].cols
  if x ~= nil then
    local nx = need_vector(fn, x, xname or "x")
    if nx ~= n then
      fail(fn, "x has %d elements, y's %s %d (y is %s)", nx,
           #list == 1 and "has" or "columns have", n, shape(y))
    end
  end
  return list, n
end

-- A range of one value v becomes v - 0.5 .. v + 0.5.
local function widen(lo, hi)
  if lo < hi then return lo, hi end
  return lo - 0.5, hi + 0.5
end

-- Draw lines (or points) on the terminal.
-- The box the lines are drawn in: x0, x1, y0, y1 (y in log10 with logy).
local function box(fn, o, x, list, n)
  local x0, x1 = 1, n
  if x then x0, x1 = C.finite_range(x) end
  if not x0 then fail(fn, "x has no finite value") end
  x0, x1 = widen(x0, x1)
  local y0, y1
  for _, y in ipairs(list) do
    local a, b = C.finite_range(y, o.logy)
    if a then y0, y1 = math.min(y0 or a, a), math.max(y1 or b, b) end
  end
  if not y0 then
    fail(fn, o.logy and "y has no positive finite value (logy)" or "y has no finite value")
  end
  if o.logy then y0, y1 = math.log(y0, 10), math.log(y1, 10) end
  y0, y1 = widen(y0, y1)
  return x0, x1, y0, y1
end

local function term_lines(fn, o, x, list, n, points, names)
  local term = terminal(fn)
  local x0, x1, y0, y1 = box(fn, o, x, list, n)
  local ylab = function(v) return fmt(o.logy and 10 ^ v or v) end
  local lw = math.max(#ylab(y0), #ylab(y1), #ylab(mid(y0, y1))) + 1
  local reserved = 3 + (o.title and 1 or 0) + (o.xlabel and 1 or 0)
                   + (names and 1 or 0) + (o.ylabel and 1 or 0)
  local w, h = term.w - lw - 2, math.max(2, term.h - reserved)
  local dots = {}
  for s, y in ipairs(list) do
    dots[s] = C.braille(x, y, w, h, x0, x1, y0, y1, points, o.logy)
  end
  local colour = {}
  for s = 1, #list do colour[s] = sgr(term, false, hexrgb(SERIES[(s - 1) % #SERIES + 1])) end
  local out = {}
  if o.title then out[#out + 1] = center(oneline(o.title), term.w) end
  if o.ylabel then out[#out + 1] = oneline(o.ylabel) end
  for r = 1, h do
    local label = r == 1 and ylab(y1) or r == h and ylab(y0)
                  or r == (h + 1) // 2 and ylab(mid(y0, y1)) or ""
    local row = { rpad(label, lw - 1), label ~= "" and " ┤" or " │" }
    local cur
    for c = 1, w do
      local k, bits, who = (r - 1) * w + c, 0, nil
      for s = 1, #list do
        local b = dots[s]:byte(k)
        if b ~= 0 then bits, who = bits | b, s end
      end
      if bits == 0 then
        row[#row + 1] = " "
      else
        if who ~= cur then row[#row + 1], cur = colour[who], who end
        row[#row + 1] = utf8.char(0x2800 + bits)
      end
    end
    if cur then row[#row + 1] = RESET end
    out[#out + 1] = table.concat(row)
  end
  out[#out + 1] = string.rep(" ", lw) .. "└" .. string.rep("─", w)
  out[#out + 1] = string.rep(" ", lw + 1) .. spread(w, fmt(x0), fmt(mid(x0, x1)), fmt(x1))
  if o.xlabel then out[#out + 1] = string.rep(" ", lw + 1) .. center(oneline(o.xlabel), w) end
  if names then
    local t = { string.rep(" ", lw + 1) }
    for s, name in ipairs(names) do
      t[#t + 1] = colour[s] .. (points and "•" or "━━") .. RESET .. " " .. oneline(name) .. "  "
    end
    out[#out + 1] = table.concat(t)
  end
  emit(out)
end

local function file_lines(fn, o, x, list, n, points, names)
  local t = header(o)
  t[#t + 1] = names and "set key top right noenhanced" or "unset key"
  t[#t + 1] = "set grid"
  t[#t + 1] = "set autoscale xfix"
  local style = points and "with points pt 7 ps 0.6" or "with lines lw 1.5"
  local plots, data = {}, {}
  x = x or mat.range(1, n)
  for s, y in ipairs(list) do
    plots[s] = string.format(
      "'-' binary record=(%d) format='%%float64%%float64' using 1:2 %s lc rgb '%s' %s",
      n, style, SERIES[(s - 1) % #SERIES + 1],
      names and ("title " .. gpstr(names[s])) or "notitle")
    data[s] = { x, y }
  end
  t[#t + 1] = "plot " .. table.concat(plots, ", \\\n  ")
  gnuplot(fn, o, t, data)
end

local function draw_lines(fn, o, x, list, n, points, names)
  if o.file then return file_lines(fn, o, x, list, n, points, names) end
  term_lines(fn, o, x, list, n, points, names)
end

-- mat.plot(y [, x] [, opts]): lines; a matrix y gives one per column.
function M.plot(y, x, opts)
  local fn = "mat.plot"
  if opts == nil and type(x) == "table" and not mat.ismatrix(x) then x, opts = nil, x end
  if x ~= nil and not mat.ismatrix(x) then
    fail(fn, "x must be a matrix (got %s)", typename(x))
  end
  local o, raw = common(fn, opts, { "file", "title", "xlabel", "ylabel", "legend", "size", "logy" })
  local list, n = series_of(fn, y, x)
  draw_lines(fn, o, x, list, n, false, legend_of(fn, raw.legend, #list))
end

-- mat.scatter(x, y [, opts]): points; a matrix y gives one set per column.
function M.scatter(x, y, opts)
  local fn = "mat.scatter"
  need_matrix(fn, x, "x")
  local o, raw = common(fn, opts, { "file", "title", "xlabel", "ylabel", "legend", "size", "logy" })
  local list, n = series_of(fn, y, x)
  draw_lines(fn, o, x, list, n, true, legend_of(fn, raw.legend, #list))
end

-- ---- histograms --------------------------------------------------------

local BLOCKS = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }

local function term_hist(fn, o, counts, edges)
  local term = terminal(fn)
  local bins, cmax = counts.cols, counts:max()
  local top = cmax > 0 and cmax or 1
  local height = function(c) -- in eighths of a row, of h rows
    if o.logy then return c > 0 and math.log(1 + c) / math.log(1 + top) or 0 end
    return c / top
  end
  local lw = #fmt(top) + 1
  local reserved = 3 + (o.title and 1 or 0) + (o.xlabel and 1 or 0) + (o.ylabel and 1 or 0)
  local w, h = term.w - lw - 2, math.max(2, term.h - reserved)
  local c = counts:totable()[1]
  local col = {}
  for j = 1, w do -- a column shows the highest of its bins
    local b0 = math.min(bins, (j - 1) * bins // w + 1)
    local most = c[b0]
    for b = b0 + 1, math.min(bins, j * bins // w) do most = math.max(most, c[b]) end
    col[j] = height(most) * h * 8
  end
  local colour = sgr(term, false, hexrgb(SERIES[1]))
  local out = {}
  if o.title then out[#out + 1] = center(oneline(o.title), term.w) end
  if o.ylabel then out[#out + 1] = oneline(o.ylabel) end
  for r = 1, h do
    local label = r == 1 and fmt(top) or r == h and "0" or ""
    local row = { rpad(label, lw - 1), label ~= "" and " ┤" or " │", colour }
    for j = 1, w do
      local e = math.max(0, math.min(8, math.floor(col[j] - (h - r) * 8 + 0.5)))
      row[#row + 1] = BLOCKS[e + 1]
    end
    row[#row + 1] = RESET
    out[#out + 1] = table.concat(row)
  end
  local e = edges:totable()[1]
  out[#out + 1] = string.rep(" ", lw) .. "└" .. string.rep("─", w)
  out[#out + 1] = string.rep(" ", lw + 1) .. spread(w, fmt(e[1]), fmt(mid(e[1], e[bins + 1])), fmt(e[bins + 1]))
  if o.xlabel then out[#out + 1] = string.rep(" ", lw + 1) .. center(oneline(o.xlabel), w) end
  emit(out)
end

local function file_hist(fn, o, counts, edges)
  local bins = counts.cols
  local lo, hi = edges:get(1, 1), edges:get(1, bins + 1)
  local centres = (edges:sub(1, 1, 1, bins) + edges:sub(1, 1, 2, bins + 1)) / 2
  local t = header(o)
  t[#t + 1] = "unset key"
  t[#t + 1] = "set style fill solid 0.85 border lc rgb '#333333'"
  t[#t + 1] = string.format("set xrange [%s:%s]", num(lo), num(hi))
  if not o.logy then t[#t + 1] = "set yrange [0:*]" end
  t[#t + 1] = string.format(
    "plot '-' binary record=(%d) format='%%float64%%float64' using 1:2:(%s) with boxes lc rgb '%s' notitle",
    bins, num((hi - lo) / bins), SERIES[1])
  gnuplot(fn, o, t, { { centres, counts } })
end

-- mat.hist(v [, opts]) -> counts, edges: draws mat.histogram's bars.
function M.hist(v, opts)
  local fn = "mat.hist"
  need_matrix(fn, v, "v")
  local o, raw = common(fn, opts, { "file", "title", "xlabel", "ylabel", "size", "logy", "bins", "range" })
  local bins = raw.bins
  if bins ~= nil and (math.type(bins) ~= "integer" and not (type(bins) == "number" and bins == math.floor(bins)) or bins < 1) then
    fail(fn, "opts.bins must be a positive integer (got %s)", tostring(bins))
  end
  local lo, hi = check_pair(fn, raw, "range")
  if lo and not (lo <= hi and lo > -math.huge and hi < math.huge) then
    fail(fn, "opts.range must be {lo, hi}, finite, lo <= hi (got {%s, %s})", fmt(lo), fmt(hi))
  end
  local counts, edges = mat.histogram(v, math.tointeger(bins or 10), { range = raw.range })
  if o.file then file_hist(fn, o, counts, edges) else term_hist(fn, o, counts, edges) end
  return counts, edges
end

-- ---- heatmaps ----------------------------------------------------------

-- opts.range, checked (nil when absent).
local function colour_range(fn, raw)
  local lo, hi = check_pair(fn, raw, "range")
  if lo and not (lo < hi and lo > -math.huge and hi < math.huge) then
    fail(fn, "opts.range must be {lo, hi}, finite, lo < hi (got {%s, %s})", fmt(lo), fmt(hi))
  end
  return lo and { lo, hi }
end

-- Height of a cell over its width: 1 (square), a number, or nil (fill).
local function aspect_of(fn, a)
  if a == nil or a == "equal" then return 1 end
  if a == "auto" then return nil end
  if type(a) == "number" and a > 0 and a < math.huge then return a end
  fail(fn, "opts.aspect must be \"equal\", \"auto\" or a positive number (got %s)",
       type(a) == "string" and "'" .. a .. "'" or tostring(a))
end

-- m at most r x c (block means when it is larger), and the colour
-- limits: opts.range, else the finite range of m (widened when it is one
-- value; 0..1 without finite values), found in the same pass.
local function reduced(m, r, c, range)
  r, c = math.min(m.rows, r), math.min(m.cols, c)
  local v, lo, hi = m, nil, nil
  if r == m.rows and c == m.cols then
    if not range then lo, hi = C.finite_range(m) end
  else
    v, lo, hi = C.block_mean(m, r, c)
  end
  if range then return v, range[1], range[2] end
  if not lo then return v, 0, 1 end
  return v, widen(lo, hi)
end

-- The pixels (half cells) a heatmap of an R x Cc matrix takes in a pw x
-- ph area: whole pixels per cell when they fit (crisp), else scaled down.
local function image_size(R, Cc, pw, ph, aspect)
  local tw, th = pw, ph
  if aspect then
    local f = math.min(pw / Cc, ph / (R * aspect))
    if f >= 1 and aspect == 1 then f = math.floor(f) end
    tw, th = math.max(1, math.floor(Cc * f)), math.max(1, math.floor(R * aspect * f))
  end
  return tw, th + th % 2
end

local function term_image(fn, o, m, range, pal, aspect)
  local term = terminal(fn)
  local R, Cc = m.rows, m.cols
  local lm = #tostring(R) + 1
  local cbw = 4 + #"-1.234e+56" + 1 -- the colour bar and its labels
  local rows = term.h - 3 - (o.title and 1 or 0) - (o.xlabel and 1 or 0) - (o.ylabel and 1 or 0)
  local tw, th = image_size(R, Cc, math.max(1, term.w - lm - cbw), 2 * math.max(1, rows), aspect)
  local v, lo, hi = reduced(m, th, tw, range)
  v = v:totable()
  local r2, c2 = #v, #v[1]
  local cache, out = {}, {}
  local function colour(x) -- the palette's r, g, b of x as a key, nil for NaN
    if x ~= x then return nil end
    local t = (x - lo) / (hi - lo)
    t = t < 0 and 0 or t > 1 and 1 or t
    local s = cache[t]
    if not s then s = { palette_rgb(pal, t) }; cache[t] = s end
    return s
  end
  local fg, bg -- the colours set on the current line
  local function cell(row, top, bottom) -- a half-block cell of two colours
    local f, b, ch = top, bottom, "▀"
    if not top then f, b, ch = bottom, nil, bottom and "▄" or " " end
    if f and f ~= fg then row[#row + 1], fg = sgr(term, false, f[1], f[2], f[3]), f end
    if b ~= bg then
      row[#row + 1] = b and sgr(term, true, b[1], b[2], b[3]) or "\27[49m"
      bg = b
    end
    row[#row + 1] = ch
  end
  if o.title then out[#out + 1] = center(oneline(o.title), lm + tw + cbw) end
  if o.ylabel then out[#out + 1] = oneline(o.ylabel) end
  local labels = { [1] = fmt(hi), [th // 2] = fmt(lo), [(th // 2 + 1) // 2] = fmt(mid(lo, hi)) }
  for tr = 1, th // 2 do
    local row = { rpad(tr == 1 and "1" or tr == th // 2 and tostring(R) or "", lm - 1), " " }
    local a = v[((2 * tr - 2) * r2) // th + 1]
    local b = v[((2 * tr - 1) * r2) // th + 1]
    fg, bg = nil, nil
    for px = 1, tw do
      local j = ((px - 1) * c2) // tw + 1
      cell(row, colour(a[j]), colour(b[j]))
    end
    local t1 = 1 - (2 * tr - 2) / math.max(1, th - 1)
    local t2 = 1 - (2 * tr - 1) / math.max(1, th - 1)
    local c1, c3 = colour(lo + t1 * (hi - lo)), colour(lo + t2 * (hi - lo))
    row[#row + 1] = RESET .. "  "
    fg, bg = nil, nil
    cell(row, c1, c3)
    cell(row, c1, c3)
    row[#row + 1] = RESET .. (labels[tr] and " " .. labels[tr] or "")
    out[#out + 1] = table.concat(row)
  end
  out[#out + 1] = string.rep(" ", lm) .. spread(tw, "1", nil, tostring(Cc))
  if o.xlabel then out[#out + 1] = string.rep(" ", lm) .. center(oneline(o.xlabel), tw) end
  emit(out)
end

local function file_image(fn, o, m, range, pal, aspect)
  local R, Cc = m.rows, m.cols
  -- no more pixels than the picture can show (square cells: a square)
  local tw, th = o.w, o.h
  if aspect then
    tw = math.ceil(math.min(o.w, o.h * Cc / (R * aspect)))
    th = math.ceil(math.min(o.h, o.w * R * aspect / Cc))
  end
  local v, lo, hi = reduced(m, th, tw, range)
  -- values outside the colour range take its end colours: clamped here
  -- (in C) rather than by an expression gnuplot evaluates per pixel, which
  -- costs it seconds on a large picture
  v = v:clip(lo, hi)
  local r2, c2 = v.rows, v.cols
  local t = header(o)
  local stops = {}
  for i, c in ipairs(pal) do stops[i] = string.format("%s '%s'", num((i - 1) / (#pal - 1)), c) end
  t[#t + 1] = "set palette defined (" .. table.concat(stops, ", ") .. ")"
  t[#t + 1] = string.format("set cbrange [%s:%s]", num(lo), num(hi))
  t[#t + 1] = string.format("set xrange [0.5:%s]", num(Cc + 0.5))
  t[#t + 1] = string.format("set yrange [%s:0.5]", num(R + 0.5))
  if aspect then t[#t + 1] = "set size ratio " .. num(-aspect) end
  t[#t + 1] = "unset key"
  t[#t + 1] = "set tics out"
  -- gnuplot draws images of at least 2 x 2 pixels: a single row or
  -- column is sent twice
  local data = { v }
  if c2 == 1 then data, c2 = { { v, v } }, 2 end
  if r2 == 1 then data, r2 = { data[1], data[1] }, 2 end
  local dx, dy = Cc / c2, R / r2
  t[#t + 1] = string.format(
    "plot '-' binary array=(%d,%d) dx=%s dy=%s origin=(%s,%s) format='%%float64'"
    .. " with image",
    c2, r2, num(dx), num(dy), num(0.5 + dx / 2), num(0.5 + dy / 2))
  gnuplot(fn, o, t, data)
end

-- mat.imagesc(m [, opts]): a heatmap with a colour bar, row 1 on top.
function M.imagesc(m, opts)
  local fn = "mat.imagesc"
  need_matrix(fn, m, "m")
  local o, raw = common(fn, opts, { "file", "title", "xlabel", "ylabel", "size", "palette", "range", "aspect" })
  local pal = palette_of(fn, raw.palette)
  local aspect = aspect_of(fn, raw.aspect)
  local range = colour_range(fn, raw)
  if o.file then file_image(fn, o, m, range, pal, aspect)
  else term_image(fn, o, m, range, pal, aspect) end
end

return M
