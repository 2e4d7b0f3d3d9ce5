# testlib.sh - shared by the shell tests: count passed and failed checks;
# `finish NAME` prints the tally and returns the verdict (the exit code).
fails=0
pass=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { pass=$((pass + 1)); }
finish() {
  echo "$1: $pass passed, $fails failed"
  [ "$fails" -eq 0 ]
}
