/* stream.h — Hopf–Cole solve and explain (entropy, regime, top-K Gibbs weights)
 * over atoms read from a file in tiles, optionally sharded over processes.
 *
 * The atoms (rows y_1..y_d, g of a CSV file with a header line or a .npy
 * file, opened as data.h's hj_rows) are never all in memory: each process
 * folds its contiguous slice of the N rows (hj_stream_range), `tile` rows
 * at a time, into per-point partial states (partial.h); the states are
 * merged on process 0, exactly up to rounding, and process 0 finishes.
 * Memory: O(tile d) for the atoms and O(n (d + K)) for the n points. Tile
 * sizes and process counts change the numbers by rounding only (the
 * merges group the sums differently); the top-K atoms and the eps = 0 ties
 * are the same exactly.
 *
 * Sharding: an hj_shard says where this process sits in a group and how the
 * group communicates. NULL is one process holding every row, with no
 * communication (what the Python binding uses); dist.h's hj_dist_shard fills
 * one from the distributed runtime (`mpirun -np P hjdl solve ...`). Every
 * process of the group calls the same function with the same arguments (the
 * same file, points and options): a failure on one process is agreed on, so
 * every process returns it (with the shard's message, e.g. "rank 1 failed:
 * atoms.csv:1801: ...") and they stop together.
 */
#ifndef HJDL_STREAM_H
#define HJDL_STREAM_H

#include "hjdl/export.h"

#include <stddef.h>

#include "hjdl/data.h"
#include "hjdl/hopf.h"
#include "hjdl/influence.h"
#include "hjdl/partial.h"
#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A process's place in a group and the group's three collectives; every
 * process calls them in the same order (SPMD). */
typedef struct hj_shard {
    int rank;   /* this process, 0 .. size - 1 */
    int size;   /* processes in the group, >= 1 */
    void *ctx;  /* handed to the functions below */
    /* Status agreement: HJ_OK everywhere when every local status is HJ_OK;
     * otherwise every process returns one failure, its message in err. */
    hj_status (*agree)(void *ctx, hj_status local, const hj_error *local_err, hj_error *err);
    /* Merge the partial states P (n, 3 + dv) of every process into
     * process 0's P (hj_partial_merge); others' P is left unspecified. */
    hj_status (*reduce_partial)(void *ctx, double *P, size_t n, size_t dv, double eps,
                                hj_error *err);
    /* Merge the top-K states of every process into process 0's (hj_topk_merge). */
    hj_status (*reduce_topk)(void *ctx, hj_topk *tk, hj_error *err);
} hj_shard;

/* Open an atom file for streaming: hj_rows_open, then at least 2 columns
 * (HJ_EFORMAT "PATH: atoms need at least 2 columns (y_1..y_d, g), found 1").
 * Its atoms are d = hj_rows_cols - 1 dimensional, hj_rows_count of them.
 * Close with hj_rows_close. */
HJ_API hj_status hj_stream_open(const char *path, hj_rows **atoms, hj_error *err);

/* The Hopf–Cole solution (Hopf–Lax at eps = 0) of the atoms at the points
 * x (n, d), time t > 0, viscosity eps >= 0, metric A (NULL: identity; as in
 * hopf.h), tile rows per read (0: the process's whole slice at once). out:
 * u, u_norm, entropy (n) and grad (n, d), each may be NULL (dudt, hess, lap
 * and pi must be: partial states cannot give them), written on process 0
 * only (other processes may pass NULL pointers in out). Each atom coordinate
 * must be within +-HJ_MAX_COORD (limits.h; HJ_ERANGE "atoms row R, column K:
 * ..." otherwise). */
HJ_API hj_status hj_stream_solve(hj_rows *atoms, const hj_metric *metric, const double *x, size_t n,
                          double t, double eps, size_t tile, const hj_shard *shard,
                          const hj_hc_out *out, hj_error *err);

/* Explain the points x (n, d) by their Gibbs weights over the atoms (as
 * influence.h's hj_explain_atoms): sum (n) gets entropy, n_eff and regime
 * over the N atoms (may be NULL); pi_top (n, K) the K largest weights and
 * idx_top (n, K) their 0-based atom rows, descending (equal weights: larger
 * logit first, then smaller row). K <= N; K == 0: summaries only (pi_top,
 * idx_top unused). Written on process 0 only. */
HJ_API hj_status hj_stream_explain(hj_rows *atoms, const double *x, size_t n, double t, double eps,
                            size_t K, size_t tile, const hj_shard *shard, hj_explain *sum,
                            double *pi_top, size_t *idx_top, hj_error *err);

/* Balanced contiguous range [*begin, *end) of n items for process rank of
 * size (size >= 1, rank < size): the first n % size processes get one more
 * item; the ranges tile [0, n) in rank order. */
HJ_API void hj_stream_range(size_t n, int rank, int size, size_t *begin, size_t *end);

/* HJ_ERANGE "WHAT row R, column K: V is beyond +-1e150, where |x - y|^2
 * overflows a double" for the first of the first ncheck columns of v (rows,
 * cols) past HJ_MAX_COORD; R counts from row0 + 1. */
HJ_API hj_status hj_stream_check_coords(const double *v, size_t rows, size_t cols, size_t ncheck,
                                 size_t row0, const char *what, hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_STREAM_H */
