#!/usr/bin/env bash
# Runs a command that must fail cleanly: exit code 2, exactly one line on stderr starting
# "padbench: error:" and matching REGEX (extended), nothing on stdout.
# Usage: expect_error.sh REGEX -- COMMAND [ARGS...]
set -uo pipefail
regex=$1
shift 2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
code=$?
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }
[ "$code" = 2 ] || fail "exit code $code, want 2"
[ "$(wc -l <"$err")" = 1 ] || fail "stderr has $(wc -l <"$err") lines, want 1"
grep -q '^padbench: error: ' "$err" || fail "stderr does not start with 'padbench: error: '"
grep -Eq -- "$regex" "$err" || fail "stderr does not match /$regex/"
[ ! -s "$out" ] || fail "stdout is not empty"
echo "ok: $(cat "$err")"
