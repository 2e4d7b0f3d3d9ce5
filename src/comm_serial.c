/* SPDX-License-Identifier: MIT */
/*
 * comm_serial.c - the communication layer for a build without MPI
 * (DESCENT_WITH_MPI=OFF): one process, rank 0 of 1. Every reduction is the
 * identity and every agreement is the local status, exactly what
 * comm_mpi.c does for a single process, so the rest of the library is the
 * same code in both builds.
 */
#define _GNU_SOURCE
#include "base.h"
#include "comm.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int descent_mpi_available(void) { return 0; }

/* Launched as several ranks (mpirun, srun) this build would train the same
 * model independently in every process: refuse. */
static int launched_as_ranks(void) {
    static const char *const size_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                            "MPI_LOCALNRANKS", NULL};
    for (int i = 0; size_vars[i]; i++) {
        const char *v = getenv(size_vars[i]);
        if (v && atoi(v) > 1) return 1;
    }
    return 0;
}

int descent_mpi_init(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return launched_as_ranks() ? DESCENT_E_USAGE : DESCENT_OK;
}

/* no MPI to take a communicator from */
int descent_mpi_init_comm(int64_t fortran_comm) {
    (void)fortran_comm;
    return DESCENT_E_USAGE;
}

void descent_mpi_finalize(void) {}
int descent_mpi_rank(void) { return 0; }
int descent_mpi_size(void) { return 1; }
int comm_rank(void) { return 0; }
int comm_size(void) { return 1; }
void descent_mpi_abort(int code) { _exit(code); }

int comm_sum_float(float *buf, size_t n) { (void)buf; (void)n; return DESCENT_OK; }
int comm_sum_double(double *buf, size_t n) { (void)buf; (void)n; return DESCENT_OK; }
int comm_sum_i64(int64_t *buf, size_t n) { (void)buf; (void)n; return DESCENT_OK; }
int comm_sum_i32(int32_t *buf, size_t n) { (void)buf; (void)n; return DESCENT_OK; }
int comm_sum_bf16(uint16_t *buf, size_t n, float *tail, size_t tn) {
    (void)buf; (void)n; (void)tail; (void)tn;
    return DESCENT_OK;
}

int comm_allgather_u64(const uint64_t *mine, size_t k, uint64_t *all) {
    memcpy(all, mine, k * sizeof *all);
    return DESCENT_OK;
}

int comm_local_allgather(const void *mine, size_t bytes, void *all, int *local_rank,
                         int *local_size) {
    memcpy(all, mine, bytes);
    *local_rank = 0;
    *local_size = 1;
    return DESCENT_OK;
}

int comm_local_rank(void) { return 0; }
int comm_local_size(void) { return 1; }
int comm_hosts_share(void) { return 0; }
int comm_local_bcast(void *buf, size_t bytes) { (void)buf; (void)bytes; return DESCENT_OK; }
int comm_local_barrier(void) { return DESCENT_OK; }

int comm_host_alloc(size_t bytes, void **base, void **handle) {
    *base = *handle = aligned_calloc(bytes ? bytes : 1, 1);
    return *base ? DESCENT_OK : DESCENT_E_NOMEM;
}

void comm_host_free(void *handle) { aligned_free(handle); }

/* one process: nothing is shared */
int comm_sum_open(comm_sum **s, size_t n, comm_type type) {
    (void)n, (void)type;
    *s = NULL;
    return DESCENT_OK;
}
void *comm_sum_buffer(comm_sum *s) { (void)s; return NULL; }
int comm_sum_shared(comm_sum *s) { (void)s; return DESCENT_OK; }
/* never called: one process has no host sum */
int comm_sum_combine(comm_sum *s, comm_combine_fn fn, void *ctx) {
    (void)s, (void)fn, (void)ctx;
    return DESCENT_E_COMM;
}
void comm_sum_close(comm_sum *s) { (void)s; }

/* one process: a sum of one is the buffer itself */
struct comm_pipe {
    int unused;
};
int comm_pipe_open(comm_pipe **p, void *buf, size_t n, comm_type type, size_t nwire, int bf16,
                   comm_sum *host) {
    (void)buf, (void)n, (void)type, (void)nwire, (void)bf16, (void)host;
    *p = calloc(1, sizeof **p);
    return *p ? DESCENT_OK : DESCENT_E_NOMEM;
}
void comm_pipe_start(comm_pipe *p, size_t lo, size_t hi) { (void)p, (void)lo, (void)hi; }
void comm_pipe_progress(comm_pipe *p) { (void)p; }
int comm_pipe_finish(comm_pipe *p) { (void)p; return DESCENT_OK; }
void comm_pipe_close(comm_pipe *p) { free(p); }

int comm_minmax_u32(uint32_t v, uint32_t *mn, uint32_t *mx) {
    *mn = *mx = v;
    return DESCENT_OK;
}

int comm_max_u32(uint32_t *v, size_t n) {
    (void)v;
    (void)n;
    return DESCENT_OK;
}

int comm_agree(int status, int *failed_rank) {
    if (failed_rank) *failed_rank = status ? 0 : -1;
    return status;
}

int descent_mpi_agree(int status, int *failed_rank) { return comm_agree(status, failed_rank); }

int comm_bcast(void *buf, size_t bytes) {
    (void)buf;
    (void)bytes;
    return DESCENT_OK;
}

int descent_mpi_broadcast(void *buf, size_t bytes) {
    return !buf && bytes ? DESCENT_E_USAGE : comm_bcast(buf, bytes);
}

int descent_mpi_hosts(char *buf, size_t len) {
    if (len == 0) return DESCENT_E_USAGE;
    char name[256] = {0};
    gethostname(name, sizeof name - 1);
    snprintf(buf, len, "%s", name);
    return DESCENT_OK;
}

int descent_mpi_min_affinity(void) { return local_cpus(); }

int descent_mpi_time_reduction(size_t n, int reps, double busy_s, int wire, double *median_s,
                               double *min_s) {
    if (!(busy_s >= 0.0) || wire < DESCENT_WIRE_FP32 || wire > DESCENT_WIRE_INT32)
        return DESCENT_E_USAGE;
    return descent_mpi_time_allreduce(n, reps, median_s, min_s);
}

int descent_mpi_time_allreduce(size_t n, int reps, double *median_s, double *min_s) {
    if (reps < 1 || n == 0) return DESCENT_E_USAGE;
    *median_s = *min_s = 0.0; /* one process: nothing to exchange */
    return DESCENT_OK;
}
