#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Faults around the files descent writes: nothing lost, nothing left behind.
#  1. a full disk (a 256 KiB tmpfs in a private mount namespace): the model,
#     the metrics file (full at the start, and filling up during training)
#     and an export each fail with one line naming the file
#     the user asked for, exit 2, and leave nothing on the disk (an export:
#     no file at all, though the first ones fitted);
#  2. outputs that cannot be written, as an unprivileged user (setpriv):
#     refused before any data is read, in well under a second of work;
#  3. 24 kill -9 of runs that checkpoint every step: the newest checkpoint
#     always loads, the temporaries of killed writers are removed by the next
#     run, and the run resumes.
# Needs root (mount namespaces, setpriv); skips (77) with the reason otherwise.
# Usage: fault_test.sh path/to/descent
set -u
D=$(readlink -f "$1")
if [ "$(id -u)" -ne 0 ]; then echo "skipped: needs root (mount namespaces, setpriv)"; exit 77; fi
if ! unshare -m true 2>/dev/null; then echo "skipped: unshare -m is not permitted here"; exit 77; fi
if ! command -v setpriv >/dev/null; then echo "skipped: setpriv is not installed"; exit 77; fi
T=$(mktemp -d /tmp/descent_fault.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
. "$(dirname "$0")/testlib.sh"
blobs "$T/d.csv" 60 4 0.3 3

# check NAME CODE PATTERN: the command's exit status ($T/rc) was CODE and
# its stderr ($T/err) one line matching PATTERN
check() {
  local name=$1 code=$2 pat=$3 rc
  rc=$(cat "$T/rc")
  if [ "$rc" != "$code" ]; then fail "$name: exit $rc, expected $code: $(head -c 300 "$T/err")"; return; fi
  if [ "$(wc -l <"$T/err")" -ne 1 ]; then fail "$name: expected one line on stderr: $(cat "$T/err")"; return; fi
  if ! grep -Eq -- "$pat" "$T/err"; then fail "$name: stderr does not match /$pat/: $(cat "$T/err")"; return; fi
  ok
}
run() { "$@" >"$T/out" 2>"$T/err"; echo $? >"$T/rc"; }

# ---- 1. a full disk: a fresh 256 KiB tmpfs on $T/full in a private mount
# namespace; $T/left lists what is on it afterwards ----
mkdir -p "$T/full"
full_disk() { # a shell command line, run with the tmpfs mounted; $T/kept: its files after
  rm -rf "$T/kept" && mkdir "$T/kept"
  unshare -m bash -c "mount -t tmpfs -o size=256k tmpfs '$T/full' && { $1; } >'$T/out' 2>'$T/err'; \
    echo \$? >'$T/rc'; ls -A '$T/full' >'$T/left'; cp -a '$T/full/.' '$T/kept/'"
}
TRAIN="$D train --train-csv $T/d.csv --quiet --epochs 2"
# a 4-40000-3 model is 1.1 MB: it cannot fit
full_disk "$TRAIN --layers 4,40000,3 --out $T/full/big.model"
check "model on a full disk" 2 "full/big.model: cannot write: No space left"
[ ! -s "$T/left" ] && ok || fail "model on a full disk left: $(cat "$T/left")"
# the metrics file on a disk that fills up
full_disk "dd if=/dev/zero of=$T/full/filler bs=4k 2>/dev/null; $TRAIN --layers 4,3 --metrics $T/full/m.csv"
check "metrics on a full disk" 2 "full/m.csv: cannot write: No space left"
[ "$(cat "$T/left")" = filler ] && ok || fail "metrics on a full disk left: $(cat "$T/left")"
# ... and on one that fills up while training: one page is left, which the
# header and the first rows fit in, and a later row does not
full_disk "dd if=/dev/zero of=$T/full/filler bs=4k 2>/dev/null; truncate -s -4096 $T/full/filler; \
  $TRAIN --layers 4,3 --epochs 400 --metrics $T/full/m.csv"
check "metrics on a disk that fills up" 2 "full/m.csv: cannot write: No space left"
# the live file keeps the rows that fit, whole (the one that did not is cut off)
[ "$(cat "$T/left" | tr '\n' ' ')" = "filler m.csv " ] && ok || fail "metrics on a disk that fills up left: $(cat "$T/left")"
awk -F, 'NR == 1 {ok = $1 == "epoch"} NR > 1 {ok = ok && NF == 11 && $1 == NR - 1} END {exit !(ok && NR > 2)}' "$T/kept/m.csv" &&
  [ "$(tail -c 1 "$T/kept/m.csv" | od -An -c | tr -d ' ')" = '\n' ] && ok ||
  fail "metrics on a disk that fills up: not whole rows: $(tail -c 200 "$T/kept/m.csv")"
# an export whose first files fit and the third does not (W1 144 KB, b1 36
# KB, W2 108 KB): all files or none
run $TRAIN --layers 4,9000,3 --out "$T/mid.model"
[ "$(cat "$T/rc")" = 0 ] && ok || fail "training the export model: $(cat "$T/err")"
full_disk "$D export --model $T/mid.model --dir $T/full"
check "export to a full disk" 2 "full/W2.npy: cannot write: No space left"
[ ! -s "$T/left" ] && ok || fail "export to a full disk left: $(cat "$T/left")"

# ---- 2. outputs that cannot be written, as nobody ----
mkdir -p "$T/rootonly" && chmod 755 "$T/rootonly"
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# the data does not exist: the output check must come first
for opt in "--out $T/rootonly/m.model" "--metrics $T/rootonly/m.csv" "--checkpoint-dir $T/rootonly/ck"; do
  # shellcheck disable=SC2086
  run "${AS_NOBODY[@]}" "$D" train --train-csv "$T/missing.csv" --layers 4,3 $opt
  check "as nobody: $opt" 2 "rootonly/(m.model|m.csv|ck): cannot be written: Permission denied"
done
run "${AS_NOBODY[@]}" "$D" predict --model "$T/mid.model" --csv "$T/missing.csv" --output "$T/rootonly/p.txt"
check "as nobody: predict --output" 2 "rootonly/p.txt: cannot be written: Permission denied"
run "${AS_NOBODY[@]}" "$D" export --model "$T/mid.model" --dir "$T/rootonly"
check "as nobody: export --dir" 2 "rootonly: cannot be written: Permission denied"
[ -z "$(ls -A "$T/rootonly")" ] && ok || fail "as nobody: left $(ls -A "$T/rootonly")"

# ---- 3. kill -9 while checkpointing every step ----
C=$T/ck
KILLS=24
max_temps=0
for i in $(seq 1 $KILLS); do
  # a 4-4000-3 network: 110 KB a checkpoint, so kills often land mid-write
  if [ "$i" -eq 1 ]; then start=(--layers 4,4000,3); else start=(--resume "$C"); fi
  "$D" train --train-csv "$T/d.csv" --quiet "${start[@]}" --epochs 1000000 --batch 8 \
    --checkpoint-dir "$C" --checkpoint-every 1 --keep-checkpoints 2 >/dev/null 2>"$T/kerr" &
  pid=$!
  sleep "0.$((RANDOM % 3 + 1))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  temps=$(find "$C" -name '*.tmp.*' 2>/dev/null | wc -l)
  [ "$temps" -gt "$max_temps" ] && max_temps=$temps
  if ! ls "$C"/ckpt-*.dsc >/dev/null 2>&1; then fail "kill $i: no checkpoint written: $(cat "$T/kerr")"; break; fi
done
# temporaries do not pile up: each run removes those of the killed ones
# before it (at most the last one's, and one whose successor was killed
# before its first checkpoint, are there at a time)
[ "$max_temps" -le 2 ] && ok || fail "kill -9: $max_temps temporaries left at once"
# planted temporaries: a dead writer's on this host (removed), a live one's
# and another host's (kept: that writer may still be at work)
true & dead=$!; wait "$dead"
host=$(hostname)
touch "$C/ckpt-000000000001.dsc.tmp.$host.$dead" "$C/ckpt-000000000002.dsc.tmp.$host.$$" \
      "$C/ckpt-000000000003.dsc.tmp.otherhost.$dead"
newest=$(ls "$C"/ckpt-*.dsc | tail -1)
step=$(basename "$newest" .dsc); step=$((10#${step#ckpt-}))
epochs=$(( step / 8 + 2 ))   # 60 samples, batch 8: 8 steps per epoch
if "$D" train --train-csv "$T/d.csv" --quiet --resume "$C" --epochs "$epochs" --checkpoint-dir "$C" \
     --checkpoint-every 1 --out "$T/final.model" >/dev/null 2>"$T/kerr"; then ok
else fail "resume after $KILLS kills: $(cat "$T/kerr")"; fi
left=$(cd "$C" && find . -name '*.tmp.*' | sort | tr '\n' ' ')
[ "$left" = "./ckpt-000000000002.dsc.tmp.$host.$$ ./ckpt-000000000003.dsc.tmp.otherhost.$dead " ] && ok \
  || fail "kill -9: after the next run the temporaries are: $left (expected the live and the other host's)"
"$D" info --model "$T/final.model" >/dev/null && ok || fail "the resumed run's model"
finish "faults"
