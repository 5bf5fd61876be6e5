/* dist.h — the distributed runtime of the hjdl CLI: one process, or P MPI
 * ranks started by `mpirun -np P hjdl ...`.
 *
 * The same interface works in three situations:
 *   - built with MPI (HJDL_HAVE_MPI) and started by mpirun/srun/mpiexec:
 *     MPI_COMM_WORLD with P ranks; MPI errors are returned (MPI_ERRORS_RETURN)
 *     and turned into hj_status with MPI's own message;
 *   - built with MPI but started as a plain program: MPI is never touched
 *     (no MPI_Init), a 1-process context;
 *   - built without MPI: always a 1-process context.
 * Every collective below must be called by every rank in the same order
 * with the same sizes (SPMD). Each returns HJ_OK or an error; a rank that
 * fails locally must still reach the next agreement point (hj_dist_agree),
 * where all ranks learn who failed and stop together.
 *
 * This library is linked into the CLI only (libhjdl itself stays free of
 * MPI). Nothing here prints; hj_dist_stats exposes the traffic counters that
 * `HJDL_DIST_STATS=1` makes the CLI print at exit.
 */
#ifndef HJDL_DIST_H
#define HJDL_DIST_H

#include "hjdl/export.h"

#include <stddef.h>
#include <stdint.h>

#include "hjdl/partial.h"
#include "hjdl/status.h"
#include "hjdl/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hj_dist hj_dist;

/* Traffic of this rank so far: payload bytes this rank contributed to
 * collectives, by kind (what the communication model in docs/mpi.md counts). */
typedef struct hj_dist_stats {
    uint64_t calls;            /* collectives called */
    uint64_t bytes;            /* payload bytes contributed, all kinds */
    uint64_t sum_calls, sum_bytes;         /* hj_dist_allreduce_sum */
    uint64_t partial_calls, partial_bytes; /* hj_dist_reduce_partial */
    uint64_t topk_calls, topk_bytes;       /* hj_dist_reduce_topk */
    uint64_t other_bytes;      /* broadcasts, gathers, agreements */
    uint64_t last_sum_bytes;   /* payload of the latest hj_dist_allreduce_sum */
} hj_dist_stats;

/* 1 if this process was started by an MPI launcher (OMPI_COMM_WORLD_SIZE,
 * PMIX_RANK or PMI_SIZE in the environment), else 0. Pure query. */
HJ_API int hj_dist_launched(void);

/* Create the context. Under an MPI launcher (and built with MPI) this calls
 * MPI_Init_thread (funneled) and sets MPI_ERRORS_RETURN on a duplicate of
 * MPI_COMM_WORLD; otherwise it makes a 1-process context without touching
 * MPI. argc/argv may be NULL. Free with hj_dist_finalize. */
HJ_API hj_status hj_dist_init(hj_dist **ctx, int *argc, char ***argv, hj_error *err);

/* Free the context; calls MPI_Finalize if hj_dist_init called MPI_Init.
 * NULL is a no-op. */
HJ_API void hj_dist_finalize(hj_dist *ctx);

/* Rank in [0, size) and number of ranks (0 and 1 for a NULL context). */
HJ_API int hj_dist_rank(const hj_dist *ctx);
HJ_API int hj_dist_size(const hj_dist *ctx);
/* 1 when the context runs on MPI (even with one rank), else 0. */
HJ_API int hj_dist_is_mpi(const hj_dist *ctx);
/* 1 if hjdl was built with the MPI backend. */
HJ_API int hj_dist_built_with_mpi(void);

/* Balanced contiguous range of n items for rank r of p (p >= 1, r < p):
 * the first n % p ranks get one more item; ranges tile [0, n) in rank order
 * (stream.h's hj_stream_range). */
HJ_API void hj_dist_range(size_t n, int rank, int size, size_t *begin, size_t *end);

/* The shard of streamed evaluation (stream.h) on ctx: this rank of the
 * run, with hj_dist_agree, hj_dist_reduce_partial and hj_dist_reduce_topk
 * as its collectives. ctx must outlive the shard's use. */
HJ_API void hj_dist_shard(hj_dist *ctx, hj_shard *out);

/* buf (n) <- its element-wise sum over all ranks, IN RANK ORDER and
 * bit-identical on every rank (a reduction to rank 0 followed by a
 * broadcast, so every rank continues from the same numbers). */
HJ_API hj_status hj_dist_allreduce_sum(hj_dist *ctx, double *buf, size_t n, hj_error *err);

/* Same signature as hj_allreduce_fn (optim.h): ctx is an hj_dist. */
HJ_API hj_status hj_dist_allreduce_sum_cb(void *ctx, double *buf, size_t n, hj_error *err);

/* Merge the partial states P (n, 3 + dv) (partial.h) of all ranks into
 * rank 0's P with a user-defined MPI reduction that calls hj_partial_merge
 * (eps and dv travel as attributes of the record datatype). Other ranks'
 * P is left unspecified. One rank: no-op. */
HJ_API hj_status hj_dist_reduce_partial(hj_dist *ctx, double *P, size_t n, size_t dv, double eps,
                                 hj_error *err);

/* Merge the top-K states of all ranks (same n and K) into rank 0's tk with
 * a user-defined MPI reduction that calls hj_topk_merge. Other ranks' tk
 * is left unspecified. One rank: no-op. */
HJ_API hj_status hj_dist_reduce_topk(hj_dist *ctx, hj_topk *tk, hj_error *err);

/* Broadcast len bytes of buf from root to every rank. */
HJ_API hj_status hj_dist_bcast(hj_dist *ctx, void *buf, size_t len, int root, hj_error *err);

/* Gather variable-length byte buffers on rank 0: on rank 0 *out receives a
 * malloc'ed concatenation (free() it) and lens (size entries, caller-owned)
 * the length from each rank; elsewhere *out = NULL and lens is untouched
 * (may be NULL). */
HJ_API hj_status hj_dist_gather_bytes(hj_dist *ctx, const void *buf, size_t len, void **out,
                               size_t *lens, hj_error *err);

/* Collective status agreement: every rank passes its own status (and its
 * message in local, may be NULL when HJ_OK). Returns HJ_OK on every rank if
 * all were HJ_OK; otherwise every rank returns the status of the LOWEST
 * failing rank, with err = "rank R failed: MESSAGE" when size > 1 (the
 * message unchanged with one process). A failure whose message contains
 * HJ_PEER_FAILED_MSG (optim.h: this rank stopped only because another
 * failed) counts only when no rank has a failure of its own. *failed_rank
 * (may be NULL) gets R or -1. A communication failure of the agreement itself is returned as
 * an error too. */
HJ_API hj_status hj_dist_agree(hj_dist *ctx, hj_status local, const hj_error *local_err,
                        int *failed_rank, hj_error *err);

/* Block until every rank has reached it, sleeping (1 ms polls) rather
 * than spinning: call it before a collective that some ranks may reach
 * long before others. */
HJ_API hj_status hj_dist_barrier(hj_dist *ctx, hj_error *err);

/* End the whole job at once (MPI_Abort with code when running on MPI);
 * returns only when there is no MPI, leaving the exit to the caller. */
HJ_API void hj_dist_abort(hj_dist *ctx, int code);

/* Counters of this rank (zeros for NULL). */
HJ_API void hj_dist_stats_get(const hj_dist *ctx, hj_dist_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_DIST_H */
