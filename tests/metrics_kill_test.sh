#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The metrics file across kill -9, with the command's test build whose fault
# points (DESCENT_FAULT=NAME[@N]) kill it at a chosen moment: after a run
# resumes, its file holds exactly one row per finished epoch, equal to an
# uninterrupted run's (epoch, losses, accuracies, lr: resumes are exact).
#  1. killed when an epoch has ended, before its row is written
#     (epoch-ended), and after the row is durable, before the epoch's
#     checkpoint (row-written): the resumed run does that epoch again, and
#     its row is there once;
#  2. killed after the epoch's checkpoint (epoch-started of the next);
#  3. a resumed run killed right after it opened the file (metrics-opened):
#     the file holds the rows of the checkpoint it resumed;
#  4. kill -9 at random moments, then a resume to the end; the file holds
#     whole rows at every kill (it is a live log, read while the run goes).
# Usage: metrics_kill_test.sh path/to/descent_faults
set -u
D=$(readlink -f "$1")
T=$(mktemp -d /tmp/descent_mkill.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/testlib.sh"
cd "$T" || exit 1
blobs d.csv 600 4 0.3 7
# run_args DIR EPOCHS: the arguments of a run writing DIR/m.csv and
# checkpoints in DIR/ck, into ARGS; train DIR EPOCHS [more...] runs it
run_args() {
  mkdir -p "$1"
  ARGS=(train --train-csv d.csv --layers 4,16,3 --epochs "$2" --batch 10 --val-fraction 0.2
        --quiet --checkpoint-dir "$1/ck" --checkpoint-every 1e --metrics "$1/m.csv")
}
train() { run_args "$1" "$2"; shift 2; "$D" "${ARGS[@]}" "$@" >/dev/null 2>>"$T/log"; }
resume() { local dir=$1 epochs=$2; shift 2; train "$dir" "$epochs" --resume "$dir/ck" "$@"; }
# the columns that do not depend on timing: epoch, losses, accuracies, lr
rows() { tail -n +2 "$1" | cut -d, -f1-5,10; }
same_rows() { # NAME FILE REFERENCE
  if [ ! -f "$2" ]; then fail "$1: no $2"; return; fi
  if [ "$(rows "$2")" = "$(rows "$3")" ]; then ok
  else fail "$1: rows differ from the uninterrupted run's: $(rows "$2" | cut -d, -f1 | tr '\n' ' ')"; fi
}
killed() { # NAME: the last command was killed by the fault point (SIGKILL: 137)
  [ "$1" = 137 ] && ok || fail "$2: exit $1, expected the fault point's kill (137): $(tail -2 "$T/log")"
}

train ref 4 && ok || fail "reference run: $(tail -2 "$T/log")"
[ "$(rows ref/m.csv | wc -l)" = 4 ] && ok || fail "reference run: $(rows ref/m.csv | wc -l) rows"

# 1. the row of epoch 2 is on disk, its checkpoint is not
DESCENT_FAULT=row-written@2 train a 4; killed $? "row-written@2"
[ "$(rows a/m.csv | cut -d, -f1 | tr '\n' ' ')" = "1 2 " ] && ok \
  || fail "row-written@2: the file holds epochs $(rows a/m.csv | cut -d, -f1 | tr '\n' ' ')"
resume a 4 && ok || fail "resume after row-written@2: $(tail -2 "$T/log")"
same_rows "row-written@2" a/m.csv ref/m.csv

# 1b. epoch 2 has ended: neither its row nor its checkpoint is written
DESCENT_FAULT=epoch-ended@2 train e 4; killed $? "epoch-ended@2"
resume e 4 && ok || fail "resume after epoch-ended@2: $(tail -2 "$T/log")"
same_rows "epoch-ended@2" e/m.csv ref/m.csv

# 2. killed after epoch 2's checkpoint, before epoch 3's first step is done
DESCENT_FAULT=epoch-started@3 train b 4; killed $? "epoch-started@3"
resume b 4 && ok || fail "resume after epoch-started@3: $(tail -2 "$T/log")"
same_rows "epoch-started@3" b/m.csv ref/m.csv

# 3. a resumed run killed as soon as it has opened the metrics file
DESCENT_FAULT=row-written@3 train c 4; killed $? "row-written@3"
DESCENT_FAULT=metrics-opened resume c 4; killed $? "metrics-opened"
[ "$(rows c/m.csv)" = "$(rows ref/m.csv | head -2)" ] && ok \
  || fail "metrics-opened: the file holds epochs $(rows c/m.csv | cut -d, -f1 | tr '\n' ' '), expected 1 2"
resume c 4 && ok || fail "resume after metrics-opened: $(tail -2 "$T/log")"
same_rows "metrics-opened" c/m.csv ref/m.csv

# 4. kill -9 at random moments (a fresh start until there is a checkpoint)
E=30
train ref30 "$E" && ok || fail "reference run of $E epochs: $(tail -2 "$T/log")"
for i in $(seq 1 12); do
  if ls r/ck/ckpt-*.dsc >/dev/null 2>&1; then start=(--resume r/ck); else start=(); fi
  run_args r "$E"
  "$D" "${ARGS[@]}" "${start[@]}" >/dev/null 2>>"$T/log" &   # $! is the command itself
  pid=$!
  sleep "0.0$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ -f r/m.csv ]; then # a header and whole rows of 11 fields, epochs 1, 2, ... in order
    awk -F, 'NR == 1 {ok = $1 == "epoch"} NR > 1 {ok = ok && NF == 11 && $1 == NR - 1} END {exit !ok}' r/m.csv \
      && ok || fail "kill $i: the live file is not whole rows: $(tail -2 r/m.csv)"
  fi
done
if ls r/ck/ckpt-*.dsc >/dev/null 2>&1; then start=(--resume r/ck); else start=(); fi
train r "$E" "${start[@]}" && ok || fail "the run after 12 kills: $(tail -2 "$T/log")"
same_rows "12 random kills" r/m.csv ref30/m.csv
finish "metrics kills"
