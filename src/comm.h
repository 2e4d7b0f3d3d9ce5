/* SPDX-License-Identifier: MIT */
/*
 * comm.h - the communication layer: the library's only view of the ranks.
 * Two implementations with this one interface: comm_mpi.c (the only file
 * that includes <mpi.h>, built with DESCENT_WITH_MPI=ON) and comm_serial.c
 * (one process, no MPI library). Every function returns DESCENT_OK or a
 * descent_status; without descent_mpi_init each acts as a single process.
 */
#ifndef DESCENT_COMM_H
#define DESCENT_COMM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

int comm_rank(void);
int comm_size(void);
/* Sum buf over all ranks, in place, on every rank. */
int comm_sum_float(float *buf, size_t n);
int comm_sum_double(double *buf, size_t n);
int comm_sum_i64(int64_t *buf, size_t n);
int comm_sum_i32(int32_t *buf, size_t n);
/* Sum n bfloat16 values (the upper halves of float32s) over all ranks, in
 * place: each partial sum is formed in float32 and rounded to the nearest
 * bfloat16 (ties to even); tail (tn floats) is summed in float32 by a
 * concurrent reduction. */
int comm_sum_bf16(uint16_t *buf, size_t n, float *tail, size_t tn);
/* bytes of buf from rank 0 to every other rank */
int comm_bcast(void *buf, size_t bytes);
/* every rank's k values, rank after rank, into all (size() * k) */
int comm_allgather_u64(const uint64_t *mine, size_t k, uint64_t *all);
/* The ranks on this host: every one's `bytes` bytes, local rank after local
 * rank, into all (room for local_size entries: at most COMM_MAX_LOCAL);
 * this rank's place among them. */
#define COMM_MAX_LOCAL 256
int comm_local_allgather(const void *mine, size_t bytes, void *all, int *local_rank,
                         int *local_size);
/* ---- the ranks of this host (one shared-memory node) ---- */
int comm_local_rank(void);
int comm_local_size(void);
/* 1 when some host runs several ranks: then the step's sums meet in the
 * hosts' shared memory (comm_sum_open); the same answer on every rank */
int comm_hosts_share(void);
/* bytes of buf from local rank 0 to the host's other ranks */
int comm_local_bcast(void *buf, size_t bytes);
int comm_local_barrier(void);
/* Collective on each host: one segment of `bytes` (64-byte aligned, zeroed)
 * that every rank of the host maps at *base; *handle frees it, again
 * collectively (comm_host_free). One process: ordinary memory. */
int comm_host_alloc(size_t bytes, void **base, void **handle);
void comm_host_free(void *handle);
/* ---- the step's sum through shared memory ----
 * With several ranks on a host, each rank's buffer of n elements (float or
 * int32_t) lives in one shared segment (comm_sum_buffer gives this rank's,
 * 64-byte aligned; comm_sum_open gives NULL when every host has one rank:
 * use comm_sum_float / comm_sum_i32). comm_sum_shared sums the buffers of
 * all ranks into every buffer: on each host every rank adds its 1/L of the
 * elements over the host's L buffers (in local-rank order, so every rank
 * gets the same bits) and writes that part into every buffer; across hosts
 * one rank per host then all-reduces the host sums with MPI. Collective. */
typedef enum { COMM_FLOAT, COMM_INT32 } comm_type;
typedef struct comm_sum comm_sum;
int comm_sum_open(comm_sum **s, size_t n, comm_type type);
void *comm_sum_buffer(comm_sum *s);
int comm_sum_shared(comm_sum *s);
void comm_sum_close(comm_sum *s); /* collective on the host */
/* The same movement where one host holds every rank (comm_local_size() ==
 * comm_size()), but each rank forms its part [lo, hi) of the result with
 * fn(ctx, lo, hi, src, L, dst) instead of adding: src are the host's L
 * buffers in local-rank order, dst this rank's buffer (also src[its local
 * rank]: fn reads an element's sources before writing it); the part is
 * then copied into every buffer. Collective; DESCENT_E_COMM where the job
 * spans several hosts. */
typedef void (*comm_combine_fn)(void *ctx, size_t lo, size_t hi, const char *const *src,
                                int nsrc, char *dst);
int comm_sum_combine(comm_sum *s, comm_combine_fn fn, void *ctx);
/* ---- the step's sum in pieces, overlapped with the computation ----
 * The same sum as above (comm_sum_float, comm_sum_i32, comm_sum_bf16 or
 * comm_sum_shared over buf), started piece by piece while the rest of buf
 * is still being computed: comm_pipe_start(p, lo, hi) says elements [lo, hi)
 * are final on this rank and starts their sum (non-blocking); the
 * computation calls comm_pipe_progress now and then so that started sums
 * move on; comm_pipe_finish waits for them all. Every rank starts the same
 * pieces in the same order, and each element is summed as it would be in
 * one piece. Elements [0, nwire) travel as bfloat16 when bf16 is 1 (the
 * rest in float32); with host (comm_sum_open's, buf its comm_sum_buffer) a
 * piece is first summed through the host's shared memory, then one rank per
 * host sums the hosts' pieces over MPI. Errors are kept until finish. */
typedef struct comm_pipe comm_pipe;
int comm_pipe_open(comm_pipe **p, void *buf, size_t n, comm_type type, size_t nwire, int bf16,
                   comm_sum *host);
void comm_pipe_start(comm_pipe *p, size_t lo, size_t hi);
void comm_pipe_progress(comm_pipe *p);
int comm_pipe_finish(comm_pipe *p);
void comm_pipe_close(comm_pipe *p);
/* min and max of v over ranks */
int comm_minmax_u32(uint32_t v, uint32_t *mn, uint32_t *mx);
/* v[i] = the largest v[i] of any rank, for i < n */
int comm_max_u32(uint32_t *v, size_t n);
/* Every rank passes its status; returns the lowest failing rank's status
 * (DESCENT_OK when none failed) and that rank in *failed_rank (-1 if none). */
int comm_agree(int status, int *failed_rank);
/* Monotonic seconds. */
static inline double comm_wtime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
