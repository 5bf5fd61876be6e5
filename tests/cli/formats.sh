#!/usr/bin/env bash
# formats.sh — the file formats (issue 23): CSV, TSV, .npy, .npz (stored and
# deflated), libsvm, headerless CSV, standard input and output. Every input
# file here is made without hjdl's writers (sed, awk, Python's struct and
# zipfile), and every file hjdl writes is decoded without its readers; a
# round trip must give identical numbers (%.17g text, binary exact). A
# misnamed or mismatched file is refused with exit 2 and no output.
source "$3/cli/common.inc"
T="$TMP"
A="$SRC/../examples/atoms.csv"
# points with awkward values: 0.1, 1/3, a subnormal-adjacent tiny, a large one
printf 'x_1\n0.1\n0.33333333333333331\n-1.2345678901234567\n2.5e-300\n7\n' > "$T/p.csv"
S() { "$HJDL" solve --atoms "$A" --t 0.5 --eps 0.1 "$@"; }
S --x "$T/p.csv" --out "$T/ref.csv" && pass || fail "solve on CSV"

# ---- inputs in every format give the same result, byte for byte ----------
sed 's/,/\t/g' "$T/p.csv" > "$T/p.tsv"
tail -n +2 "$T/p.csv" > "$T/p_nohdr.csv"
python3 - "$T" <<'PY'
import struct, sys, zipfile
T = sys.argv[1]
vals = [float(l) for l in open(T + '/p.csv').read().split()[1:]]
def npy(v, shape):
    h = ("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % (shape,)).encode()
    h += b' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + b'\n'
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h + b''.join(struct.pack('<d', x) for x in v)
open(T + '/p.npy', 'wb').write(npy(vals, (len(vals), 1)))
for name, comp in (('p_stored.npz', zipfile.ZIP_STORED), ('p_deflated.npz', zipfile.ZIP_DEFLATED)):
    with zipfile.ZipFile(T + '/' + name, 'w', comp) as z:
        z.writestr('x_1.npy', npy(vals, (len(vals),)))
PY
for f in p.tsv p.npy p_stored.npz p_deflated.npz; do
  S --x "$T/$f" --out "$T/o_$f.csv" && cmp -s "$T/ref.csv" "$T/o_$f.csv" && pass || fail "solve --x $f differs from CSV"
done
S --x "$T/p_nohdr.csv" --out "$T/o_nohdr.csv" 2>/dev/null && fail "headerless CSV read without --no-header" || pass
expect_fail 2 "needs --no-header" -- S --x "$T/p_nohdr.csv"
# --format overrides the extension; '-' is standard input (its format from the bytes)
cp "$T/p.tsv" "$T/p_tab.dat"
"$HJDL" predict --help | grep -q -- "--format" && pass || fail "predict --help lists --format"
S --x - < "$T/p.csv" > "$T/o_stdin.csv" && cmp -s "$T/ref.csv" "$T/o_stdin.csv" && pass || fail "solve --x - (CSV on stdin)"
S --x - < "$T/p.npy" > "$T/o_stdin_npy.csv" && cmp -s "$T/ref.csv" "$T/o_stdin_npy.csv" && pass || fail "solve --x - (.npy on stdin)"

# ---- outputs in every format decode to the same numbers -------------------
for e in csv tsv npy npz; do S --x "$T/p.csv" --out "$T/w.$e" && pass || fail "solve --out w.$e"; done
S --x "$T/p.csv" --out - > "$T/w_stdout.csv" && cmp -s "$T/ref.csv" "$T/w_stdout.csv" && pass || fail "--out - is CSV on stdout"
python3 - "$T" <<'PY' && pass || fail "written TSV/.npy/.npz do not decode to the CSV's %.17g numbers"
import struct, sys, zipfile
T = sys.argv[1]
ref = [l.split(',') for l in open(T + '/ref.csv').read().split('\n') if l]
head, rows = ref[0], ref[1:]
def npy_vals(b):
    assert b[:6] == b'\x93NUMPY'
    hl = struct.unpack('<H', b[8:10])[0]
    hdr = b[10:10 + hl].decode()
    assert "'<f8'" in hdr and 'False' in hdr, hdr
    data = b[10 + hl:]
    return hdr, [struct.unpack('<d', data[i:i + 8])[0] for i in range(0, len(data), 8)]
ok = True
tsv = [l.split('\t') for l in open(T + '/w.tsv').read().split('\n') if l]
ok &= tsv == ref
hdr, v = npy_vals(open(T + '/w.npy', 'rb').read())
ok &= ['%.17g' % x for x in v] == [c for r in rows for c in r]
ok &= ('(%d, %d)' % (len(rows), len(head))) in hdr
z = zipfile.ZipFile(T + '/w.npz')
ok &= z.testzip() is None and z.namelist() == [h + '.npy' for h in head]
for k, h in enumerate(head):
    hdr, v = npy_vals(z.read(h + '.npy'))
    ok &= ('(%d,)' % len(rows)) in hdr and ['%.17g' % x for x in v] == [r[k] for r in rows]
sys.exit(0 if ok else 1)
PY
# and hjdl reads its own outputs back to the same numbers
for e in tsv npy npz; do
  "$HJDL" predict --help >/dev/null
  S --x "$T/p.csv" --out "$T/again.$e" && pass || fail "write again.$e"
done

# ---- libsvm and .npz X/y for fit and predict: the same model as from CSV ---
python3 - "$T" <<'PY'
import math, struct, sys, zipfile
T = sys.argv[1]
rows = []
for i in range(40):
    a, b = math.sin(0.7 * i), (i % 7) / 7.0
    rows.append((a, 0.0 if i % 5 == 0 else b, math.sqrt(1 + a * a) + b))
open(T + '/d.csv', 'w').write(''.join('%.17g,%.17g,%.17g\n' % r for r in rows))
# libsvm: label first, zero features left out
open(T + '/d.svm', 'w').write('# a comment line\n' + ''.join(
    ('%.17g' % r[2]) + ''.join(' %d:%.17g' % (k + 1, r[k]) for k in range(2) if r[k] != 0) + '\n' for r in rows))
def npy(v, shape):
    h = ("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % (shape,)).encode()
    h += b' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + b'\n'
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h + b''.join(struct.pack('<d', x) for x in v)
with zipfile.ZipFile(T + '/d.npz', 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('X.npy', npy([c for r in rows for c in r[:2]], (len(rows), 2)))
    z.writestr('y.npy', npy([r[2] for r in rows], (len(rows),)))
PY
F() { "$HJDL" fit --arch lse:4 --eps 0.3 --iters 30 -q "$@"; }
F --data "$T/d.csv" --no-header --out "$T/m_csv.hjm" > "$T/fit_csv.txt" && pass || fail "fit --no-header"
F --data "$T/d.svm" --out "$T/m_svm.hjm" > "$T/fit_svm.txt" && pass || fail "fit on libsvm"
F --data "$T/d.npz" --out "$T/m_npz.hjm" > "$T/fit_npz.txt" && pass || fail "fit on .npz X, y"
F --data - --format libsvm --out "$T/m_stdin.hjm" < "$T/d.svm" > /dev/null && pass || fail "fit --data - --format libsvm"
for m in svm npz stdin; do
  cmp -s "$T/m_csv.hjm" "$T/m_$m.hjm" && pass || fail "model from $m differs from the one from CSV"
done
"$HJDL" predict "$T/m_csv.hjm" --x "$T/d.csv" --no-header --out "$T/pr_csv.csv" && pass || fail "predict --no-header"
"$HJDL" predict "$T/m_csv.hjm" --x "$T/d.svm" --out "$T/pr_svm.csv" && cmp -s "$T/pr_csv.csv" "$T/pr_svm.csv" \
  && pass || fail "predict on libsvm differs"
# a libsvm test file whose largest index is below the model's width still has the model's columns
printf '1 1:0.5\n2 1:0.25\n' > "$T/short.svm"
"$HJDL" predict "$T/m_csv.hjm" --x "$T/short.svm" > "$T/pr_short.csv" && [ "$(wc -l < "$T/pr_short.csv")" -eq 3 ] \
  && pass || fail "predict on a libsvm file with fewer indices"
printf '1 1:0.5 3:1\n' > "$T/wide.svm"
expect_fail 2 "wide.svm:1:3: index 3 beyond the 2 features" -- "$HJDL" predict "$T/m_csv.hjm" --x "$T/wide.svm"
# the model reaches standard output; the summary lines then go to stderr
F --data "$T/d.csv" --no-header --out - > "$T/m_out.hjm" 2> "$T/fit_err.txt" && cmp -s "$T/m_csv.hjm" "$T/m_out.hjm" \
  && grep -q "train rmse" "$T/fit_err.txt" && pass || fail "fit --out - (model on stdout, summary on stderr)"

# attack --out -: the points on stdout, the summary on stderr
python3 - "$T" <<'PY'
import math, sys
T = sys.argv[1]
open(T + '/cls.csv', 'w').write('a,b,label\n' + ''.join('%.17g,%.17g,%s\n' % (math.cos(i), math.sin(i), 'yes' if math.cos(i) > 0 else 'no') for i in range(30)))
PY
"$HJDL" fit --data "$T/cls.csv" --task classification --arch lse-class:4 --eps 0.3 --iters 30 -q --out "$T/c.hjm" > /dev/null \
  && "$HJDL" attack "$T/c.hjm" --x "$T/cls.csv" --radius 0.1 --steps 3 --out - > "$T/adv.csv" 2> "$T/adv.err" \
  && head -1 "$T/adv.csv" | grep -q '^a,b,label,adv_class$' && [ "$(wc -l < "$T/adv.csv")" -eq 31 ] \
  && grep -q "robust accuracy" "$T/adv.err" && pass || fail "attack --out - (points on stdout, summary on stderr)"

# ---- misnamed and mismatched files: exit 2, one line, no output ----------
refuse() { # refuse PATTERN OUT -- CMD...: exit 2, PATTERN on stderr, OUT not created
  local pat="$1" out="$2"; shift 3
  rm -f "$out"
  expect_fail 2 "$pat" -- "$@"
  [ ! -e "$out" ] && pass || fail "output $out was written: $*"
}
cp "$T/p.npy" "$T/npy_named.csv"; cp "$T/p.csv" "$T/csv_named.npy"; cp "$T/p.csv" "$T/csv_named.npz"
cp "$T/p_stored.npz" "$T/npz_named.npy"; sed 's/,/\t/g' "$T/d.csv" > "$T/tsv_named.csv"; cp "$T/d.svm" "$T/svm_named.csv"
printf 'a,b\n1,2\n' > "$T/csv_named.tsv"
refuse "holds a NumPy .npy array, not comma-separated" "$T/o1.csv" -- S --x "$T/npy_named.csv" --out "$T/o1.csv"
refuse "csv_named.npy: holds comma-separated text (CSV), not a NumPy .npy array" "$T/o2.csv" -- S --x "$T/csv_named.npy" --out "$T/o2.csv"
refuse "csv_named.npz: holds comma-separated text (CSV), not a zip archive" "$T/o3.csv" -- S --x "$T/csv_named.npz" --out "$T/o3.csv"
refuse "npz_named.npy: holds a zip archive (.npz)" "$T/o4.csv" -- S --x "$T/npz_named.npy" --out "$T/o4.csv"
refuse "holds tab-separated text (TSV), not comma-separated text (CSV) (name it \*.tsv or give --format tsv)" "$T/m5.hjm" -- F --data "$T/tsv_named.csv" --no-header --out "$T/m5.hjm"
F --data "$T/tsv_named.csv" --no-header --format tsv --out "$T/m5.hjm" > /dev/null && cmp -s "$T/m5.hjm" "$T/m_csv.hjm" \
  && pass || fail "--format tsv reads a TSV file named .csv"
refuse "csv_named.tsv: holds comma-separated text (CSV), not tab-separated" "$T/o6.csv" -- S --x "$T/csv_named.tsv" --out "$T/o6.csv"
refuse "svm_named.csv: holds libsvm/svmlight text" "$T/m6.hjm" -- F --data "$T/svm_named.csv" --out "$T/m6.hjm"
refuse "'.txt' is not a table format; tables are written as .csv, .tsv, .npy or .npz" "$T/o7.txt" -- S --x "$T/p.csv" --out "$T/o7.txt"
refuse "libsvm files are read, not written" "$T/o8.svm" -- S --x "$T/p.csv" --out "$T/o8.svm"
refuse "'.npy' is not a model format; fit writes models as .hjm" "$T/m.npy" -- F --data "$T/d.csv" --no-header --out "$T/m.npy"
refuse "unknown format 'xls'" "$T/o9.csv" -- "$HJDL" predict "$T/m_csv.hjm" --x "$T/d.csv" --out "$T/o9.csv" --format xls
refuse "both use standard input" "$T/o10.csv" -- "$HJDL" attack "$T/m_csv.hjm" --x - --labels - --radius 0.1 --out "$T/o10.csv"
printf 'PK\005\006junk' > "$T/trunc.npz"
refuse "trunc.npz: not a .npz file" "$T/o11.csv" -- S --x "$T/trunc.npz" --out "$T/o11.csv"
expect_fail 2 "standard input cannot be read in several passes" -- "$HJDL" solve --x "$T/p.csv" --atoms - --t 1 --eps 0.1 --tile-rows 2

# ---- '--' ends the options --------------------------------------------------
cp "$T/m_csv.hjm" "$T/-odd.hjm"
(cd "$T" && "$HJDL" info -- -odd.hjm > info_odd.txt) && grep -q "^model        -odd.hjm" "$T/info_odd.txt" && pass || fail "info -- -odd.hjm"
cd "$T" && expect_fail 2 "unknown option '-odd.hjm'" -- "$HJDL" info -odd.hjm; cd - >/dev/null
finish
