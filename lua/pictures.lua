-- pictures.lua: the entry points of mat.plot, mat.scatter, mat.hist and
-- mat.imagesc.  Their code (lua/lazy/plot.lua) is compiled on the first
-- call, so that opening `mat` costs nothing for pictures never drawn.
local mat, C = ...

local impl

for _, name in ipairs({ "plot", "scatter", "hist", "imagesc" }) do
  mat[name] = function(...)
    if not impl then impl = C.load_lazy("plot.lua")(mat, C) end
    return impl[name](...)
  end
end
