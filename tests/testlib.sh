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

# blobs FILE N FEATURES NOISE SEED: a 3-class CSV problem (label first);
# feature k of class c is 1 when k % 3 == c, plus uniform noise.
blobs() {
  python3 - "$@" <<'PY'
import sys, random
path, n, nf, noise, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
random.seed(seed)
with open(path, "w") as f:
    for i in range(n):
        c = i % 3
        f.write(",".join([str(c)] + ["%.4f" % ((1.0 if k % 3 == c else 0.0) + random.uniform(-noise, noise)) for k in range(nf)]) + "\n")
PY
}
