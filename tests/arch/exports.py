#!/usr/bin/env python3
"""exports.py — libhjdl.so exports exactly the functions its public headers
mark HJ_API (issue 19): no internal (hj__ or other) symbol leaks into the
ABI, and no public declaration lacks a definition.

usage: exports.py SOURCE_DIR LIBHJDL_SO
The declared set is read from SOURCE_DIR/include/hjdl/*.h (every
`HJ_API ... name(` declaration); the exported set is `nm -D --defined-only`
of the library (text symbols). Exit 0 when they are equal, 1 with both
differences listed otherwise."""
import pathlib
import re
import subprocess
import sys


# Public headers of the other library: dist.h is libhjdl_dist's (the MPI
# layer, a static library linked into the CLI), not libhjdl.so's.
NOT_IN_LIBHJDL = {'dist.h'}


def declared(src):
    names = {}
    pat = re.compile(r'^HJ_API\b[^(;]*?\b([A-Za-z_]\w*)\s*\(', re.M)
    for h in sorted((pathlib.Path(src) / 'include' / 'hjdl').glob('*.h')):
        if h.name in NOT_IN_LIBHJDL:
            continue
        for m in pat.finditer(h.read_text()):
            names[m.group(1)] = h.name
    return names


def exported(lib):
    out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True, capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in ('T', 'W', 'i'):
            syms.add(parts[2].split('@')[0])
    return syms


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    decl, exp = declared(sys.argv[1]), exported(sys.argv[2])
    if not decl:
        print('exports.py: no HJ_API declaration found under include/hjdl', file=sys.stderr)
        return 1
    # toolchain symbols that every shared object has
    exp -= {'_init', '_fini'}
    leaked = sorted(exp - set(decl))
    missing = sorted(set(decl) - exp)
    for s in leaked:
        print(f'exported but not in a public header: {s}')
    for s in missing:
        print(f'declared HJ_API in {decl[s]} but not exported (no definition?): {s}')
    print(f'exports.py: {len(exp)} exported, {len(decl)} declared HJ_API; '
          f'{len(leaked)} leaked, {len(missing)} missing')
    return 1 if leaked or missing else 0


if __name__ == '__main__':
    sys.exit(main())
