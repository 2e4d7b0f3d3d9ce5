# SPDX-License-Identifier: MIT
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

# SLURM jobs: job_field ID FIELD prints a field of `scontrol show job`;
# wait_job ID SECONDS waits for the job to end and prints its final state
job_field() { scontrol show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }
wait_job() { # id, seconds -> prints the final state
  local id=$1 t=0 st
  while [ $t -lt $(( $2 * 5 )) ]; do
    st=$(job_field "$id" JobState)
    case "$st" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE) echo "$st"; return;; esac
    sleep 0.2; t=$((t + 1))
  done
  echo "TIMEOUT_WAITING($st)"
}
# stopped_epoch LOG: waits up to 30 s for descent's "stopped on request
# after epoch N" in LOG, and prints N (nothing if it never came)
stopped_epoch() {
  local e=""
  for _ in $(seq 1 300); do
    e=$(sed -n 's/.*stopped on request after epoch \([0-9]*\),.*/\1/p' "$1" 2>/dev/null | head -1)
    [ -n "$e" ] && break; sleep 0.1
  done
  echo "$e"
}
