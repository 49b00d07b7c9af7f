-- The Lua half of the `mat` module: constructors whose rules read best in
-- Lua.  It runs once, on the table the C half built, and returns it.
local mat = ...

local type, floor, tointeger = type, math.floor, math.tointeger
local error, fmt = error, string.format

local function number(fn, what, v)
  if type(v) ~= "number" then
    error(fmt("%s: %s must be a number (got %s)", fn, what, type(v)), 3)
  end
  return v
end

-- mat.zeros(r, c) and mat.ones(r, c): mat.new with a fill value.
function mat.zeros(r, c) return mat.new(r, c) end
function mat.ones(r, c) return mat.new(r, c, 1) end

-- mat.range(a, b [, step]): a, a+step, ... up to and including b, like a
-- Lua numeric for loop and Torch7's torch.range (NumPy's arange stops
-- before b).  A float count within 1e-10 of a whole number is rounded to
-- it, so range(0, 0.3, 0.1) ends at 0.3 as the user means.
function mat.range(a, b, step)
  number("mat.range", "start", a)
  number("mat.range", "stop", b)
  step = step == nil and 1 or number("mat.range", "step", step)
  if step == 0 then error("mat.range: step must not be zero", 2) end
  if a ~= a or b ~= b or step ~= step or a - a ~= 0 or b - b ~= 0 then
    error("mat.range: bounds must be finite numbers", 2)
  end
  local span = (b - a) / step
  local n = span < 0 and 0 or floor(span + 1e-10) + 1
  if n > 2^53 then error(fmt("mat.range: %.0f elements are too many", n), 2) end
  return mat._seq(tointeger(n), a, step)
end

-- mat.linspace(a, b, n): n evenly spaced points from a to b inclusive; the
-- last is b exactly.
function mat.linspace(a, b, n)
  number("mat.linspace", "start", a)
  number("mat.linspace", "stop", b)
  local k = type(n) == "number" and tointeger(n)
  if not k or k < 0 then
    error(fmt("mat.linspace: count must be a non-negative integer (got %s)",
              type(n) == "number" and tostring(n) or type(n)), 2)
  end
  if k == 1 then return mat._seq(1, a, 0) end
  return mat._seq(k, a, (b - a) / (k - 1), b)
end

return mat
