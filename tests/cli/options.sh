#!/usr/bin/env bash
# options.sh — the common options (issue 23): -h/--help, -q/--quiet,
# --threads, --seed, --version; an option a verb or experiment does not use
# is refused with exit 2, naming it; every --help line shows its default;
# messages read "hjdl VERB: FILE:LINE: ..."; numbers for people are the
# shortest form that reads back exactly.
source "$3/cli/common.inc"
T="$TMP"
A="$SRC/../examples/atoms.csv"; P="$SRC/../examples/points.csv"
VERBS="verify solve fit predict initial-data info explain landscape certify attack experiment reproduce bench"

"$HJDL" --version | grep -q "^hjdl [0-9]" && pass || fail "hjdl --version"
for v in $VERBS; do
  "$HJDL" $v --help > "$T/help_$v.txt" && "$HJDL" $v -h | cmp -s - "$T/help_$v.txt" && pass || fail "$v -h = --help"
  # every option line states its default or that it is required, once
  bad=$(grep -E '^  -' "$T/help_$v.txt" | grep -v -- '-h, --help' | grep -v -e 'default' -e '(required)')
  [ -z "$bad" ] && pass || fail "$v --help: options without a default: $bad"
  grep -q '(required) (required)' "$T/help_$v.txt" && fail "$v --help repeats (required)" || pass
done
# the table of common options: each verb has exactly these
has() { grep -qE "^  (-q, )?--$2( |$)" "$T/help_$1.txt"; }
for v in $VERBS; do
  for o in quiet threads seed format; do
    case "$v:$o" in
      verify:quiet|verify:threads|verify:seed|fit:*|experiment:quiet|experiment:threads|experiment:seed| \
      reproduce:quiet|reproduce:threads|reproduce:seed|bench:quiet|bench:threads|bench:seed| \
      solve:threads|explain:threads|predict:threads|predict:format|certify:threads|certify:format| \
      attack:threads|attack:seed|attack:format|landscape:threads|landscape:format) want=1 ;;
      *) want=0 ;;
    esac
    if has "$v" "$o"; then got=1; else got=0; fi
    [ "$got" = "$want" ] && pass || fail "$v --$o: listed $got, expected $want"
  done
done
has fit quiet && grep -q '^  -q, --quiet' "$T/help_fit.txt" && pass || fail "fit --help shows -q"

# refused where meaningless, naming the option and why
expect_fail 2 "hjdl solve: --seed is not an option of solve: it draws no random numbers" -- \
  "$HJDL" solve --atoms "$A" --x "$P" --t 1 --eps 0.1 --seed 3
expect_fail 2 "hjdl info: --quiet is not an option of info: it shows no progress" -- "$HJDL" info -q x.hjm
expect_fail 2 "hjdl initial-data: --threads is not an option of initial-data" -- "$HJDL" initial-data x.hjm --threads 2
expect_fail 2 "hjdl solve: --format is not an option of solve: it reads no data table" -- \
  "$HJDL" solve --atoms "$A" --x "$P" --t 1 --eps 0.1 --format csv
expect_fail 2 "hjdl solve: --version is not an option of solve" -- "$HJDL" solve --version
expect_fail 2 "--threads 5000 is more than the limit of 1024" -- "$HJDL" solve --atoms "$A" --x "$P" --t 1 --eps 0.1 --threads 5000
expect_fail 2 "short forms are -h and -q" -- "$HJDL" solve -x "$P"
rm -rf "$T/e1"
expect_fail 2 "hjdl experiment: --eps is not used by experiment identity (it reads N d)" -- \
  "$HJDL" experiment identity --eps 0.3 --iters 9 --out "$T/e1"
[ ! -e "$T/e1" ] && pass || fail "experiment with a refused option wrote $T/e1"
expect_fail 2 "--iters is not used by experiment identity" -- "$HJDL" experiment identity --iters 9 --out "$T/e1"
expect_fail 2 "--eps is not used by experiment attention (it reads none of" -- "$HJDL" experiment attention --eps 1 --out "$T/e1"

# accepted where meaningful: same numbers whatever the threads
"$HJDL" solve --atoms "$A" --x "$P" --t 0.5 --eps 0.1 > "$T/s0.csv" && \
"$HJDL" solve --atoms "$A" --x "$P" --t 0.5 --eps 0.1 --threads 1 > "$T/s1.csv" && cmp -s "$T/s0.csv" "$T/s1.csv" \
  && pass || fail "solve --threads 1 gives the same numbers"
printf 'a,y\n0,1\n0.5,1.2\n1,1.5\n1.5,1.9\n2,2.3\n' > "$T/d.csv"
"$HJDL" fit --data "$T/d.csv" --arch lse:3 --eps 0.1 --iters 20 --out "$T/m.hjm" -q --threads 1 --seed 4 \
  > "$T/fit.out" 2> "$T/fit.err" && [ ! -s "$T/fit.err" ] && pass || fail "fit -q --threads 1 --seed 4 (stderr: $(cat "$T/fit.err"))"
"$HJDL" fit --data "$T/d.csv" --arch lse:3 --eps 0.1 --iters 20 --out "$T/m2.hjm" --quiet --seed 4 > /dev/null \
  && cmp -s "$T/m.hjm" "$T/m2.hjm" && pass || fail "fit --quiet = -q, and --threads does not change the model"
"$HJDL" predict "$T/m.hjm" --x "$T/d.csv" --threads 1 > /dev/null && pass || fail "predict --threads"

# shortest exact numbers for people
"$HJDL" info "$T/m.hjm" > "$T/info.txt" && grep -q '^eps          0.1$' "$T/info.txt" && grep -q '^t            1$' "$T/info.txt" \
  && pass || fail "info prints eps 0.1 and t 1: $(grep -E '^(eps|t) ' "$T/info.txt")"
"$HJDL" landscape --help | grep -q -- '--step H .*(default 0.05)' && pass || fail "landscape --help default 0.05"

# messages: the verb once, then FILE:LINE
printf 'x_1\n0.1\nabc\n' > "$T/bad.csv"
expect_fail 2 "^hjdl solve: $T/bad.csv:3:1: 'abc' is not a number" -- "$HJDL" solve --atoms "$A" --x "$T/bad.csv" --t 1 --eps 0.1
out=$("$HJDL" certify "$T/m.hjm" --x "$T/d.csv" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && printf '%s' "$out" | grep -q '^hjdl certify: ' && ! printf '%s' "$out" | grep -q 'certify: certify' \
  && pass || fail "certify says its name once: [$out]"
finish
