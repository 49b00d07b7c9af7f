-- ragged.lua: mat.ragged(t) packs a table of number tables and vectors
-- into one shared buffer; mat.ragged(values, lengths) wraps a matrix that
-- already holds the items back to back.  The C helpers (src/lua/lragged.c)
-- measure the items and copy their numbers in one call, with no Lua per
-- item; what is wrong with a bad item comes back here to be put in words.
local mat, C = ...

local raise, typename = C.error, C.typename
local pack, wrap = C.ragged_pack, C.ragged_wrap
local type, rawget = type, rawget

-- The message for the fault ragged_pack found in item i of t.
local function fault(t, i, what, a, b)
  local x = rawget(t, i)
  if what == "shape" then
    return ("item %d is a %dx%d matrix, not a vector"):format(i, a, b)
  elseif what == "element" then
    return ("item %d, element %d is not a number (got %s)")
      :format(i, a, typename(rawget(x, a)))
  end
  return ("item %d is not a table or vector (got %s)"):format(i, typename(x))
end

function mat.ragged(t, lengths)
  if lengths ~= nil then return wrap(t, lengths) end
  if type(t) ~= "table" then
    raise(("mat.ragged: bad argument #1 (table expected, got %s)")
      :format(typename(t)))
  end
  local R, i, what, a, b = pack(t)
  if not R then raise("mat.ragged: " .. fault(t, i, what, a, b)) end
  return R
end
