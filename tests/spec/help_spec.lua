-- help_spec.lua: the reference help (lua/help.lua over docs/lua/*.md),
-- how the REPL shows values, and mat.time.
local mat = require "mat"

local repl = debug.getregistry()["mpl.repl"]

-- What mat.help prints, captured from io.write.
local function help_of(...)
  local out, write = {}, io.write
  io.write = function(...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end
  local ok, err = pcall(mat.help, ...)
  io.write = write
  assert(ok, err)
  return table.concat(out)
end

describe("help", function()
  it("has an entry for every function and method of mat", function()
    local index, missing = repl.index(), {}
    for _, name in ipairs(repl.public_names()) do
      if not index[name] then missing[#missing + 1] = name end
    end
    assert(#missing == 0, "no help entry (add one to docs/lua/*.md, see "
      .. "docs/design.md) for: " .. table.concat(missing, " "))
  end)

  it("gives every entry a runnable example", function()
    local index, without = repl.index(), {}
    for _, name in ipairs(repl.public_names()) do
      local e, has = index[name], false
      for i = e and e.sec.from or 1, e and e.sec.to or 0 do
        if e.sec.lines[i] == "```lua run" then has = true end
      end
      if e and not has then without[#without + 1] = name end
    end
    assert(#without == 0, "no ```lua run block in the entry of: " .. table.concat(without, " "))
  end)

  it("finds an entry by value, by name and by short name", function()
    local by_value = help_of(mat.dot)
    assert.truthy(by_value:find("^mat.dot%(a, b %[, opts%]%) and a %* b\n\nThe matrix product"))
    assert.truthy(by_value:find("mat.dot: shape mismatch: 3x4 * 5x6", 1, true))
    assert.truthy(by_value:find("(docs/lua/parallel.md)", 1, true))
    assert.are.equal(by_value, help_of("mat.dot"))
    assert.are.equal(by_value, help_of("dot"))
    assert.are.equal(help_of(mat.eye(2).sum), help_of("m:sum"))
    assert.truthy(help_of("m.sum"):find("^Reductions\n"))
    assert.is_nil(help_of(mat.exp):find("<!--", 1, true)) -- markers are hidden
    assert.truthy(help_of(mat.exp):find("^Elementwise functions\n"))
  end)

  it("shows a matrix's shape and methods, and an overview by topic", function()
    local m = help_of(mat.zeros(2, 3))
    assert.truthy(m:find("^a matrix, 2x3: fields rows, cols; methods"))
    assert.truthy(m:find(" totable ", 1, true))
    _G.help_matrix_global = mat.zeros(2, 3)
    assert.are.equal(m, help_of("help_matrix_global"))   -- ?name of a variable
    _G.help_matrix_global = nil
    local closed = mat.eye(2)
    closed:close()
    assert.truthy(help_of(closed):find("^a matrix, closed: fields rows, cols"))
    local all = help_of()
    assert.are.equal(all, help_of(mat))
    assert.truthy(all:find("\nmat: files  %(docs/lua/files.md%)\n  mat.load mat.save\n"))
  end)

  it("says why when there is no entry", function()
    assert.are.equal("help: nil has no help (a misspelt name?)\n", help_of(nil))
    assert.are.equal("help: no entry for 'mat.nope' (help() lists them)\n",
                     help_of("mat.nope"))
    assert.are.equal("help: no help for this function (help() lists what has some)\n",
                     help_of(print))
    assert.are.equal("help: no help for a boolean\n", help_of(true))
  end)
end)

describe("values at the prompt", function()
  local show = repl.show

  it("prints tables by their contents, keys sorted, nested", function()
    assert.are.equal("{1, 4, 9, 16, 25}",
                     show(mat.map(function(i) return i * i end, 5, { procs = 2 })))
    assert.are.equal('{"x", [10] = 3, a = {b = {1, 2.5}}, ["b c"] = true}',
                     show({ "x", [10] = 3, a = { b = { 1, 2.5 } }, ["b c"] = true }))
    assert.are.equal("{}", show({}))
  end)

  it("abbreviates long tables, breaks wide ones, marks cycles", function()
    local t = {}
    for i = 1, 100 do t[i] = i end
    local s = show(t)
    assert.truthy(s:find("^{\n  1,\n  2,\n"))
    assert.are.equal("\n  20,\n  ... (80 more)\n}", s:sub(-24))
    local c = { name = "c" }
    c.self = c
    assert.are.equal('{name = "c", self = <cycle>}', show(c))
    local wide = { string.rep("a", 50), string.rep("b", 50) }
    assert.are.equal('{\n  "' .. string.rep("a", 50) .. '",\n  "' .. string.rep("b", 50) .. '"\n}',
                     show(wide))
    assert.are.equal("{{{{{...}}}}}", show({ { { { { { 1 } } } } } }))
  end)

  it("prints matrices inside tables compactly", function()
    assert.are.equal("{<mat 2x2 {{1, 0}, {0, 1}}>, <mat 10x10>}",
                     show({ mat.eye(2), mat.zeros(10, 10) }))
  end)

  it("prints a function with an entry by its signature", function()
    assert.are.equal("mat.dot(a, b [, opts])  -- a function; ?mat.dot for its help",
                     show(mat.dot))
    assert.are.equal(print, show(print))
    assert.are.equal(42, show(42))
  end)
end)

describe("mat.time", function()
  it("returns the wall time of a call and its results", function()
    local t, a, b = mat.time(function(x, y) return x + y, "ok" end, 1, 2)
    assert.is_true(math.type(t) == "float" and t >= 0)
    assert.are.equal(3, a)
    assert.are.equal("ok", b)
    local slept = mat.time(os.execute, "sleep 0.2")
    assert.is_true(slept >= 0.15, "slept " .. slept)
  end)

  it("refuses what it cannot call", function()
    assert.has_error(function() mat.time(42) end,
                     "mat.time: f must be a function (got number)")
  end)
end)
