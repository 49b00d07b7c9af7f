# temporaries.py: the Python side of tests/bench/temporaries.lua.
#
#   python3 temporaries.py COUNT LO HI REPLICATES
#
# Builds COUNT NumPy arrays of uniform doubles, array i of length
# LO + (i * 7919) % (HI - LO + 1) (the lengths the mpl side uses), then
# reads commands on stdin, one per line: a worker count P runs
# multiprocessing.Pool(P) (fork, so the workers read the list
# copy-on-write) over every array, each item REPLICATES times
# `w = rng.random(n); (x * w).sum() / w.sum()` (one generator per worker:
# a generator per item would cost Python more than the work), and prints
# "SECONDS PSS_KB" (the largest PSS of the family sampled by the workers);
# "quit" or end of input stops.
import multiprocessing as mp
import os
import sys
import time

import numpy as np

COUNT, LO, HI, BOOT = (int(a) for a in sys.argv[1:5])
rng0 = np.random.default_rng(2024)
DATA = [rng0.random(LO + (i * 7919) % (HI - LO + 1)) for i in range(COUNT)]
LAST = [None]
RNG = [None]


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def family_pss(pid):
    kb = pss_kb(pid)
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            for child in f.read().split():
                kb += family_pss(int(child))
    except OSError:
        pass
    return kb


def item(i):
    if RNG[0] is None:  # one generator per worker, made in the worker
        RNG[0] = np.random.default_rng([7, os.getpid()])
    rng = RNG[0]
    x = DATA[i]
    s = 0.0
    for _ in range(BOOT):
        w = rng.random(x.size)
        s += (x * w).sum() / w.sum()
    pss = 0
    now = time.monotonic()
    if LAST[0] is None:
        LAST[0] = now  # the first sample a quarter second into the call
    if now - LAST[0] > 0.25:
        LAST[0] = now
        pss = family_pss(os.getppid())
    return s, pss


def run(procs):
    ctx = mp.get_context("fork")
    t = time.monotonic()
    with ctx.Pool(procs) as pool:
        res = pool.map(item, range(COUNT))
    t = time.monotonic() - t
    return t, max(p for _, p in res)


print("ready", sum(a.nbytes for a in DATA), flush=True)
for line in sys.stdin:
    line = line.strip()
    if not line or line == "quit":
        break
    t, pss = run(int(line))
    print(f"{t:.6f} {pss}", flush=True)
