/* SPDX-License-Identifier: MIT */
/*
 * comm_mpi.c - the communication layer over MPI (comm.h), and the public
 * descent_mpi_* functions; the only file that includes <mpi.h>. Behind a
 * handful of functions: init, rank and size, sum-reduce a buffer in place,
 * agree on an error, abort, host names. Without descent_mpi_init (a library
 * user who never asked for MPI) every function acts as a single process.
 * A build without MPI uses comm_serial.c instead.
 */
#define _GNU_SOURCE
#include "base.h"
#include "bf16.h"
#include "comm.h"

#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int g_active;  /* descent_mpi_init(_comm) ran, descent_mpi_finalize did not */
static int g_owner;   /* descent initialised MPI, so it finalises it          */
static MPI_Comm g_comm = MPI_COMM_NULL; /* descent's own duplicate of the ranks' communicator */
static MPI_Comm g_local = MPI_COMM_NULL; /* the ranks of this host, a part of g_comm     */
static int g_rank, g_size = 1, g_local_rank, g_local_size = 1;
static int g_most_local = 1; /* the largest number of ranks on one host        */
static MPI_Op g_bf16_sum = MPI_OP_NULL; /* bfloat16 pairs summed in float32 */

int descent_mpi_available(void) { return 1; }

/* The first number in an environment variable (SLURM writes "2(x3)"), or 0 */
static int env_count(const char *name) {
    const char *v = getenv(name);
    return v ? atoi(v) : 0;
}

/* When this host's ranks and their threads fill its cores, Open MPI's busy
 * polling takes the cores from the kernel's network processing, and a
 * small all-reduce between hosts waits on it for milliseconds: ask Open MPI
 * to yield while it waits, unless the user decided. Read at MPI_Init. */
static void yield_when_cores_are_full(void) {
    if (getenv("OMPI_MCA_mpi_yield_when_idle")) return;
    int local = env_count("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!local) local = env_count("MPI_LOCALNRANKS");
    if (!local) local = env_count("SLURM_STEP_TASKS_PER_NODE");
    const int threads = descent_threads(), cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (local > 0 && cores > 0 && local * threads >= cores)
        setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
}

/* The non-blocking all-reduce (overlap's pieces, bfloat16 sums) is Open
 * MPI's libnbc, which for fewer than 4 ranks or unset picks a binomial
 * reduce then broadcast: the whole buffer crosses the link twice in turn.
 * Rabenseifner's (reduce-scatter by recursive halving, then allgather)
 * sends each value once per direction in log2(P) rounds, which measured
 * faster between emulated hosts (docs/cluster.md). Unless the user decided.
 * Read at MPI_Init. */
static void bandwidth_optimal_iallreduce(void) {
    setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "3", 0);
}

/* Work on a duplicate of comm (descent's messages never meet the host's),
 * errors returned as codes so every rank can report and agree. */
static int adopt(MPI_Comm comm) {
    if (MPI_Comm_dup(comm, &g_comm) != MPI_SUCCESS) return DESCENT_E_COMM;
    MPI_Comm_set_errhandler(g_comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(g_comm, &g_rank);
    MPI_Comm_size(g_comm, &g_size);
    if (MPI_Comm_split_type(g_comm, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &g_local) !=
        MPI_SUCCESS) {
        MPI_Comm_free(&g_comm);
        return DESCENT_E_COMM;
    }
    MPI_Comm_set_errhandler(g_local, MPI_ERRORS_RETURN);
    MPI_Comm_rank(g_local, &g_local_rank);
    MPI_Comm_size(g_local, &g_local_size);
    MPI_Allreduce(&g_local_size, &g_most_local, 1, MPI_INT, MPI_MAX, g_comm);
    g_active = 1;
    return DESCENT_OK;
}

int descent_mpi_init(int *argc, char ***argv) {
    if (g_active) return DESCENT_OK;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        yield_when_cores_are_full();
        bandwidth_optimal_iallreduce();
        int provided = 0;
        if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return DESCENT_E_IO;
        g_owner = 1;
    }
    return adopt(MPI_COMM_WORLD);
}

int descent_mpi_init_comm(int64_t fortran_comm) {
    int inited = 0, finalized = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&finalized);
    if (!inited || finalized || g_active) return DESCENT_E_USAGE;
    return adopt(MPI_Comm_f2c((MPI_Fint)fortran_comm));
}

void descent_mpi_finalize(void) {
    if (!g_active) return;
    g_active = 0;
    if (g_bf16_sum != MPI_OP_NULL) MPI_Op_free(&g_bf16_sum);
    MPI_Comm_free(&g_local);
    MPI_Comm_free(&g_comm);
    g_rank = g_local_rank = 0;
    g_size = g_local_size = g_most_local = 1;
    if (g_owner) MPI_Finalize();
    g_owner = 0;
}

int descent_mpi_rank(void) { return g_rank; }
int descent_mpi_size(void) { return g_size; }
int comm_rank(void) { return g_rank; }
int comm_size(void) { return g_size; }

void descent_mpi_abort(int code) {
    if (g_active) MPI_Abort(g_comm, code);
    _exit(code);
}

/* MPI counts are ints: reduce very large buffers in pieces */
#define COMM_CHUNK ((size_t)1 << 28)

static int sum_inplace(void *buf, size_t n, MPI_Datatype type, size_t elem) {
    if (!g_active || g_size == 1) return DESCENT_OK;
    char *p = buf;
    for (size_t off = 0; off < n; off += COMM_CHUNK) {
        const size_t cnt = n - off < COMM_CHUNK ? n - off : COMM_CHUNK;
        if (MPI_Allreduce(MPI_IN_PLACE, p + off * elem, (int)cnt, type, MPI_SUM,
                          g_comm) != MPI_SUCCESS)
            return DESCENT_E_IO;
    }
    return DESCENT_OK;
}

int comm_sum_float(float *buf, size_t n) { return sum_inplace(buf, n, MPI_FLOAT, sizeof(float)); }
int comm_sum_double(double *buf, size_t n) {
    return sum_inplace(buf, n, MPI_DOUBLE, sizeof(double));
}

int comm_sum_i64(int64_t *buf, size_t n) {
    return sum_inplace(buf, n, MPI_INT64_T, sizeof(int64_t));
}

int comm_sum_i32(int32_t *buf, size_t n) {
    return sum_inplace(buf, n, MPI_INT32_T, sizeof(int32_t));
}

static void bf16_sum(void *in, void *inout, int *len, MPI_Datatype *type) {
    (void)type;
    const uint16_t *a = in;
    uint16_t *b = inout;
    for (int i = 0; i < *len; i++) b[i] = f32_to_bf16(bf16_to_f32(a[i]) + bf16_to_f32(b[i]));
}

int comm_sum_bf16(uint16_t *buf, size_t n, float *tail, size_t tn) {
    if (!g_active || g_size == 1) return DESCENT_OK;
    if (g_bf16_sum == MPI_OP_NULL && MPI_Op_create(bf16_sum, 1, &g_bf16_sum) != MPI_SUCCESS)
        return DESCENT_E_COMM;
    if (n > INT_MAX) return DESCENT_E_NOMEM;
    MPI_Request req[2];
    int rc = MPI_Iallreduce(MPI_IN_PLACE, tail, (int)tn, MPI_FLOAT, MPI_SUM, g_comm, &req[0]);
    if (rc == MPI_SUCCESS)
        rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_UINT16_T, g_bf16_sum, g_comm, &req[1]);
    if (rc == MPI_SUCCESS) rc = MPI_Waitall(2, req, MPI_STATUSES_IGNORE);
    return rc == MPI_SUCCESS ? DESCENT_OK : DESCENT_E_COMM;
}

int comm_allgather_u64(const uint64_t *mine, size_t k, uint64_t *all) {
    if (!g_active || g_size == 1) {
        memcpy(all, mine, k * sizeof *all);
        return DESCENT_OK;
    }
    return MPI_Allgather(mine, (int)k, MPI_UINT64_T, all, (int)k, MPI_UINT64_T,
                         g_comm) == MPI_SUCCESS ? DESCENT_OK : DESCENT_E_COMM;
}

int comm_local_allgather(const void *mine, size_t bytes, void *all, int *local_rank,
                         int *local_size) {
    *local_rank = g_local_rank;
    *local_size = g_local_size;
    if (!g_active || g_local_size == 1) {
        memcpy(all, mine, bytes);
        return DESCENT_OK;
    }
    if (g_local_size > COMM_MAX_LOCAL) return DESCENT_E_NOMEM;
    return MPI_Allgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, g_local) ==
                   MPI_SUCCESS ? DESCENT_OK : DESCENT_E_COMM;
}

int comm_local_rank(void) { return g_local_rank; }
int comm_local_size(void) { return g_local_size; }
int comm_hosts_share(void) { return g_active && g_most_local > 1; }

int comm_local_bcast(void *buf, size_t bytes) {
    if (!g_active || g_local_size == 1) return DESCENT_OK;
    if (bytes > INT_MAX) return DESCENT_E_NOMEM;
    return MPI_Bcast(buf, (int)bytes, MPI_BYTE, 0, g_local) == MPI_SUCCESS ? DESCENT_OK
                                                                          : DESCENT_E_COMM;
}

int comm_bcast(void *buf, size_t bytes) {
    if (!g_active || g_size == 1) return DESCENT_OK;
    if (bytes > INT_MAX) return DESCENT_E_NOMEM;
    return MPI_Bcast(buf, (int)bytes, MPI_BYTE, 0, g_comm) == MPI_SUCCESS ? DESCENT_OK
                                                                         : DESCENT_E_COMM;
}

int comm_local_barrier(void) {
    if (!g_active || g_local_size == 1) return DESCENT_OK;
    return MPI_Barrier(g_local) == MPI_SUCCESS ? DESCENT_OK : DESCENT_E_COMM;
}

/* A host segment: an MPI-3 shared window, or plain memory for one rank */
typedef struct {
    MPI_Win win;
    void *plain;
} host_segment;

int comm_host_alloc(size_t bytes, void **base, void **handle) {
    host_segment *h = calloc(1, sizeof *h);
    if (!h) return DESCENT_E_NOMEM;
    *handle = h;
    if (!g_active || g_local_size == 1) {
        *base = h->plain = aligned_calloc(bytes ? bytes : 1, 1);
        return *base ? DESCENT_OK : DESCENT_E_NOMEM;
    }
    /* local rank 0 holds all of it; the others map rank 0's part */
    const MPI_Aint mine = g_local_rank == 0 ? (MPI_Aint)(bytes ? bytes : 1) : 0;
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");
    void *ptr = NULL;
    const int rc = MPI_Win_allocate_shared(mine, 1, info, g_local, &ptr, &h->win);
    MPI_Info_free(&info);
    if (rc != MPI_SUCCESS) {
        free(h);
        *handle = NULL;
        return DESCENT_E_NOMEM;
    }
    MPI_Aint size = 0;
    int unit = 0;
    MPI_Win_shared_query(h->win, 0, &size, &unit, base);
    return DESCENT_OK;
}

void comm_host_free(void *handle) {
    host_segment *h = handle;
    if (!h) return;
    if (h->plain) aligned_free(h->plain);
    else MPI_Win_free(&h->win);
    free(h);
}

struct comm_sum {
    MPI_Win win;
    MPI_Comm leaders;     /* local rank 0 of every host (MPI_COMM_NULL on others) */
    size_t n;             /* elements per rank                                    */
    comm_type type;
    size_t elem;          /* bytes per element                                    */
    char **buf;           /* every local rank's buffer, mapped here               */
};

int comm_sum_open(comm_sum **out, size_t n, comm_type type) {
    *out = NULL;
    /* a decision every rank takes alike: any host with several ranks */
    if (!comm_hosts_share()) return DESCENT_OK;
    comm_sum *s = calloc(1, sizeof *s);
    if (!s || !(s->buf = calloc((size_t)g_local_size, sizeof(char *)))) {
        free(s);
        return DESCENT_E_NOMEM;
    }
    s->n = n;
    s->type = type;
    s->elem = type == COMM_INT32 ? sizeof(int32_t) : sizeof(float);
    s->leaders = MPI_COMM_NULL;
    void *base = NULL;
    /* rank r's buffer starts at a 64-byte boundary */
    const MPI_Aint bytes = (MPI_Aint)((n * s->elem + 63) / 64 * 64) + 64;
    int rc = MPI_Win_allocate_shared(bytes, 1, MPI_INFO_NULL, g_local, &base, &s->win);
    if (rc == MPI_SUCCESS) rc = MPI_Win_lock_all(MPI_MODE_NOCHECK, s->win);
    for (int r = 0; rc == MPI_SUCCESS && r < g_local_size; r++) {
        MPI_Aint size = 0;
        int unit = 0;
        void *p = NULL;
        rc = MPI_Win_shared_query(s->win, r, &size, &unit, &p);
        s->buf[r] = (char *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
    }
    if (rc == MPI_SUCCESS && g_local_size < g_size) /* several hosts: their leaders */
        rc = MPI_Comm_split(g_comm, g_local_rank == 0 ? 0 : MPI_UNDEFINED, g_rank, &s->leaders);
    if (rc != MPI_SUCCESS) {
        free(s->buf);
        free(s);
        return DESCENT_E_COMM;
    }
    *out = s;
    return DESCENT_OK;
}

void *comm_sum_buffer(comm_sum *s) { return s ? s->buf[g_local_rank] : NULL; }

/* Every buffer's writes visible to every rank of the host */
static int host_fence(comm_sum *s) {
    MPI_Win_sync(s->win);
    const int rc = MPI_Barrier(g_local);
    MPI_Win_sync(s->win);
    return rc == MPI_SUCCESS ? DESCENT_OK : DESCENT_E_COMM;
}

/* dst[lo, hi) = the sum over the host's L buffers, in local-rank order
 * (dst: one of them). Block by block through a small buffer, one pass per
 * rank's buffer: each pass is a plain vector loop (an inner loop over the
 * ranks per element kept the compiler scalar, several times slower), and
 * the order per element stays ((b0 + b1) + b2) ... */
#define SUM_BLOCK 512
#define SUM_PASSES(T)                                                                   \
    do {                                                                                \
        T acc[SUM_BLOCK];                                                               \
        const T *const *src = (const T *const *)s->buf;                                 \
        for (size_t b = lo; b < hi; b += SUM_BLOCK) {                                   \
            const size_t n = hi - b < SUM_BLOCK ? hi - b : SUM_BLOCK;                   \
            for (size_t k = 0; k < n; k++) acc[k] = src[0][b + k];                      \
            for (int r = 1; r < L; r++) /* in local-rank order */                       \
                for (size_t k = 0; k < n; k++) acc[k] += src[r][b + k];                 \
            memcpy((T *)dst + b, acc, n * sizeof(T));                                   \
        }                                                                               \
    } while (0)

static void sum_local_part(comm_sum *s, size_t lo, size_t hi, char *dst) {
    const int L = g_local_size;
    if (s->type == COMM_INT32) SUM_PASSES(int32_t);
    else SUM_PASSES(float);
}

/* After a fence (every rank's buffer complete), this rank forms its part of
 * the host's result (fn, or the sum when fn is NULL) and copies it into
 * every buffer; after the second fence each buffer holds the whole result */
static int host_combine(comm_sum *s, comm_combine_fn fn, void *ctx) {
    const int L = g_local_size;
    const size_t E = s->elem;
    size_t lo, hi;
    share_of(s->n, g_local_rank, L, &lo, &hi);
    int rc = host_fence(s);
    char *mine = s->buf[g_local_rank];
    if (rc) return rc;
    if (fn) fn(ctx, lo, hi, (const char *const *)s->buf, L, mine);
    else sum_local_part(s, lo, hi, mine);
    for (int r = 0; r < L; r++)
        if (r != g_local_rank) memcpy(s->buf[r] + lo * E, mine + lo * E, (hi - lo) * E);
    return host_fence(s);
}

int comm_sum_combine(comm_sum *s, comm_combine_fn fn, void *ctx) {
    return g_local_size == g_size ? host_combine(s, fn, ctx) : DESCENT_E_COMM;
}

int comm_sum_shared(comm_sum *s) {
    const int L = g_local_size;
    const size_t E = s->elem;
    int rc = host_combine(s, NULL, NULL);
    char *mine = s->buf[g_local_rank];
    if (rc || g_local_size == g_size) return rc;
    /* several hosts: the leaders sum the host sums, the others copy the result */
    const MPI_Datatype dtype = s->type == COMM_INT32 ? MPI_INT32_T : MPI_FLOAT;
    int across = DESCENT_OK;
    for (size_t off = 0; !across && s->leaders != MPI_COMM_NULL && off < s->n; off += COMM_CHUNK) {
        const size_t cnt = s->n - off < COMM_CHUNK ? s->n - off : COMM_CHUNK;
        if (MPI_Allreduce(MPI_IN_PLACE, mine + off * E, (int)cnt, dtype, MPI_SUM, s->leaders) !=
            MPI_SUCCESS)
            across = DESCENT_E_COMM;
    }
    /* the leader hands the result to the host's ranks before the fence: after
     * it, every rank may overwrite its own buffer with the next step's sums */
    if (s->leaders != MPI_COMM_NULL && !across)
        for (int r = 1; r < L; r++) memcpy(s->buf[r], mine, s->n * E);
    rc = host_fence(s); /* always: the host's other ranks wait here */
    return rc ? rc : across;
}

void comm_sum_close(comm_sum *s) {
    if (!s) return;
    if (s->leaders != MPI_COMM_NULL) MPI_Comm_free(&s->leaders);
    MPI_Win_unlock_all(s->win);
    MPI_Win_free(&s->win);
    free(s->buf);
    free(s);
}

/* ---- the sum in pieces (comm.h) ---------------------------------------- */

/* Requests in flight at once; one more piece first waits for all of them */
#define PIPE_MAX_REQUESTS 64

struct comm_pipe {
    char *buf;             /* summed in place                                   */
    size_t n, nwire;       /* elements; the first nwire travel as bfloat16      */
    comm_type type;
    size_t elem;           /* bytes per element of buf                          */
    uint16_t *wire;        /* [0, nwire) as bfloat16 (bf16 only)                */
    comm_sum *host;        /* several ranks on a host: their shared buffers     */
    MPI_Comm comm;         /* who sums over MPI (all ranks, or one per host);   */
                           /* MPI_COMM_NULL: this rank waits for its host       */
    int nreq;
    MPI_Request req[PIPE_MAX_REQUESTS];
    size_t wire_lo[PIPE_MAX_REQUESTS], wire_hi[PIPE_MAX_REQUESTS]; /* as bf16 */
    int status;            /* the first failure since the last finish           */
};

int comm_pipe_open(comm_pipe **out, void *buf, size_t n, comm_type type, size_t nwire, int bf16,
                   comm_sum *host) {
    *out = NULL;
    if ((bf16 && (host || type != COMM_FLOAT || nwire > n)) ||
        (host && buf != comm_sum_buffer(host)))
        return DESCENT_E_USAGE;
    comm_pipe *p = calloc(1, sizeof *p);
    if (!p) return DESCENT_E_NOMEM;
    p->buf = buf;
    p->n = n;
    p->type = type;
    p->elem = type == COMM_INT32 ? sizeof(int32_t) : sizeof(float);
    p->nwire = bf16 ? nwire : 0;
    p->host = host;
    p->comm = !g_active || g_size == 1 ? MPI_COMM_NULL : host ? host->leaders : g_comm;
    int rc = DESCENT_OK;
    if (bf16 && g_bf16_sum == MPI_OP_NULL && MPI_Op_create(bf16_sum, 1, &g_bf16_sum) != MPI_SUCCESS)
        rc = DESCENT_E_COMM;
    if (!rc && bf16 && !(p->wire = aligned_calloc(nwire ? nwire : 1, sizeof(uint16_t))))
        rc = DESCENT_E_NOMEM;
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    return DESCENT_OK;
}

/* Wait for every sum in flight; the bfloat16 ones back into floats */
static void pipe_wait(comm_pipe *p) {
    if (p->nreq && MPI_Waitall(p->nreq, p->req, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        p->status = DESCENT_E_COMM;
    float *f = (float *)p->buf;
    for (int i = 0; i < p->nreq; i++)
        for (size_t k = p->wire_lo[i]; k < p->wire_hi[i]; k++) f[k] = bf16_to_f32(p->wire[k]);
    p->nreq = 0;
}

/* Start the sum of [lo, hi) of base (elements of buf's layout; as bfloat16
 * when wire) */
static void pipe_post(comm_pipe *p, char *base, size_t lo, size_t hi, int wire) {
    if (p->nreq == PIPE_MAX_REQUESTS) pipe_wait(p);
    const int i = p->nreq;
    void *at = wire ? (void *)(p->wire + lo) : (void *)(base + lo * p->elem);
    const MPI_Datatype type = wire ? MPI_UINT16_T : p->type == COMM_INT32 ? MPI_INT32_T : MPI_FLOAT;
    const MPI_Op op = wire ? g_bf16_sum : MPI_SUM;
    if (wire) {
        const float *f = (const float *)p->buf;
        for (size_t k = lo; k < hi; k++) p->wire[k] = f32_to_bf16(f[k]);
    }
    if (MPI_Iallreduce(MPI_IN_PLACE, at, (int)(hi - lo), type, op, p->comm, &p->req[i]) !=
        MPI_SUCCESS) {
        p->status = DESCENT_E_COMM;
        return;
    }
    p->wire_lo[i] = wire ? lo : 0;
    p->wire_hi[i] = wire ? hi : 0;
    p->nreq++;
}

void comm_pipe_start(comm_pipe *p, size_t lo, size_t hi) {
    if (hi > p->n) hi = p->n;
    if (lo >= hi) return;
    char *base = p->buf;
    if (p->host) { /* the host's sum of the piece, into local rank 0's buffer */
        comm_sum *s = p->host;
        size_t a, b;
        share_of(hi - lo, g_local_rank, g_local_size, &a, &b);
        if (host_fence(s)) p->status = DESCENT_E_COMM; /* every rank's piece is final */
        base = s->buf[0];
        sum_local_part(s, lo + a, lo + b, base);
        if (host_fence(s)) p->status = DESCENT_E_COMM; /* the host's piece is whole */
    }
    if (p->comm == MPI_COMM_NULL) return;
    for (size_t off = lo; off < hi;) {
        size_t end = hi - off < COMM_CHUNK ? hi : off + COMM_CHUNK;
        const int wire = off < p->nwire;
        if (wire && end > p->nwire) end = p->nwire;
        pipe_post(p, base, off, end, wire);
        off = end;
    }
}

void comm_pipe_progress(comm_pipe *p) {
    int done = 0;
    if (p->nreq && MPI_Testall(p->nreq, p->req, &done, MPI_STATUSES_IGNORE) != MPI_SUCCESS)
        p->status = DESCENT_E_COMM;
}

int comm_pipe_finish(comm_pipe *p) {
    pipe_wait(p);
    if (p->host) { /* every rank copies the result from local rank 0's buffer */
        comm_sum *s = p->host;
        if (host_fence(s)) p->status = DESCENT_E_COMM;
        if (g_local_rank != 0) memcpy(s->buf[g_local_rank], s->buf[0], p->n * p->elem);
        /* before local rank 0 writes the next step's sums over it */
        if (host_fence(s)) p->status = DESCENT_E_COMM;
    }
    const int rc = p->status;
    p->status = DESCENT_OK;
    return rc;
}

void comm_pipe_close(comm_pipe *p) {
    if (!p) return;
    pipe_wait(p);
    aligned_free(p->wire);
    free(p);
}

int comm_minmax_u32(uint32_t v, uint32_t *mn, uint32_t *mx) {
    *mn = *mx = v;
    if (!g_active || g_size == 1) return DESCENT_OK;
    /* max of v and of ~v: one collective gives both extremes */
    unsigned int in[2] = {v, ~v}, out[2];
    if (MPI_Allreduce(in, out, 2, MPI_UNSIGNED, MPI_MAX, g_comm) != MPI_SUCCESS)
        return DESCENT_E_IO;
    *mx = out[0];
    *mn = ~out[1];
    return DESCENT_OK;
}

int comm_max_u32(uint32_t *v, size_t n) {
    if (!g_active || g_size == 1) return DESCENT_OK;
    if (n > INT_MAX) return DESCENT_E_NOMEM;
    return MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT32_T, MPI_MAX, g_comm) == MPI_SUCCESS
               ? DESCENT_OK
               : DESCENT_E_IO;
}

int comm_agree(int status, int *failed_rank) {
    if (failed_rank) *failed_rank = status ? g_rank : -1;
    if (!g_active || g_size == 1) return status;
    /* MINLOC over (failing rank or size, status): the lowest failing rank
     * wins and carries its status along */
    struct { int value, index; } in = {status ? g_rank : g_size, status}, out;
    if (MPI_Allreduce(&in, &out, 1, MPI_2INT, MPI_MINLOC, g_comm) != MPI_SUCCESS) {
        if (failed_rank) *failed_rank = g_rank;
        return DESCENT_E_COMM;
    }
    if (out.value == g_size) return DESCENT_OK;
    if (failed_rank) *failed_rank = out.value;
    return out.index;
}

int descent_mpi_agree(int status, int *failed_rank) { return comm_agree(status, failed_rank); }

int descent_mpi_broadcast(void *buf, size_t bytes) {
    return !buf && bytes ? DESCENT_E_USAGE : comm_bcast(buf, bytes);
}

int descent_mpi_hosts(char *buf, size_t len) {
    char name[MPI_MAX_PROCESSOR_NAME + 1] = {0};
    if (len == 0) return DESCENT_E_USAGE;
    buf[0] = '\0';
    if (!g_active) {
        gethostname(name, sizeof name - 1);
        snprintf(buf, len, "%s", name);
        return DESCENT_OK;
    }
    int nl = 0;
    MPI_Get_processor_name(name, &nl);
    enum { W = 64 };
    char mine[W] = {0};
    snprintf(mine, W, "%s", name);
    char *all = malloc((size_t)g_size * W);
    if (!all) return DESCENT_E_NOMEM;
    if (MPI_Allgather(mine, W, MPI_CHAR, all, W, MPI_CHAR, g_comm) != MPI_SUCCESS) {
        free(all);
        return DESCENT_E_IO;
    }
    /* list each distinct host once, with its rank count */
    size_t used = 0;
    for (int r = 0; r < g_size; r++) {
        int seen = 0, count = 0;
        for (int q = 0; q < r; q++) seen |= strncmp(all + q * W, all + r * W, W) == 0;
        if (seen) continue;
        for (int q = r; q < g_size; q++) count += strncmp(all + q * W, all + r * W, W) == 0;
        int w = snprintf(buf + used, len - used, "%s%.*s (%d rank%s)", used ? ", " : "", W - 1,
                         all + r * W, count, count == 1 ? "" : "s");
        if (w < 0 || (size_t)w >= len - used) break;
        used += (size_t)w;
    }
    free(all);
    return DESCENT_OK;
}

int descent_mpi_min_affinity(void) {
    int cpus = local_cpus();
    if (g_active && g_size > 1)
        MPI_Allreduce(MPI_IN_PLACE, &cpus, 1, MPI_INT, MPI_MIN, g_comm);
    return cpus;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Spin for s seconds in user space: a stand-in for a step's computation */
static void busy_for(double s) {
    const double until = comm_wtime() + s;
    volatile double x = 0.0;
    while (comm_wtime() < until) x += 1.0;
    (void)x;
}

/* One reduction of n values on the wire (descent_wire) */
static int reduce_on_wire(int wire, float *buf, uint16_t *half, size_t n) {
    if (wire == DESCENT_WIRE_BF16) return comm_sum_bf16(half, n, buf + n, 8);
    if (wire == DESCENT_WIRE_INT32) return comm_sum_i32((int32_t *)(void *)buf, n);
    return comm_sum_float(buf, n);
}

int descent_mpi_time_reduction(size_t n, int reps, double busy_s, int wire, double *median_s,
                               double *min_s) {
    if (reps < 1 || n == 0 || !(busy_s >= 0.0) || wire < DESCENT_WIRE_FP32 ||
        wire > DESCENT_WIRE_INT32)
        return DESCENT_E_USAGE;
    const int bf16 = wire == DESCENT_WIRE_BF16;
    float *buf = aligned_calloc(n + 8, sizeof(float));
    uint16_t *half = bf16 ? aligned_calloc(n, sizeof(uint16_t)) : NULL;
    double *t = calloc((size_t)reps, sizeof(double));
    int rc = buf && t && (!bf16 || half) ? DESCENT_OK : DESCENT_E_NOMEM;
    rc = comm_agree(rc, NULL);
    for (int i = -3; !rc && i < reps; i++) { /* three untimed warm-ups */
        if (g_active) MPI_Barrier(g_comm);
        busy_for(busy_s);
        const double t0 = comm_wtime();
        if (reduce_on_wire(wire, buf, half, n)) rc = DESCENT_E_IO;
        double dt = comm_wtime() - t0;
        if (g_active && g_size > 1)
            MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, g_comm);
        if (i >= 0) t[i] = dt;
    }
    if (!rc) {
        qsort(t, (size_t)reps, sizeof(double), cmp_double);
        *median_s = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
        *min_s = t[0];
    }
    aligned_free(buf);
    aligned_free(half);
    free(t);
    return rc;
}

int descent_mpi_time_allreduce(size_t n, int reps, double *median_s, double *min_s) {
    return descent_mpi_time_reduction(n, reps, 0.0, DESCENT_WIRE_FP32, median_s, min_s);
}
