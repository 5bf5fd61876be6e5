/* cmd_bench.c — `hjdl bench`: time hjdl's kernels at sizes the user chooses, against this machine's roofline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hjdl/data.h"
#include "hjdl/lse.h"
#include "hjdl/perf.h"
#include "hjdl/runtime.h"

int cmd_bench(int argc, char **argv);

static const char *DESCRIPTION =
    "Times hjdl's kernels on seeded random inputs (medians of --reps runs after\n"
    "--warmup untimed ones) and compares each with this machine's roofline:\n"
    "  lse        LSE forward pass with the Gibbs weights pi (hj_lse_forward),\n"
    "             n points, N neurons, dimension d (default 4000, 1000, 2);\n"
    "  adam       one full-batch Adam step (loss, gradient and update) of an\n"
    "             lse:N model on n points of U[-2,2]^d with target |x|, lr 0.006,\n"
    "             eps = N^(-1/d) (the `scaling` experiment; hj_model_train, the\n"
    "             time of --steps steps divided by --steps);\n"
    "  hopf-cole  Hopf-Cole value and gradient at n points from N atoms\n"
    "             (hj_hopf_cole_eval; default n = 100, N = 10^6, d = 2);\n"
    "  roofline   only the machine measurements below; all = every kernel.\n"
    "--n, --N and --d take comma-separated lists; every combination is timed.\n\n"
    "The roofline. R_exp = exponentials/s of the exp the LSE kernels use on an\n"
    "L1-resident buffer, R_fma = multiply-adds/s, the larger of dgemm on --gemm-n\n"
    "square matrices and the kernel set's own FMAs in registers (a BLAS not\n"
    "tuned for the CPU can be far below its peak), B_write = bytes/s filling a\n"
    "--write-mb array (the faster of plain and streaming stores), all with the\n"
    "same threads. A kernel doing E exps\n"
    "and F multiply-adds that must write B bytes cannot beat\n"
    "t_bound = max(E/R_exp + F/R_fma, B/B_write);\n"
    "lse: E = nN, F = nNd, B = 8nN (pi); adam and hopf-cole: E = nN, F = 2nNd,\n"
    "B = 0. The 'roofline' column is t_bound / median: 100% is the limit.\n"
    "Sizes whose memory would exceed --max-memory are refused before anything\n"
    "runs. Timings on a busy machine are noisy: compare medians of one run.";

/* Parse a comma-separated list of positive integers (1e6 style accepted). */
static int parse_list(const char *opt, const char *text, size_t *out, size_t max, size_t *count)
{
    size_t k = 0;
    const char *p = text;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || (*end != ',' && *end != '\0') || !(v >= 1.0) || v > 1e15 || v != floor(v))
            return cli_error("bench", "--%s: '%s' is not a comma-separated list of positive integers",
                             opt, text);
        if (k == max)
            return cli_error("bench", "--%s: at most %zu values", opt, max);
        out[k++] = (size_t)v;
        p = *end == ',' ? end + 1 : end;
    }
    if (k == 0)
        return cli_error("bench", "--%s: empty list", opt);
    *count = k;
    return CLI_OK;
}

#define MAX_LIST 16

static const char *CSV_HEADER = "kernel,n,N,d,eps,threads,reps,median_s,min_s,max_s,"
                                "throughput_pairs_per_s,bound_s,roofline_fraction,"
                                "r_exp,r_fma,b_write\n";

static void print_roofline(const hj_roofline *r)
{
    printf("roofline (%zu threads, %s kernels): R_exp %.3g exp/s, R_fma %.3g FMA/s (the larger "
           "of %s dgemm %zu^3 %.3g and the kernels' FMA loop %.3g), B_write %.3g GB/s\n",
           r->threads, hj_kernels(), r->r_exp, r->r_fma, r->blas ? "OpenBLAS" : "plain-loop",
           r->gemm_n, r->r_fma_gemm, r->r_fma_loop, r->b_write / 1e9);
}

int cmd_bench(int argc, char **argv)
{
    const char *kernel = "all", *kernel_set = NULL, *n_text = NULL, *N_text = NULL, *d_text = NULL, *csv_path = NULL;
    double eps = NAN, max_gb = 0.0, write_mb = 256.0;
    size_t reps = 5, warmup = 1, steps = 20, threads = 0, gemm_n = 2000;
    uint64_t seed = 1;
    int no_roofline = 0, quiet = 0;
    const cli_opt opts[] = {
        {"kernel", CLI_STRING, &kernel, "K", "lse, adam, hopf-cole, roofline or all (default all)", 0},
        {"kernels", CLI_STRING, &kernel_set, "SET",
         "kernel set avx512, avx2 or portable (default: HJDL_KERNELS, else the widest the CPU runs)", 0},
        {"n", CLI_STRING, &n_text, "LIST", "points, e.g. 4000 or 1000,4000 (default per kernel)", 0},
        {"N", CLI_STRING, &N_text, "LIST", "neurons / atoms (default 1000; hopf-cole 1e6)", 0},
        {"d", CLI_STRING, &d_text, "LIST", "dimension (default 2)", 0},
        {"eps", CLI_DOUBLE, &eps, "E", "temperature (default 0.5; adam N^(-1/d))", 0},
        {"reps", CLI_SIZE, &reps, "R", "timed runs per measurement, 1..64 (default 5)", 0},
        {"warmup", CLI_SIZE, &warmup, "W", "untimed runs first (default 1)", 0},
        {"steps", CLI_SIZE, &steps, "S", "adam: steps per timed run (default 20)", 0},
        {"threads", CLI_SIZE, &threads, "T", "OpenMP/OpenBLAS threads (default: all cores)", 0},
        {"seed", CLI_U64, &seed, "S", "seed of the random inputs (default 1)", 0},
        {"csv", CLI_OUTPUT, &csv_path, "FILE", "also write the results as CSV", 0},
        {"no-roofline", CLI_FLAG, &no_roofline, NULL, "skip the machine measurements (no roofline column)", 0},
        {"gemm-n", CLI_SIZE, &gemm_n, "G", "roofline: dgemm matrix size (default 2000)", 0},
        {"write-mb", CLI_DOUBLE, &write_mb, "M", "roofline: store-test array in MiB (default 256)", 0},
        {"max-memory", CLI_DOUBLE, &max_gb, "GB", "refuse sizes needing more (default 3/4 of available)", 0},
        CLI_QUIET_OPTION(quiet),
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, NULL, 0, NULL, "bench");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "bench",
                       "[--kernel K] [--n LIST] [--N LIST] [--d LIST] [--eps E] [--reps R] "
                       "[--threads T] [--csv FILE]", DESCRIPTION, opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;

    /* which kernel set: --kernels goes through HJDL_KERNELS, which the
     * library reads once, at its first kernel call (none has run yet) */
    hj_error err = {0};
    if (kernel_set != NULL && setenv("HJDL_KERNELS", kernel_set, 1) != 0)
        return cli_error("bench", "--kernels: cannot set HJDL_KERNELS");
    if (hj_kernels_check(&err) != HJ_OK)
        return cli_error("bench", "%s%s", kernel_set ? "--kernels: " : "", err.msg);
    if (kernel_set != NULL && strcmp(hj_kernels(), kernel_set) != 0)
        return cli_error("bench", "--kernels %s: the %s set was already chosen", kernel_set,
                         hj_kernels());

    /* which kernels */
    int want[HJ_PERF_N_KERNELS] = {0}, want_roof = !no_roofline;
    if (strcmp(kernel, "all") == 0) {
        for (int k = 0; k < HJ_PERF_N_KERNELS; k++)
            want[k] = 1;
    } else if (strcmp(kernel, "roofline") == 0) {
        if (no_roofline)
            return cli_error("bench", "--kernel roofline and --no-roofline contradict each other");
        want_roof = 1;
    } else {
        hj_perf_kernel k;
        if (hj_perf_kernel_parse(kernel, &k, &err) != HJ_OK)
            return cli_error("bench", "--kernel: unknown kernel '%s' (lse, adam, hopf-cole, roofline, all)",
                             kernel);
        want[k] = 1;
    }
    size_t ns[MAX_LIST], Ns[MAX_LIST], ds[MAX_LIST], nn = 0, nN = 0, nd = 0;
    if ((n_text && parse_list("n", n_text, ns, MAX_LIST, &nn) != CLI_OK) ||
        (N_text && parse_list("N", N_text, Ns, MAX_LIST, &nN) != CLI_OK) ||
        (d_text && parse_list("d", d_text, ds, MAX_LIST, &nd) != CLI_OK))
        return CLI_USAGE;
    if (!isnan(eps) && eps < 0.0)
        return cli_error("bench", "--eps must be >= 0 (got %g)", eps);
    if (!(write_mb > 0.0) || write_mb > 65536.0)
        return cli_error("bench", "--write-mb must be in (0, 65536] (got %g)", write_mb);
    if (max_gb < 0.0)
        return cli_error("bench", "--max-memory must be > 0 (got %g)", max_gb);

    hj_perf_options o;
    hj_perf_options_default(&o);
    o.reps = reps;
    o.warmup = warmup;
    o.adam_steps = steps;
    o.threads = threads;
    o.seed = seed;
    o.max_bytes = max_gb * 1e9;
    o.gemm_n = gemm_n;
    o.write_bytes = (size_t)(write_mb * 1024.0 * 1024.0);
    if (hj_perf_options_check(&o, &err) != HJ_OK) {
        /* the library names its own fields; say it in option terms */
        if (reps < 1 || reps > HJ_PERF_MAX_REPS)
            return cli_error("bench", "--reps must be between 1 and %d (got %zu)", HJ_PERF_MAX_REPS, reps);
        if (steps < 1 || steps > 100000)
            return cli_error("bench", "--steps must be between 1 and 100000 (got %zu)", steps);
        if (want_roof && (gemm_n < 8 || gemm_n > 20000))
            return cli_error("bench", "--gemm-n must be between 8 and 20000 (got %zu)", gemm_n);
        return cli_report("bench", &err);
    }
    if (threads)
        hj_set_threads(threads);

    /* every case, validated before anything runs */
    typedef struct bench_case {
        hj_perf_kernel k;
        hj_perf_size s;
    } bench_case;
    bench_case *cases = malloc(HJ_PERF_N_KERNELS * MAX_LIST * MAX_LIST * MAX_LIST * sizeof *cases);
    if (cases == NULL)
        return cli_error("bench", "out of memory");
    size_t n_cases = 0;
    for (int k = 0; k < HJ_PERF_N_KERNELS; k++) {
        if (!want[k])
            continue;
        const hj_perf_size def = hj_perf_default_size((hj_perf_kernel)k);
        const size_t cn = nn ? nn : 1, cN = nN ? nN : 1, cd = nd ? nd : 1;
        for (size_t a = 0; a < cn; a++)
            for (size_t b = 0; b < cN; b++)
                for (size_t c = 0; c < cd; c++) {
                    bench_case *bc = &cases[n_cases++];
                    bc->k = (hj_perf_kernel)k;
                    bc->s.n = nn ? ns[a] : def.n;
                    bc->s.N = nN ? Ns[b] : def.N;
                    bc->s.d = nd ? ds[c] : def.d;
                    bc->s.eps = eps;
                    if (hj_perf_check_size(bc->k, &bc->s, o.max_bytes, &err) != HJ_OK) {
                        free(cases);
                        return cli_report("bench", &err);
                    }
                }
    }

    FILE *csv = NULL;
    if (csv_path && hj_format_of_path(csv_path) != HJ_FORMAT_CSV && hj_format_of_path(csv_path) != HJ_FORMAT_AUTO) {
        free(cases);
        return cli_error("bench", "--csv %s: the results are written as CSV; name the file *.csv", csv_path);
    }
    cli_stage stage = {0}; /* --csv appears, whole, only when the run succeeds */
    if (csv_path && (csv = fopen(cli_stage_path(&stage, csv_path), "w")) == NULL) {
        cli_stage_abort(&stage);
        free(cases);
        return cli_error("bench", "%s: cannot open for writing", csv_path);
    }
    if (csv)
        fputs(CSV_HEADER, csv);

    hj_roofline roof;
    memset(&roof, 0, sizeof roof);
    rc = CLI_OK;
    int over = 0;
    if (want_roof) {
        if (!quiet)
            fprintf(stderr, "bench: measuring the roofline (exp, dgemm %zu^3, FMA loop, stores)...\n", gemm_n);
        if (hj_perf_roofline(&o, &roof, &err) != HJ_OK) {
            rc = cli_report("bench", &err);
            goto done;
        }
        print_roofline(&roof);
        if (csv)
            fprintf(csv, "roofline,,,,,%zu,%zu,,,,,,,%.6e,%.6e,%.6e\n", roof.threads, reps, roof.r_exp,
                    roof.r_fma, roof.b_write);
    }
    if (n_cases > 0) {
        if (want_roof)
            printf("\n");
        printf("%-10s %7s %9s %4s %9s %7s %5s %12s %12s %10s %12s %9s\n", "kernel", "n", "N", "d",
               "eps", "threads", "reps", "median_s", "min_s", "Mpairs/s", "bound_s", "roofline");
    }
    for (size_t c = 0; c < n_cases; c++) {
        const bench_case *bc = &cases[c];
        if (!quiet)
            fprintf(stderr, "bench: [%zu/%zu] %s n = %zu, N = %zu, d = %zu\n", c + 1, n_cases,
                    hj_perf_kernel_name(bc->k), bc->s.n, bc->s.N, bc->s.d);
        hj_perf_timing t;
        if (hj_perf_time(bc->k, &bc->s, &o, want_roof ? &roof : NULL, &t, &err) != HJ_OK) {
            rc = cli_report("bench", &err);
            goto done;
        }
        over |= t.fraction > 1.0;
        char frac[16] = "-", bound[16] = "-";
        if (!isnan(t.fraction)) {
            snprintf(frac, sizeof frac, "%.1f%%", 100.0 * t.fraction);
            snprintf(bound, sizeof bound, "%.4e", t.bound);
        }
        printf("%-10s %7zu %9zu %4zu %9.4g %7zu %5zu %12.4e %12.4e %10.2f %12s %9s\n",
               hj_perf_kernel_name(t.kernel), t.size.n, t.size.N, t.size.d, t.size.eps, t.threads,
               t.reps, t.median, t.min, t.throughput / 1e6, bound, frac);
        fflush(stdout);
        if (csv) {
            fprintf(csv, "%s,%zu,%zu,%zu,%.17g,%zu,%zu,%.6e,%.6e,%.6e,%.6e,",
                    hj_perf_kernel_name(t.kernel), t.size.n, t.size.N, t.size.d, t.size.eps,
                    t.threads, t.reps, t.median, t.min, t.max, t.throughput);
            if (want_roof)
                fprintf(csv, "%.6e,%.6g,%.6e,%.6e,%.6e\n", t.bound, t.fraction, roof.r_exp,
                        roof.r_fma, roof.b_write);
            else
                fputs(",,,,\n", csv);
        }
    }
    if (over)
        printf("note: a roofline fraction above 100%% means the roofline runs were slowed down "
               "(a busy machine?): re-run when it is quiet\n");
done:
    if (csv && fclose(csv) != 0 && rc == CLI_OK)
        rc = cli_error("bench", "%s: write failed", csv_path);
    if (rc == CLI_OK)
        rc = cli_stage_commit(&stage, "bench");
    cli_stage_abort(&stage);
    free(cases);
    return rc;
}
