/* SPDX-License-Identifier: MIT */
/*
 * status.c - status texts (from the table in descent.h) and filling a
 * descent_error with a message and the rank that saw it. Messages often
 * quote the input (a path, a CSV cell): control bytes and bytes that are
 * not UTF-8 are written as \xNN, so a message is always one printable line.
 */
#include "base.h"
#include "comm.h"

#include <stdio.h>
#include <string.h>

static const char *const status_text[DESCENT_E_COUNT] = {
#define STATUS_TEXT_ROW(name, text) [name] = text,
    DESCENT_STATUSES(STATUS_TEXT_ROW)
#undef STATUS_TEXT_ROW
};

const char *descent_strerror(int status) {
    if (status < 0 || status >= DESCENT_E_COUNT) return "unknown error";
    return status_text[status];
}

/* Length of the valid UTF-8 sequence of 2-4 bytes at s, or 0 */
static int utf8_length(const unsigned char *s) {
    const int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (s[0] > 0xf4) return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return n;
}

void descent_printable(char *dst, size_t cap, const char *src) {
    const unsigned char *s = (const unsigned char *)src;
    size_t used = 0;
    if (cap == 0) return;
    while (*s) {
        const int n = *s >= 0x80 ? utf8_length(s) : (*s >= 0x20 && *s != 0x7f);
        if (n > 0) { /* printable ASCII, or a whole UTF-8 character */
            if (used + (size_t)n >= cap) break;
            memcpy(dst + used, s, (size_t)n);
            used += (size_t)n;
            s += n;
        } else { /* a control byte or a byte that is not UTF-8 */
            if (used + 4 >= cap) break;
            snprintf(dst + used, 5, "\\x%02x", *s);
            used += 4;
            s++;
        }
    }
    dst[used] = '\0';
}

int set_error(descent_error *err, int code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        err->rank = comm_rank();
        char raw[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        descent_printable(err->msg, sizeof err->msg, raw);
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
