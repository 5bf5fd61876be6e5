#!/usr/bin/env bash
# package.sh — the C package (issue 23): <hjdl/hjdl.h> includes every public
# header; examples/c builds against an install into a temporary prefix both
# with pkg-config and with CMake's find_package(hjdl) (hjdl::hjdl), and runs.
source "$3/cli/common.inc"
BUILD=$(dirname "$HJDL")
PREFIX="$TMP/prefix"
EX="$SRC/../examples/c"
if ! cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/install.log" 2>&1; then
  fail "cmake --install: $(tail -3 "$TMP/install.log")"; finish; exit
fi
[ -e "$PREFIX/include/hjdl/hjdl.h" ] && pass || fail "hjdl.h not installed"
CFG=$(find "$PREFIX" -name hjdlConfig.cmake | head -1)
[ -n "$CFG" ] && pass || fail "hjdlConfig.cmake not installed"
# the umbrella names every public header but dist.h (the CLI's runtime)
for h in "$SRC"/../include/hjdl/*.h; do
  b=$(basename "$h"); case "$b" in hjdl.h|dist.h) continue;; esac
  grep -q "#include \"hjdl/$b\"" "$SRC/../include/hjdl/hjdl.h" && pass || fail "hjdl.h lacks $b"
done

# pkg-config, shared library
PC=$(find "$PREFIX" -name hjdl.pc | head -1)
export PKG_CONFIG_PATH="$(dirname "$PC")"
LIBDIR=$(pkg-config --variable=libdir hjdl)
for ex in lse_hopf train_predict; do
  if cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags hjdl) "$EX/$ex.c" -o "$TMP/pc_$ex" \
        $(pkg-config --libs hjdl) -lm 2>"$TMP/cc_$ex.log"; then
    pass
    (cd "$TMP" && LD_LIBRARY_PATH="$LIBDIR" "./pc_$ex" "$TMP/pc_model.hjm") >"$TMP/pc_$ex.out" 2>&1 \
      && pass || fail "pkg-config build of $ex runs: $(tail -2 "$TMP/pc_$ex.out")"
  else
    fail "pkg-config build of $ex: $(head -5 "$TMP/cc_$ex.log")"
  fi
done
grep -q "largest relative gap .* ok" "$TMP/pc_lse_hopf.out" && pass || fail "lse_hopf output"
[ -s "$TMP/pc_model.hjm" ] && "$HJDL" info "$TMP/pc_model.hjm" >/dev/null && pass || fail "the example's model reads back in the CLI"

# CMake find_package(hjdl)
if cmake -S "$EX" -B "$TMP/cm" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release >"$TMP/cm.log" 2>&1 \
   && cmake --build "$TMP/cm" -j1 >>"$TMP/cm.log" 2>&1; then
  pass
  for ex in lse_hopf train_predict; do
    (cd "$TMP" && LD_LIBRARY_PATH="$LIBDIR" "$TMP/cm/$ex" "$TMP/cm_model.hjm") >"$TMP/cm_$ex.out" 2>&1 \
      && pass || fail "CMake build of $ex runs: $(tail -2 "$TMP/cm_$ex.out")"
  done
else
  fail "CMake build of examples/c: $(grep -i error "$TMP/cm.log" | head -5)"
fi
finish
