/* SPDX-License-Identifier: MIT */
/* pingpong: the round trip of one cache line between two cores (two
 * threads pinned to the first two CPUs this process may use, taking turns
 * to write a shared counter), median of 5 runs of 100,000 round trips, in
 * nanoseconds. bench.sh prints it with every repetition: on a virtual
 * machine it tells whether the two cores were near each other (one shared
 * cache, tens of ns) or far apart (hundreds), which moves everything that
 * hands data between cores: the ranks' shared-memory sums, the threads'
 * barriers.
 *   pingpong        prints e.g. "pingpong,64" */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TRIPS 100000
#define RUNS 5

static _Alignas(64) atomic_long turn;
static int cpus[2];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

/* the second core: answers each odd value with the next even one */
static void *answer(void *arg) {
    const long base = *(const long *)arg;
    pin(cpus[1]);
    for (long i = 0; i < TRIPS; i++) {
        while (atomic_load_explicit(&turn, memory_order_acquire) != base + 2 * i + 1) {}
        atomic_store_explicit(&turn, base + 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static double one_run(long base) {
    pthread_t t;
    atomic_store(&turn, base);
    if (pthread_create(&t, NULL, answer, &base)) return -1;
    const double t0 = now();
    for (long i = 0; i < TRIPS; i++) {
        atomic_store_explicit(&turn, base + 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&turn, memory_order_acquire) != base + 2 * i + 2) {}
    }
    const double ns = (now() - t0) / TRIPS * 1e9;
    pthread_join(t, NULL);
    return ns;
}

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed)) return 1;
    int found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
    if (found < 2) {
        fprintf(stderr, "pingpong: needs two CPUs\n");
        return 1;
    }
    pin(cpus[0]);
    double ns[RUNS];
    for (int r = 0; r < RUNS; r++) {
        ns[r] = one_run((long)r * 4 * TRIPS);
        if (ns[r] < 0) return 1;
    }
    qsort(ns, RUNS, sizeof *ns, cmp);
    printf("pingpong,%.0f\n", ns[RUNS / 2]);
    return 0;
}
