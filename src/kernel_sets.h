/* SPDX-License-Identifier: MIT */
/*
 * kernel_sets.h - the layer kernels compiled once per instruction set
 * (kernel_sets.c): which sets this build holds, which one runs, and how to
 * choose another. The kernels' own interface is kernels.h.
 */
#ifndef DESCENT_KERNEL_SETS_H
#define DESCENT_KERNEL_SETS_H

#include <stddef.h>

/* This build's kernel sets, best first, space separated into out */
void kernel_sets_list(char *out, size_t len);

#endif
