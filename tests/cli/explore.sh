#!/usr/bin/env bash
# explore.sh — `hjdl explore`: the static server of the explorer page (on a stand-in
# directory, so it runs without the WebAssembly build), and its bad-input paths.
source "$3/cli/common.inc"

mkdir -p "$TMP/page"
printf '<!DOCTYPE html><title>stand-in</title>\n' > "$TMP/page/index.html"
printf 'var createHjdl = 1;\n' > "$TMP/page/hjdl-wasm.js"
printf 'secret\n' > "$TMP/outside.txt"

expect_fail 2 "no index.html" -- "$HJDL" explore --dir "$TMP/nowhere"
expect_fail 2 "0..65535" -- "$HJDL" explore --dir "$TMP/page" --port 70000
expect_fail 2 "unknown option" -- "$HJDL" explore --dir "$TMP/page" --open

# GET one request over bash's /dev/tcp: prints the whole response
get() {
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "${3:-GET}" "$2" >&3
  cat <&3
  exec 3<&-
}
"$HJDL" explore --dir "$TMP/page" --port 0 --max-requests 5 > "$TMP/serve.out" 2> "$TMP/serve.err" &
pid=$!
for _ in $(seq 50); do grep -q 'http://' "$TMP/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$TMP/serve.out" | grep -o '[0-9]*/$' | tr -d /)
[ -n "$port" ] && pass || fail "no 127.0.0.1 address printed: $(cat "$TMP/serve.out" "$TMP/serve.err")"
r=$(get "$port" /)
printf '%s' "$r" | head -1 | grep -q '200 OK' && printf '%s' "$r" | grep -q 'stand-in' && pass || fail "GET / [$r]"
printf '%s' "$r" | grep -qi 'Content-Type: text/html' && pass || fail "index.html content type [$r]"
r=$(get "$port" /hjdl-wasm.js)
printf '%s' "$r" | grep -qi 'Content-Type: text/javascript' && printf '%s' "$r" | grep -q 'createHjdl' && pass || fail "GET the script [$r]"
r=$(get "$port" /../outside.txt)
printf '%s' "$r" | head -1 | grep -q '403' && ! printf '%s' "$r" | grep -q secret && pass || fail "path outside DIR served [$r]"
r=$(get "$port" /missing.js)
printf '%s' "$r" | head -1 | grep -q '404' && pass || fail "missing file [$r]"
r=$(get "$port" /index.html POST)
printf '%s' "$r" | head -1 | grep -q '405' && pass || fail "POST accepted [$r]"
wait "$pid" && pass || fail "server did not stop after --max-requests"
# it listens on the loopback interface only
grep -q 'at http://127.0.0.1:' "$TMP/serve.out" && pass || fail "address"
finish
