#!/usr/bin/python3
"""make_corpus.py: writes the fuzzers' seed corpus (tests/fuzz/corpus/FMT/)
and the hostile files (tests/fuzz/hostile/) that files_spec.lua and the
replay tests load.  Run from anywhere with Debian's python3 + python3-numpy;
the output is committed, so this only needs re-running to change it."""
import gzip
import io
import os
import struct
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def put(sub, name, data):
    d = os.path.join(HERE, sub)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def zip_bytes(members, method=zipfile.ZIP_STORED):
    """A zip archive of these members, with a fixed date (reproducible)."""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", method) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data,
                       compress_type=method)
    return b.getvalue()


def npy_bytes(arr, version=None):
    b = io.BytesIO()
    np.lib.format.write_array(b, arr, version=version)
    return b.getvalue()


def raw_npy(header, data=b"", version=(1, 0), hlen=None):
    """A .npy file with this header text, padded to 64 bytes like NumPy."""
    h = header.encode()
    lenfmt = "<H" if version[0] == 1 else "<I"
    pre = len(b"\x93NUMPY") + 2 + struct.calcsize(lenfmt)
    pad = (64 - (pre + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    n = len(h) if hlen is None else hlen
    return b"\x93NUMPY" + bytes(version) + struct.pack(lenfmt, n) + h + data


# ---- seeds: small valid files in every supported variant ----
put("corpus/csv", "basic.csv", "1,2,3\n4,5,6\n")
put("corpus/csv", "header.csv", "# exported\nx,y\n1.5,-2\n3e10, 4E-3\n")
put("corpus/csv", "crlf_bom.csv", "\ufeff1,2\r\n3,4\r\n")
put("corpus/csv", "special.csv", "nan,-inf,inf\n-0,1e-320,1.7976931348623157e308\n")
put("corpus/csv", "spaces.txt", "  1   2\t3\n4 5 6   # trailing comment\n\n")
put("corpus/csv", "tabs.tsv", "1\t2\n3\t4\n")
put("corpus/csv", "semicolon.csv", "1;2\n3;4\n")
put("corpus/csv", "quoted.csv", "\"name\",\"x\"\n\"a, b\",1\n\"c\"\"d\ne\",2\n")
put("corpus/csv", "cr_only.csv", "1,2\r3,4\r")
put("corpus/csv", "na.csv", "x,y\n1,NA\n,2\n")
put("corpus/gzip", "csv.gz", gzip.compress(b"1,2\n3,4\n", mtime=0))
put("corpus/gzip", "two_members.gz",
    gzip.compress(b"1,2\n", mtime=0) + gzip.compress(b"3,4\n", mtime=0))
put("corpus/gzip", "npy.gz", gzip.compress(npy_bytes(np.arange(6.0).reshape(2, 3)), mtime=0))
put("corpus/npz", "stored.npz", zip_bytes({"a.npy": npy_bytes(np.arange(6.0).reshape(2, 3)),
                                           "b.npy": npy_bytes(np.eye(2, dtype="<f4"))}))
put("corpus/npz", "deflated.npz", zip_bytes({"a.npy": npy_bytes(np.arange(6.0).reshape(2, 3))},
                                            zipfile.ZIP_DEFLATED))
put("corpus/csv", "digits.csv",
    "0.10000000000000001,123456789012345678901234567890,1e400\n"
    "9007199254740993,2.2250738585072011e-308,4.9e-324\n")
put("corpus/mtx", "coord.mtx",
    "%%MatrixMarket matrix coordinate real general\n% c\n3 4 3\n1 1 1.5\n3 4 -2\n2 2 1e3\n")
put("corpus/mtx", "sym.mtx",
    "%%MatrixMarket matrix coordinate integer symmetric\n3 3 3\n1 1 1\n3 1 -4\n3 3 9\n")
put("corpus/mtx", "skew.mtx",
    "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 5\n3 2 -1\n")
put("corpus/mtx", "pattern.mtx",
    "%%MatrixMarket matrix coordinate pattern general\n2 2 2\n1 2\n2 1\n")
put("corpus/mtx", "array.mtx",
    "%%MatrixMarket matrix array real general\n2 3\n1\n2\n3\n4\n5\n6\n")
put("corpus/mtx", "array_sym.mtx",
    "%%MatrixMarket matrix array real symmetric\n3 3\n1\n2\n3\n4\n5\n6\n")
put("corpus/mtx", "array_skew.mtx",
    "%%MATRIXMARKET Matrix Array Integer Skew-Symmetric\r\n3 3\r\n1\r\n2\r\n3\r\n")
a = np.arange(12, dtype="<f8").reshape(3, 4) / 7
for dt in ["<f8", ">f8", "<f4", "<i4", "<i8", "|u1", "|b1"]:
    for order in "CF":
        arr = np.asarray(a * 3 if dt[1] != "b" else a > 0.5, dtype=dt, order=order)
        if order == "F":
            arr = np.asfortranarray(arr)
        name = dt[1:] + ("be" if dt[0] == ">" else "")
        put("corpus/npy", "%s_%s.npy" % (name, order), npy_bytes(arr))
put("corpus/npy", "v2.npy", npy_bytes(a, (2, 0)))
put("corpus/npy", "v3.npy", npy_bytes(a, (3, 0)))
put("corpus/npy", "1d.npy", npy_bytes(np.arange(5.0)))
put("corpus/npy", "0d.npy", npy_bytes(np.float64(2.5)))
put("corpus/npy", "empty.npy", npy_bytes(np.zeros((0, 3))))

# ---- hostile files: each loads to a precise error (see files_spec.lua) ----
d16 = b"\0" * 16
put("hostile", "npy_bad_magic.npy", b"\x93NUMPX\x01\x00" + b"\0" * 120)
put("hostile", "npy_short.npy", b"\x93NUM")
put("hostile", "npy_bad_version.npy", raw_npy("{}", version=(4, 0)))
put("hostile", "npy_header_past_end.npy",
    raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d16, hlen=5000))
put("hostile", "npy_header_huge.npy",
    raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d16,
            version=(2, 0), hlen=0xFFFFFFF0))
put("hostile", "npy_not_dict.npy", raw_npy("[('descr', '<f8')]", d16))
put("hostile", "npy_missing_key.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, }", d16))
put("hostile", "npy_extra_key.npy",
    raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1, }", d16))
put("hostile", "npy_duplicate_key.npy",
    raw_npy("{'descr': '<f8', 'shape': (2,), 'fortran_order': False, 'shape': (2,), }", d16))
put("hostile", "npy_object.npy", raw_npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", d16))
put("hostile", "npy_complex.npy", raw_npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", d16))
put("hostile", "npy_structured.npy",
    raw_npy("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", d16))
put("hostile", "npy_negative_dim.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2), }", d16))
put("hostile", "npy_float_dim.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2.5, 2), }", d16))
put("hostile", "npy_not_tuple.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2), }", d16))
put("hostile", "npy_3d.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 1), }", d16))
put("hostile", "npy_dim_huge.npy",
    raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (123456789012345678901234567890,), }", d16))
put("hostile", "npy_overflow.npy",
    raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", d16))
put("hostile", "npy_truncated.npy", raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (10, 10), }", b"\0" * 100))
put("hostile", "npy_bad_bool.npy", raw_npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,), }", d16))
put("hostile", "npy_unterminated.npy", raw_npy("{'descr': '<f8", d16))

long_token = "x" * 100000
put("hostile", "mtx_long_token.mtx",
    "%%MatrixMarket " + long_token + " coordinate real general\n1 1 1\n1 1 1\n")
put("hostile", "mtx_not_mm.mtx", "1 1 1\n1 1 1\n")
put("hostile", "mtx_garbage_size.mtx", "%%MatrixMarket matrix coordinate real general\n3 x 3\n")
put("hostile", "mtx_nnz_huge.mtx",
    "%%MatrixMarket matrix coordinate real general\n3 3 18446744073709551615\n1 1 1\n")
put("hostile", "mtx_nnz_overflow.mtx",
    "%%MatrixMarket matrix coordinate real general\n3 3 18446744073709551616\n1 1 1\n")
put("hostile", "mtx_index_zero.mtx", "%%MatrixMarket matrix coordinate real general\n3 3 1\n0 1 1\n")
put("hostile", "mtx_index_beyond.mtx", "%%MatrixMarket matrix coordinate real general\n3 3 1\n2 4 1\n")
put("hostile", "mtx_few_entries.mtx",
    "%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 1.000\n2 2 2.000\n")
put("hostile", "mtx_more_entries.mtx",
    "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 1\n2 2 2\n")
put("hostile", "mtx_sym_not_square.mtx", "%%MatrixMarket matrix coordinate real symmetric\n3 4 0\n")
put("hostile", "mtx_complex.mtx", "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n")
put("hostile", "mtx_hermitian.mtx", "%%MatrixMarket matrix coordinate real hermitian\n1 1 0\n")
put("hostile", "mtx_negative_unsigned.mtx",
    "%%MatrixMarket matrix coordinate unsigned-integer general\n1 2 1\n1 2 -1\n")
put("corpus/mtx", "scipy_shapes.mtx",
    "%%MatrixMarket matrix coordinate real symmetric\n+3 3 3\n1 2 5 % above\n3 3 1\n3 1 2\n")
put("hostile", "mtx_bad_value.mtx", "%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 2 2.5\n")
put("hostile", "mtx_array_huge.mtx", "%%MatrixMarket matrix array real general\n100000 100000\n1\n")
put("hostile", "mtx_array_short.mtx", "%%MatrixMarket matrix array real general\n2 2\n1.5\n2.5\n3.5\n")
put("hostile", "mtx_pattern_array.mtx", "%%MatrixMarket matrix array pattern general\n1 1\n")
put("hostile", "mtx_no_size.mtx", "%%MatrixMarket matrix array real general\n% only a comment\n")

put("hostile", "csv_ragged.csv", "1,2,3\n4,5,6\n# fine\n7,8\n")
put("hostile", "csv_too_many.csv", "1,2\n3,4,5\n")
put("hostile", "csv_empty.csv", "")
put("hostile", "csv_comments_only.csv", "# nothing\n\n   \n# here\n")
put("hostile", "csv_nonnumeric.csv", "1,2\n3,four\n")
put("hostile", "csv_empty_field.csv", "1,,3\n")
put("hostile", "csv_trailing_sep.csv", "1,2,\n")
put("hostile", "csv_wide_then_short.csv", ",".join(["1"] * 1000) + "\n" + "1\n" * 1000)
put("hostile", "csv_binary.csv", b"1,2\n\x00\xff\x93NUMPY,3\n")
put("hostile", "csv_unclosed_quote.csv", "1,\"2\n3,4\n")
put("hostile", "csv_text_after_quote.csv", "\"1\"x,2\n")
put("hostile", "csv_zip.csv", b"PK\x03\x04" + b"\0" * 26)
put("hostile", "csv_utf16.csv", "1,2\n".encode("utf-16"))
put("hostile", "csv_gz_truncated.csv", gzip.compress(b"1,2\n3,4\n", mtime=0)[:-6])
put("hostile", "npz_not_npy.npz", zip_bytes({"notes.txt": b"x"}))
put("hostile", "npz_not_zip.npz", b"PK\x03\x04not really a zip archive")
put("hostile", "csv_hex.csv", "0x10,2\n")
put("hostile", "csv_header_only.csv", "x,y,z\n")
