-- redteam_spec.lua: a generated sweep of the whole `mat` API against
-- hostile values.  Every module function, every method (of matrices and
-- raggeds) and every operator is called, each call under pcall, with:
-- every hostile value alone, every pair of hostile values (the first two
-- arguments), and a good matrix pair followed by every hostile value (the
-- options argument).  The sweep passes when nothing kills the process (a
-- signal, or an AddressSanitizer / UndefinedBehaviorSanitizer report in
-- the sanitizer build, where this spec also runs), nothing hangs (ctest's
-- timeout), and every error message starts with the name of the function
-- called ("mat.dot: ", "m:sum: ", "a + b: " ...) or is the closed-matrix
-- error.  MPL_REDTEAM_VERBOSE=1 prints each call before making it, to find
-- the one that killed a run.
--
-- Left out, and why:
--   * mat.procs(n): starts up to 4096 worker processes; its arguments are
--     checked in dot_spec.lua.
--   * mat.map with a count, or a matrix of items, above 64: a huge count
--     allocates per item before forking (handled separately from this
--     sweep); small counts and every other value are swept.
--   * mat.load / mat.save with a string path: the sweep never touches a
--     file outside its own temporary directory, so string paths are
--     replaced by a path there, and no device or stream (/dev/zero, a FIFO)
--     is ever named: readers of streams are tested in files_spec.lua.
--   * Raggeds' and matrices' `close`: swept on fresh values like the rest;
--     closing only ever closes the sweep's own fresh values.

local mat = require "mat"

local verbose = os.getenv("MPL_REDTEAM_VERBOSE") == "1"
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir " .. dir))

-- Hostile values, as makers: each call gets fresh ones (a call may close
-- or change its arguments).
local hostile = {
  { "nil", function() return nil end },
  { "true", function() return true end },
  { "false", function() return false end },
  { "nan", function() return 0 / 0 end },
  { "inf", function() return math.huge end },
  { "-inf", function() return -math.huge end },
  { "0", function() return 0 end },
  { "1", function() return 1 end },
  { "2", function() return 2 end },
  { "-1", function() return -1 end },
  { "0.5", function() return 0.5 end },
  { "1e308", function() return 1e308 end },
  { "2^53+1", function() return (1 << 53) + 1 end },
  { "2^63", function() return 2.0 ^ 63 end },
  { "maxinteger", function() return math.maxinteger end },
  { "mininteger", function() return math.mininteger end },
  { "''", function() return "" end },
  { "'abc'", function() return "abc" end },
  { "'3'", function() return "3" end },
  { "{}", function() return {} end },
  { "{1,2}", function() return { 1, 2 } end },
  { "{{1,2},{3}}", function() return { { 1, 2 }, { 3 } } end },
  { "{out=closed}", function()
      local m = mat.ones(2, 2); m:close(); return { out = m } end },
  { "{out=1x1}", function() return { out = mat.ones(1, 1) } end },
  { "{procs=0}", function() return { procs = 0 } end },
  { "opts raising", function()
      return setmetatable({}, { __index = function() error("hostile", 0) end })
    end },
  { "function", function() return function() end end },
  { "coroutine", function() return coroutine.create(function() end) end },
  { "closed matrix", function() local m = mat.ones(2, 2); m:close(); return m end },
  { "0x0", function() return mat.zeros(0, 0) end },
  { "Nx0", function() return mat.zeros(1 << 62, 0) end },
  { "0xN", function() return mat.zeros(0, 1 << 62) end },
  { "Nx0 view", function() return mat.zeros(0, 1 << 62):t() end },
  { "1x1", function() return mat.ones(1, 1) end },
  { "3x3", function() return mat.from { { 4, 1, 0 }, { 1, 3, 1 }, { 0, 1, 2 } } end },
  { "3x1 nan", function() return mat.from { { 0 / 0 }, { 1 }, { math.huge } } end },
  { "row view", function() return mat.ones(3, 4):row(2) end },
  { "transpose", function() return mat.ones(2, 3):t() end },
  { "ragged", function() return mat.ragged { { 1, 2 }, { 3 } } end },
  { "closed ragged", function()
      local r = mat.ragged { { 1 } }; r:close(); return r end },
  { "file", function() return io.stderr end },
}

-- A name in an error message: the function as called, or its other form
-- (mat.sum and m:sum are one function).
local function prefixes(name)
  local bare = name:match("[%.:](.*)$") or name
  return { "mat." .. bare .. ": ", "m:" .. bare .. ": ", "R:" .. bare .. ": " }
end

local operators = {
  { "a + b", function(a, b) return a + b end, { "a + b: " } },
  { "a - b", function(a, b) return a - b end, { "a - b: " } },
  { "a * b", function(a, b) return a * b end, { "a * b: ", "m * s: ", "s * m: " } },
  { "a / b", function(a, b) return a / b end, { "a / b: " } },
  { "a ^ b", function(a, b) return a ^ b end, { "a ^ b: " } },
  { "-a", function(a) return -a end, { "-a: ", "a - b: ", "m:neg: " } },
  { "a == b", function(a, b) return a == b end, {} },
  { "#a", function(a) return #a end, { "#m: ", "#R: " } },
  { "a[b]", function(a, b) return a[b] end,
    { "m[i]: ", "R[i]: ", "m[{...}]: ", "m[mask]: " } },
  { "a[b] = c", function(a, b, c) a[b] = c end,
    { "m[k] = v: ", "m[i] = v: ", "R[k] = v: ", "R[i] = v: ", "m[{...}] = v: ",
      "m[mask] = v: " } },
  { "tostring(a)", function(a) return tostring(a) end, { "tostring: " } },
}

local fine = {
  "^attempt to use a closed matrix$", "^attempt to use a closed ragged$",
  "hostile", -- raised by a hostile value itself
}

-- Lua's own errors for operators on values that have no such metamethod.
local lua_own = { "^attempt to ", "^table index is " }

local failures, calls = {}, 0

local function check(name, accepted, ok, err, desc, own_ok)
  calls = calls + 1
  if ok then return end
  local msg = tostring(err)
  if own_ok then -- an operator is applied in this file: drop the position
    msg = msg:gsub("^[^:]*redteam_spec%.lua:%d+: ", "")
  end
  for _, p in ipairs(accepted) do
    if msg:sub(1, #p) == p then return end
  end
  for _, p in ipairs(fine) do
    if msg:find(p) then return end
  end
  if own_ok then
    for _, p in ipairs(lua_own) do
      if msg:find(p) then return end
    end
  end
  if #failures < 50 then
    failures[#failures + 1] = string.format("%s(%s): %s", name, desc, msg)
  end
end

-- Make the argument list for value makers; file paths are kept in the
-- sweep's directory.
local function args_of(makers, path_at)
  local v, names = {}, {}
  for i, mk in ipairs(makers) do
    v[i] = mk[2]()
    names[i] = mk[1]
    if i == path_at and type(v[i]) == "string" then
      v[i] = dir .. "/x" .. (v[i] == "" and "" or "." .. v[i])
    end
  end
  return v, table.concat(names, ", "), #makers
end

local good_a = { "3x3", function() return mat.from { { 4, 1, 0 }, { 1, 3, 1 }, { 0, 1, 2 } } end }
local good_b = { "3x3'", function() return mat.eye(3) end }
local good_f = { "f", function() return function(x) return x end end }

local function sweep(name, call, accepted, opts)
  opts = opts or {}
  local shapes = {}
  for _, a in ipairs(hostile) do
    shapes[#shapes + 1] = { a }
    for _, b in ipairs(hostile) do shapes[#shapes + 1] = { a, b } end
    shapes[#shapes + 1] = { good_a, good_b, a }
    shapes[#shapes + 1] = { good_a, a, good_b }
    shapes[#shapes + 1] = { good_f, a }
    shapes[#shapes + 1] = { good_f, good_a, a }
  end
  for _, makers in ipairs(shapes) do
    local v, desc, n = args_of(makers, opts.path_at)
    if not (opts.skip and opts.skip(v, n)) then
      if verbose then io.stderr:write(name, "(", desc, ")\n") end
      local ok, err = pcall(call, table.unpack(v, 1, n))
      check(name, accepted, ok, err, desc, opts.own_ok)
    end
  end
end

local function big_count(v, n)
  for i = 1, n do
    if math.type(v[i]) and v[i] > 64 then return true end
    if mat.ismatrix(v[i]) and pcall(function() return #v[i] > 64 end)
       and #v[i] > 64 then
      return true
    end
  end
  return false
end

describe("red-team sweep", function()
  teardown(function() os.execute("rm -rf " .. dir) end)

  it("every module function, against every hostile value", function()
    local names = {}
    for k, f in pairs(mat) do
      if type(f) == "function" and k ~= "procs" then names[#names + 1] = k end
    end
    table.sort(names)
    for _, k in ipairs(names) do
      local opts = {}
      if k == "map" then opts.skip = big_count end
      if k == "save" or k == "load" then opts.path_at = 1 end
      sweep("mat." .. k, mat[k], prefixes("mat." .. k), opts)
    end
    assert.is_true(calls > 10000, "only " .. calls .. " calls")
    assert.same({}, failures)
  end)

  it("every method of a matrix and of a ragged, against every hostile value", function()
    local methods = getmetatable(mat.ones(1, 1)).__methods
    local rmethods = getmetatable(mat.ragged { { 1 } }).__methods
    for _, set in ipairs({ { methods, "m:" }, { rmethods, "R:" } }) do
      local names = {}
      for k in pairs(set[1]) do names[#names + 1] = k end
      table.sort(names)
      for _, k in ipairs(names) do
        sweep(set[2] .. k, set[1][k], prefixes(set[2] .. k))
      end
    end
    assert.same({}, failures)
  end)

  it("every operator, against every pair of hostile values", function()
    for _, op in ipairs(operators) do
      sweep(op[1], op[2], op[3], { own_ok = true })
    end
    assert.same({}, failures)
  end)

  it("nothing was left in the sweep's directory but what it saved", function()
    -- every save went to the sweep's directory: nothing else was written
    local p = io.popen("ls -A " .. dir .. " | grep -c tmp")
    local n = tonumber(p:read("a"))
    p:close()
    assert.equal(0, n)
  end)
end)
