#!/usr/bin/env python3
"""png_colours.py FILE: decode a PNG (8-bit, not interlaced; grey, RGB,
palette or with alpha) with nothing but zlib and print what the picture
specs look at:

    size W H
    pixels SHA256            (of the RGB bytes, row by row)
    colour R G B COUNT SUMX SUMY   (one line per distinct colour)

Alpha is dropped (pictures are drawn on an opaque background).

png_colours.py --diff A B: "differ N OF" -- how many of the N pixels
differ by more than 8 in a channel (or "size" when the sizes differ)."""
import hashlib
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunks(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("not a PNG")
    pos = 8
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, data[pos + 8:pos + 8 + n]
        pos += 12 + n


def unfilter(raw, w, h, bpp):
    stride, rows, prev, i = w * bpp, [], bytearray(w * bpp), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pr) & 255
        rows.append(line)
        prev = line
    return rows


def decode(path):
    idat, plte = b"", b""
    for kind, body in chunks(open(path, "rb").read()):
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            plte = body
        elif kind == b"IDAT":
            idat += body
    if depth != 8 or inter != 0:
        sys.exit("only 8-bit, non-interlaced PNG files")
    bpp = CHANNELS[ctype]
    return w, h, ctype, bpp, plte, unfilter(zlib.decompress(idat), w, h, bpp)


def pixels(path):
    w, h, ctype, bpp, plte, rows = decode(path)
    out = []
    for line in rows:
        for x in range(w):
            px = line[x * bpp:(x + 1) * bpp]
            if ctype == 3:
                out.append(tuple(plte[3 * px[0]:3 * px[0] + 3]))
            elif ctype in (0, 4):
                out.append((px[0],) * 3)
            else:
                out.append(tuple(px[:3]))
    return w, h, out


def diff(a, b):
    wa, ha, pa = pixels(a)
    wb, hb, pb = pixels(b)
    if (wa, ha) != (wb, hb):
        print("size", wa, ha, wb, hb)
        return
    n = sum(1 for u, v in zip(pa, pb)
            if max(abs(u[k] - v[k]) for k in range(3)) > 8)
    print("differ", n, wa * ha)


def main(path):
    w, h, ctype, bpp, plte, rows = decode(path)
    rgb, stats = bytearray(), {}
    for y, line in enumerate(rows):
        for x in range(w):
            px = line[x * bpp:(x + 1) * bpp]
            if ctype == 3:
                c = tuple(plte[3 * px[0]:3 * px[0] + 3])
            elif ctype in (0, 4):
                c = (px[0],) * 3
            else:
                c = tuple(px[:3])
            rgb += bytes(c)
            s = stats.setdefault(c, [0, 0, 0])
            s[0] += 1
            s[1] += x
            s[2] += y
    print("size", w, h)
    print("pixels", hashlib.sha256(rgb).hexdigest())
    for c, s in sorted(stats.items()):
        print("colour", *c, *s)


if sys.argv[1] == "--diff":
    diff(sys.argv[2], sys.argv[3])
else:
    main(sys.argv[1])
