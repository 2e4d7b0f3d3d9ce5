/* SPDX-License-Identifier: MIT */
/*
 * options.c - the one option parser: every command describes its options
 * in a table (name, kind, destination, range or lookup), and this file
 * reads argv against it, checks each value and stores it. Messages name the
 * option and the value.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

option_spec *opt_add(option_table *t, option_spec spec) {
    if (t->n == OPTIONS_MAX) abort(); /* a programming error: raise OPTIONS_MAX */
    t->spec[t->n] = spec;
    return &t->spec[t->n++];
}

long long opt_whole(const char *opt, const char *s, long long lo, long long hi) {
    char *end;
    errno = 0;
    const long long x = strtoll(s, &end, 10);
    if (end == s || *end || errno) usage_error("option %s: '%s' is not a whole number", opt, s);
    if (x < lo || x > hi) usage_error("option %s: %s is out of range %lld..%lld", opt, s, lo, hi);
    return x;
}

static double opt_number(const char *opt, const char *s) {
    char *end;
    errno = 0;
    const double x = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(x))
        usage_error("option %s: '%s' is not a number", opt, s);
    return x;
}

/* The spec whose name or alias is arg ("--name" or "--name=value"); *value
 * points after the '=' when there is one. */
static option_spec *find_option(option_table *t, const char *arg, const char **value) {
    for (int i = 0; i < t->n; i++) {
        const char *names[2] = {t->spec[i].name, t->spec[i].alias};
        for (int k = 0; k < 2; k++) {
            if (!names[k]) continue;
            const size_t n = strlen(names[k]);
            if (strncmp(arg, names[k], n) != 0) continue;
            if (arg[n] == '\0') { *value = NULL; return &t->spec[i]; }
            if (arg[n] == '=') { *value = arg + n + 1; return &t->spec[i]; }
        }
    }
    return NULL;
}

static void store(option_spec *o, const char *v) {
    o->value = v;
    switch (o->kind) {
    case OPT_INPUT:
    case OPT_OUTPUT:
        if (!*v) usage_error("option %s: the file name is empty", o->name);
        *(const char **)o->dst = v;
        break;
    case OPT_STRING: *(const char **)o->dst = v; break;
    case OPT_INT: *(long long *)o->dst = opt_whole(o->name, v, o->lo, o->hi); break;
    case OPT_NUMBER: *(double *)o->dst = opt_number(o->name, v); break;
    case OPT_CHOICE: {
        const int c = o->lookup(v);
        if (c < 0) usage_error("option %s: unknown %s '%s' (%s)", o->name, o->what, v, o->choices);
        *(int *)o->dst = c;
        break;
    }
    case OPT_CUSTOM: o->custom(o->name, v, o->dst); break;
    default: break;
    }
}

/* A bare argument is the positional option's value while that option has
 * not been given yet. */
static int takes_bare(const option_table *t, const char *arg) {
    return t->positional && !t->positional->given && strncmp(arg, "--", 2) != 0;
}

/* What each option was given (spec->given, spec->value; "on" for a flag)
 * and the first argument that is none of them (t->stray), nothing checked:
 * what the ranks compare before any of them can find a mistake alone. */

static void scan_options(option_table *t, int argc, char **argv) {
    t->stray = NULL;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *value = NULL;
        option_spec *o = strncmp(arg, "--", 2) == 0 ? find_option(t, arg, &value) : NULL;
        if (!o && takes_bare(t, arg)) {
            t->positional->given = 1;
            t->positional->value = arg;
            continue;
        }
        if (!o) {
            if (!t->stray) t->stray = arg;
            continue;
        }
        o->given = 1;
        if (o->kind == OPT_HELP || o->kind == OPT_FLAG) o->value = value ? value : "on";
        else o->value = value ? value : i + 1 < argc ? argv[++i] : "";
    }
}

/* Edit distance between a and b (insertions, deletions, substitutions),
 * counting at most the first 63 characters of each. */
static int edit_distance(const char *a, const char *b) {
    int row[64];
    const int na = (int)strnlen(a, 63), nb = (int)strnlen(b, 63);
    for (int j = 0; j <= nb; j++) row[j] = j;
    for (int i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= nb; j++) {
            const int up = row[j];
            const int sub = diag + (a[i - 1] != b[j - 1]);
            const int del = up + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            diag = up;
        }
    }
    return row[nb];
}

/* "unknown option '--epoch'", with "(did you mean --epochs?)" when one
 * option is within two edits of the name (the part before any '='). */
static void refuse_unknown(const option_table *t, const char *arg) {
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    const char *best = NULL;
    int best_d = 3, ties = 0;
    for (int i = 0; i < t->n; i++) {
        const char *names[2] = {t->spec[i].name, t->spec[i].alias};
        for (int k = 0; k < 2; k++) {
            if (!names[k]) continue;
            const int d = edit_distance(name, names[k]);
            if (d < best_d) { best_d = d; best = names[k]; ties = 0; }
            else if (d == best_d && best && strcmp(best, names[k]) != 0) ties++;
        }
    }
    if (best && !ties) usage_error("unknown option '%s' (did you mean %s?)", arg, best);
    usage_error("unknown option '%s'", arg);
}

/* The kind of value an option takes, as --list-options names it. */
static const char *value_kind(const option_spec *o) {
    switch (o->kind) {
    case OPT_FLAG:
    case OPT_HELP: return "flag";
    case OPT_INPUT: return "input";
    case OPT_OUTPUT: return "output";
    case OPT_CHOICE: return "choice";
    default: return "value";
    }
}

/* One line per accepted spelling: "NAME KIND [CHOICE...]", for the shell
 * completion (scripts/completion/descent.bash) and the documentation tests. */
static void list_options(const option_table *t) {
    for (int i = 0; i < t->n; i++) {
        const option_spec *o = &t->spec[i];
        const char *names[2] = {o->name, o->alias};
        for (int k = 0; k < 2; k++) {
            if (!names[k]) continue;
            printf("%s %s", names[k], value_kind(o));
            /* the table writes the choices "a, b, c" */
            if (o->kind == OPT_CHOICE) printf(" ");
            for (const char *c = o->kind == OPT_CHOICE ? o->choices : ""; *c; c++)
                if (*c != ' ') putchar(*c == ',' ? ' ' : *c);
            putchar('\n');
        }
    }
}

void parse_options(option_table *t, int argc, char **argv) {
    if (argc == 3 && strcmp(argv[2], "--list-options") == 0) {
        if (g_rank == 0) list_options(t);
        leave(0);
    }
    scan_options(t, argc, argv);
    check_ranks_agree(t); /* then every mistake below is found on every rank */
    for (int k = 0; k < t->n; k++) t->spec[k].given = 0;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *value;
        if (takes_bare(t, arg)) {
            t->positional->given = 1;
            store(t->positional, arg);
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) usage_error("unexpected argument '%s'", arg);
        option_spec *o = find_option(t, arg, &value);
        if (!o) refuse_unknown(t, arg);
        o->given = 1;
        if (o->kind == OPT_HELP || o->kind == OPT_FLAG) {
            if (value) usage_error("option %s takes no value", o->name);
            if (o->kind == OPT_FLAG) { *(int *)o->dst = (int)o->lo; continue; }
            if (g_rank == 0) t->help();
            leave(0);
        }
        if (!value) {
            if (i + 1 >= argc) usage_error("option %s needs a value", o->name);
            value = argv[++i];
        }
        store(o, value);
    }
}

const char *join_names(char *buf, size_t len, int count, const char *(*name)(int), int skip) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && used < len; i++) {
        if (i == skip) continue;
        const int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name(i));
        if (w < 0) break;
        used += (size_t)w;
    }
    return buf;
}

int opt_given(const option_table *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->spec[i].name, name) == 0) return t->spec[i].given;
    return 0;
}
