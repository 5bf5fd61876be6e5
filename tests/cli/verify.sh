#!/usr/bin/env bash
# verify.sh — `hjdl verify` passes every check, and its JSON agrees with its exit status.
source "$3/cli/common.inc"

"$HJDL" verify > "$TMP/verify.txt"; rc=$?
cat "$TMP/verify.txt"
[ "$rc" -eq 0 ] && pass || fail "hjdl verify exited $rc"
grep -q "FAIL" "$TMP/verify.txt" && fail "a verify row failed" || pass
for c in C1 C2 C3 C4 C5 C6; do grep -q "^$c " "$TMP/verify.txt" && pass || fail "no $c rows"; done

"$HJDL" verify --json --seed 7 > "$TMP/verify.json" && pass || fail "verify --json"
if command -v python3 >/dev/null 2>&1; then
  python3 - "$TMP/verify.json" <<'PY' && pass || fail "verify JSON malformed or inconsistent"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["failed"] == 0 and d["passed"] == len(d["checks"]) > 40
for c in d["checks"]:
    assert set(c) == {"claim", "name", "value", "threshold", "pass"}
    assert c["pass"] is True
PY
fi
expect_fail 2 "not a non-negative integer" -- "$HJDL" verify --seed -3
finish
