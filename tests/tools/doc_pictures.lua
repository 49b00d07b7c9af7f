-- doc_pictures.lua SRC [--update]: the pictures of docs/lua/plot.md are
-- what its examples draw.
--
-- Every ```lua block of the page that writes a picture the page shows
-- (`file = "name.png"`, shown as ../img/name.png) is run by a child `mpl` in an empty directory; the picture
-- it writes is compared, pixel by pixel (tests/tools/png_colours.py), with
-- docs/img/name.png: at most 0.05 % of the pixels may differ (font
-- rendering).  Every docs/img picture the page shows must come from an
-- example.  With --update the pictures are written to docs/img instead.
-- Run by tests/spec/plot_spec.lua; run it with --update after changing an
-- example:  build/mpl tests/tools/doc_pictures.lua . --update

local function absolute(p)
  if p:sub(1, 1) == "/" then return p end
  return (os.getenv("PWD") or ".") .. "/" .. p
end
local SRC, update = absolute(arg[1] or "."), arg[2] == "--update"
local MPL = arg[-1]:find("/") and absolute(arg[-1]) or arg[-1]
local util = dofile(SRC .. "/tests/lib/util.lua")
local PY, shquote, readfile = util.PY, util.shquote, util.readfile

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  return out, p:close()
end

local page = assert(readfile(SRC .. "/docs/lua/plot.md"), "no docs/lua/plot.md")
local shown = {}
for name in page:gmatch("%]%(%.%./img/([%w_%-]+%.png)%)") do shown[name] = true end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir " .. shquote(tmp)))
local failures, made = {}, {}
for block in page:gmatch("```lua\n(.-)```") do
  local name = block:match('file = "([%w_%-]+%.png)"')
  if name and shown[name] then
    made[name] = true
    local dir = tmp .. "/" .. name:gsub("%.png$", "")
    os.execute("mkdir " .. shquote(dir))
    local f = assert(io.open(dir .. "/example.lua", "w"))
    f:write(block)
    f:close()
    local out, ok = run("cd " .. shquote(dir) .. " && timeout 120 " .. shquote(MPL) .. " example.lua")
    local pic, committed = dir .. "/" .. name, SRC .. "/docs/img/" .. name
    if not ok or not readfile(pic) then
      failures[#failures + 1] = name .. ": the example failed: " .. out
    elseif update then
      assert(os.execute("cp " .. shquote(pic) .. " " .. shquote(committed)))
      print("wrote " .. committed)
    elseif not readfile(committed) then
      failures[#failures + 1] = name .. ": docs/img/" .. name .. " is missing"
    else
      local d = run(shquote(PY) .. " " .. shquote(SRC .. "/tests/tools/png_colours.py")
                    .. " --diff " .. shquote(pic) .. " " .. shquote(committed))
      local n, total = d:match("differ (%d+) (%d+)")
      if not n or tonumber(n) > 0.0005 * tonumber(total) then
        failures[#failures + 1] = name .. ": docs/img/" .. name
          .. " is not what the example draws (" .. d:gsub("\n$", "") .. ")"
      end
    end
  end
end
os.execute("rm -rf " .. shquote(tmp))
for name in pairs(shown) do
  if not made[name] then failures[#failures + 1] = name .. ": shown but no example draws it" end
end
if not next(made) then failures[#failures + 1] = "no example draws a picture" end
if #failures > 0 then
  io.stderr:write(table.concat(failures, "\n"), "\n(build/mpl tests/tools/doc_pictures.lua . --update rewrites them)\n")
  os.exit(1)
end
print("pictures match: " .. (function()
  local t = {}
  for k in pairs(made) do t[#t + 1] = k end
  table.sort(t)
  return table.concat(t, ", ")
end)())
