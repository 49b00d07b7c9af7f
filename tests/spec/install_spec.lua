-- install_spec.lua: what `cmake --install` and `luarocks make` give users.
--
-- The build tree is installed into a temporary prefix; then everything is
-- used from there the ways users do: the mpl command, stock lua5.4
-- requiring the installed mat.so, examples/embed built with
-- find_package(mpl) and with a pkg-config one-liner, and run.  `luarocks
-- make` runs on a copy of the source tree (it builds in place).  MPL_BIN
-- (the build's mpl) tells where the build tree is.  In sanitizer builds the
-- hosts are built with the same sanitizers, and the checks that load the
-- instrumented mat.so into the uninstrumented lua5.4 are skipped.

local BIN = assert(os.getenv("MPL_BIN"), "MPL_BIN is not set")
local BUILD = BIN:match("^(.*)/[^/]*$")
local SRC = assert(os.getenv("MPL_SOURCE_DIR"), "MPL_SOURCE_DIR is not set")
local SANITIZE = os.getenv("MPL_SANITIZE") == "1"
local SAN_FLAGS = "-fsanitize=address,undefined -fno-omit-frame-pointer"
local q = require("util").shquote

-- Run a shell command (under a timeout) and return its exit code and
-- combined output.
local function sh(cmd, seconds)
  local p = io.popen("timeout " .. (seconds or 120) .. " sh -c " ..
                     q(cmd .. " 2>&1; echo \"rc=$?\""))
  local out = p:read("a")
  p:close()
  local body, rc = out:match("^(.-)rc=(%d+)\n$")
  return tonumber(rc), body
end

-- sh() that must succeed; returns the output.
local function ok(cmd, seconds)
  local rc, out = sh(cmd, seconds)
  assert(rc == 0, ("command failed (%s): %s\n%s"):format(rc, cmd, out))
  return out
end

local function has(prog)
  return (sh("command -v " .. q(prog))) == 0
end

local function tmpdir()
  return (ok("mktemp -d /tmp/mpl-install-XXXXXX"):gsub("%s+$", ""))
end

-- The one file under dir whose path ends with suffix.
local function find(dir, suffix)
  local out = ok("find " .. q(dir) .. " -path " .. q("*" .. suffix))
  local hits = {}
  for line in out:gmatch("[^\n]+") do hits[#hits + 1] = line end
  assert(#hits == 1, ("%d files match *%s under %s"):format(#hits, suffix, dir))
  return hits[1]
end

describe("cmake --install", function()
  local prefix, work

  -- cmake --install writes its list of installed files into the build
  -- tree: kept aside and put back, so the tests leave the tree as it was
  local manifest = BUILD .. "/install_manifest.txt"
  local saved

  local slurp = require("util").readfile

  setup(function()
    prefix, work = tmpdir(), tmpdir()
    saved = slurp(manifest)
    ok("cmake --install " .. q(BUILD) .. " --prefix " .. q(prefix))
  end)

  teardown(function()
    if saved then
      local f = assert(io.open(manifest, "wb"))
      f:write(saved)
      f:close()
    else
      os.remove(manifest)
    end
    if prefix then sh("rm -rf " .. q(prefix) .. " " .. q(work)) end
  end)

  it("leaves no file in the build tree naming the prefix", function()
    local out = ok("grep -rlsF --exclude=install_manifest.txt " .. q(prefix) ..
                   " " .. q(BUILD) .. " || true")
    assert.are.equal("", out)
  end)

  it("puts every artifact under the prefix", function()
    for _, f in ipairs{"/bin/mpl", "/include/mpl.h", "/libmpl.so", "/libmpl.a",
                       "/lua/5.4/mat.so", "/man/man1/mpl.1",
                       "/pkgconfig/mpl.pc", "/cmake/mpl/mplConfig.cmake",
                       "/cmake/mpl/mplConfigVersion.cmake",
                       "/cmake/mpl/mplTargets.cmake",
                       "/examples/embed/host.c", "/doc/mpl/README.md"} do
      find(prefix, f)
    end
  end)

  it("installs a working mpl command", function()
    local out = ok(q(prefix .. "/bin/mpl") .. " -e 'print(mat.eye(2) * mat.ones(2, 1))'")
    assert.are.equal("mat 2x1\n[[1.]\n [1.]]\n", out)
  end)

  it("exports only the public API from libmpl.so", function()
    local lib = find(prefix, "/libmpl.so")
    for name in ok("nm -D --defined-only " .. q(lib)):gmatch("%S+ %S+ (%S+)") do
      assert.is_truthy(name:match("^mpl_") or name == "luaopen_mat",
                       "exported: " .. name)
    end
  end)

  it("declares every exported function in the installed header", function()
    local header = io.open(prefix .. "/include/mpl.h"):read("a")
    local mpi_h = io.open(prefix .. "/include/mpl_mpi.h") -- built with MPI
    if mpi_h then header = header .. mpi_h:read("a") mpi_h:close() end
    local lib = find(prefix, "/libmpl.so")
    for name in ok("nm -D --defined-only " .. q(lib)):gmatch("%S+ %S+ (%S+)") do
      assert.is_truthy(header:find("MPL_API [^;]-[ *]" .. name .. "%("),
                       name .. " is not declared in mpl.h (or mpl_mpi.h)")
    end
  end)

  it("writes an mpl.pc that names the prefix", function()
    local pc = find(prefix, "/pkgconfig/mpl.pc")
    local env = "PKG_CONFIG_PATH=" .. q(pc:match("^(.*)/"))
    local flags = ok(env .. " pkg-config --cflags --libs mpl")
    assert.is_truthy(flags:find("-I" .. prefix .. "/include", 1, true))
    assert.is_truthy(flags:find("-lmpl", 1, true))
    assert.is_truthy(flags:find("-llua5.4", 1, true))
    assert.are.equal("0.1.0\n", ok(env .. " pkg-config --modversion mpl"))
    local luacdir = ok(env .. " pkg-config --variable=luacdir mpl"):gsub("\n$", "")
    assert.are.equal(find(prefix, "/lua/5.4/mat.so"), luacdir .. "/mat.so")
  end)

  it("lets stock lua5.4 require the installed mat.so", function()
    if SANITIZE or not has("lua5.4") then
      pending("needs lua5.4 and an uninstrumented mat.so")
      return
    end
    local so = find(prefix, "/lua/5.4/mat.so")
    local dir = so:match("^(.*)/")
    local out = ok("LUA_CPATH=" .. q(dir .. "/?.so") .. " LUA_INIT= LUA_INIT_5_4= lua5.4 -e " .. q[[
      local mat = require "mat"
      print(package.searchpath("mat", package.cpath))
      print(mat.version, (mat.from{{1, 2}, {3, 4}} * mat.eye(2)):get(2, 1))
      -- the module's Lua parts (lua/*.lua) are inside mat.so
      print(#mat.map(function(i) return i end, 3, {procs = 2}), #mat.ragged{{1}, {2, 3}})]])
    assert.are.equal(so .. "\n0.1.0\t3.0\n3\t2\n", out)
    -- mat.so leaves Lua's symbols to the interpreter
    assert.is_falsy(ok("ldd " .. q(so)):find("liblua", 1, true))
  end)

  it("builds and runs examples/embed with find_package(mpl)", function()
    local flags = SANITIZE and " -DCMAKE_C_FLAGS=" .. q(SAN_FLAGS) or ""
    ok("cmake -S " .. q(SRC .. "/examples/embed") .. " -B " .. q(work .. "/cmake") ..
       " -DCMAKE_PREFIX_PATH=" .. q(prefix) .. flags)
    ok("cmake --build " .. q(work .. "/cmake"))
    for _, exe in ipairs{"host", "host_static"} do
      local out = ok(q(work .. "/cmake/" .. exe))
      assert.is_truthy(out:match("^host: ok"), exe)
    end
    -- the shared build uses the installed libmpl.so, the static one none
    assert.is_truthy(ok("ldd " .. q(work .. "/cmake/host")):find(prefix, 1, true))
    assert.is_falsy(ok("ldd " .. q(work .. "/cmake/host_static")):find("libmpl", 1, true))
  end)

  it("builds and runs examples/embed with a pkg-config one-liner", function()
    local pcdir = find(prefix, "/pkgconfig/mpl.pc"):match("^(.*)/")
    local exe = work .. "/host-pc"
    ok("export PKG_CONFIG_PATH=" .. q(pcdir) .. "; cc -std=c11 " ..
       (SANITIZE and SAN_FLAGS or "") .. " -o " .. q(exe) .. " " ..
       q(SRC .. "/examples/embed/host.c") ..
       " $(pkg-config --cflags --libs mpl) -Wl,-rpath,$(pkg-config --variable=libdir mpl)")
    local out = ok(q(exe))
    assert.is_truthy(out:match("^host: ok"))
  end)

  it("installs a man page that renders", function()
    if not has("man") then
      pending("needs man")
      return
    end
    local page = find(prefix, "/man/man1/mpl.1")
    local out = ok("MANWIDTH=80 man -l " .. q(page))
    assert.is_truthy(out:find("--procs", 1, true))
    assert.is_truthy(out:find("MPL_PROCS", 1, true))
  end)
end)

describe("luarocks make", function()
  it("builds mat.so for Lua 5.4 and stock lua5.4 requires it", function()
    if not has("luarocks") or not has("lua5.4") then
      pending("needs luarocks and lua5.4")
      return
    end
    local src, tree = tmpdir(), tmpdir()
    finally(function() sh("rm -rf " .. q(src) .. " " .. q(tree)) end)
    -- a copy of the checkout, without build trees or git metadata
    ok("cd " .. q(SRC) .. " && tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C " .. q(src))
    ok("cd " .. q(src) .. " && luarocks --lua-version 5.4 --tree " .. q(tree) .. " make", 280)
    local out = ok("cd /tmp && eval \"$(luarocks --lua-version 5.4 --tree " .. q(tree) ..
                   " path)\" && LUA_INIT= LUA_INIT_5_4= lua5.4 -e " .. q[[
      local mat = require "mat"
      print(package.searchpath("mat", package.cpath))
      print(mat.eye(2):get(2, 2))
      print(#mat.map(function(i) return i end, 3, {procs = 2}), #mat.ragged{{1}, {2, 3}})]])
    assert.are.equal(tree .. "/lib/lua/5.4/mat.so\n1.0\n3\t2\n", out)
  end)
end)
