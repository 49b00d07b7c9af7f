-- docs_spec.lua: the user-facing docs say what is true.
--
-- The README's tour is examples/tour.lua, word for word, and runs; every
-- Lua block marked runnable (a fence that opens with "```lua run") in
-- README.md, docs/*.md and docs/lua/*.md runs without an error in a fresh
-- `mpl` (in a temporary directory, two workers); every block marked
-- "```mpl session" gives, when its "> " lines are fed to `mpl -i`, the
-- output shown (a "time: ..." line matches any time); and no page speaks
-- of internal documents.

local MPL = os.getenv("MPL_BIN") or "mpl"
local SRC = os.getenv("MPL_SOURCE_DIR") or ".."

local util = require "util"
local shquote, readfile, writefile = util.shquote, util.mustread, util.writefile

-- The user-facing Markdown pages, relative to the source directory.
local function pages()
  local list = { "README.md" }
  local p = io.popen("cd " .. shquote(SRC) .. " && ls docs/*.md docs/lua/*.md")
  for l in p:lines() do list[#list + 1] = l end
  p:close()
  return list
end

-- The fenced blocks of a page whose opening line is exactly "```" .. info:
-- {line = n, text = s}.
local function blocks(text, info)
  local out, cur, n = {}, nil, 0
  for l in (text .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if cur then
      if l == "```" then
        out[#out + 1] = cur
        cur = nil
      else
        cur.text = cur.text .. l .. "\n"
      end
    elseif l == "```" .. info then
      cur = { line = n, text = "" }
    end
  end
  return out
end

-- Run shell command cmd in a fresh temporary directory, under a timeout;
-- returns the exit code and the output (stdout and stderr).
local function run_in_tmp(cmd, stdin)
  local dir = util.tmpdir()
  writefile(dir .. "/stdin", stdin or "")
  local full = "cd " .. shquote(dir) .. " && env -u LUA_INIT -u LUA_INIT_5_4"
    .. " MPL_PROCS=2 MPL_HISTORY= timeout 60 " .. cmd .. " <stdin >out 2>&1"
  local _, _, code = os.execute(full)
  local out = readfile(dir .. "/out")
  util.rmtree(dir)
  return code, out
end

describe("the README's tour", function()
  it("is examples/tour.lua, and runs", function()
    local readme = readfile(SRC .. "/README.md")
    local tour = readme:match("\n## A tour\n.-\n```lua\n(.-\n)```\n")
    assert(tour, "no ```lua block under '## A tour' in README.md")
    assert.are.equal(readfile(SRC .. "/examples/tour.lua"), tour)
    local code, out = run_in_tmp(shquote(MPL) .. " " .. shquote(SRC .. "/examples/tour.lua"))
    assert.are.equal(0, code, out)
    assert.truthy(out:find("\n1 4 9 16 25\ntrue\n$"), out)
    assert.truthy(out:find("\n600\t600\ttrue\n", 1, true), out)
  end)
end)

describe("runnable blocks", function()
  it("run without an error, each in a fresh mpl", function()
    local count, failures = 0, {}
    for _, page in ipairs(pages()) do
      for _, b in ipairs(blocks(readfile(SRC .. "/" .. page), "lua run")) do
        count = count + 1
        local code, out = run_in_tmp(shquote(MPL) .. " -", b.text)
        if code ~= 0 then
          failures[#failures + 1] = page .. ":" .. b.line .. ": " .. out
        end
      end
    end
    assert(#failures == 0, table.concat(failures, "\n"))
    assert.is_true(count >= 3, "only " .. count .. " runnable blocks found")
  end)

  it("fail when the code is wrong (the check is real)", function()
    local code = run_in_tmp(shquote(MPL) .. " -", "mat.nope()\n")
    assert.are_not.equal(0, code)
  end)
end)

-- The outputs of entries fed to `mpl -i` (banner dropped): what follows
-- each "> " prompt up to the next one.
local function session_outputs(out, n)
  out = out:gsub("^[^\n]*\n[^\n]*\n", "") -- the banner
  local res, pos = {}, 1
  for i = 1, n do
    assert(out:sub(pos, pos + 1) == "> ", "no prompt for entry " .. i .. " in:\n" .. out)
    pos = pos + 2
    local stop = pos
    while out:sub(stop, stop + 1) ~= "> " or (stop > pos and out:sub(stop - 1, stop - 1) ~= "\n") do
      if stop > #out then break end
      stop = stop + 1
    end
    res[i] = out:sub(pos, stop - 1)
    pos = stop
  end
  return res
end

describe("REPL sessions in the docs", function()
  it("print what the page shows", function()
    local count = 0
    for _, page in ipairs(pages()) do
      for _, b in ipairs(blocks(readfile(SRC .. "/" .. page), "mpl session")) do
        count = count + 1
        local inputs, expected = {}, {}
        for l in b.text:gmatch("(.-)\n") do
          local input = l:match("^> (.*)$")
          if input then
            inputs[#inputs + 1] = input
            expected[#inputs] = ""
          else
            expected[#inputs] = expected[#inputs] .. l .. "\n"
          end
        end
        local code, out = run_in_tmp(shquote(MPL) .. " -i", table.concat(inputs, "\n") .. "\n")
        assert.are.equal(0, code, out)
        local got = session_outputs(out, #inputs)
        for i, want in ipairs(expected) do
          local pat = "^" .. want:gsub("time: [^\n]*", "\0TIME\0"):gsub("%p", "%%%0")
                                 :gsub("%zTIME%z", "time: [%%d.]+ [mu]?s") .. "$"
          assert(got[i]:find(pat), string.format("%s:%d: after '> %s' expected\n%s\ngot\n%s",
                                                 page, b.line, inputs[i], want, got[i]))
        end
      end
    end
    assert.is_true(count >= 1, "no mpl session block found")
  end)
end)

describe("user-facing text", function()
  it("never speaks of internal documents", function()
    local found = {}
    local files = pages()
    files[#files + 1] = "doc/mpl.1"
    for _, page in ipairs(files) do
      local n = 0
      for l in (readfile(SRC .. "/" .. page) .. "\n"):gmatch("(.-)\n") do
        n = n + 1
        if l:find("SPEC") or l:lower():find("the issue") then
          found[#found + 1] = page .. ":" .. n .. ": " .. l
        end
      end
    end
    assert(#found == 0, table.concat(found, "\n"))
  end)
end)
