/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the command-line parser: the input, split at NUL
 * bytes, becomes argv after "descent"; the real main runs (built with
 * DESCENT_FUZZ_CLI, so an exit returns here). Run it with -close_fd_mask=3
 * to silence the command's own output. No
 * real data is reachable: the default data directory is a missing path. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern jmp_buf descent_fuzz_exit;
int descent_main(int argc, char **argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[66];
    int argc = 0;
    argv[argc++] = "descent";
    for (size_t i = 0; i <= size && argc < 64;) {
        argv[argc++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    argv[argc] = NULL;
    char **copy = argv; /* main may permute through its own pointer */
    if (setjmp(descent_fuzz_exit) == 0) descent_main(argc, copy);
    free(buf);
    return 0;
}
