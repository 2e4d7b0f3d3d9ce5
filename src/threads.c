/* SPDX-License-Identifier: MIT */
/*
 * threads.c - what the library asks of the OpenMP runtime, and nothing
 * more: the library never sets the thread count (the caller does, through
 * OMP_NUM_THREADS or omp_set_num_threads). Without OpenMP: one thread.
 */
#define _GNU_SOURCE
#include "base.h"

#include <sched.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* CPUs this process may run on. OpenMP counted them at start-up, before
 * OMP_PROC_BIND pinned the initial thread to one place (after which the
 * thread's own affinity mask shows a single CPU); without OpenMP, the
 * affinity mask. */
int local_cpus(void) {
    int cpus = 0;
#ifdef _OPENMP
    cpus = omp_get_num_procs();
#endif
    cpu_set_t set;
    if (cpus <= 0 && sched_getaffinity(0, sizeof set, &set) == 0) cpus = CPU_COUNT(&set);
    return cpus;
}

int descent_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
