# SPDX-License-Identifier: MIT
# Bash completion for descent: the commands, each command's options and the
# values of options that take one of a list. The options come from the
# command itself (`descent COMMAND --list-options`, its option table), so
# they are never out of date. Installed where bash-completion looks
# (share/bash-completion/completions/descent); to try it from a checkout:
#   . scripts/completion/descent.bash

_descent_commands="train eval predict info export commbench"

# "NAME KIND [CHOICE...]" lines of one command, asked once per shell.
_descent_options() {
    local cmd=$1 var="_descent_opts_$1"
    if [[ -z ${!var-} ]]; then
        printf -v "$var" '%s' "$("${_descent_bin:-descent}" "$cmd" --list-options 2>/dev/null)"
    fi
    printf '%s\n' "${!var}"
}

_descent() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    _descent_bin=${COMP_WORDS[0]}
    COMPREPLY=()
    if ((COMP_CWORD == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$_descent_commands --help --version" -- "$cur")
        return
    fi
    local cmd=${COMP_WORDS[1]} line name kind choices
    [[ " $_descent_commands " == *" $cmd "* ]] || return
    if [[ $prev == --* && $cur != -* ]]; then
        while read -r name kind choices; do
            [[ $name == "$prev" ]] || continue
            case $kind in
            choice) mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur") ;;
            input | output) compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
            value) ;;
            flag) break ;;
            esac
            return
        done < <(_descent_options "$cmd")
    fi
    local names=()
    while read -r name kind choices; do names+=("$name"); done < <(_descent_options "$cmd")
    mapfile -t COMPREPLY < <(compgen -W "${names[*]}" -- "$cur")
}

complete -F _descent descent
