-- LuaRocks package of mpl's `mat` module for Lua 5.4.  From a checkout:
--   luarocks --lua-version 5.4 make            (or: luarocks make --local)
-- builds mat.so through the project's CMake build (Lua 5.4 headers,
-- OpenBLAS, libzip, zlib, readline and pkg-config from the system, e.g. on
-- Debian: liblua5.4-dev libopenblas-dev libzip-dev zlib1g-dev
-- libreadline-dev pkg-config cmake) and installs it where lua5.4 finds
-- it, so `require "mat"` works.  The Lua parts of the module are compiled
-- into mat.so, so it is the only file.
rockspec_format = "3.0"
package = "mat"
version = "0.1.0-1"
source = {
  -- luarocks make builds the checkout it runs in; set this to the
  -- project's published repository before uploading the rockspec.
  url = "git+https://example.invalid/mpl.git",
  tag = "v0.1.0",
}
description = {
  summary = "Matrices in shared memory, multiplied by a pool of worker processes",
  detailed = [[
    mat is the Lua face of the mpl matrix engine: 2-D float64 matrices whose
    elements live in shared memory, so forked worker processes read and write
    them without copying; views, NumPy-like printing, OpenBLAS products,
    CSV/NumPy (.npy, .npz)/Matrix Market files, also gzip-compressed.
  ]],
  labels = { "math", "matrix", "linear-algebra", "parallel" },
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    MPL_TESTS = "OFF",
  },
  -- Only mat.so is installed; the C library, header and mpl command come
  -- from `cmake --install` instead.
  install_pass = false,
  install = {
    lib = { mat = "build.luarocks/mat.so" },
  },
}
