/* SPDX-License-Identifier: MIT */
/*
 * placement.c - where the ranks' OpenMP threads run. Launched without a
 * binding per rank (mpirun --bind-to none, a SLURM with TaskPlugin=task/none)
 * but with OMP_PROC_BIND set, every rank pins its threads to the first
 * places of the host, so the ranks on one host all run on the same cores:
 * they then train at a fraction of their speed, and nothing else would say
 * so. descent_place_threads finds that case (each rank's threads
 * report their CPUs; the ranks of a host compare them) and repairs it: the
 * collapse is never what anyone wants, and the remedy is unambiguous (each
 * rank's threads on CPUs of their own, close together, as the launcher
 * would have bound them). When the host has too few CPUs for that, it only
 * explains the fix.
 */
#define _GNU_SOURCE
#include "base.h"
#include "comm.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* What one rank tells the others on its host */
typedef struct {
    cpu_set_t cpus;        /* the union of its threads' CPUs                */
    int threads;
    int pinned;            /* every thread confined to fewer CPUs than the   */
                           /* host has                                      */
} rank_place;

static rank_place my_place(int host_cpus) {
    rank_place p;
    memset(&p, 0, sizeof p);
    p.threads = 1;
    p.pinned = 1;
#ifdef _OPENMP
    p.threads = omp_get_max_threads();
#endif
#pragma omp parallel
    {
        cpu_set_t mine;
        CPU_ZERO(&mine);
        sched_getaffinity(0, sizeof mine, &mine);
#pragma omp critical
        {
            CPU_OR(&p.cpus, &p.cpus, &mine);
            if (CPU_COUNT(&mine) >= host_cpus) p.pinned = 0;
        }
    }
    return p;
}

/* Do two pinned ranks of this host share a CPU? */
static int collapsed(const rank_place *all, int n) {
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) {
            cpu_set_t both;
            CPU_AND(&both, &all[a].cpus, &all[b].cpus);
            if (all[a].pinned && all[b].pinned && CPU_COUNT(&both) > 0) return 1;
        }
    return 0;
}

/* Thread t of local rank lr on CPU lr * T + t: every rank its own cores */
static int pin_own_cores(int lr, int T) {
    int failed = 0;
#pragma omp parallel reduction(| : failed)
    {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(lr * T + t, &one);
        failed |= sched_setaffinity(0, sizeof one, &one) != 0;
    }
    return failed ? -1 : 0;
}

int descent_place_threads(char *msg, size_t len) {
    if (len) msg[0] = '\0';
    const int host_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    const rank_place mine = my_place(host_cpus);
    rank_place *all = malloc(sizeof(rank_place) * COMM_MAX_LOCAL);
    if (!all) return DESCENT_E_NOMEM;
    int lr = 0, ln = 1;
    int rc = comm_local_allgather(&mine, sizeof mine, all, &lr, &ln);
    int bad = 0;
    if (!rc) bad = collapsed(all, ln);
    free(all);
    if (rc || !bad) return rc;
    char host[256] = "this host";
    gethostname(host, sizeof host - 1);
    const int T = mine.threads;
    if (ln * T <= host_cpus && pin_own_cores(lr, T) == 0) {
        char where[64];
        if (T == 1) snprintf(where, sizeof where, "local rank r on CPU r");
        else snprintf(where, sizeof where, "local rank r on CPUs %dr to %dr+%d", T, T, T - 1);
        if (lr == 0 && len)
            snprintf(msg, len, "note: on %s the %d ranks had pinned their OpenMP threads to the "
                     "same CPUs (OMP_PROC_BIND without a binding per rank); each rank's threads "
                     "now run on CPUs of their own (%s)", host, ln, where);
        return DESCENT_OK;
    }
    if (lr == 0 && len) {
        /* advice that applies: fewer threads while they would fit, else fewer ranks */
        char fix[128];
        if (ln <= host_cpus)
            snprintf(fix, sizeof fix, "use OMP_NUM_THREADS=%d", host_cpus / ln);
        else
            snprintf(fix, sizeof fix, "run at most %d ranks on it", host_cpus);
        snprintf(msg, len, "warning: on %s the %d ranks run their OpenMP threads on the same "
                 "CPUs, and %d ranks x %d threads do not fit its %d CPUs; %s, or bind each "
                 "rank to its own cores (mpirun --map-by slot:PE=T --bind-to core, srun "
                 "--cpu-bind=cores)", host, ln, ln, T, host_cpus, fix);
    }
    return DESCENT_OK;
}
