/* cli_dist.c — start-up of the distributed runtime around a command (mpirun -np P hjdl CMD ...), and its traffic report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hjdl/data.h"
#include "hjdl/dist.h"

/* The run's context: written once per process by cli_dist_run before the
 * command starts and cleared after it ends; commands only read it. The one
 * file-level variable of the CLI, on purpose: the MPI world it names is
 * process-wide by nature (MPI_Init runs once per process), and commands
 * keep the (argc, argv) signature every other command has. The library
 * itself has no such state: it receives the hj_dist context explicitly. */
static hj_dist *run_dist;

hj_dist *cli_dist(void)
{
    return run_dist;
}

int cli_dist_rank(void)
{
    return hj_dist_rank(run_dist);
}

/* Commands that split their work across ranks; the others run on rank 0
 * while the other ranks wait. */
static int distributed(const char *name)
{
    static const char *const NAMES[] = {"solve", "explain", "fit", "experiment", "reproduce"};
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (strcmp(name, NAMES[i]) == 0)
            return 1;
    return 0;
}

/* Peak resident set size of this process in kB (VmHWM), or 0 if unknown. */
static unsigned long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return 0;
    char line[256];
    unsigned long kb = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtoul(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* HJDL_DIST_STATS=1: one line per rank on stderr with its traffic and peak RSS. */
static void print_stats(const hj_dist *d)
{
    hj_dist_stats s;
    hj_dist_stats_get(d, &s);
    fprintf(stderr,
            "hjdl dist: rank %d/%d: collectives %llu, bytes %llu (allreduce-sum %llu calls %llu bytes, "
            "last %llu; partial %llu calls %llu bytes; topk %llu calls %llu bytes; other %llu); "
            "peak RSS %lu kB\n",
            hj_dist_rank(d), hj_dist_size(d), (unsigned long long)s.calls, (unsigned long long)s.bytes,
            (unsigned long long)s.sum_calls, (unsigned long long)s.sum_bytes,
            (unsigned long long)s.last_sum_bytes, (unsigned long long)s.partial_calls,
            (unsigned long long)s.partial_bytes, (unsigned long long)s.topk_calls,
            (unsigned long long)s.topk_bytes, (unsigned long long)s.other_bytes, peak_rss_kb());
}

int cli_dist_run(const cli_command *c, int argc, char **argv)
{
    if (hj_dist_launched() && !hj_dist_built_with_mpi()) {
        const char *r = getenv("OMPI_COMM_WORLD_RANK");
        const char *p = getenv("OMPI_COMM_WORLD_SIZE");
        if ((r == NULL || strcmp(r, "0") == 0) && p != NULL && strcmp(p, "1") != 0)
            fprintf(stderr, "hjdl: warning: started by an MPI launcher but built without MPI: "
                            "every process runs the whole command on its own\n");
    }
    hj_error err = {0};
    hj_dist *d = NULL;
    if (hj_dist_init(&d, NULL, NULL, &err) != HJ_OK) {
        fprintf(stderr, "hjdl: %s\n", err.msg);
        return CLI_FAIL;
    }
    run_dist = d;
    int rc = CLI_OK;
    if (hj_dist_size(d) == 1 || distributed(c->name) || hj_dist_rank(d) == 0)
        rc = c->run(argc, argv);
    if (getenv("HJDL_DIST_STATS") != NULL && strcmp(getenv("HJDL_DIST_STATS"), "0") != 0) {
        fflush(stdout);
        print_stats(d);
    }
    run_dist = NULL;
    fflush(stdout);
    fflush(stderr);
    hj_dist_finalize(d);
    return rc;
}

/* What one rank read of one input: compared field by field with rank 0's. */
typedef struct input_print {
    uint64_t ok, rows, cols, names, bytes, crc;
} input_print;

/* FNV-1a 64 of the column names (each with its NUL), 0 without names. */
static uint64_t names_hash(const char *const *names, size_t cols)
{
    if (names == NULL)
        return 0;
    uint64_t h = 1469598103934665603ULL;
    for (size_t k = 0; k < cols; k++)
        for (const unsigned char *p = (const unsigned char *)names[k];; p++) {
            h = (h ^ *p) * 1099511628211ULL;
            if (*p == '\0')
                break;
        }
    return h;
}

hj_status cli_dist_same_inputs(const cli_input *in, size_t n, int have, hj_error *err)
{
    hj_dist *d = run_dist;
    if (hj_dist_size(d) == 1 || n == 0)
        return HJ_OK;
    enum { MAX_INPUTS = 8 };
    input_print mine[MAX_INPUTS], root[MAX_INPUTS];
    memset(mine, 0, sizeof mine);
    if (n > MAX_INPUTS)
        n = MAX_INPUTS;
    hj_status st = HJ_OK;
    for (size_t i = 0; have && st == HJ_OK && i < n; i++) {
        uint32_t crc = 0;
        mine[i] = (input_print){1, in[i].rows, in[i].cols, names_hash(in[i].names, in[i].cols), 0, 0};
        if (in[i].path != NULL && (st = hj_file_crc32(in[i].path, &crc, &mine[i].bytes, err)) == HJ_OK)
            mine[i].crc = crc;
    }
    memcpy(root, mine, sizeof root);
    hj_error berr = {0};
    if (hj_dist_bcast(d, root, sizeof root, 0, &berr) != HJ_OK) /* the one collective */
        return st != HJ_OK ? st : hj_error_set(err, berr.code, "%s", berr.msg);
    if (st != HJ_OK || !have || hj_dist_rank(d) == 0)
        return st;
    for (size_t i = 0; i < n; i++) {
        const input_print *a = &mine[i], *b = &root[i];
        if (!b->ok)
            continue; /* rank 0 failed itself: its own message stands */
        const char *what = a->rows != b->rows ? "rows" : a->cols != b->cols ? "columns"
                           : a->names != b->names ? "column names" : a->bytes != b->bytes ? "bytes"
                           : a->crc != b->crc ? "CRC-32 of the content" : NULL;
        if (what == NULL)
            continue;
        char here[64] = "", there[64] = "";
        if (a->rows != b->rows || a->cols != b->cols || a->bytes != b->bytes) {
            const uint64_t x = a->rows != b->rows ? a->rows : a->cols != b->cols ? a->cols : a->bytes;
            const uint64_t y = a->rows != b->rows ? b->rows : a->cols != b->cols ? b->cols : b->bytes;
            snprintf(here, sizeof here, ": %llu here", (unsigned long long)x);
            snprintf(there, sizeof there, ", %llu on rank 0", (unsigned long long)y);
        } else if (a->names == b->names) { /* the content alone differs */
            snprintf(here, sizeof here, ": %08llx here", (unsigned long long)a->crc);
            snprintf(there, sizeof there, ", %08llx on rank 0", (unsigned long long)b->crc);
        }
        return hj_error_set(err, HJ_EFORMAT,
                            "%s: this rank's copy differs from rank 0's (%s%s%s); every rank must "
                            "read the same data",
                            in[i].path, what, here, there);
    }
    return HJ_OK;
}
