-- tour.lua: a first look at mat. Run it: mpl examples/tour.lua
local a = mat.from{{1, 2}, {3, 4}}      -- a 2x2 matrix, from its rows
print(a)
print(a.rows, a.cols, a[2][1])          -- 2  2  3.0: row 2, column 1
print(a * a)                            -- the matrix product
print(a:t())                            -- the transpose: a view, no copy
print(a + 10)                           -- elementwise, with broadcasting

local x = mat.linspace(0, 1, 5)         -- a 1x5 row: 0 .25 .5 .75 1
print(x:sum(), x:max(), mat.exp(x))

mat.seed(1)                             -- the same numbers on every machine
local m = mat.randn(600, 400)
local c = mat.dot(m, m:t(), {procs = 2})  -- row blocks on two workers
print(c.rows, c.cols, c == mat.dot(m, m:t(), {procs = 1}))  -- same bits

-- f runs in forked workers that see every variable the script has.
local squares = mat.map(function(i) return i * i end, 5)
print(table.concat(squares, " "))       -- 1 4 9 16 25

local path = os.tmpname()
mat.save(path .. ".csv", a)
print(mat.load(path .. ".csv") == a)    -- true: the round trip is exact
os.remove(path .. ".csv")
os.remove(path)
