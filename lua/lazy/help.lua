-- lazy/help.lua: the work behind mat.help and the REPL's hooks, compiled
-- the first time one is used (lua/help.lua loads it; see there).
--
-- DESIGN: the reference pages docs/lua/*.md are the one source of help.
-- They are embedded into the binary (C.doc_pages) and parsed here, once.
-- An entry is a section of a page (a heading down to the next heading);
-- the names it documents are its signatures: the code spans of its
-- heading and of the first cell of its table rows that start with
-- `mat.name` or `m:name` (a method), and the names listed on a
-- `<!-- help: ... -->` line.  help(x) prints the entry of x's name;
-- tests/spec/help_spec.lua checks that every function and method has one.
-- Called with the module, the private C helpers and the REPL's table
-- (whose `timing` the \time command sets); returns the functions.
local mat, C, repl = ...

local MT = C.registry()["mat.matrix"]

local function is_matrix(v) return getmetatable(v) == MT end

---------------------------------------------------------------------------
-- Parsing the pages
---------------------------------------------------------------------------

-- The names (mat.x or m:x) a code span starts with, with the span.
local function span_name(span)
  local n = span:match("^(mat%.[%a_][%w_%.]*[%w_])")
  if n then return n end
  local m = span:match("^[%a_][%w_]*:([%a_][%w_]*)%(")
  if m then return "m:" .. m end
end

-- Split a help marker's list at blanks outside brackets.
local function split_marker(s)
  local out, cur, depth = {}, {}, 0
  for ch in s:gmatch(".") do
    if ch:match("[%(%[{]") then depth = depth + 1
    elseif ch:match("[%)%]}]") then depth = depth - 1 end
    if depth == 0 and ch:match("%s") then
      if #cur > 0 then out[#out + 1] = table.concat(cur) end
      cur = {}
    else
      cur[#cur + 1] = ch
    end
  end
  if #cur > 0 then out[#out + 1] = table.concat(cur) end
  return out
end

-- One page's title and sections: {title, lines, from, to, level}.
local function sections_of(name, text)
  local lines, secs, title = {}, {}, name
  for l in (text .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = l end
  local fence = false
  for i, l in ipairs(lines) do
    if l:match("^```") then fence = not fence end
    local hashes, head = l:match("^(#+)%s+(.*)")
    if hashes and not fence then
      if #hashes == 1 then
        title = head:gsub("`", "")
      else
        if #secs > 0 then secs[#secs].to = i - 1 end
        secs[#secs + 1] = { head = head, from = i, level = #hashes,
                            page = name, lines = lines }
      end
    end
  end
  if #secs > 0 then secs[#secs].to = #lines end
  return title, secs
end

-- Add sec's signatures to the index: name -> {sec = s, sigs = {...}}.
-- Pass 1 takes headings and help markers, pass 2 table rows, so a section
-- of its own wins over a row in a list of several functions.
local function index_section(index, sec, pass)
  local function add(sig)
    local n = span_name(sig)
    if not n then return end
    local e = index[n]
    if not e then
      e = { sec = sec, sigs = {} }
      index[n] = e
    end
    if e.sec == sec then e.sigs[#e.sigs + 1] = sig end
  end
  if pass == 1 then
    for span in sec.head:gmatch("`([^`]+)`") do add(span) end
  end
  local fence = false
  for i = sec.from + 1, sec.to do
    local l = sec.lines[i]
    if l:match("^```") then fence = not fence end
    if not fence then
      local first = l:match("^|([^|]*)|")
      if first and pass == 2 then
        for span in first:gmatch("`([^`]+)`") do add(span) end
      end
      local list = l:match("^<!%-%- help: (.-) %-%->")
      if list and pass == 1 then
        for _, sig in ipairs(split_marker(list)) do add(sig) end
      end
    end
  end
end

local pages -- {index = {name -> entry}, topics = {{title, page, names}}}

local function load_pages()
  if pages then return pages end
  local texts, names = C.doc_pages(), {}
  for name in pairs(texts) do names[#names + 1] = name end
  table.sort(names)
  local index, topics, all = {}, {}, {}
  for _, name in ipairs(names) do
    local title, secs = sections_of(name, texts[name])
    topics[#topics + 1] = { title = title, page = name, names = {} }
    for _, sec in ipairs(secs) do all[#all + 1] = sec end
  end
  for pass = 1, 2 do
    for _, sec in ipairs(all) do index_section(index, sec, pass) end
  end
  for _, topic in ipairs(topics) do
    for n, e in pairs(index) do
      if e.sec.page == topic.page then topic.names[#topic.names + 1] = n end
    end
    table.sort(topic.names)
  end
  pages = { index = index, topics = topics }
  return pages
end

---------------------------------------------------------------------------
-- Showing an entry on a terminal
---------------------------------------------------------------------------

-- Markdown inline marks dropped: `code`, **bold**, [text](link); a picture
-- is named with its file.
local function plain(s)
  s = s:gsub("!%[([^%]]*)%]%(([^%)]*)%)", "(picture: %1, %2)")
  s = s:gsub("%[([^%]]*)%]%([^%)]*%)", "%1")
  s = s:gsub("%*%*", ""):gsub("`", "")
  return s
end

-- A table row's cells (plain text); nil for a separator row.
local function table_cells(l)
  if l:match("^|[%s%-|:]+|$") then return nil end
  local cells = {}
  for c in l:gmatch("|([^|]*)") do
    c = c:match("^%s*(.-)%s*$")
    if c ~= "" then cells[#cells + 1] = plain(c) end
  end
  return cells
end

-- Append a table's rows to out, the first column padded to one width
-- (at most 32 columns wide), the others joined with "; ".
local function flush_table(rows, out)
  local w = 0
  for _, r in ipairs(rows) do
    w = math.max(w, math.min(utf8.len(r[1] or "") or #r[1], 32))
  end
  for _, r in ipairs(rows) do
    local first = r[1] or ""
    local pad = math.max(w - (utf8.len(first) or #first), 0)
    out[#out + 1] = "  " .. first .. string.rep(" ", pad) .. "   "
                    .. table.concat(r, "; ", 2)
  end
end

-- The titles of the subsections below sec (headings deeper than its own,
-- up to the next heading of its level or above).
local function subsections(sec)
  local subs, fence = {}, false
  for k = sec.to + 1, #sec.lines do
    local l = sec.lines[k]
    if l:match("^```") then fence = not fence end
    local hashes, head = l:match("^(#+)%s+(.*)")
    if hashes and not fence then
      if #hashes <= sec.level then break end
      subs[#subs + 1] = plain(head)
    end
  end
  return subs
end

-- The text of a section for the terminal: its heading, its text with
-- Markdown marks dropped, tables aligned, code indented, then where it
-- comes from (and the titles of its subsections, not shown).
local function render(sec)
  local out, fence, rows = { plain(sec.head), "" }, false, {}
  for k = sec.from + 1, sec.to do
    local l = sec.lines[k]
    if l:match("^```") then
      fence = not fence
    elseif fence then
      out[#out + 1] = "    " .. l
    elseif l:match("^|") then
      rows[#rows + 1] = table_cells(l)
    elseif not l:match("^<!%-%-") then -- markers are not shown
      out[#out + 1] = plain(l)
    end
    if #rows > 0 and not (sec.lines[k + 1] or ""):match("^|") then
      flush_table(rows, out)
      rows = {}
    end
  end
  local kept = {}
  for _, l in ipairs(out) do -- no runs of blank lines
    if not (l == "" and kept[#kept] == "") then kept[#kept + 1] = l end
  end
  while kept[#kept] == "" do kept[#kept] = nil end
  local subs = subsections(sec)
  kept[#kept + 1] = ""
  if #subs > 0 then
    kept[#kept + 1] = "More in docs/lua/" .. sec.page .. ": " .. table.concat(subs, "; ")
  else
    kept[#kept + 1] = "(docs/lua/" .. sec.page .. ")"
  end
  return table.concat(kept, "\n")
end

---------------------------------------------------------------------------
-- Names of values
---------------------------------------------------------------------------

-- The documented name of a function value: mat.x, mat.t.x or m:x.
local function name_of(f)
  for k, v in pairs(mat) do
    if v == f then return "mat." .. k end
  end
  for k, v in pairs(mat) do
    if type(v) == "table" and v ~= mat then
      for k2, v2 in pairs(v) do
        if v2 == f then return "mat." .. k .. "." .. k2 end
      end
    end
  end
  for k, v in pairs(MT.__methods) do
    if v == f then return "m:" .. k end
  end
end

-- Every public name: module functions (and those of its sub-tables) and
-- methods.  For the coverage test and the overview.
local function public_names()
  local list = {}
  for k, v in pairs(mat) do
    if type(v) == "function" then
      list[#list + 1] = "mat." .. k
    elseif type(v) == "table" then
      for k2, v2 in pairs(v) do
        if type(v2) == "function" then list[#list + 1] = "mat." .. k .. "." .. k2 end
      end
    end
  end
  for k, v in pairs(MT.__methods) do
    if type(v) == "function" then list[#list + 1] = "m:" .. k end
  end
  table.sort(list)
  return list
end

-- Normalise what the user typed: "dot" -> "mat.dot", "m.sum" -> "m:sum".
local function resolve(s)
  local idx = load_pages().index
  s = s:match("^%s*(.-)%s*$"):gsub("%(.*$", "")
  local cands = { s, "mat." .. s, "m:" .. s,
                  (s:gsub("^[%a_][%w_]*[:.]", "m:")) }
  for _, c in ipairs(cands) do
    if idx[c] then return c end
  end
end

---------------------------------------------------------------------------
-- The help text
---------------------------------------------------------------------------

local function wrap(words, indent, width)
  local out, line = {}, indent
  for _, w in ipairs(words) do
    if #line + #w + 1 > width and line ~= indent then
      out[#out + 1] = line
      line = indent
    end
    line = line .. (line == indent and "" or " ") .. w
  end
  if line ~= indent then out[#out + 1] = line end
  return table.concat(out, "\n")
end

local function overview()
  local p = load_pages()
  local out = { "mat: matrices in shared memory, scripted in Lua.",
                "help(x) or ?name shows an entry: help(mat.dot), ?mat.dot, ?m:sum, help(m) for a matrix.",
                "" }
  for _, t in ipairs(p.topics) do
    out[#out + 1] = t.title .. "  (docs/lua/" .. t.page .. ")"
    out[#out + 1] = wrap(t.names, "  ", 78)
  end
  return table.concat(out, "\n")
end

local function methods_of_matrix(m)
  local names = {}
  for k in pairs(MT.__methods) do names[#names + 1] = k end
  table.sort(names)
  local open, r, c = pcall(m.shape, m)
  return string.format("a matrix, %s: fields rows, cols; methods (help \"m:name\"):\n%s",
                       open and (r .. "x" .. c) or "closed", wrap(names, "  ", 78))
end

local function entry_text(name)
  local e = load_pages().index[name]
  return render(e.sec)
end

-- The value a global name path ("a", "cfg.m") holds, or nil.
local function global_value(path)
  local v = _G
  for part in path:gmatch("[^.:]+") do
    if not part:match("^[%a_][%w_]*$") then return nil end
    local ok, nv = pcall(function() return v[part] end)
    if not ok or nv == nil then return nil end
    v = nv
  end
  if v ~= _G then return v end
end

-- The help text for x, or nil and why there is none.
local help_text
function help_text(n, x)
  if n == 0 or x == mat then return overview() end
  if is_matrix(x) then return methods_of_matrix(x) end
  if type(x) == "function" then
    local name = name_of(x)
    if name and load_pages().index[name] then return entry_text(name) end
    return nil, "no help for this function (help() lists what has some)"
  end
  if type(x) == "string" then
    if x:match("^%s*$") then return overview() end
    local name = resolve(x)
    if name then return entry_text(name) end
    local v = global_value(x:match("^%s*(.-)%s*$"))
    if v ~= nil and (is_matrix(v) or type(v) == "function") then
      return help_text(1, v)
    end
    for _, t in ipairs(load_pages().topics) do
      local stem = t.page:gsub("%.md$", "")
      if x == stem or x == t.page then
        return t.title .. "\n" .. wrap(t.names, "  ", 78)
      end
    end
    return nil, "no entry for '" .. x .. "' (help() lists them)"
  end
  if x == nil then return nil, "nil has no help (a misspelt name?)" end
  return nil, "no help for a " .. type(x)
end

local function help(...)
  local n, x = select("#", ...), ...
  local text, why = help_text(n, x)
  io.write((text or ("help: " .. why)), "\n")
end

-- The signature of a function's entry ("mat.dot(a, b [, opts])"), or nil.
local function signature(f)
  local name = name_of(f)
  local e = name and load_pages().index[name]
  if not e then return nil end
  return table.concat(e.sigs, ", "), name
end

---------------------------------------------------------------------------
-- Showing values at the prompt
---------------------------------------------------------------------------

local MAX_ITEMS, MAX_DEPTH, WIDTH = 20, 4, 78

local function num(x)
  if math.type(x) == "integer" then return tostring(x) end
  return string.format("%.6g", x)
end

-- A matrix inside a table: its shape, with its elements when few.
local function mat_brief(m)
  if m.rows * m.cols > 12 then
    return string.format("<mat %dx%d>", m.rows, m.cols)
  end
  local rows = {}
  for i = 1, m.rows do
    local r = {}
    for j = 1, m.cols do r[j] = num(m:get(i, j)) end
    rows[i] = "{" .. table.concat(r, ", ") .. "}"
  end
  return string.format("<mat %dx%d {%s}>", m.rows, m.cols, table.concat(rows, ", "))
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    if ta == "number" then return true end
    if tb == "number" then return false end
    return ta < tb
  end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function key_text(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  if type(k) == "string" then return string.format("[%q]", k) end
  return "[" .. (type(k) == "number" and num(k) or tostring(k)) .. "]"
end

local value_text

-- The entries of t as texts: the array part without keys, then the other
-- keys sorted; at most MAX_ITEMS, then a count of the rest.
local function entries(t, depth, path)
  local items, n = {}, rawlen(t)
  for i = 1, math.min(n, MAX_ITEMS) do
    items[#items + 1] = value_text(rawget(t, i), depth + 1, path)
  end
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys, key_order)
  local room = MAX_ITEMS - #items
  for i = 1, math.min(#keys, math.max(room, 0)) do
    local k = keys[i]
    items[#items + 1] = key_text(k) .. " = " .. value_text(rawget(t, k), depth + 1, path)
  end
  local total = n + #keys
  if total > #items then
    items[#items + 1] = string.format("... (%d more)", total - #items)
  end
  return items
end

function value_text(v, depth, path)
  local tv = type(v)
  if tv == "string" then return string.format("%q", v) end
  if tv == "number" then return num(v) end
  if is_matrix(v) then return mat_brief(v) end
  if tv == "function" then
    local sig = signature(v)
    return sig and ("<" .. sig .. ">") or tostring(v)
  end
  if tv ~= "table" then return tostring(v) end
  local mt = getmetatable(v)
  if mt and mt.__tostring then return tostring(v) end
  if path[v] then return "<cycle>" end
  if depth >= MAX_DEPTH then return "{...}" end
  path[v] = true
  local items = entries(v, depth, path)
  path[v] = nil
  local one = "{" .. table.concat(items, ", ") .. "}"
  if #one + depth * 2 <= WIDTH and not one:find("\n") then return one end
  local pad = string.rep("  ", depth + 1)
  for i, it in ipairs(items) do items[i] = pad .. it end
  return "{\n" .. table.concat(items, ",\n") .. "\n" .. string.rep("  ", depth) .. "}"
end

-- How the REPL prints a result: tables by their contents, functions with
-- a help entry by their signature; anything else as print would.
local function show(v)
  if type(v) == "function" then
    local sig, name = signature(v)
    if sig then return sig .. "  -- a function; ?" .. name .. " for its help" end
    return v
  end
  if type(v) == "table" then
    local mt = getmetatable(v)
    if not (mt and mt.__tostring) and v ~= mat then return value_text(v, 0, {}) end
    if v == mat then return "the mat module (? for an overview)" end
  end
  return v
end

-- The names a line of `local` declarations makes, or nil when the line
-- is anything else.
local function only_locals(line)
  local body = line:match("^%s*local%s+(.-)%s*;?%s*$")
  if not body then return nil end
  local stripped = body:gsub("%b\"\"", ""):gsub("%b''", ""):gsub("%b{}", "")
                       :gsub("%b()", "")
  local rhs = stripped:match("=(.*)$") or ""
  if stripped:find(";") or rhs:gsub("[=~<>]=", ""):find("=") then return nil end
  local fname = body:match("^function%s+([%a_][%w_]*)")
  if fname then return fname end
  local names = body:match("^([^=]*)")
  names = names:gsub("<%a+>", ""):gsub("%s+", "")
  for n in (names .. ","):gmatch("([^,]*),") do
    if not n:match("^[%a_][%w_]*$") then return nil end
  end
  return (names:gsub(",", ", "))
end

local M = { help = help, show = show }

-- Lines that start with ? (help) or \ (a command).  Returns true when the
-- line was one.
function M.command(line)
  local q = line:match("^%s*%?(.*)$")
  if q then
    help(q)
    return true
  end
  local cmd, arg = line:match("^%s*\\(%a+)%s*(%S*)%s*$")
  if not cmd then
    if line:match("^%s*\\") then
      io.write("commands: \\time on|off (each statement's wall time)\n")
      return true
    end
    return false
  end
  if cmd == "time" and (arg == "on" or arg == "off" or arg == "") then
    if arg ~= "" then repl.timing = (arg == "on") end
    io.write("timing is ", repl.timing and "on" or "off", "\n")
  else
    io.write("commands: \\time on|off (each statement's wall time)\n")
  end
  return true
end

-- After a line ran: the hint for a line that only declares locals.
function M.after(line)
  local names = only_locals(line)
  if names then
    io.write("-- note: local ", names, " lasted for this line only; ",
             "drop 'local' to keep ", names:find(",") and "them" or "it", "\n")
  end
end

M.help_text = help_text
M.public_names = public_names
M.index = function() return load_pages().index end
return M
