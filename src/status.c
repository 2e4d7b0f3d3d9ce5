/*
 * status.c - status texts (from the table in descent.h) and filling a
 * descent_error with a message and the rank that saw it.
 */
#include "base.h"
#include "comm.h"

#include <stdio.h>

static const char *const status_text[DESCENT_E_COUNT] = {
#define STATUS_TEXT_ROW(name, text) [name] = text,
    DESCENT_STATUSES(STATUS_TEXT_ROW)
#undef STATUS_TEXT_ROW
};

const char *descent_strerror(int status) {
    if (status < 0 || status >= DESCENT_E_COUNT) return "unknown error";
    return status_text[status];
}

int set_error(descent_error *err, int code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        err->rank = comm_rank();
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int remote_error(descent_error *err, int code, int rank) {
    if (err && code != DESCENT_OK && rank != comm_rank()) {
        err->code = code;
        err->rank = rank;
        snprintf(err->msg, sizeof err->msg, "rank %d failed: %s", rank, descent_strerror(code));
    }
    return code;
}
