#!/usr/bin/env bash
# reproduce.sh — `hjdl reproduce --quick`: every check passes, every claim has a verdict,
# every experiment leaves CSV + figures + summary.json, and the report links them.
source "$3/cli/common.inc"
"$HJDL" reproduce --quick --out "$TMP/out" > "$TMP/reproduce.txt"; rc=$?
cat "$TMP/reproduce.txt"
[ "$rc" -eq 0 ] && pass || fail "hjdl reproduce --quick exited $rc"
[ -s "$TMP/out/report.html" ] && pass || fail "no report.html"
for name in $("$HJDL" experiment list | awk '{print $1}'); do
  d="$TMP/out/$name"
  [ -s "$d/summary.json" ] && pass || fail "$name: no summary.json"
  ls "$d"/*.csv > /dev/null 2>&1 && pass || fail "$name: no CSV"
  if command -v gnuplot > /dev/null 2>&1; then
    ls "$d"/*.png > /dev/null 2>&1 && pass || fail "$name: no PNG figure"
    ls "$d"/*.svg > /dev/null 2>&1 && pass || fail "$name: no SVG figure"
  fi
  grep -q "$name/" "$TMP/out/report.html" && pass || fail "$name: not linked from the report"
done
if command -v python3 > /dev/null 2>&1; then
  python3 - "$TMP/out" <<'PY' && pass || fail "summary.json files malformed or a check failed"
import glob, json, sys
files = glob.glob(sys.argv[1] + "/*/summary.json")
assert files
for f in files:
    d = json.load(open(f))
    for key in ("experiment", "params", "metrics", "checks", "claims", "seconds"):
        assert key in d, (f, key)
    for c in d["checks"]:
        assert c["pass"] is True, (f, c)
    for c in d["claims"]:
        assert c["verdict"] in ("agrees", "disagrees", "inconclusive"), (f, c)
        for k in ("claim", "statement", "predicted", "measured", "uncertainty"):
            assert k in c, (f, k)
PY
fi
expect_fail 2 "unknown experiment" -- "$HJDL" experiment nosuch --quick --out "$TMP/x"
finish
