/* dist-impl.h — internals of the distributed runtime shared by the files in dist/ (not installed). */
#ifndef HJDL_DIST_IMPL_H
#define HJDL_DIST_IMPL_H

#include "hjdl/dist.h"

#ifdef HJDL_HAVE_MPI
#include <mpi.h>
#endif

/* One process's view of the job. */
struct hj_dist {
    int rank, size;
    int mpi;             /* 1: collectives go through comm */
    int owns_init;       /* 1: hj_dist_init called MPI_Init, finalize calls MPI_Finalize */
    hj_dist_stats stats; /* traffic counters of this rank */
#ifdef HJDL_HAVE_MPI
    MPI_Comm comm;       /* a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN */
#endif
};

/* What a collective carried, for the traffic counters (hj_dist_stats). */
typedef enum hj__traffic {
    HJ__TRAFFIC_SUM,      /* sum all-reduce of doubles */
    HJ__TRAFFIC_PARTIAL,  /* partial-state reduction */
    HJ__TRAFFIC_TOPK,     /* top-K merge */
    HJ__TRAFFIC_OTHER     /* broadcasts, gathers, agreement */
} hj__traffic;

/* Count one collective carrying `bytes` payload bytes from this rank. */
void hj__dist_count(hj_dist *ctx, hj__traffic kind, uint64_t bytes);

/* Largest element count passed to one MPI call (MPI counts are int). */
#define HJ__DIST_CHUNK ((size_t)1 << 28)

#ifdef HJDL_HAVE_MPI
/* Turn an MPI error code into an hj_status (HJ_EIO) with MPI's message:
 * "MPI_Bcast (rank 1): MPI_ERR_TRUNCATE: message truncated". */
hj_status hj__dist_mpi_error(const hj_dist *ctx, int code, const char *what, hj_error *err);
#endif

#endif /* HJDL_DIST_IMPL_H */
