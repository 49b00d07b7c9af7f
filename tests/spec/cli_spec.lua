-- cli_spec.lua: drives the real `mpl` binary as a subprocess.
--
-- MPL_BIN names the binary (ctest sets it); every child runs under
-- `timeout 20` with LUA_INIT*, MPL_PROCS and MPL_HISTORY cleared unless a
-- test sets them, stdin from a file or /dev/null, stdout and stderr to
-- temp files.

local MPL = os.getenv("MPL_BIN") or "mpl"

local util = require "util"
local shquote, readfile, writefile = util.shquote, util.readfile, util.writefile

local temps = {}

local function tmpname() return util.tmpname(temps) end

local function tmpdir()
  local p = util.tmpdir()
  temps[#temps + 1] = p
  return p
end

local function tmpfile(contents)
  return writefile(tmpname(), contents)
end

-- Run mpl with `args` (a list of strings).  opts.env: extra environment
-- (name -> value); opts.stdin: text fed on standard input.  Returns a
-- table with out, err and code (the exit status).
local function run(args, opts)
  opts = opts or {}
  local outf, errf = tmpname(), tmpname()
  local cmd = { "env -u LUA_INIT -u LUA_INIT_5_4 -u MPL_PROCS -u MPL_HISTORY" }
  local names = {}
  for k in pairs(opts.env or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    cmd[#cmd + 1] = k .. "=" .. shquote(opts.env[k])
  end
  cmd[#cmd + 1] = "timeout 20 " .. shquote(MPL)
  for _, a in ipairs(args) do cmd[#cmd + 1] = shquote(a) end
  if opts.stdin then
    cmd[#cmd + 1] = "<" .. shquote(tmpfile(opts.stdin))
  else
    cmd[#cmd + 1] = "</dev/null"
  end
  cmd[#cmd + 1] = ">" .. shquote(outf) .. " 2>" .. shquote(errf)
  local _, how, code = os.execute(table.concat(cmd, " "))
  assert(how == "exit", "mpl killed by signal " .. tostring(code))
  return { out = readfile(outf), err = readfile(errf), code = code }
end

local function first_line(s)
  return s:match("^[^\n]*")
end

local BANNER_PAT = "^mpl 0%.1%.0 %(Lua 5%.4%.%d+%)\nLua 5%.4%.%d+  Copyright %(C%) 1994%-%d+ Lua%.org, PUC%-Rio\n"

-- The banner printed by -v / -i (taken from the binary, checked once).
local BANNER = run({ "-v" }).out

local USAGE_LINE = "usage: mpl [options] [script [args]]"

teardown(function()
  for i = #temps, 1, -1 do
    os.execute("rm -rf " .. shquote(temps[i]))
  end
end)

describe("mpl command line", function()
  describe("-e", function()
    it("runs a chunk", function()
      local r = run({ "-e", "print(1 + 1)" })
      assert.are.same({ out = "2\n", err = "", code = 0 }, r)
    end)

    it("runs several chunks in order", function()
      local r = run({ "-e", "x = 20", "-e", "x = x + 1", "-e", "print(x * 2)" })
      assert.are.same({ out = "42\n", err = "", code = 0 }, r)
    end)

    it("accepts the chunk glued to the option", function()
      assert.are.equal("7\n", run({ "-eprint(7)" }).out)
    end)

    it("reports a failing chunk with status 1 and a traceback", function()
      local r = run({ "-e", "error('boom')" })
      assert.are.equal(1, r.code)
      assert.are.equal("", r.out)
      assert.are.equal("mpl: (command line):1: boom", first_line(r.err))
      assert.truthy(r.err:find("\nstack traceback:\n", 1, true))
    end)

    it("stops at the first failing chunk", function()
      local r = run({ "-e", "print(1)", "-e", "error('x', 0)", "-e", "print(2)" })
      assert.are.equal("1\n", r.out)
      assert.are.equal(1, r.code)
      assert.are.equal("mpl: x", first_line(r.err))
    end)

    it("describes non-string error objects", function()
      local r = run({ "-e", "error({})" })
      assert.are.equal(1, r.code)
      assert.are.equal("mpl: (error object is a table value)", first_line(r.err))
      r = run({ "-e", "error(setmetatable({}, {__tostring = function() return 'custom' end}))" })
      assert.are.equal(1, r.code)
      assert.are.equal("mpl: custom\n", r.err)
    end)
  end)

  describe("-l", function()
    local dir, env
    setup(function()
      dir = tmpdir()
      writefile(dir .. "/mplclimod.lua", "return { answer = 42, name = ... }\n")
      env = { LUA_PATH = dir .. "/?.lua" }
    end)

    it("requires a module into the global of its name", function()
      local r = run({ "-l", "mplclimod", "-e", "print(mplclimod.answer, mplclimod.name)" },
                    { env = env })
      assert.are.same({ out = "42\tmplclimod\n", err = "", code = 0 }, r)
    end)

    it("requires a module into a chosen global with g=mod", function()
      local r = run({ "-l", "g=mplclimod", "-e", "print(g.answer, mplclimod)" }, { env = env })
      assert.are.same({ out = "42\tnil\n", err = "", code = 0 }, r)
    end)

    it("accepts the module glued to the option", function()
      assert.are.equal("42\n", run({ "-lmplclimod", "-e", "print(mplclimod.answer)" },
                                   { env = env }).out)
    end)

    it("fails with status 1 for a missing module", function()
      local r = run({ "-l", "mpl_no_such_module" }, { env = env })
      assert.are.equal(1, r.code)
      assert.are.equal("mpl: module 'mpl_no_such_module' not found:", first_line(r.err))
    end)
  end)

  describe("-v", function()
    it("prints mpl's and Lua's versions on stdout", function()
      local r = run({ "-v" })
      assert.are.equal(0, r.code)
      assert.are.equal("", r.err)
      assert.truthy(r.out:find(BANNER_PAT .. "$"), r.out)
      local lua = r.out:match("%(Lua (5%.4%.%d+)%)")
      assert.are.equal("Lua " .. lua .. "  Copyright", r.out:match("\n(Lua [%d.]+  Copyright)"))
    end)

    it("prints before running -e chunks", function()
      local r = run({ "-e", "print('after')", "-v" })
      assert.are.equal(BANNER .. "after\n", r.out)
    end)
  end)

  describe("scripts", function()
    local script
    setup(function()
      script = tmpfile([[
print(arg[0], arg[1], arg[2], #arg, select('#', ...), ...)
print(arg[-1], arg[-2], arg[-3] == os.getenv("MPL_BIN_SEEN"), arg[-4])
]])
    end)

    it("gets arg[0], its arguments at 1..n and as ...", function()
      local r = run({ script, "a", "b c" }, { env = { MPL_BIN_SEEN = "x" } })
      assert.are.equal(0, r.code)
      assert.are.equal(script .. "\ta\tb c\t2\t2\ta\tb c\n", r.out:match("^[^\n]*\n"))
    end)

    it("puts the interpreter and options at negative indices", function()
      local r = run({ "-e", "x=1", script, "a" }, { env = { MPL_BIN_SEEN = MPL } })
      assert.are.same({
        out = script .. "\ta\tnil\t1\t1\ta\n" .. "x=1\t-e\ttrue\tnil\n",
        err = "", code = 0 }, r)
    end)

    it("treats everything after -- as the script and its arguments", function()
      local r = run({ "--", script, "-e", "-x" }, { env = { MPL_BIN_SEEN = MPL } })
      assert.are.same({
        out = script .. "\t-e\t-x\t2\t2\t-e\t-x\n" .. "--\t" .. MPL .. "\tfalse\tnil\n",
        err = "", code = 0 }, r)
    end)

    it("stops handling options at the script name", function()
      local r = run({ script, "-v" })
      assert.are.equal(script .. "\t-v\tnil\t1\t1\t-v\n", r.out:match("^[^\n]*\n"))
    end)

    it("reads the script from stdin with -", function()
      local r = run({ "-", "a", "b" },
                    { stdin = "print(arg[0], arg[1], arg[-1] ~= nil, ...)\n" })
      assert.are.same({ out = "-\ta\ttrue\ta\tb\n", err = "", code = 0 }, r)
    end)

    it("runs stdin as the script when it is not a terminal", function()
      local r = run({}, { stdin = "print('piped', #arg)\n" })
      assert.are.same({ out = "piped\t0\n", err = "", code = 0 }, r)
    end)

    it("exits 1 when stdin as the script fails", function()
      local r = run({}, { stdin = "error('bad input')\n" })
      assert.are.equal(1, r.code)
      assert.are.equal("mpl: stdin:1: bad input", first_line(r.err))
    end)

    it("exits 0 after a script that ends normally", function()
      assert.are.equal(0, run({ tmpfile("local x = 1\n") }).code)
    end)

    it("exits with the status given to os.exit", function()
      assert.are.equal(3, run({ tmpfile("os.exit(3)\n") }).code)
      assert.are.equal(3, run({ "-e", "os.exit(3)" }).code)
      assert.are.equal(1, run({ "-e", "os.exit(false)" }).code)
    end)

    it("reports a failing script: status 1, message, traceback", function()
      local f = tmpfile("local function f()\n  error('boom')\nend\nf()\n")
      local r = run({ f })
      assert.are.equal(1, r.code)
      assert.are.equal("", r.out)
      local lines = {}
      for l in r.err:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.are.equal("mpl: " .. f .. ":2: boom", lines[1])
      assert.are.equal("stack traceback:", lines[2])
      assert.truthy(r.err:find(f .. ":4: in main chunk", 1, true))
    end)

    it("reports a syntax error without a traceback", function()
      local f = tmpfile("x = = 1\n")
      local r = run({ f })
      assert.are.same({ out = "", err = "mpl: " .. f .. ":1: unexpected symbol near '='\n",
                        code = 1 }, r)
    end)

    it("reports a missing script", function()
      local r = run({ "/nonexistent/mpl_script.lua" })
      assert.are.same({ out = "",
        err = "mpl: cannot open /nonexistent/mpl_script.lua: No such file or directory\n",
        code = 1 }, r)
    end)
  end)

  describe("options", function()
    it("rejects an unrecognized option with the usage", function()
      local r = run({ "-x" })
      assert.are.equal(1, r.code)
      assert.are.equal("", r.out)
      local l1, l2 = r.err:match("^([^\n]*)\n([^\n]*)\n")
      assert.are.equal("mpl: unrecognized option '-x'", l1)
      assert.are.equal(USAGE_LINE, l2)
      assert.truthy(r.err:find("\n  -p N ", 1, true))
    end)

    it("-h and --help list the options and variables, as the man page does", function()
      local r = run({ "--help" })
      assert.are.equal(0, r.code)
      assert.are.equal("", r.err)
      assert.are.equal(USAGE_LINE, first_line(r.out))
      assert.are.same(r, run({ "-h", "-e", "print('not run')" }))
      -- The options and environment variables each lists, as sets.
      local function from_help(text)
        local opts, vars, section = {}, {}, "options"
        for l in text:gmatch("[^\n]+") do
          if l:match("^Environment") then section = "vars" end
          if section == "options" then
            local o = l:match("^  (%-%S*)")
            if o then opts[o] = true end
            for long in l:gmatch("%((%-%-%a+)") do opts[long] = true end
          else
            for v in ((l .. " "):match("^  (%u[%u%d_, ]+)%f[%s]") or ""):gmatch("[%u%d_]+") do
              vars[v] = true
            end
          end
        end
        return opts, vars
      end
      local function from_man(text)
        local opts, vars, section, tp = {}, {}, nil, false
        for l in text:gmatch("[^\n]+") do
          section = l:match("^%.SH (.*)") or section
          if tp and section == "OPTIONS" then
            for o in l:gsub("\\", ""):gmatch("%-%-?%a*") do
              if o ~= "-" or l:match("^%.B \\%-$") then opts[o] = true end
            end
          elseif tp and section == "ENVIRONMENT" then
            for v in l:gmatch("[%u%d_]+") do
              if #v > 2 then vars[v] = true end
            end
          end
          tp = l == ".TP"
        end
        return opts, vars
      end
      local f = assert(io.open(os.getenv("MPL_SOURCE_DIR") .. "/doc/mpl.1"))
      local man_opts, man_vars = from_man(f:read("a"))
      f:close()
      local help_opts, help_vars = from_help(r.out)
      assert.are.same(man_opts, help_opts)
      assert.are.same(man_vars, help_vars)
      assert.truthy(help_vars.MPL_ARENA_RETAIN and help_opts["--procs"] and help_opts["-"])
    end)

    it("rejects options with extra characters and unknown long options", function()
      assert.are.equal("mpl: unrecognized option '-vx'", first_line(run({ "-vx" }).err))
      assert.are.equal("mpl: unrecognized option '--what'", first_line(run({ "--what" }).err))
      assert.are.equal(1, run({ "--what" }).code)
    end)

    it("says which option needs an argument", function()
      local r = run({ "-e" })
      assert.are.equal(1, r.code)
      assert.are.equal("mpl: '-e' needs argument", first_line(r.err))
      assert.are.equal("mpl: '-l' needs argument", first_line(run({ "-l", "-v" }).err))
      assert.are.equal("mpl: '-p' needs argument", first_line(run({ "-p" }).err))
      assert.are.equal("mpl: '--procs' needs argument", first_line(run({ "--procs" }).err))
    end)

    it("runs nothing when an option is bad", function()
      local r = run({ "-e", "print('ran')", "-x" })
      assert.are.equal("", r.out)
      assert.are.equal(1, r.code)
    end)

    it("-W turns warnings on from that point", function()
      local r = run({ "-e", "warn('early')", "-W", "-e", "warn('hi')" })
      assert.are.same({ out = "", err = "Lua warning: hi\n", code = 0 }, r)
      assert.are.equal("", run({ "-e", "warn('hi')" }).err)
    end)
  end)

  describe("environment", function()
    it("runs LUA_INIT code first", function()
      local r = run({ "-e", "print(x)" }, { env = { LUA_INIT = "x = 'init'" } })
      assert.are.same({ out = "init\n", err = "", code = 0 }, r)
    end)

    it("runs LUA_INIT=@file", function()
      local f = tmpfile("y = 'from file'\n")
      local r = run({ "-e", "print(y)" }, { env = { LUA_INIT = "@" .. f } })
      assert.are.same({ out = "from file\n", err = "", code = 0 }, r)
    end)

    it("prefers LUA_INIT_5_4 over LUA_INIT", function()
      local r = run({ "-e", "print(z)" },
                    { env = { LUA_INIT = "z = 'plain'", LUA_INIT_5_4 = "z = 'versioned'" } })
      assert.are.equal("versioned\n", r.out)
    end)

    it("fails with status 1 when LUA_INIT fails", function()
      local r = run({ "-e", "print('not reached')" }, { env = { LUA_INIT = "error('init failed')" } })
      assert.are.equal(1, r.code)
      assert.are.equal("", r.out)
      assert.are.equal("mpl: LUA_INIT:1: init failed", first_line(r.err))
    end)

    it("-E ignores LUA_INIT and LUA_PATH", function()
      local r = run({ "-E", "-e", "print(x, package.path:find('/mpl_cli_path/', 1, true))" },
                    { env = { LUA_INIT = "x = 'init'", LUA_PATH = "/mpl_cli_path/?.lua" } })
      assert.are.same({ out = "nil\tnil\n", err = "", code = 0 }, r)
      r = run({ "-e", "print(package.path:find('/mpl_cli_path/', 1, true) ~= nil)" },
              { env = { LUA_PATH = "/mpl_cli_path/?.lua" } })
      assert.are.equal("true\n", r.out)
    end)
  end)

  describe("worker count", function()
    local show = { "-e", "print(mat.procs())" }
    local function with(opts, ...)
      local args = { ... }
      for _, a in ipairs(show) do args[#args + 1] = a end
      return run(args, opts)
    end

    it("is set by -p N, -pN, --procs N and --procs=N", function()
      assert.are.same({ out = "3\n", err = "", code = 0 }, with(nil, "-p", "3"))
      assert.are.same({ out = "4\n", err = "", code = 0 }, with(nil, "-p4"))
      assert.are.same({ out = "3\n", err = "", code = 0 }, with(nil, "--procs", "3"))
      assert.are.same({ out = "5\n", err = "", code = 0 }, with(nil, "--procs=5"))
    end)

    it("is set by MPL_PROCS, and the flag wins", function()
      assert.are.same({ out = "3\n", err = "", code = 0 }, with({ env = { MPL_PROCS = "3" } }))
      assert.are.equal("2\n", with({ env = { MPL_PROCS = "3" } }, "-p", "2").out)
      assert.are.equal("2\n", with({ env = { MPL_PROCS = "junk" } }, "-p", "2").out)
    end)

    it("defaults to a positive count", function()
      local n = tonumber(with(nil).out)
      assert.truthy(n and n >= 1 and math.type(n) == "integer")
    end)

    it("rejects bad flag values with status 1", function()
      for _, v in ipairs({ "abc", "0", "-2", "1.5", "3x", "", " 3", "99999999999" }) do
        local r = with(nil, "--procs=" .. v)
        assert.are.same({ out = "", code = 1,
          err = "mpl: bad value for --procs: '" .. v .. "' (expected an integer from 1 to 4096)\n" }, r)
      end
      assert.are.same({ out = "", code = 1,
        err = "mpl: bad value for --procs: 'abc' (expected an integer from 1 to 4096)\n" },
        with(nil, "-p", "abc"))
      assert.are.equal("mpl: bad value for --procs: '0' (expected an integer from 1 to 4096)\n",
                       with(nil, "--procs", "0").err)
    end)

    it("rejects bad MPL_PROCS values with status 1", function()
      for _, v in ipairs({ "abc", "0", "-1", "99999", "4097", "1e3", "2.5", " 2" }) do
        local r = with({ env = { MPL_PROCS = v } })
        assert.are.same({ out = "", code = 1,
          err = "mpl: bad value for MPL_PROCS: '" .. v .. "' (expected an integer from 1 to 4096)\n" }, r)
      end
      assert.are.same({ out = "4096\n", err = "", code = 0 }, with({ env = { MPL_PROCS = "4096" } }))
    end)
  end)

  -- The arena's size and retained memory: byte counts, checked when mat
  -- opens (each run is under `timeout 20`: a hang fails as status 124).
  describe("MPL_ARENA_SIZE and MPL_ARENA_RETAIN", function()
    local show = "print(#mat.new(12, 3))"
    local bad = { "-1", "abc", "1e12", "2.5g", "64mb", " 64m", "64 m", "0x100000",
                  "18446744073709551615", "18446744073709547520", "99999999999999999999999",
                  "1125899906842625", "1025t" }

    it("reject anything but a byte count, naming the variable, with every -p", function()
      for _, name in ipairs({ "MPL_ARENA_SIZE", "MPL_ARENA_RETAIN" }) do
        local from = name == "MPL_ARENA_SIZE" and "1m" or "0"
        for _, v in ipairs(bad) do
          for _, p in ipairs({ "1", "2" }) do
            local r = run({ "-p", p, "-e", show }, { env = { [name] = v } })
            local shown = #v > 40 and v:sub(1, 40) .. "..." or v
            assert.are.same({ out = "", code = 1,
              err = "mpl: mat: bad value for " .. name .. ": '" .. shown .. "' (expected a " ..
                    "byte count from " .. from .. " to 1024t: digits, then optionally k, m, " ..
                    "g or t)\n" }, r)
          end
        end
      end
    end)

    it("reject an arena below 1 MiB, and take what they document", function()
      for _, v in ipairs({ "0", "100000", "1048575", "1023k" }) do
        local r = run({ "-e", show }, { env = { MPL_ARENA_SIZE = v } })
        assert.are.equal(1, r.code)
        assert.truthy(r.err:find("bad value for MPL_ARENA_SIZE: '" .. v .. "'", 1, true))
      end
      for _, v in ipairs({ "", "1m", "1024K", "64m", "1G", "2147483648" }) do
        assert.are.same({ out = "12\n", err = "", code = 0 },
                        run({ "-e", show }, { env = { MPL_ARENA_SIZE = v } }))
      end
      for _, v in ipairs({ "", "0", "16M", "1g", "1024t" }) do
        assert.are.same({ out = "12\n", err = "", code = 0 },
                        run({ "-e", show }, { env = { MPL_ARENA_RETAIN = v } }))
      end
    end)

    it("bound what a 1 MiB arena can hold", function()
      local r = run({ "-e", "print(pcall(mat.new, 1000, 1000))" },
                    { env = { MPL_ARENA_SIZE = "1m" } })
      assert.are.equal(0, r.code)
      assert.truthy(r.out:find("^false"))
    end)
  end)

  describe("mat", function()
    it("is a preloaded global and the value of require 'mat'", function()
      local r = run({ "-e", "print(type(mat), mat == require('mat'), package.loaded.mat == mat)" })
      assert.are.same({ out = "table\ttrue\ttrue\n", err = "", code = 0 }, r)
    end)
  end)

  describe("REPL on a pipe (-i)", function()
    it("prints the banner, expression values and leaves at EOF with 0", function()
      local r = run({ "-i" }, { stdin = "1+1\n" })
      assert.are.same({ out = BANNER .. "> 2\n> \n", err = "", code = 0 }, r)
    end)

    it("prints several values, nil and the '=' form", function()
      local r = run({ "-i" }, { stdin = "return 1, nil, 'a'\nx = 5\n=x\nprint(nil)\n" })
      assert.are.same({ out = BANNER .. "> 1\tnil\ta\n> > 5\n> nil\n> \n",
                        err = "", code = 0 }, r)
    end)

    it("continues an incomplete statement", function()
      local r = run({ "-i" }, { stdin = "for i = 1, 2 do\nprint(i)\nend\n" })
      assert.are.same({ out = BANNER .. "> >> >> 1\n2\n> \n", err = "", code = 0 }, r)
    end)

    it("runs statements and keeps globals between lines", function()
      local r = run({ "-i" }, { stdin = "local y = 1; x = 10\nx * 2\ny\n" })
      assert.are.same({ out = BANNER .. "> > 20\n> nil\n> \n", err = "", code = 0 }, r)
    end)

    it("reports an error and goes on", function()
      local r = run({ "-i" }, { stdin = "error('bad')\n1+1\n" })
      assert.are.equal(0, r.code)
      assert.are.equal(BANNER .. "> > 2\n> \n", r.out)
      assert.are.equal("stdin:1: bad", first_line(r.err))
      assert.truthy(r.err:find("\nstack traceback:\n", 1, true))
    end)

    it("reports a syntax error and goes on", function()
      local r = run({ "-i" }, { stdin = "x = = 1\n2\n" })
      assert.are.same({ out = BANNER .. "> > 2\n> \n",
                        err = "stdin:1: unexpected symbol near '='\n", code = 0 }, r)
    end)

    it("reports an unfinished statement at EOF", function()
      local r = run({ "-i" }, { stdin = "for i = 1, 2 do\n" })
      assert.are.same({ out = BANNER .. "> >> > \n",
                        err = "stdin:1: 'end' expected near <eof>\n", code = 0 }, r)
    end)

    it("prints values through __tostring and the global print", function()
      local r = run({ "-i" }, { stdin = "setmetatable({}, {__tostring = function() return 'T!' end})\n"
                                        .. "print = function(...) io.write('<', select('#', ...), '>\\n') end\n"
                                        .. "1, 2\n" })
      assert.are.same({ out = BANNER .. "> T!\n> > <2>\n> \n", err = "", code = 0 }, r)
    end)

    it("uses _PROMPT and _PROMPT2", function()
      local r = run({ "-i" }, { stdin = "_PROMPT = '$ '; _PROMPT2 = '+ '\nif true then\nend\n" })
      assert.are.same({ out = BANNER .. "> $ + $ \n", err = "", code = 0 }, r)
    end)

    it("runs the script first, then reads lines", function()
      local f = tmpfile("v = 'from script'\nprint('script ran')\n")
      local r = run({ "-i", f }, { stdin = "v\n" })
      assert.are.same({ out = BANNER .. "script ran\n> from script\n> \n", err = "", code = 0 }, r)
    end)

    it("appends each line to the MPL_HISTORY file", function()
      local hist = tmpname()
      writefile(hist, "old line\n")
      local r = run({ "-i" }, { stdin = "1+1\n\nfor i = 1, 1 do\nend\n", env = { MPL_HISTORY = hist } })
      assert.are.equal(0, r.code)
      assert.are.equal("old line\n1+1\nfor i = 1, 1 do\nend\n", readfile(hist))
    end)

    it("keeps no history file by default when not on a terminal", function()
      local home = tmpdir()
      local r = run({ "-i" }, { stdin = "1+1\n", env = { HOME = home } })
      assert.are.equal(0, r.code)
      assert.is_nil(readfile(home .. "/.mpl_history"))
    end)

    it("does not fail when the history file cannot be written", function()
      local r = run({ "-i" }, { stdin = "1+1\n",
                                env = { MPL_HISTORY = "/nonexistent/dir/hist" } })
      assert.are.same({ out = BANNER .. "> 2\n> \n", err = "", code = 0 }, r)
    end)

    it("ignores a history file that is a directory or has an impossible name", function()
      for _, v in ipairs({ "/", string.rep("h", 5000), "/nonexistent/" .. string.rep("d/", 2000) }) do
        local r = run({ "-i" }, { stdin = "1+1\n", env = { MPL_HISTORY = v } })
        assert.are.same({ out = BANNER .. "> 2\n> \n", err = "", code = 0 }, r)
      end
    end)
  end)
end)
