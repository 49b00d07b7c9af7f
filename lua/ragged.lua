-- ragged.lua: mat.ragged(t) packs a table of number tables and vectors
-- into one shared buffer; mat.ragged(values, lengths) wraps a matrix that
-- already holds the items back to back.  This part checks the items and
-- measures them; the C helpers (src/lua/lragged.c) make the ragged and
-- copy every item's numbers into it in one call.
local mat, C = ...

local raise, typename = C.error, C.typename
local item_len, pack, wrap = C.ragged_item_len, C.ragged_pack, C.ragged_wrap
local type, rawlen, rawget = type, rawlen, rawget

function mat.ragged(t, lengths)
  if lengths ~= nil then return wrap(t, lengths) end
  if type(t) ~= "table" then
    raise(("mat.ragged: bad argument #1 (table expected, got %s)")
      :format(typename(t)))
  end
  local lens = {}
  for i = 1, rawlen(t) do
    local x = rawget(t, i)
    lens[i] = type(x) == "table" and rawlen(x) or item_len(x, i)
  end
  return pack(t, lens)
end
