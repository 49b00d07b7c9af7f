-- quickstart.lua: make matrices, multiply them, print and save the result.
-- Run it with `mpl examples/quickstart.lua [output.csv]`.
local out = arg and arg[1] or "quickstart-result.csv"

local a = mat.from({{1, 2, 3},
                    {4, 5, 6}})          -- 2x3 from a nested table
local b = mat.range(1, 6):reshape(3, 2)  -- 1..6 as a 3x2 view
local c = a * b                          -- the matrix product, 2x2

print(c)
print("c[2][1] =", c[2][1])

mat.seed(42)
local r = mat.rand(3, 3)
print(r:t())                             -- a transposed view, no copy

mat.save(out, c)
print("saved " .. out)
