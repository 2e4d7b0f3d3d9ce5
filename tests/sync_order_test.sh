#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The system calls behind "outputs appear whole or not at all": for the
# model (--out), a checkpoint and an export's files, strace shows the
# temporary created, its data fsynced, then renamed over the final name,
# then the directory fsynced (so the rename itself survives a power cut).
# Skips (77) where strace is missing or may not trace.
# Usage: sync_order_test.sh path/to/descent
set -u
D=$(readlink -f "$1")
command -v strace >/dev/null || { echo "skipped: strace is not installed"; exit 77; }
strace -o /dev/null true 2>/dev/null || { echo "skipped: strace may not trace here (ptrace)"; exit 77; }
T=$(mktemp -d /tmp/descent_sync.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
cd "$T" || exit 1
blobs d.csv 60 4 0.3 3
mkdir ex
traced() { strace -f -e trace=openat,fsync,fdatasync,rename,renameat,renameat2 -o "$T/calls" "$@" >/dev/null 2>"$T/err"; }
# in_order NAME...: each final name was written through a temporary in the
# safe order (python reads the trace)
in_order() {
  python3 - "$T/calls" "$@" <<'PY'
import re, sys
calls = [l.split(None, 1)[1] for l in open(sys.argv[1]) if re.match(r"\d+ ", l)]
bad = []
for final in sys.argv[2:]:
    tmp = fd = None
    state = "create"
    for c in calls:
        m = re.match(r'openat\(AT_FDCWD, "([^"]+)", ([^,)]+).*\) = (\d+)', c)
        if state in ("create", "sync") and m and m.group(1).startswith(final + ".tmp.") and "O_CREAT" in m.group(2):
            tmp, fd, state = m.group(1), m.group(3), "sync"   # the last temporary made counts
        elif state == "sync" and m and m.group(3) == fd:
            state = "create"                                  # its descriptor closed unsynced
        elif state == "sync" and c.startswith("fsync(%s)" % fd) and c.rstrip().endswith("= 0"):
            state = "rename"
        elif state in ("sync", "rename") and re.match(r'rename(at2?)?\(.*"%s".*"%s"' % (re.escape(tmp), re.escape(final)), c):
            if state == "sync": break          # renamed before its data was synced
            state = "dir"
        elif state == "dir" and m and "O_DIRECTORY" in m.group(2):
            fd, state = m.group(3), "dirsync"
        elif state == "dirsync" and c.startswith("fsync(%s)" % fd):
            state = "done"
            break
    if state != "done":
        bad.append("%s: stopped at '%s'" % (final, state))
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
}
traced "$D" train --train-csv d.csv --layers 4,3 --epochs 1 --quiet --out m.model --checkpoint-dir ck --checkpoint-every 1e
[ -s m.model ] && ok || fail "train: no model: $(cat "$T/err")"
why=$(in_order m.model "$(ls ck/ckpt-*.dsc | head -1)") && ok || fail "train: the model and checkpoint were not written in order: $why"
traced "$D" export --model m.model --dir ex
why=$(in_order ex/W1.npy ex/b1.npy ex/manifest.json) && ok || fail "export: not written in order: $why"
finish "sync order"
