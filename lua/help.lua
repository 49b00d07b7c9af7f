-- help.lua: mat.help, mat.time, and what the REPL shows.
--
-- DESIGN: this part only installs entry points; the work (parsing the
-- reference pages, printing entries and values) is lua/lazy/help.lua,
-- compiled the first time an entry point is used, so that opening `mat`
-- costs a host (or a script) nothing for help it never asks for.  The
-- REPL (src/cli/repl.c) finds its hooks in the registry under "mpl.repl":
-- `show` (how a result prints), `command` (lines starting with ? or \),
-- `after` (the note for a line of locals) and the flag `timing`.
local mat, C = ...

local REG = C.registry()
-- Fields a matrix has besides its methods, for the REPL's completion.
REG["mat.matrix"].__fields = { rows = true, cols = true }

local repl = { timing = false }
local impl

local function get()
  if not impl then impl = C.load_lazy("help.lua")(mat, C, repl) end
  return impl
end

-- mat.help([x]): prints the reference entry of x (docs/lua/prompt.md).
function mat.help(...)
  return get().help(...)
end

-- mat.time(f, ...) -> seconds, f's results
function mat.time(f, ...)
  if type(f) ~= "function" and not (getmetatable(f) or {}).__call then
    C.error("mat.time: f must be a function (got " .. type(f) .. ")")
  end
  local t0 = mat.clock()
  local function done(...) return mat.clock() - t0, ... end
  return done(f(...))
end

for _, name in ipairs({ "show", "command", "after", "help_text",
                        "public_names", "index" }) do
  repl[name] = function(...) return get()[name](...) end
end
REG["mpl.repl"] = repl
