#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bash completion (scripts/completion/descent.bash) against the option
# tables: every option of every command is offered after `descent CMD --`,
# and nothing else; a prefix narrows it; a choice option offers its values;
# a file option offers files; the first word offers the commands.
# Usage: completion_test.sh DESCENT COMPLETION_SCRIPT
set -euo pipefail
bin=$(realpath "$1") script=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
. "$script"
cd "$work"

# COMPREPLY, sorted and space-separated, for the words of a command line
# whose last word is being completed.
complete_line() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_WORDS[0]=$bin
    _descent
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {
    local want=$1 got
    shift
    got=$(complete_line "$@")
    if [[ $got != "$want" ]]; then
        echo "FAIL: completing '$*': got '$got', want '$want'"
        fail=1
    fi
}

for cmd in train eval predict info export commbench; do
    want=$("$bin" "$cmd" --list-options | cut -d' ' -f1 | sort | tr '\n' ' ' | sed 's/ $//')
    [[ -n $want ]] || { echo "FAIL: descent $cmd --list-options listed nothing"; fail=1; }
    expect "$want" descent "$cmd" --
    [[ $want == *--help* ]] || { echo "FAIL: $cmd: --help missing from its table"; fail=1; }
done
expect "train" descent tr
expect "commbench" descent comm
expect "--epochs" descent train --epo
expect "--keep-best --keep-checkpoints" descent train --keep-
expect "adam" descent train --optimizer a
expect "constant cosine" descent train --lr-schedule ""
expect "first last" descent eval --csv-label ""
expect "" descent train --epochs ""
touch model-a.dsc model-b.dsc other
expect "model-a.dsc model-b.dsc" descent info --model mod
expect "model-a.dsc model-b.dsc" descent train --out mod
expect "" descent nosuchcommand --
expect "" descent train --nosuch
[[ $fail == 0 ]] && echo "completion: every command's options, choices and files completed"
exit "$fail"
