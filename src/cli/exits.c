/* SPDX-License-Identifier: MIT */
/*
 * exits.c - how a command ends: exit codes for statuses, agreement between
 * ranks before anyone exits, and the one rank that prints the message.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The command-line fuzzer (tests/fuzz/fuzz_cli.c) builds the tool with
 * DESCENT_FUZZ_CLI: an exit returns to the harness instead of ending the
 * process. */
#ifdef DESCENT_FUZZ_CLI
#include <setjmp.h>
extern jmp_buf descent_fuzz_exit;
#define EXIT(code) longjmp(descent_fuzz_exit, (code) + 1)
#else
#define EXIT(code) exit(code)
#endif

static int exit_code_for(int status) {
    switch (status) {
    case DESCENT_OK: return 0;
    case DESCENT_E_USAGE:
    case DESCENT_E_IO:
    case DESCENT_E_FORMAT:
    case DESCENT_E_MISMATCH:
    case DESCENT_E_NOMEM: return 2;
    case DESCENT_E_INTERRUPTED: return 3;
    default: return 1;
    }
}

/* Everything the command printed reached standard output: a command that
 * succeeded but could not print its result fails (exit 2). */
static int stdout_written(int code) {
    errno = 0;
    const int flush_failed = fflush(stdout) != 0, e = errno;
    if ((!flush_failed && !ferror(stdout)) || code != 0) return code;
    fprintf(stderr, "%s: standard output: write error: %s\n", g_cmd,
            strerror(flush_failed && e ? e : EIO));
    return 2;
}

void leave(int code) {
    code = stdout_written(code);
#ifndef DESCENT_FUZZ_CLI /* the harness calls main again: MPI only once */
    descent_mpi_finalize();
#endif
    EXIT(code);
}

void usage_error(const char *fmt, ...) {
    if (g_rank == 0) {
        char raw[1024], line[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        descent_printable(line, sizeof line, raw); /* argv may hold any bytes */
        fprintf(stderr, "%s: %s (see '%s --help')\n", g_cmd, line, g_cmd);
    }
    leave(2);
}

/* Every rank leaves with the agreed status; rank `who` prints msg. After a
 * failed collective nothing can be agreed any more: the job is aborted. */
static void end_agreed(int status, int who, const char *msg) {
    if (status == DESCENT_E_COMM) {
        fprintf(stderr, "%s: rank %d: %s; aborting all ranks\n", g_cmd, g_rank, msg);
        descent_mpi_abort(1);
    }
    if (who == g_rank) {
        if (g_size > 1) fprintf(stderr, "%s: rank %d: %s\n", g_cmd, g_rank, msg);
        else fprintf(stderr, "%s: %s\n", g_cmd, msg);
    }
    leave(exit_code_for(status));
}

void check(int rc, const descent_error *err) {
    int who = -1;
    const int agreed = descent_mpi_agree(rc, &who);
    if (agreed == DESCENT_OK) return;
    end_agreed(agreed, who, agreed == DESCENT_E_COMM ? "MPI communication failed" : err->msg);
}

void check_agreed(int rc, const descent_error *err) {
    if (rc != DESCENT_OK) end_agreed(rc, err->rank, err->msg);
}

void require_output(const char *path, descent_output kind) {
    descent_error err = {0};
    check(path && g_rank == 0 ? descent_check_output(path, kind, &err) : DESCENT_OK, &err);
}

#ifdef DESCENT_FAULT_POINTS
#include <signal.h>
void fault_point(const char *name) {
    static int passages;
    const char *want = getenv("DESCENT_FAULT");
    if (!want) return;
    const size_t n = strcspn(want, "@");
    if (strlen(name) != n || strncmp(want, name, n) != 0) return;
    const int nth = want[n] == '@' ? atoi(want + n + 1) : 1;
    if (++passages == nth) raise(SIGKILL);
}
#endif

int cli_error(descent_error *err, int code, const char *fmt, ...) {
    char raw[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    err->code = code;
    err->rank = g_rank;
    descent_printable(err->msg, sizeof err->msg, raw);
    return code;
}
