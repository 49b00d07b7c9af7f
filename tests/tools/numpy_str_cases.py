"""Writes random matrices and NumPy's str() of each, for format_spec.lua.

usage: numpy_str_cases.py OUT_LUA OUT_EXPECTED [COUNT]
The Lua file returns a list of nested tables; the expected file holds each
str() followed by a line "@@".  Values mix whole numbers, fractions, tiny
and huge magnitudes, nan and infinities; shapes include wide rows (NumPy
wraps them at 75 columns) and matrices over 1000 elements (summarised).
"""
import random
import sys

import numpy as np

out_lua, out_exp = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 300
rng = random.Random(20261121)


def value():
    k = rng.random()
    if k < 0.04:
        return float("nan")
    if k < 0.07:
        return rng.choice([float("inf"), -float("inf")])
    if k < 0.3:
        return float(rng.randint(-1000, 1000))
    if k < 0.45:
        return rng.uniform(-1, 1) * 10 ** rng.randint(-12, 12)
    if k < 0.7:
        return round(rng.uniform(-100, 100), rng.randint(0, 4))
    return rng.uniform(-10, 10)


def lua_number(v):
    if np.isnan(v):
        return "0/0"
    if np.isinf(v):
        return "1/0" if v > 0 else "-1/0"
    return repr(float(v))


with open(out_lua, "w") as lf, open(out_exp, "w") as ef:
    lf.write("return {\n")
    for _ in range(count):
        r = rng.randint(1, 10)
        c = rng.randint(1, 30) if rng.random() < 0.3 else rng.randint(1, 7)
        if rng.random() < 0.05:
            r, c = rng.randint(30, 50), rng.randint(30, 50)
        a = np.array([[value() for _ in range(c)] for _ in range(r)])
        if rng.random() < 0.3:
            a = np.round(a)
        if rng.random() < 0.1:
            a = np.abs(a)
        lf.write("{" + ",".join("{" + ",".join(lua_number(v) for v in row) + "}"
                                for row in a) + "},\n")
        ef.write(str(a) + "\n@@\n")
    lf.write("}\n")
