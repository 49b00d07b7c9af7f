#!/usr/bin/env python3
"""List the C functions longer than a limit (default 60 lines).

    tests/tools/long_functions.py [--max N] [files or folders ...]  (default: src)

A function is counted from the first line of its signature (a line at
column 0 that is not a comment, a preprocessor line or a declaration
ending in ';') to its closing brace at column 0, both included.  Prints
"file:line: name: N lines" for each one over the limit, longest first,
and exits 1 when there is any.
"""
import os
import re
import sys


def functions(path):
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    start = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if start is None:
            if (re.match(r"[A-Za-z_]", line) and "(" in line
                    and not line.rstrip().endswith(";")
                    and not line.startswith(("typedef", "struct", "enum",
                                             "union", "extern"))):
                j = i
                while j < len(lines) and "{" not in lines[j] and \
                        not lines[j].rstrip().endswith(";"):
                    j += 1
                if j < len(lines) and "{" in lines[j] and \
                        not lines[j].rstrip().endswith("};"):
                    start = i
                    name = re.findall(r"([A-Za-z_]\w*)\s*\(", line)
                    name = name[0] if name else "?"
                    if lines[j].rstrip().endswith("}") and j == i:
                        yield name, i + 1, 1
                        start = None
                    i = j
        elif line.startswith("}"):
            yield name, start + 1, i - start + 1
            start = None
        i += 1


def main(argv):
    limit = 60
    if argv[:1] == ["--max"]:
        limit = int(argv[1])
        argv = argv[2:]
    roots = argv or ["src"]
    found = []
    for root in roots:
        paths = [root] if os.path.isfile(root) else [
            os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
            if f.endswith((".c", ".h"))]
        for p in sorted(paths):
            for name, line, n in functions(p):
                if n > limit:
                    found.append((n, p, line, name))
    for n, p, line, name in sorted(found, reverse=True):
        print(f"{p}:{line}: {name}: {n} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
