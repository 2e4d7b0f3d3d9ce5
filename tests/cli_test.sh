#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line, end to end: help and version; train/eval/predict/info/
# export on a small CSV problem (the model file read back with numpy by
# scripts/read_model.py); and every bad input of the core issue, each of
# which must print ONE line on stderr naming the file (and line or record)
# and the problem, exit with status 2, and leave no output file behind.
# Usage: cli_test.sh path/to/descent path/to/scripts
set -u
DESCENT=$1
SCRIPTS=$2
T=$(mktemp -d /tmp/descent_cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"

# expect_error NAME CODE PATTERN -- command...: exit CODE, one stderr line
# matching PATTERN (extended regex), no $T/out.* files created.
expect_error() {
  local name=$1 code=$2 pat=$3; shift 4
  rm -f "$T"/out.*
  "$@" >"$T/stdout" 2>"$T/stderr"
  local rc=$? lines
  lines=$(wc -l <"$T/stderr")
  if [ "$rc" -ne "$code" ]; then fail "$name: exit $rc, expected $code ($(head -c 300 "$T/stderr"))"; return; fi
  if [ "$lines" -ne 1 ]; then fail "$name: $lines lines on stderr, expected 1: $(head -c 300 "$T/stderr")"; return; fi
  if ! grep -Eq -- "$pat" "$T/stderr"; then fail "$name: stderr does not match /$pat/: $(cat "$T/stderr")"; return; fi
  if ls "$T"/out.* >/dev/null 2>&1; then fail "$name: left an output file: $(ls "$T"/out.*)"; return; fi
  ok
}

# ---- data: a small 3-class CSV problem, and IDX files ----
python3 - "$T" <<'PY'
import sys, struct, gzip, random
t = sys.argv[1]
random.seed(5)
def rows(n):
    out = []
    for i in range(n):
        c = i % 3
        out.append([c] + [round((1.0 if k % 3 == c else 0.0) + random.uniform(-.4, .4), 4) for k in range(4)])
    return out
for name, n in (("train", 300), ("test", 90)):
    with open(f"{t}/{name}.csv", "w") as f:
        for r in rows(n): f.write(",".join(str(v) for v in r) + "\n")
with open(f"{t}/features.csv", "w") as f:
    for r in rows(12): f.write(",".join(str(v) for v in r[1:]) + "\n")
def idx_images(n, r=4, c=4, magic=0x00000803):
    return struct.pack(">IIII", magic, n, r, c) + bytes(random.randrange(256) for _ in range(n * r * c))
def idx_labels(n, magic=0x00000801):
    return struct.pack(">II", magic, n) + bytes(random.randrange(3) for _ in range(n))
open(f"{t}/img.idx", "wb").write(idx_images(50))
open(f"{t}/lab.idx", "wb").write(idx_labels(50))
gzip.open(f"{t}/img.idx.gz", "wb").write(idx_images(50))
open(f"{t}/trunc.idx.gz", "wb").write(open(f"{t}/img.idx.gz", "rb").read()[:-40])
open(f"{t}/short.idx", "wb").write(idx_images(50)[:16 + 16 * 30 + 5])
open(f"{t}/magic.idx", "wb").write(idx_images(50, magic=0x00000903))
open(f"{t}/lab49.idx", "wb").write(idx_labels(49))
open(f"{t}/huge.idx", "wb").write(struct.pack(">IIII", 0x803, 0xFFFFFFFF, 28, 28) + bytes(100))
open(f"{t}/hugegz.idx.gz", "wb").write(gzip.compress(struct.pack(">IIII", 0x803, 4000000, 28, 28) + bytes(100)))
open(f"{t}/ragged.csv", "w").write("0,1,2,3,4\n1,1,2,3,4\n2,1,2,3\n")
open(f"{t}/text.csv", "w").write("0,1,2,3,4\n1,1,abc,3,4\n")
open(f"{t}/nan.csv", "w").write("0,1,2,3,4\n1,1,2,nan,4\n")
open(f"{t}/inf.csv", "w").write("0,1,2,3,4\n1,1,2,3,1e39\n")
open(f"{t}/label.csv", "w").write("0,1,2,3,4\n1,1,2,3,4\n7,1,2,3,4\n")
open(f"{t}/neg.csv", "w").write("0,1,2,3,4\n-1,1,2,3,4\n")
# gzip: several members (as `cat a.gz b.gz` gives), and broken ones
img = idx_images(50); z = gzip.compress(img)
open(f"{t}/multi.idx.gz", "wb").write(gzip.compress(img[:300]) + gzip.compress(img[300:]))
open(f"{t}/notrailer.idx.gz", "wb").write(z[:-8])
crc = bytearray(z); crc[-6] ^= 0x40; open(f"{t}/badcrc.idx.gz", "wb").write(crc)
open(f"{t}/garbage.idx.gz", "wb").write(z + b"\x00\x00trailing")
bad = bytearray(z); bad[20] ^= 0x55; open(f"{t}/corrupt.idx.gz", "wb").write(bad)
open(f"{t}/extra.idx", "wb").write(img + b"xy")
open(f"{t}/lab7.idx", "wb").write(struct.pack(">II", 0x801, 50) + bytes([1] * 10 + [7] + [2] * 39))
# CSV: control bytes, a binary cell, a byte-order mark
open(f"{t}/nul.csv", "wb").write(b"0,1,2,3,4\n\x001,1,2,3,4\n2,1,2,3,4\n")
open(f"{t}/bell.csv", "wb").write(b"0,1,2,3,4\n1,1,2\x07,3,4\n")
open(f"{t}/binary.csv", "wb").write(b"0,1,2,3,4\n1,1,\xff\xfe\x80,3,4\n")
open(f"{t}/bom.csv", "wb").write(b"\xef\xbb\xbf" + open(f"{t}/train.csv", "rb").read())
open(f"{t}/bomheader.csv", "wb").write(b"\xef\xbb\xbfc,a,b,c,d\r\n" + open(f"{t}/train.csv", "rb").read().replace(b"\n", b"\r\n"))
open(f"{t}/hex.csv", "w").write("0,1,2,3,4\n1,1,0x1p3,3,4\n")
open(f"{t}/fraclabel.csv", "w").write("x,y,z,w,v\n0,1,2,3,4\n1.5,1,2,3,4\n")
open(f"{t}/tab.csv", "wb").write(open(f"{t}/train.csv", "rb").read().replace(b",", b",\t"))
PY

D="$DESCENT"
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
O=(--out "$T/out.model" --metrics "$T/out.metrics")

# NumPy input: the same numbers as the CSV files train the same model, bit
# for bit; gzip works; predict --npy agrees with predict --csv; bad files
# are refused with one line
npy_checks() {
  $PY - "$T" <<'PY'
import sys, gzip, numpy as np
t = sys.argv[1]
d = np.loadtxt(f"{t}/train.csv", delimiter=",", ndmin=2)
np.save(f"{t}/x.npy", d[:, 1:])                       # float64, as the CSV reader reads
np.save(f"{t}/y.npy", d[:, 0].astype(np.int64))
with gzip.open(f"{t}/x.npy.gz", "wb") as f: np.save(f, d[:, 1:])
np.save(f"{t}/feat.npy", np.loadtxt(f"{t}/features.csv", delimiter=",", ndmin=2).astype(np.float32))
np.save(f"{t}/xf.npy", np.asfortranarray(d[:, 1:]))
np.save(f"{t}/y_short.npy", d[:-1, 0].astype(np.uint8))
PY
  local common=(--layers 4,8,3 --epochs 3 --batch 16 --quiet --test-csv "$T/test.csv")
  $D train --train-csv "$T/train.csv" "${common[@]}" --out "$T/from_csv.dsc" >/dev/null 2>"$T/e" || fail "train csv: $(cat "$T/e")"
  $D train --train-npy "$T/x.npy.gz" --train-npy-labels "$T/y.npy" "${common[@]}" --out "$T/from_npy.dsc" >/dev/null 2>"$T/e" \
    && cmp -s "$T/from_csv.dsc" "$T/from_npy.dsc" && ok || fail ".npy data trained another model than the same CSV: $(cat "$T/e")"
  $D predict --model "$T/model.dsc" --npy "$T/feat.npy" >"$T/pred_npy.out" 2>"$T/e" && cmp -s "$T/pred_npy.out" "$T/pred.out" \
    && ok || fail "predict --npy disagrees with --csv: $(cat "$T/e")"
  expect_error "npy fortran" 2 "xf.npy: the array is in Fortran order" -- $D train --layers 4,3 --train-npy "$T/xf.npy" --train-npy-labels "$T/y.npy" "${O[@]}"
  expect_error "npy count" 2 "y_short.npy: 299 labels for 300 samples in .*x.npy" -- $D train --layers 4,3 --train-npy "$T/x.npy" --train-npy-labels "$T/y_short.npy" "${O[@]}"
  expect_error "npy no labels" 2 "NumPy data needs both a features and a labels file" -- $D train --layers 4,3 --train-npy "$T/x.npy" "${O[@]}"
  expect_error "npy and csv" 2 "one kind of data" -- $D train --layers 4,3 --train-npy "$T/x.npy" --train-npy-labels "$T/y.npy" --train-csv "$T/train.csv" "${O[@]}"
}

# Early stopping and the best model: --patience ends the run after that many
# epochs without a lower validation loss, --keep-best holds the model of the
# best epoch (evaluated on the validation rows it gives that epoch's loss),
# dropout trains; both need a validation set
stopping_checks() {
  expect_error "patience without val" 2 "--patience needs a validation set" -- $D train --train-csv "$T/train.csv" --layers 4,3 --patience 3 "${O[@]}"
  expect_error "keep-best without val" 2 "--keep-best needs a validation set" -- $D train --train-csv "$T/train.csv" --layers 4,3 --keep-best "$T/out.best" "${O[@]}"
  expect_error "dropout range" 2 "option --dropout: 1 is not in \\[0,1\\)" -- $D train --train-csv "$T/train.csv" --layers 4,3 --dropout 1 "${O[@]}"
  $D train --train-csv "$T/train.csv" --layers 4,32,3 --activation relu --output-activation softmax --cost xent --lr 0.5 \
    --batch 8 --epochs 300 --val-fraction 0.3 --patience 3 --keep-best "$T/best.dsc" --dropout 0.1 \
    --metrics "$T/stop.csv" --restore-best --out "$T/restored.dsc" >"$T/stop.out" 2>"$T/e" || fail "early stopping run: $(cat "$T/e")"
  local ran best_line best_epoch best_loss
  ran=$(grep -c '^epoch ' "$T/stop.out")
  grep -q '^early stop: ' "$T/stop.out" && [ "$ran" -lt 300 ] && ok || fail "no early stop in $ran epochs"
  [ "$(($(wc -l <"$T/stop.csv") - 1))" -eq "$ran" ] && ok || fail "metrics rows differ from the $ran epochs"
  best_line=$(grep '(best)' "$T/stop.out" | tail -1)
  best_epoch=$(echo "$best_line" | awk '{print $2}' | cut -d/ -f1)
  best_loss=$(echo "$best_line" | sed -n 's/.*val-loss \([0-9.]*\).*/\1/p')
  grep -q "^early stop: .*best epoch $best_epoch (val-loss $best_loss)" "$T/stop.out" && [ "$ran" -eq $((best_epoch + 3)) ] \
    && ok || fail "early stop after $ran epochs does not follow best epoch $best_epoch by 3"
  # --restore-best: --out is the best epoch's model, and the last line says so
  cmp -s "$T/restored.dsc" "$T/best.dsc" && tail -1 "$T/stop.out" | grep -qx "model written to $T/restored.dsc (epoch $best_epoch: the lowest validation loss)" \
    && ok || fail "--restore-best: --out is not the best epoch's model: $(tail -1 "$T/stop.out")"
  expect_error "restore-best without val" 2 "--restore-best needs a validation set" -- $D train --train-csv "$T/train.csv" --layers 4,3 --restore-best "${O[@]}"
  expect_error "restore-best resumed without keep-best" 2 "--restore-best with --resume needs --keep-best" -- $D train --train-csv "$T/train.csv" --val-fraction 0.3 --resume "$T/nothing" --restore-best "${O[@]}"
  # stopped after the best epoch and resumed: the best result so far travels
  # in the checkpoint, and the run stops where the uninterrupted one did
  local stop_opts=(--train-csv "$T/train.csv" --layers 4,32,3 --activation relu --output-activation softmax --cost xent
                   --lr 0.5 --batch 8 --val-fraction 0.3 --dropout 0.1 --checkpoint-dir "$T/esck" --checkpoint-every 1e)
  $D train "${stop_opts[@]}" --epochs $((best_epoch + 1)) --quiet --keep-best "$T/best2.dsc" >/dev/null 2>"$T/e" || fail "first half: $(cat "$T/e")"
  $D train "${stop_opts[@]}" --epochs 300 --patience 3 --resume "$T/esck" --keep-best "$T/best2.dsc" --restore-best \
    --out "$T/restored2.dsc" >"$T/stop2.out" 2>"$T/e" || fail "resumed: $(cat "$T/e")"
  # the best epoch was the first run's: restored from its --keep-best file
  cmp -s "$T/restored2.dsc" "$T/best.dsc" && grep -q "(epoch $best_epoch: the lowest validation loss)" "$T/stop2.out" \
    && ok || fail "--restore-best after --resume: not the first run's best model: $(tail -1 "$T/stop2.out")"
  grep -q "^early stop: the validation loss has not gone below its best for 3 epochs; best epoch $best_epoch (val-loss $best_loss)" "$T/stop2.out" \
    && ok || fail "resumed run: $(grep '^early stop' "$T/stop2.out" || echo 'no early stop'), uninterrupted: best epoch $best_epoch"
  tail -90 "$T/train.csv" >"$T/val.csv"
  local got; got=$($D eval --model "$T/best.dsc" --test-csv "$T/val.csv" | sed -n 's/^loss: //p')
  $PY -c "import sys; sys.exit(0 if abs(float('$got') - float('$best_loss')) < 1e-5 else 1)" \
    && ok || fail "--keep-best model: validation loss $got, the best epoch printed $best_loss"
  # metrics: the learning rate and the elapsed time (non-decreasing)
  head -1 "$T/stop.csv" | grep -q ',lr,elapsed_seconds$' && ok || fail "metrics header: $(head -1 "$T/stop.csv")"
  awk -F, 'NR > 1 { if ($10 != 0.5 || (NR > 2 && $11 + 0 < prev)) bad = 1; prev = $11 + 0 } END {exit bad}' "$T/stop.csv" \
    && ok || fail "metrics lr/elapsed columns: $(sed -n 2,3p "$T/stop.csv")"
}

# The progress bar (on a terminal only): running loss, samples/s and ETA
progress_checks() {
  if ! command -v script >/dev/null; then echo "note: no script(1); progress bar not checked" >&2; return; fi
  script -qec "$D train --train-csv $T/train.csv --layers 4,8,3 --epochs 2 --batch 1" /dev/null >"$T/tty.out" 2>&1
  grep -aEq 'epoch 1/2 \[[#.]+\] +[0-9]+%  loss [0-9.]+  [0-9]+ samples/s  ETA [0-9hms]+' "$T/tty.out" \
    && ok || fail "progress bar: $(tr '\r' '\n' <"$T/tty.out" | grep -a ETA | head -2)"
}

# Fine-tuning: --init-model starts from a model's (or a checkpoint's)
# weights: one more epoch at a small rate keeps the accuracy, a conflicting
# network option is refused; every command that reads a model reads a
# checkpoint
init_model_checks() {
  local ck="$T/ck"
  $D train --train-csv "$T/train.csv" --layers 4,16,3 --activation tanh --output-activation softmax --cost xent --epochs 2 \
    --checkpoint-dir "$ck" --checkpoint-every 1e --quiet >/dev/null 2>"$T/e" || fail "checkpointed run: $(cat "$T/e")"
  local last; last=$(ls "$ck"/ckpt-*.dsc | tail -1)
  $D train --train-csv "$T/train.csv" --test-csv "$T/test.csv" --init-model "$T/model.dsc" --epochs 1 --lr 0.01 \
    --out "$T/tuned.dsc" >"$T/ft.out" 2>"$T/e" && grep -q "starting from the weights of $T/model.dsc" "$T/ft.out" \
    && ok || fail "--init-model: $(cat "$T/e")"
  local before after
  before=$(sed -n 's/^test accuracy: \([0-9.]*\).*/\1/p' "$T/train.out")
  after=$(sed -n 's/^test accuracy: \([0-9.]*\).*/\1/p' "$T/ft.out")
  $PY -c "import sys; sys.exit(0 if float('${after:-0}') >= float('${before:-1}') - 0.05 else 1)" \
    && ok || fail "fine-tuning from a trained model lost accuracy: ${before:-?} -> ${after:-?}"
  cmp -s "$T/tuned.dsc" "$T/model.dsc" && fail "--init-model: one more epoch changed nothing" || ok
  expect_error "init-model conflict" 2 "option --layers: 4,8,3 differs from the model's 4,16,3" -- $D train --train-csv "$T/train.csv" --init-model "$T/model.dsc" --layers 4,8,3 "${O[@]}"
  expect_error "init-model and resume" 2 "not both" -- $D train --train-csv "$T/train.csv" --init-model "$T/model.dsc" --resume "$ck" "${O[@]}"
  $D train --train-csv "$T/train.csv" --init-model "$last" --epochs 1 --quiet >/dev/null 2>"$T/e" && ok || fail "--init-model CHECKPOINT: $(cat "$T/e")"
  $D info --model "$last" | grep -q "layer 2: 16 -> 3, softmax" && ok || fail "info on a checkpoint"
  $D eval --model "$last" --test-csv "$T/test.csv" | grep -q "^accuracy: " && ok || fail "eval on a checkpoint"
  $D predict --model "$last" --csv "$T/features.csv" | wc -l | grep -qx 12 && ok || fail "predict on a checkpoint"
  # a checkpoint of format 1 (before dropout and early stopping) is still read
  tail -c +2 "$(dirname "$0")/fuzz/corpus/model/ckpt" >"$T/v1.dsc"
  $D info --model "$T/v1.dsc" | grep -q "^layers: 2" && ok || fail "a format-1 checkpoint is not read"
  mkdir -p "$T/ck_export"
  $D export --model "$last" --dir "$T/ck_export" >/dev/null && [ -s "$T/ck_export/manifest.json" ] && ok || fail "export of a checkpoint"
}
# ---- help, version ----
for c in "" train eval predict info export; do
  if ! $D $c --help >"$T/help" 2>&1 || ! grep -q "Usage" "$T/help"; then fail "descent $c --help"; else ok; fi
done
if $D --version | grep -Eq '^descent [0-9]+\.[0-9]+'; then ok; else fail "--version"; fi
expect_error "no command" 2 "unknown command" -- $D frobnicate

# ---- end to end on CSV ----
if $D train --train-csv "$T/train.csv" --test-csv "$T/test.csv" --layers 4,16,3 --activation tanh \
     --output-activation softmax --cost xent --epochs 30 --batch 16 --lr 0.1 --val-fraction 0.2 \
     --metrics "$T/metrics.csv" --out "$T/model.dsc" >"$T/train.out" 2>"$T/train.err"; then ok
else fail "train on CSV: $(cat "$T/train.err")"; fi
acc=$(sed -n 's/^test accuracy: \([0-9.]*\).*/\1/p' "$T/train.out")
if python3 -c "import sys; sys.exit(0 if float('${acc:-0}') >= 0.9 else 1)"; then ok; else fail "CSV test accuracy ${acc:-none} < 0.9"; fi
if [ "$(grep -c '^epoch ' "$T/train.out")" -eq 30 ]; then ok; else fail "expected 30 epoch lines"; fi
if [ "$(wc -l <"$T/metrics.csv")" -eq 31 ] && head -1 "$T/metrics.csv" | grep -q '^epoch,train_loss'; then ok; else fail "metrics file"; fi
$D eval --model "$T/model.dsc" --test-csv "$T/test.csv" >"$T/eval.out" 2>&1 && grep -q "^accuracy: " "$T/eval.out" \
  && grep -q "confusion matrix" "$T/eval.out" && ok || fail "eval: $(cat "$T/eval.out")"
# the confusion matrix counts every test sample
total=$(awk '/confusion/{on=1; next} on && NF==4 && $1 ~ /^[0-9]+$/ {s+=$2+$3+$4} END{print s}' "$T/eval.out")
[ "$total" = 90 ] && ok || fail "confusion matrix sums to $total, expected 90"
$D predict --model "$T/model.dsc" --csv "$T/features.csv" >"$T/pred.out" 2>"$T/pred.err" && ok || fail "predict: $(cat "$T/pred.err")"
[ "$(wc -l <"$T/pred.out")" -eq 12 ] && ok || fail "predict printed $(wc -l <"$T/pred.out") lines, expected 12"
$D predict --model "$T/model.dsc" --csv "$T/features.csv" --outputs --output "$T/pred.csv" && \
  [ "$(head -1 "$T/pred.csv" | tr ',' '\n' | wc -l)" -eq 3 ] && ok || fail "predict --outputs --output"
# numpy reads the model file by docs/file-formats.md's description and agrees with predict
if $PY -c "import numpy" 2>/dev/null; then
  $PY "$SCRIPTS/read_model.py" "$T/model.dsc" --predict "$T/features.csv" >"$T/np.out" 2>"$T/np.err" \
    && cmp -s "$T/np.out" "$T/pred.out" && ok || fail "numpy reader disagrees with descent predict: $(cat "$T/np.err")"
else
  echo "note: python3-numpy missing, numpy reader not checked" >&2
fi
$D info --model "$T/model.dsc" >"$T/info.out" && grep -q "layer 2: 16 -> 3, softmax" "$T/info.out" && ok || fail "info: $(cat "$T/info.out")"
mkdir -p "$T/npy"
$D export --model "$T/model.dsc" --dir "$T/npy" >/dev/null && [ -s "$T/npy/W1.npy" ] && [ -s "$T/npy/b2.npy" ] && ok || fail "export"
grep -q '"widths": \[4, 16, 3\]' "$T/npy/manifest.json" && grep -q '"activations": \["tanh", "softmax"\]' "$T/npy/manifest.json" \
  && ok || fail "export manifest: $(cat "$T/npy/manifest.json")"
$PY "$SCRIPTS/read_model.py" --help >"$T/help" 2>&1 && grep -q "usage: read_model.py" "$T/help" && ok || fail "read_model.py --help: $(cat "$T/help")"
if $PY -c "import numpy" 2>/dev/null; then
  # the export directory, read through its manifest, predicts what descent predicts
  $PY "$SCRIPTS/read_model.py" "$T/npy" --predict "$T/features.csv" >"$T/np2.out" 2>"$T/np.err" \
    && cmp -s "$T/np2.out" "$T/pred.out" && ok || fail "read_model.py on the export disagrees: $(cat "$T/np.err")"
  npy_checks
fi
init_model_checks
stopping_checks
progress_checks
# IDX, plain and gzip, through the CLI
$D train --train-images "$T/img.idx.gz" --train-labels "$T/lab.idx" --layers 16,8,3 --epochs 2 --quiet >/dev/null 2>"$T/e" && ok || fail "train on IDX: $(cat "$T/e")"

# ---- bad input: one line naming the file and the problem, exit 2, no output file ----
TR=(train --layers 4,5,3 --epochs 1)
expect_error "missing file" 2 "/nonexistent.csv: cannot open" -- $D "${TR[@]}" --train-csv /nonexistent.csv "${O[@]}"
expect_error "missing labels" 2 "nolabels.idx: cannot open" -- $D train --layers 16,3 --train-images "$T/img.idx" --train-labels "$T/nolabels.idx" "${O[@]}"
expect_error "truncated gz" 2 "trunc.idx.gz: .*(truncated|corrupt)" -- $D train --layers 16,3 --train-images "$T/trunc.idx.gz" --train-labels "$T/lab.idx" "${O[@]}"
expect_error "truncated idx" 2 "short.idx: header declares" -- $D train --layers 16,3 --train-images "$T/short.idx" --train-labels "$T/lab.idx" "${O[@]}"
expect_error "wrong magic" 2 "magic.idx: bad IDX magic" -- $D train --layers 16,3 --train-images "$T/magic.idx" --train-labels "$T/lab.idx" "${O[@]}"
expect_error "count mismatch" 2 "lab49.idx: 49 labels but .*50 images" -- $D train --layers 16,3 --train-images "$T/img.idx" --train-labels "$T/lab49.idx" "${O[@]}"
expect_error "absurd size" 2 "huge.idx: header declares" -- $D train --layers 784,3 --train-images "$T/huge.idx" --train-labels "$T/lab.idx" "${O[@]}"
expect_error "absurd size gz" 2 "hugegz.idx.gz: header declares" -- $D train --layers 784,3 --train-images "$T/hugegz.idx.gz" --train-labels "$T/lab.idx" "${O[@]}"
expect_error "ragged csv" 2 "ragged.csv: line 3: 4 columns, expected 5" -- $D "${TR[@]}" --train-csv "$T/ragged.csv" "${O[@]}"
expect_error "non-numeric" 2 "text.csv: line 2, column 3: not a number" -- $D "${TR[@]}" --train-csv "$T/text.csv" "${O[@]}"
expect_error "nan" 2 "nan.csv: line 2, column 4: .*not a finite" -- $D "${TR[@]}" --train-csv "$T/nan.csv" "${O[@]}"
expect_error "inf" 2 "inf.csv: line 2, column 5: .*not a finite" -- $D "${TR[@]}" --train-csv "$T/inf.csv" "${O[@]}"
expect_error "label range" 2 "label.csv: record 3: label 7 is out of range 0..2" -- $D "${TR[@]}" --train-csv "$T/label.csv" --csv-classes 8 "${O[@]}"
expect_error "negative label" 2 "neg.csv: .*label -1" -- $D "${TR[@]}" --train-csv "$T/neg.csv" "${O[@]}"
expect_error "layers vs data" 2 "train.csv: samples have 4 features but the network's input layer has 5" -- $D train --layers 5,3 --train-csv "$T/train.csv" "${O[@]}"
expect_error "outputs vs labels" 2 "train.csv: record 3: label 2 is out of range" -- $D train --layers 4,2 --train-csv "$T/train.csv" "${O[@]}"
expect_error "negative lr" 2 "learning rate must be a positive" -- $D "${TR[@]}" --train-csv "$T/train.csv" --lr -1 "${O[@]}"
expect_error "zero lr" 2 "learning rate must be a positive" -- $D "${TR[@]}" --train-csv "$T/train.csv" --lr 0 "${O[@]}"
expect_error "zero epochs" 2 "--epochs: 0 is out of range" -- $D train --train-csv "$T/train.csv" --epochs 0 "${O[@]}"
expect_error "zero layers" 2 "--layers: need at least an input and an output" -- $D train --train-csv "$T/train.csv" --layers 4 "${O[@]}"
expect_error "zero width" 2 "--layers: '4,0,3' is not a list of positive widths" -- $D train --train-csv "$T/train.csv" --layers 4,0,3 "${O[@]}"
expect_error "unknown activation" 2 "unknown activation 'swish'" -- $D "${TR[@]}" --train-csv "$T/train.csv" --activation swish "${O[@]}"
expect_error "unknown option" 2 "unknown option '--frobnicate'" -- $D "${TR[@]}" --train-csv "$T/train.csv" --frobnicate "${O[@]}"
expect_error "bad number" 2 "--batch: 'abc' is not a whole number" -- $D "${TR[@]}" --train-csv "$T/train.csv" --batch abc "${O[@]}"
expect_error "missing value" 2 "--lr needs a value" -- $D "${TR[@]}" --train-csv "$T/train.csv" --lr
expect_error "softmax hidden" 2 "softmax is only allowed on the output layer" -- $D train --train-csv "$T/train.csv" --layers 4,5,3 --activations softmax,softmax --cost xent "${O[@]}"
expect_error "empty activation" 2 "--activations: unknown activation ''" -- $D train --train-csv "$T/train.csv" --layers 4,5,3 --activations relu,,softmax --cost xent "${O[@]}"
expect_error "resume from a model" 2 "model.dsc: not a descent checkpoint \(bad magic\)" -- $D train --train-csv "$T/train.csv" --resume "$T/model.dsc" "${O[@]}"
expect_error "xent without softmax" 2 "cross-entropy needs a softmax output" -- $D "${TR[@]}" --train-csv "$T/train.csv" --cost xent "${O[@]}"
expect_error "corrupt model" 2 "img.idx: byte 0: not a descent model" -- $D eval --model "$T/img.idx" --test-csv "$T/test.csv"
expect_error "missing model" 2 "nomodel.dsc: cannot open" -- $D info --model "$T/nomodel.dsc"
# gzip: every member read and verified to its trailer
$D train --train-images "$T/multi.idx.gz" --train-labels "$T/lab.idx" --layers 16,8,3 --epochs 1 --quiet >/dev/null 2>"$T/e" \
  && ok || fail "a gzip file of two members: $(cat "$T/e")"
G=(train --layers 16,3 --train-labels "$T/lab.idx")
expect_error "gzip without trailer" 2 "notrailer.idx.gz: truncated gzip file: member 1 ends at byte [0-9]+ before its trailer" -- $D "${G[@]}" --train-images "$T/notrailer.idx.gz" "${O[@]}"
expect_error "gzip crc" 2 "badcrc.idx.gz: gzip member 1, byte [0-9]+: corrupt data \(incorrect data check\)" -- $D "${G[@]}" --train-images "$T/badcrc.idx.gz" "${O[@]}"
expect_error "gzip trailing garbage" 2 "garbage.idx.gz: byte [0-9]+: data after gzip member 1 is not another gzip member" -- $D "${G[@]}" --train-images "$T/garbage.idx.gz" "${O[@]}"
expect_error "corrupt gzip" 2 "corrupt.idx.gz: gzip member 1, byte [0-9]+: corrupt data" -- $D "${G[@]}" --train-images "$T/corrupt.idx.gz" "${O[@]}"
expect_error "idx trailing data" 2 "extra.idx: 2 bytes after the 50 records its header declares" -- $D "${G[@]}" --train-images "$T/extra.idx" "${O[@]}"
# the culprit named: the labels file and its record; binary bytes escaped
expect_error "idx label range" 2 "lab7.idx: record 11: label 7 is out of range 0..2" -- $D train --layers 16,3 --train-images "$T/img.idx" --train-labels "$T/lab7.idx" "${O[@]}"
expect_error "binary cell" 2 'binary.csv: line 2, column 3: not a number: "\\xff\\xfe\\x80"' -- $D "${TR[@]}" --train-csv "$T/binary.csv" "${O[@]}"
# numbers are decimal; a class label is a whole number, named by its line
expect_error "hex number" 2 "hex.csv: line 2, column 3: not a number: \"0x1p3\"" -- $D "${TR[@]}" --train-csv "$T/hex.csv" "${O[@]}"
expect_error "fractional label" 2 "fraclabel.csv: line 3, column 1: label 1.5 is not a class index" -- $D "${TR[@]}" --csv-header --train-csv "$T/fraclabel.csv" "${O[@]}"
# CSV control bytes anywhere, with line and column; a BOM, CRLF and tabs are fine
expect_error "csv NUL" 2 "nul.csv: line 2, column 1: control byte 0x00" -- $D "${TR[@]}" --train-csv "$T/nul.csv" "${O[@]}"
expect_error "csv BEL" 2 "bell.csv: line 2, column 3: control byte 0x07" -- $D "${TR[@]}" --train-csv "$T/bell.csv" "${O[@]}"
for f in bom.csv tab.csv; do
  $D train --train-csv "$T/$f" --layers 4,3 --epochs 1 --quiet --out "$T/$f.model" 2>"$T/e" && ok || fail "$f: $(cat "$T/e")"
done
$D train --train-csv "$T/bomheader.csv" --csv-header --layers 4,3 --epochs 1 --quiet --out "$T/bomh.model" 2>"$T/e" \
  && cmp -s "$T/bomh.model" "$T/bom.csv.model" && ok || fail "BOM + header + CRLF: $(cat "$T/e")"
# a model or checkpoint with a NaN parameter (and a valid checksum) is refused by every command
$PY - "$T/model.dsc" "$T/nan.dsc" <<'NANPY'
import sys, struct, zlib
b = bytearray(open(sys.argv[1], "rb").read())
L = struct.unpack_from("<I", b, 12)[0]      # magic, version, L, sizes, acts, cost, count
at = 16 + 8 * L + 4 + 4
n = struct.unpack_from("<Q", b, at)[0]
last = at + 8 + 4 * (n - 1)                 # the last parameter: the last layer's last bias
b[last:last + 4] = struct.pack("<f", float("nan"))
b[-4:] = struct.pack("<I", zlib.crc32(bytes(b[:-4])))
open(sys.argv[2], "wb").write(b)
NANPY
for c in "eval --test-csv $T/test.csv" "info" "predict --csv $T/features.csv" "export --dir $T/npy"; do
  # shellcheck disable=SC2086
  expect_error "NaN model: ${c%% *}" 2 "nan.dsc: layer 2 bias \[2\] is NaN" -- $D $c --model "$T/nan.dsc"
done
# outputs are checked before any data is read
expect_error "no output directory" 2 "/nonexistent/out.model: the directory /nonexistent does not exist" -- $D train --train-csv /nonexistent.csv --out /nonexistent/out.model
expect_error "metrics in a file's place" 2 "m.csv: .*/train.csv is not a directory" -- $D train --train-csv /nonexistent.csv --metrics "$T/train.csv/m.csv"
expect_error "no command" 2 "^descent: no command given" -- $D

expect_error "predict width" 2 "train.csv: rows have 5 features but the model's input layer has 4" -- $D predict --model "$T/model.dsc" --csv "$T/train.csv" --output "$T/out.pred"

# a command line without traps: the model without --model, an export that
# makes its directory, the old --output, options that would be ignored,
# and a misspelt option named with its correction
$D info "$T/model.dsc" >"$T/info.pos" 2>"$T/e" && $D info --model "$T/model.dsc" >"$T/info.opt" &&
  cmp -s "$T/info.pos" "$T/info.opt" && ok || fail "info MODEL: $(cat "$T/e")"
$D predict "$T/model.dsc" --csv "$T/features.csv" >"$T/pred.pos" 2>"$T/e" && cmp -s "$T/pred.pos" "$T/pred.out" &&
  ok || fail "predict MODEL: $(cat "$T/e")"
$D eval "$T/model.dsc" --test-csv "$T/test.csv" >/dev/null 2>"$T/e" && ok || fail "eval MODEL: $(cat "$T/e")"
$D export "$T/model.dsc" --dir "$T/made" >/dev/null 2>"$T/e" && [ -f "$T/made/manifest.json" ] && ok ||
  fail "export into a directory to make: $(cat "$T/e")"
expect_error "export under a missing parent" 2 "out.d/x: the directory .*out.d does not exist" -- $D export "$T/model.dsc" --dir "$T/out.d/x"
expect_error "a second positional" 2 "unexpected argument" -- $D info "$T/model.dsc" "$T/model.dsc"
expect_error "eval --limit" 2 "unknown option '--limit'" -- $D eval "$T/model.dsc" --test-csv "$T/test.csv" --limit 3
expect_error "eval --train-csv" 2 "unknown option '--train-csv'" -- $D eval "$T/model.dsc" --train-csv "$T/train.csv"
expect_error "predict --csv-header without --csv" 2 "applies to --csv only" -- $D predict "$T/model.dsc" --npy "$T/feat.npy" --csv-header
expect_error "did you mean" 2 "unknown option '--epoch' \\(did you mean --epochs\\?\\)" -- $D train --train-csv "$T/train.csv" --epoch 3
expect_error "no suggestion when none is close" 2 "unknown option '--zzzzzz' \\(see" -- $D train --train-csv "$T/train.csv" --zzzzzz 3
C=(--train-csv "$T/train.csv" --layers 4,5,3 --activation tanh --cost xent --epochs 2 --quiet)
$D train "${C[@]}" --output-activation softmax --out "$T/new.dsc" 2>"$T/e.new" >/dev/null &&
  $D train "${C[@]}" --output softmax --out "$T/old.dsc" 2>"$T/e.old" >/dev/null && cmp -s "$T/new.dsc" "$T/old.dsc" &&
  [ ! -s "$T/e.new" ] && grep -q "note: --output is the old name of --output-activation" "$T/e.old" && ok ||
  fail "--output as the old --output-activation: $(cat "$T/e.old" "$T/e.new")"

# --standardize: the same problem on raw scales (features x 1000, x 0.001,
# shifted by 5000, ...): trained with the training split's statistics, kept
# in the model, applied by eval, predict and export (and numpy's reader)
$PY - "$T" <<'PY'
import sys
t = sys.argv[1]
scale, shift = (1000.0, 0.001, 1.0, 50.0), (5000.0, 0.0, -3.0, 100.0)
def raw(src, dst, labelled):
    with open(f"{t}/{src}") as f, open(f"{t}/{dst}", "w") as g:
        for line in f:
            v = line.strip().split(",")
            head, feats = (v[:1], v[1:]) if labelled else ([], v)
            g.write(",".join(head + [repr(float(x) * a + b) for x, a, b in zip(feats, scale, shift)]) + "\n")
raw("train.csv", "rawtrain.csv", True); raw("test.csv", "rawtest.csv", True); raw("features.csv", "rawfeat.csv", False)
PY
S=(--train-csv "$T/rawtrain.csv" --test-csv "$T/rawtest.csv" --layers 4,16,3 --activation tanh --output-activation softmax
   --cost xent --epochs 30 --batch 16 --lr 0.1 --val-fraction 0.2)
$D train "${S[@]}" --standardize --out "$T/std.dsc" >"$T/std.out" 2>"$T/e" || fail "train --standardize: $(cat "$T/e")"
acc=$(sed -n 's/^test accuracy: \([0-9.]*\).*/\1/p' "$T/std.out")
grep -q '^inputs standardized' "$T/std.out" && $PY -c "import sys; sys.exit(0 if float('${acc:-0}') >= 0.9 else 1)" &&
  ok || fail "--standardize on raw scales: test accuracy ${acc:-none}: $(tail -3 "$T/std.out")"
$D eval "$T/std.dsc" --test-csv "$T/rawtest.csv" | grep -qx "accuracy: $acc" && ok || fail "eval of the standardized model"
$D info "$T/std.dsc" | grep -q '^inputs: standardized, (x - mean) / std per feature; mean ' && ok || fail "info: $($D info "$T/std.dsc")"
$D predict "$T/std.dsc" --csv "$T/rawfeat.csv" >"$T/std.pred" 2>"$T/e" &&
  $PY "$SCRIPTS/read_model.py" "$T/std.dsc" --predict "$T/rawfeat.csv" >"$T/std.np" 2>>"$T/e" && cmp -s "$T/std.pred" "$T/std.np" &&
  ok || fail "predict and read_model.py disagree on a standardized model: $(cat "$T/e")"
$D export "$T/std.dsc" --dir "$T/stdx" >/dev/null 2>"$T/e" && [ -f "$T/stdx/mean.npy" ] && [ -f "$T/stdx/std.npy" ] &&
  grep -q '"standardize": {"mean": "mean.npy", "std": "std.npy"}' "$T/stdx/manifest.json" &&
  $PY "$SCRIPTS/read_model.py" "$T/stdx" --predict "$T/rawfeat.csv" | cmp -s - "$T/std.pred" &&
  ok || fail "export of a standardized model: $(cat "$T/e") $(ls "$T/stdx")"
$D export "$T/model.dsc" --dir "$T/stdx" >/dev/null 2>"$T/e" && [ ! -e "$T/stdx/mean.npy" ] && ok ||
  fail "an export of a raw model over a standardized one left mean.npy"
$D train "${S[@]}" --epochs 1 --init-model "$T/std.dsc" --out "$T/std2.dsc" --quiet >/dev/null 2>"$T/e" &&
  $D info "$T/std2.dsc" | grep -q '^inputs: standardized' && ok || fail "fine-tuning drops the standardization: $(cat "$T/e")"
expect_error "standardize a raw model's fine-tuning" 2 "option --standardize: the model .*model.dsc was trained on raw inputs" -- $D train --train-csv "$T/train.csv" --init-model "$T/model.dsc" --standardize "${O[@]}"

# info on a checkpoint: the model, then where the run stands and how it trains
$D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 2 --batch 8 --optimizer adam --lr 0.01 --warmup 1e \
  --checkpoint-dir "$T/infock" --checkpoint-every 1e --quiet >/dev/null 2>"$T/e" || fail "checkpointed run: $(cat "$T/e")"
first=$(ls "$T/infock" | head -1)
$D info "$T/infock/$first" >"$T/info.ck" 2>"$T/e" && grep -q '^layer 2: 5 -> 3' "$T/info.ck" &&
  grep -qE '^checkpoint: after step [0-9]+, resumes in epoch 2 of 2$' "$T/info.ck" &&
  grep -qx 'training: adam, lr 0.01 (constant schedule, warm-up 1 epochs), batch 8, seed 1, exact (fixed-point) sums' "$T/info.ck" &&
  ok || fail "info on a checkpoint: $(cat "$T/info.ck" "$T/e")"
# the sums are exact by default and say so; --float-sums and an approximate
# option choose float sums, and a resume keeps the checkpoint's sums
$D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 1 --batch 8 >"$T/banner" 2>&1 &&
  grep -q ', exact sums$' "$T/banner" && ok || fail "the default sums: $(cat "$T/banner")"
$D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 1 --batch 8 --float-sums >"$T/banner" 2>&1 &&
  grep -q ', float sums$' "$T/banner" && ok || fail "--float-sums: $(cat "$T/banner")"
$D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 1 --batch 8 --comm-precision bf16 >"$T/banner" 2>&1 &&
  grep -q ', float sums (--comm-precision bf16 needs them)$' "$T/banner" && ok ||
  fail "bf16 without a choice of sums: $(cat "$T/banner")"
$D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 2 --batch 8 --float-sums \
  --checkpoint-dir "$T/floatck" --checkpoint-every 1e --quiet >/dev/null 2>"$T/e" &&
  $D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 3 --batch 8 --resume "$T/floatck" >"$T/banner" 2>&1 &&
  grep -q ', float sums$' "$T/banner" && ok || fail "a resume of a float run: $(cat "$T/banner" "$T/e")"
expect_error "exact sums asked of a float run's resume" 2 "option --reproducible: .*float sums" -- \
  $D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 3 --batch 8 --resume "$T/floatck" --reproducible
$D info "$T/model.dsc" | grep -q '^checkpoint:' && fail "info on a model shows a training state" || ok

# provenance: the version, configuration and data that made a model, its best
# validation loss; shown by info, in the export's manifest, kept under fine-tuning
$D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 3 --batch 8 --seed 7 --val-fraction 0.25 \
  --optimizer momentum --out "$T/prov.dsc" --quiet >/dev/null 2>"$T/e" || fail "provenance run: $(cat "$T/e")"
$D info "$T/prov.dsc" >"$T/prov.info"
version=$($D --version | awk 'NR == 1 {print $2}')
grep -qx "  trained by descent $version" "$T/prov.info" && grep -qx '  optimizer: momentum, momentum 0.9' "$T/prov.info" &&
  grep -qx '  batch: 8, epochs: 3, seed: 7' "$T/prov.info" &&
  grep -qE '^  training data: [0-9]+ samples of 4 features, checksum [0-9a-f]{8}/[0-9a-f]{8}$' "$T/prov.info" &&
  grep -qE '^  validation data: [0-9]+ samples of 4 features' "$T/prov.info" &&
  grep -qE '^  best validation loss: [0-9.e-]+ in epoch [123]$' "$T/prov.info" && ok || fail "info: provenance: $(cat "$T/prov.info")"
$D train --train-csv "$T/train.csv" --init-model "$T/prov.dsc" --epochs 1 --lr 0.05 --out "$T/tuned.dsc" --quiet \
  >/dev/null 2>"$T/e" && $D info "$T/tuned.dsc" >"$T/tuned.info" || fail "fine-tuning: $(cat "$T/e")"
# the fine-tuned model: its own record (all of train.csv, in file order, no
# validation set), then the whole provenance of the model it started from
$PY - "$T/train.csv" "$T/prov.info" "$T/tuned.info" <<'PROVPY' && ok || fail "fine-tuned provenance: $(cat "$T/tuned.info")"
import sys, zlib
import numpy as np
rows = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
x, y = rows[:, 1:].astype("<f4"), rows[:, 0].astype("<i4")
data = f"  training data: {len(rows)} samples of 4 features, checksum {zlib.crc32(x.tobytes()):08x}/{zlib.crc32(y.tobytes()):08x}"
parent = [l for l in open(sys.argv[2]).read().split("\n") if l.startswith("  ")]
tuned = open(sys.argv[3]).read().split("\n")
at = tuned.index("  fine-tuned from:")
own = tuned[tuned.index("provenance:") + 1:at]
sys.exit(not (data in own and "  learning rate: 0.05, constant schedule, warm-up none" in own
              and not any(l.startswith("  validation data") for l in own)
              and [l for l in tuned[at + 1:] if l] == ["  " + l for l in parent]))
PROVPY
# with a validation set the record is renewed at each new best loss; the parent stays
$D train --train-csv "$T/train.csv" --init-model "$T/prov.dsc" --epochs 2 --val-fraction 0.25 --out "$T/tuned2.dsc" \
  --quiet >/dev/null 2>"$T/e" && $D info "$T/tuned2.dsc" | grep -qx '  fine-tuned from:' && ok ||
  fail "fine-tuning with validation lost the parent's provenance: $(cat "$T/e")"
$D export "$T/tuned.dsc" --dir "$T/provx" >/dev/null 2>"$T/e" &&
  $PY -c 'import json, sys; m = json.load(open(sys.argv[1])); print("provenance:"); print("".join("  " + l + "\n" for l in m["provenance"].splitlines()), end="")' \
    "$T/provx/manifest.json" | cmp -s - <(sed -n '/^provenance:/,$p' "$T/tuned.info") &&
  ok || fail "export: the manifest's provenance is not info's: $(cat "$T/e")"

# progress lines for a log: every N steps, with the epoch, the step, the
# running loss, samples/s and the ETA; none with --quiet
$D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 2 --batch 8 --log-every 5 >/dev/null 2>"$T/log.err"
n=$(grep -cE '^epoch [12]/2  step [0-9]+/[0-9]+  loss [0-9.]+  [0-9]+ samples/s  ETA ' "$T/log.err")
steps=$(( ($(grep -c . "$T/train.csv") + 7) / 8 ))
[ "$n" -eq $(( 2 * steps / 5 )) ] && grep -q "^epoch 1/2  step 5/$steps " "$T/log.err" && ok ||
  fail "--log-every 5: $n lines for $((2 * steps)) steps: $(head -3 "$T/log.err")"
$D train --train-csv "$T/train.csv" --layers 4,5,3 --epochs 2 --batch 8 --log-every 5 --quiet >/dev/null 2>"$T/log.err"
grep -q 'step' "$T/log.err" && fail "--quiet still logs: $(head -2 "$T/log.err")" || ok
expect_error "log-every unit" 2 "option --log-every: '5m' is not a whole number" -- $D train --train-csv "$T/train.csv" --log-every 5m "${O[@]}"

# a run stopped by a signal keeps its model in --out and says so; without
# --out it says the model was not saved
for out in with without; do
  rm -f "$T/int.model" "$T/int.csv"
  args=(--out "$T/int.model"); [ $out = without ] && args=()
  $D train --train-csv "$T/train.csv" --epochs 1000000 --quiet --metrics "$T/int.csv" "${args[@]}" 2>"$T/int.err" &
  pid=$!
  for _ in $(seq 1 300); do [ "$(cat "$T/int.csv" 2>/dev/null | wc -l)" -ge 2 ] && break; sleep 0.05; done
  kill -TERM $pid
  wait $pid
  rc=$?
  if [ $out = with ]; then
    [ $rc = 3 ] && grep -q "; the model so far written to $T/int.model" "$T/int.err" &&
      $D info --model "$T/int.model" >/dev/null && ok || fail "stopped run with --out: exit $rc: $(cat "$T/int.err")"
  else
    [ $rc = 3 ] && grep -q "; the model was not saved (no --out)" "$T/int.err" && ok ||
      fail "stopped run without --out: exit $rc: $(cat "$T/int.err")"
  fi
done

finish "cli"
