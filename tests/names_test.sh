#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The files a command is given, as a user can get them wrong:
#  1. a property test: random pairs of an output option and another file
#     option of the same command given the same name (or another name of
#     the same file) are refused before any data is read, one line naming
#     both options, exit 2, the input byte for byte as it was, no output;
#  2. empty names are usage errors;
#  3. outputs that are not regular files (a device node, a FIFO) are refused
#     before training, and never replaced; a FIFO given as an input is
#     refused at once (no open that waits for a writer);
#  4. a full standard output is exit 2 naming it, for every command;
#  5. a stop signal while the data loads ends the run with exit 3 and
#     nothing written, never by the signal's default action;
#  6. an export that fails leaves the earlier export in the directory whole.
# Usage: names_test.sh path/to/descent
set -u
D=$(readlink -f "$1")
T=$(mktemp -d /tmp/descent_names.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
cd "$T" || exit 1
blobs d.csv 90 4 0.3 3
cut -d, -f2- d.csv >features.csv
"$D" train --train-csv d.csv --layers 4,6,3 --epochs 2 --quiet --out model.dsc 2>err || fail "training the model: $(cat err)"

# refused NAME CODE PATTERN -- command...: exit CODE, one stderr line matching PATTERN
refused() {
  local name=$1 code=$2 pat=$3; shift 4
  timeout 20 "$@" >out.txt 2>err.txt
  local rc=$?
  if [ "$rc" -ne "$code" ]; then fail "$name: exit $rc, expected $code: $(head -c 300 err.txt)"; return 1; fi
  if [ "$(wc -l <err.txt)" -ne 1 ]; then fail "$name: expected one line on stderr: $(cat err.txt)"; return 1; fi
  if ! grep -Eq -- "$pat" err.txt; then fail "$name: stderr does not match /$pat/: $(cat err.txt)"; return 1; fi
  ok
}

# ---- 1. random pairs: OUTPUT and another file option, the same file ----
# each option of a command with the value it takes when it is not the pair
train_outputs=(--out --metrics --keep-best --checkpoint-dir)
train_inputs=(--train-csv --test-csv --init-model --resume)
predict_outputs=(--output)
predict_inputs=(--model --csv)
cp d.csv keep.csv
for i in $(seq 1 40); do
  if [ $((RANDOM % 4)) -eq 0 ]; then
    cmd=predict; outs=("${predict_outputs[@]}"); others=("${predict_outputs[@]}" "${predict_inputs[@]}")
  else
    cmd=train; outs=("${train_outputs[@]}"); others=("${train_outputs[@]}" "${train_inputs[@]}")
  fi
  a=${outs[RANDOM % ${#outs[@]}]}
  b=${others[RANDOM % ${#others[@]}]}
  [ "$a" = "$b" ] && continue
  [ "$a $b" = "--checkpoint-dir --resume" ] && continue   # a run continues in its own directory
  # the shared file: an existing input (a copy of the data or the model), or
  # a new name; a second spelling of it (./NAME) for one of the two
  case "$b" in
    --train-csv|--test-csv) cp d.csv shared ;;
    --init-model|--resume|--model) cp model.dsc shared ;;
    --csv) cp features.csv shared ;;
    *) rm -rf shared ;;
  esac
  before=$(sha256sum shared 2>/dev/null)
  if [ "$cmd" = train ]; then
    base=(--train-csv keep.csv --layers 4,6,3 --epochs 1 --val-fraction 0.2)
    [ "$b" = --train-csv ] && base=(--layers 4,6,3 --epochs 1 --val-fraction 0.2)
  else
    base=(--model model.dsc --csv features.csv)
    [ "$b" = --model ] && base=(--csv features.csv)
    [ "$b" = --csv ] && base=(--model model.dsc)
  fi
  # shellcheck disable=SC2086
  if refused "pair $cmd $a $b" 2 "^descent $cmd: ($a|$b) (\./)?shared and ($a|$b)[^ ]* (\./)?shared are the same file" \
       -- "$D" "$cmd" "${base[@]}" "$a" shared "$b" ./shared; then
    [ "$(sha256sum shared 2>/dev/null)" = "$before" ] && ok || fail "pair $cmd $a $b: the shared file changed"
  fi
done
cmp -s d.csv keep.csv && ok || fail "the training data changed"

# ---- 2. empty names ----
for opt in --out --metrics --keep-best --checkpoint-dir --train-csv --resume; do
  refused "empty $opt" 2 "option $opt: the file name is empty" -- "$D" train --train-csv d.csv "$opt" ""
done
refused "empty predict --output" 2 "option --output: the file name is empty" -- "$D" predict --model model.dsc --csv features.csv --output ""
refused "empty info --model" 2 "option --model: the file name is empty" -- "$D" info --model ""

# ---- 3. special files: the devices are nodes of this test's own (made
# with mknod, where that is allowed), so a regression cannot replace the
# system's /dev/null ----
mkfifo fifo
if mknod null c 1 3 2>/dev/null && mknod full c 1 7 2>/dev/null; then
  refused "--out a null device" 2 "null: not a regular file" -- "$D" train --train-csv d.csv --out null
  refused "--metrics a full device" 2 "full: not a regular file" -- "$D" train --train-csv d.csv --metrics full
  [ -c null ] && [ -c full ] && ok || fail "a device node was replaced"
else
  echo "note: mknod is not permitted here: outputs that are devices are not tried"
fi
refused "--out FIFO" 2 "fifo: not a regular file" -- "$D" train --train-csv d.csv --out fifo
refused "predict --output FIFO" 2 "fifo: not a regular file" -- "$D" predict --model model.dsc --csv features.csv --output fifo
[ -p fifo ] && ok || fail "the FIFO was replaced"
refused "info on a FIFO without a writer" 2 "fifo: not a regular file" -- "$D" info --model fifo
refused "training data from a FIFO" 2 "fifo: not a regular file" -- "$D" train --train-csv fifo --layers 4,3
refused "a directory as the model" 2 "is a directory" -- "$D" info --model "$T"
ln -s model.dsc link.dsc
"$D" train --train-csv d.csv --layers 4,6,3 --epochs 1 --quiet --out link.dsc 2>err && [ -L link.dsc ] && ok \
  || fail "--out through a symbolic link: the link was replaced or training failed: $(cat err)"

# ---- 4. standard output that cannot be written ----
for c in "info --model model.dsc" "eval --model model.dsc --test-csv d.csv" \
         "predict --model model.dsc --csv features.csv" "train --train-csv d.csv --layers 4,3 --epochs 1" \
         "--version"; do
  # shellcheck disable=SC2086
  "$D" $c >/dev/full 2>err.txt
  rc=$?
  [ "$rc" = 2 ] && grep -q "standard output: write error" err.txt && ok \
    || fail "'$c' >/dev/full: exit $rc: $(cat err.txt)"
done

# ---- 5. a stop while loading: a CSV big enough to take a while ----
python3 -c "
import random
random.seed(1)
with open('big.csv', 'w') as f:
    for i in range(400000): f.write('%d,%.5f,%.5f,%.5f,%.5f\n' % (i % 3, random.random(), random.random(), random.random(), random.random()))
"
for sig in USR1 TERM; do
  rm -f stopped.model
  "$D" train --train-csv big.csv --layers 4,3 --epochs 1000 --quiet --out stopped.model 2>err.txt &
  pid=$!
  # the file open is the loading under way (main has long since begun)
  for _ in $(seq 1 200); do
    ls -l "/proc/$pid/fd" 2>/dev/null | grep -q big.csv && break
    sleep 0.01
  done
  kill -s "$sig" "$pid"
  wait "$pid"
  rc=$?
  [ "$rc" = 3 ] && grep -q "stopped on request" err.txt && [ ! -e stopped.model ] && ok \
    || fail "SIG$sig while loading: exit $rc ($(cat err.txt)), model written: $([ -e stopped.model ] && echo yes || echo no)"
done

# ---- 6. a failed export leaves the earlier one whole ----
mkdir ex
"$D" export --model model.dsc --dir ex >/dev/null 2>err || fail "export: $(cat err)"
earlier=$(cd ex && sha256sum W1.npy b1.npy W2.npy b2.npy)
"$D" train --train-csv d.csv --layers 4,5,3 --epochs 1 --quiet --out other.dsc 2>err || fail "other model: $(cat err)"
rm ex/manifest.json && mkdir ex/manifest.json    # the export's last file cannot be written
refused "export over a directory" 2 "manifest.json: is a directory" -- "$D" export --model other.dsc --dir ex
[ "$(cd ex && sha256sum W1.npy b1.npy W2.npy b2.npy)" = "$earlier" ] && ok || fail "export: the earlier files changed"
finish "names"
