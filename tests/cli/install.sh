#!/usr/bin/env bash
# install.sh — `cmake --install` puts headers, libhjdl (.so and .a) and hjdl.pc
# under a prefix, and a C program builds against it with pkg-config alone.
source "$3/cli/common.inc"
BUILD=$(dirname "$HJDL")
PREFIX="$TMP/prefix"

if ! cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1; then
  fail "cmake --install: $(tail -3 "$TMP/install.log")"
  finish; exit
fi
for f in include/hjdl/lse.h include/hjdl/hopf.h bin/hjdl; do
  [ -e "$PREFIX/$f" ] && pass || fail "not installed: $f"
done
PC=$(find "$PREFIX" -name hjdl.pc | head -1)
[ -n "$PC" ] && pass || fail "hjdl.pc not installed"
[ -n "$(find "$PREFIX" -name "libhjdl.so*" | head -1)" ] && pass || fail "libhjdl.so not installed"

# a user program: f_eps of two neurons at one point, checked against the formula
cat >"$TMP/user.c" <<'C'
#include <math.h>
#include <stdio.h>
#include <hjdl/lse.h>
int main(void)
{
    const double w[] = {1.0, 0.0, 0.0, 2.0}, b[] = {0.5, -1.0}, x[] = {0.3, 0.7};
    hj_lse_layer L = {2, 2, w, b, 0.25};
    double f;
    hj_error err = {0};
    if (hj_lse_forward(&L, x, 1, &f, NULL, NULL, &err) != HJ_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double ref = 0.25 * log(exp((0.3 + 0.5) / 0.25) + exp((1.4 - 1.0) / 0.25));
    printf("%.17g %.17g\n", f, ref);
    return fabs(f - ref) <= 1e-14 * fabs(ref) ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$(dirname "$PC")"
CFLAGS=$(pkg-config --cflags hjdl) && LIBS=$(pkg-config --libs hjdl) && pass || fail "pkg-config --cflags --libs hjdl"
LIBDIR=$(pkg-config --variable=libdir hjdl)
if cc -std=c11 $CFLAGS "$TMP/user.c" -o "$TMP/user" $LIBS -lm 2>"$TMP/cc.log"; then
  pass
  LD_LIBRARY_PATH="$LIBDIR" "$TMP/user" >"$TMP/user.out" && pass || fail "user program (shared): $(cat "$TMP/user.out")"
else
  fail "compile against the installed hjdl: $(head -5 "$TMP/cc.log")"
fi
# static: the archive with the private dependencies pkg-config lists
if cc -std=c11 $CFLAGS "$TMP/user.c" -o "$TMP/user-static" "$LIBDIR/libhjdl.a" \
      $(pkg-config --libs --static hjdl | sed 's/-lhjdl//') -lm 2>"$TMP/cc-static.log"; then
  "$TMP/user-static" >/dev/null && pass || fail "user program (static)"
else
  fail "static link: $(head -5 "$TMP/cc-static.log")"
fi
finish
