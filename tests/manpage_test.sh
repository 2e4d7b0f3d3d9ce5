#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man page (docs/descent.1) against the option tables: every option
# every command accepts (`descent CMD --list-options`) is in the page and in
# the command's --help; the page renders with `man -l` and no warning.
# Usage: manpage_test.sh DESCENT MANPAGE
set -euo pipefail
bin=$1 page=$2
command -v man >/dev/null || { echo "SKIP: man (man-db) is not installed"; exit 77; }
fail=0
source_text=$(sed 's/\\-/-/g' "$page")
for cmd in train eval predict info export commbench; do
    grep -q "^\.SS $cmd\$" "$page" || { echo "FAIL: no section for $cmd"; fail=1; }
    help=$("$bin" "$cmd" --help)
    while read -r name _; do
        grep -qE -- "(^|[^a-z-])$name([^a-z-]|\$)" <<<"$source_text" ||
            { echo "FAIL: $cmd $name is not in $page"; fail=1; }
        [[ $name == --help ]] && continue
        grep -qE -- "(^|[^a-z-])$name([^a-z-]|\$)" <<<"$help" ||
            { echo "FAIL: $cmd $name is not in 'descent $cmd --help'"; fail=1; }
    done < <("$bin" "$cmd" --list-options)
done
for section in SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS" SIGNALS ENVIRONMENT FILES EXAMPLES; do
    grep -q "^\.SH $section\$" "$page" || { echo "FAIL: no $section section"; fail=1; }
done
warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
[[ -z $warnings ]] || { echo "FAIL: man -l warns: $warnings"; fail=1; }
lines=$(MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)
((lines > 100)) || { echo "FAIL: the page renders to $lines lines"; fail=1; }
[[ $fail == 0 ]] && echo "manpage: every option of every command documented; renders in $lines lines"
exit "$fail"
