/* cmd_experiment.c — `hjdl experiment` (list / run one) and `hjdl reproduce` (run all, write the report). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hjdl/limits.h"
#include "hjdl/dist.h"
#include "hjdl/experiment.h"
#include "hjdl/report.h"
#include "hjdl/runtime.h"

typedef struct run_progress {
    int quiet, tty;
    size_t index, total;
    double t0, last;
} run_progress;

static void on_progress(const char *experiment, const char *stage, double fraction, void *ctx)
{
    run_progress *p = ctx;
    if (p->quiet)
        return;
    double now = cli_now();
    if (p->tty) {
        if (fraction < 1.0 && now - p->last < 0.1)
            return;
        p->last = now;
        fprintf(stderr, "\r\033[K[%zu/%zu] %s: %s (%.0f%%, %.0f s)", p->index, p->total, experiment, stage,
                100.0 * fraction, now - p->t0);
        if (fraction >= 1.0)
            fputc('\n', stderr);
    } else {
        if (fraction < 1.0 && now - p->last < 5.0 && strcmp(stage, "start") != 0)
            return;
        p->last = now;
        fprintf(stderr, "[%zu/%zu] %s: %s (%.0f%%, %.0f s)\n", p->index, p->total, experiment, stage,
                100.0 * fraction, now - p->t0);
    }
    fflush(stderr);
}

/* Print one result: checks, claims, where the files are. Returns failed checks. */
static size_t print_result(const hj_result *r, int verbose)
{
    size_t failed = hj_check_failures(&r->checks);
    if (verbose) {
        printf("== %s (%.1f s) -> %s\n", r->experiment, r->seconds, r->dir);
        for (size_t i = 0; i < r->checks.n; i++) {
            const hj_check *c = &r->checks.items[i];
            printf("  check %-4s %-66s %10.3e <= %-10.3e %s\n", c->claim, c->name, c->value, c->threshold,
                   c->pass ? "PASS" : "FAIL");
        }
        for (size_t i = 0; i < r->n_claims; i++) {
            const hj_claim *c = &r->claims[i];
            printf("  claim %-4s %-66s predicted %.4g, measured %.4g +- %.2g: %s\n", c->claim, c->statement,
                   c->predicted, c->measured, c->uncertainty, hj_verdict_name(c->verdict));
        }
    }
    size_t v[3] = {0, 0, 0};
    for (size_t i = 0; i < r->n_claims; i++)
        v[r->claims[i].verdict]++;
    printf("%-15s checks %zu passed, %zu failed; claims %zu agree, %zu disagree, %zu inconclusive; %.1f s\n",
           r->experiment, r->checks.n - failed, failed, v[0], v[1], v[2], r->seconds);
    return failed;
}

/* ---- parallel sweeps: experiments spread round-robin over the ranks ------
 * Rank r runs the experiments i with i % P == r into their usual
 * directories, packs each hj_result (plain structs and arrays) into bytes,
 * and rank 0 gathers and unpacks them in registry order, so the printed
 * summary and the report are those of a single-process run (timings apart). */

/* Record of one run on the wire. */
typedef struct wire_head {
    hj_result r;     /* pointers inside are meaningless on arrival */
    int error;       /* the experiment could not run (already recorded in r) */
} wire_head;

/* Append n bytes to *buf (length *len, capacity *cap); 0 on success. */
static int append(char **buf, size_t *len, size_t *cap, const void *src, size_t n)
{
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n)
            c *= 2;
        char *b = realloc(*buf, c);
        if (b == NULL)
            return -1;
        *buf = b, *cap = c;
    }
    if (n)
        memcpy(*buf + *len, src, n);
    *len += n;
    return 0;
}

static int pack_result(char **buf, size_t *len, size_t *cap, const hj_result *r, int error)
{
    wire_head h;
    memset(&h, 0, sizeof h);
    h.r = *r;
    h.error = error;
    return append(buf, len, cap, &h, sizeof h) ||
           append(buf, len, cap, r->params, r->n_params * sizeof *r->params) ||
           append(buf, len, cap, r->metrics, r->n_metrics * sizeof *r->metrics) ||
           append(buf, len, cap, r->checks.items, r->checks.n * sizeof *r->checks.items) ||
           append(buf, len, cap, r->claims, r->n_claims * sizeof *r->claims) ||
           append(buf, len, cap, r->figures, r->n_figures * sizeof *r->figures);
}

/* Copy n items of size sz from *p (advancing it, within end) into a fresh
 * array; 0 on success (n == 0: NULL). */
static int take(const char **p, const char *end, size_t n, size_t sz, void **out)
{
    *out = NULL;
    if (n == 0)
        return 0;
    if ((size_t)(end - *p) / sz < n || (*out = malloc(n * sz)) == NULL)
        return -1;
    memcpy(*out, *p, n * sz);
    *p += n * sz;
    return 0;
}

/* Unpack one record at *p into r (owning fresh arrays); 0 on success. */
static int unpack_result(const char **p, const char *end, hj_result *r, int *error)
{
    wire_head h;
    if ((size_t)(end - *p) < sizeof h)
        return -1;
    memcpy(&h, *p, sizeof h);
    *p += sizeof h;
    *r = h.r;
    *error = h.error;
    r->params = NULL, r->metrics = NULL, r->checks.items = NULL, r->claims = NULL, r->figures = NULL;
    void *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;
    int bad = take(p, end, h.r.n_params, sizeof *r->params, &a) ||
              take(p, end, h.r.n_metrics, sizeof *r->metrics, &b) ||
              take(p, end, h.r.checks.n, sizeof *r->checks.items, &c) ||
              take(p, end, h.r.n_claims, sizeof *r->claims, &d) ||
              take(p, end, h.r.n_figures, sizeof *r->figures, &e);
    r->params = a, r->metrics = b, r->checks.items = c, r->claims = d, r->figures = e;
    r->cap_params = r->n_params, r->cap_metrics = r->n_metrics, r->checks.cap = r->checks.n;
    r->cap_claims = r->n_claims, r->cap_figures = r->n_figures;
    if (bad) {
        hj_result_free(r);
        return -1;
    }
    return 0;
}

/* Run the experiments list[0..n) (registry entries) spread over the ranks;
 * on rank 0 results[i] / errors[i] receive every outcome in list order
 * (elsewhere they stay zero). A failed run is recorded as a failed C0
 * check with the message in its notes, and its message printed by the
 * rank that ran it. With one process each result is printed as soon as it
 * is ready (print_result with `verbose`); with several, the caller prints
 * them on rank 0 after the gather. Returns HJ_OK or a communication
 * failure (agreed). */
static hj_status run_spread(const hj_experiment *const *list, size_t n, const hj_experiment_options *eo,
                            run_progress *rp, const char *cmd, int verbose, hj_result *results,
                            int *errors, hj_error *err)
{
    hj_dist *dist = cli_dist();
    const int rank = hj_dist_rank(dist), P = hj_dist_size(dist);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    hj_status st = HJ_OK;
    for (size_t i = (size_t)rank; i < n; i += (size_t)P) {
        hj_result r;
        hj_error e = {0};
        int error = 0;
        rp->index = i + 1;
        if (hj_experiment_run(list[i], eo, &r, &e) != HJ_OK) {
            fprintf(stderr, "hjdl %s: %s\n", cmd, e.msg);
            /* keep a record of the failure in the report */
            snprintf(r.experiment, sizeof r.experiment, "%s", list[i]->name);
            hj_check_add(&r.checks, "C0", "experiment ran to completion", 1.0, 0.0, NULL);
            hj_result_note(&r, "The experiment could not run: %s", e.msg);
            error = 1;
        }
        if (P == 1) {
            results[i] = r;
            errors[i] = error;
            print_result(&results[i], verbose);
            continue;
        }
        if (st == HJ_OK && pack_result(&buf, &len, &cap, &r, error) != 0)
            st = hj_error_set(err, HJ_ENOMEM, "out of memory packing the results");
        hj_result_free(&r);
    }
    if (P == 1)
        return HJ_OK;
    hj_error agree_err = {0};
    if (hj_dist_barrier(dist, &agree_err) != HJ_OK) { /* idle while the others finish */
        free(buf);
        *err = agree_err;
        return agree_err.code;
    }
    if ((st = hj_dist_agree(dist, st, err, NULL, &agree_err)) != HJ_OK) {
        free(buf);
        *err = agree_err;
        return st;
    }
    void *all = NULL;
    size_t *lens = rank == 0 ? calloc((size_t)P, sizeof *lens) : NULL;
    if (rank == 0 && lens == NULL)
        st = hj_error_set(err, HJ_ENOMEM, "out of memory");
    else
        st = hj_dist_gather_bytes(dist, buf, len, &all, lens, err);
    free(buf);
    if (st == HJ_OK && rank == 0) {
        const char *p = all;
        for (int k = 0; k < P && st == HJ_OK; k++) {
            const char *end = p + lens[k];
            for (size_t i = (size_t)k; i < n; i += (size_t)P)
                if (unpack_result(&p, end, &results[i], &errors[i]) != 0) {
                    st = hj_error_set(err, HJ_EIO, "rank %d sent a malformed result for %s", k, list[i]->name);
                    break;
                }
            p = end;
        }
    }
    free(all);
    free(lens);
    return st;
}

/* reproduce's own options */
typedef struct reproduce_extra {
    const char *compare;  /* another run's folder (its claims.tsv) */
    int self_contained;
} reproduce_extra;

static int parse_common(int argc, char **argv, const char *cmd, hj_experiment_options *eo, int *quiet,
                        size_t *threads, const char **pos, size_t max_pos, size_t *npos, int reproduce,
                        reproduce_extra *rx)
{
    /* SIZE_MAX: not given (the experiment's default); 0 is refused */
    size_t N = SIZE_MAX, d = SIZE_MAX, iters = SIZE_MAX, seeds = SIZE_MAX;
    reproduce_extra unused = {NULL, 0};
    if (rx == NULL)
        rx = &unused;
    const cli_opt opts[] = {
        {"quick", CLI_FLAG, &eo->quick, NULL, "small sizes: every experiment in seconds (the CI mode)", 0},
        {"out", CLI_OUTDIR, &eo->out_dir, "DIR", "output directory (default hjdl-out)", 0},
        {"seeds", CLI_SIZE, &seeds, "S", "number of seeds (default: the experiment's)", 0},
        {"seed", CLI_U64, &eo->seed, "S", "base seed (default 1)", 0},
        {"threads", CLI_SIZE, threads, "T", "threads for OpenMP and OpenBLAS, 1..1024 (default or 0: all cores)", 0},
        {"eps", CLI_DOUBLE, &eo->eps, "E", "override eps where the experiment has one (default: the experiment's)", 0},
        {"N", CLI_SIZE, &N, "N", "override the number of atoms/neurons where it has one (default: the experiment's)", 0},
        {"d", CLI_SIZE, &d, "D", "override the dimension where it has one (default: the experiment's)", 0},
        {"iters", CLI_SIZE, &iters, "N", "override training steps where it has them (default: the experiment's)", 0},
        CLI_QUIET_OPTION(*quiet),
    };
    const size_t nopts = reproduce ? 5 : sizeof opts / sizeof opts[0];
    const cli_opt *use = opts;
    cli_opt ropts[8];
    if (reproduce) { /* reproduce takes the suite-wide options only, and its own two */
        memcpy(ropts, opts, 5 * sizeof *opts);
        ropts[5] = opts[9];
        ropts[6] = (cli_opt){"compare", CLI_STRING, &rx->compare, "DIR",
                             "another run's folder: add a verdict-stability table (this run next to it)", 0};
        ropts[7] = (cli_opt){"self-contained", CLI_FLAG, &rx->self_contained, NULL,
                             "embed the figures in report.html (one file to mail)", 0};
        use = ropts;
    }
    size_t n_use = reproduce ? 8 : nopts;
    int rc = cli_parse(argc, argv, use, n_use, pos, max_pos, npos, cmd);
    if (rc == CLI_HELP) {
        if (reproduce) {
            cli_print_help(stdout, "reproduce",
                           "[--quick] [--out DIR] [--seed S] [--seeds S] [--threads T] [--compare DIR] "
                           "[--self-contained]",
                           "Runs every registered experiment (see 'hjdl experiment list') and writes\n"
                           "DIR/report.html: one section per claim C1..C13 of SPEC.md with figures,\n"
                           "checks (PASS/FAIL with numbers) and claims, the paper's first, then hjdl's\n"
                           "own tests: each with its form (equals, at most, at least as fast as,\n"
                           "trend), tolerance, 95% interval and its parts, and a three-way verdict\n"
                           "(agrees/disagrees/inconclusive) by the rule of SPEC section 4. --quick\n"
                           "verdicts are provisional; a full run decides. Each experiment also writes\n"
                           "DIR/NAME/ (CSV, PNG, SVG, .gp, summary.json); DIR/claims.tsv lists every\n"
                           "claim for --compare. Exit status 1 if any check fails; a claim that\n"
                           "disagrees is a finding and does not change the exit status.",
                           use, n_use);
        } else {
            cli_print_help(stdout, "experiment", "list | NAME [--quick] [--out DIR] [options]",
                           "Runs one experiment of the reproduction suite into DIR/NAME/: raw numbers\n"
                           "(CSV), figures (PNG, SVG, and the gnuplot script to restyle them) and\n"
                           "summary.json with its checks and claims. 'hjdl experiment list' names them.\n"
                           "Exit status 1 if a check fails (claims never change it).",
                           use, n_use);
        }
        return CLI_HELP;
    }
    if (rc != CLI_OK)
        return rc;
    if (eo->eps < 0.0)
        return cli_error(cmd, "--eps must be >= 0 (got %g)", eo->eps);
    if (*threads > HJ_MAX_THREADS)
        return cli_error(cmd, "--threads %zu is more than the limit of %d", *threads, HJ_MAX_THREADS);
    const struct { const char *name; size_t v, max; } lim[] = {
        {"N", N, HJ_MAX_EXP_N}, {"d", d, HJ_MAX_EXP_D}, {"iters", iters, HJ_MAX_ITERS},
        {"seeds", seeds, HJ_MAX_SEEDS}};
    for (size_t k = 0; k < sizeof lim / sizeof lim[0]; k++) {
        if (lim[k].v == 0)
            return cli_error(cmd, "--%s 0: give a positive number (leave --%s out for the experiment's default)",
                             lim[k].name, lim[k].name);
        if (lim[k].v != SIZE_MAX && lim[k].v > lim[k].max)
            return cli_error(cmd, "--%s %zu is more than the limit of %zu", lim[k].name, lim[k].v, lim[k].max);
    }
    eo->N = N == SIZE_MAX ? 0 : N, eo->d = d == SIZE_MAX ? 0 : d;
    eo->iters = iters == SIZE_MAX ? 0 : iters, eo->seeds = seeds == SIZE_MAX ? 0 : seeds;
    return CLI_OK;
}

/* The overrides each experiment reads (its uses of opt->eps, ->N, ->d,
 * ->iters and ->seeds in src/experiments/, scaling and intrinsic through
 * hj__exp_si_sweep); an override an experiment would ignore is refused.
 * Not listed: every override is read. */
static const struct { const char *name, *uses; } OVERRIDES[] = {
    {"identity", "N d"},           {"attention", ""},          {"recovery", "eps N iters seeds"},
    {"quadrature", "eps N d"},     {"generalization", "eps N d seeds"}, {"architectures", "iters"},
    {"influence", "eps N d iters"}, {"robustness", "eps N iters seeds"},
};

/* "--eps" given (set) for experiment e that does not read it: refused, naming both. */
static int check_overrides(const hj_experiment *e, const hj_experiment_options *eo, const char *cmd)
{
    const struct { const char *name; int given; } given[] = {
        {"eps", !isnan(eo->eps)}, {"N", eo->N != 0}, {"d", eo->d != 0}, {"iters", eo->iters != 0},
        {"seeds", eo->seeds != 0}};
    for (size_t i = 0; i < sizeof OVERRIDES / sizeof OVERRIDES[0]; i++) {
        if (strcmp(OVERRIDES[i].name, e->name) != 0)
            continue;
        for (size_t k = 0; k < sizeof given / sizeof given[0]; k++) {
            if (!given[k].given)
                continue;
            const char *u = OVERRIDES[i].uses;
            size_t l = strlen(given[k].name);
            int found = 0;
            for (const char *p = u; (p = strstr(p, given[k].name)) != NULL; p += l)
                if ((p == u || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\0'))
                    found = 1;
            if (!found)
                return cli_error(cmd, "--%s is not used by experiment %s (it reads %s)", given[k].name, e->name,
                                 u[0] ? u : "none of --eps, --N, --d, --iters, --seeds");
        }
    }
    return CLI_OK;
}

static int run_list(void)
{
    for (size_t i = 0; i < hj_experiment_count(); i++) {
        const hj_experiment *e = hj_experiment_at(i);
        printf("%-15s %-6s %s\n", e->name, e->claims, e->description);
    }
    return CLI_OK;
}

int cmd_experiment(int argc, char **argv)
{
    hj_experiment_options eo;
    hj_experiment_options_default(&eo);
    int quiet = 0;
    size_t threads = 0, npos = 0;
    enum { MAX_NAMES = 64 };
    const char *pos[MAX_NAMES] = {NULL};
    int rc = parse_common(argc, argv, "experiment", &eo, &quiet, &threads, pos, MAX_NAMES, &npos, 0, NULL);
    if (rc == CLI_HELP) {
        printf("\nexperiments:\n");
        run_list();
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (npos == 0)
        return cli_error("experiment", "name an experiment, or 'list' (see 'hjdl experiment --help')");
    if (strcmp(pos[0], "list") == 0) {
        if (npos > 1)
            return cli_error("experiment", "'list' takes no other names");
        return cli_dist_rank() == 0 ? run_list() : CLI_OK;
    }
    const hj_experiment *list[MAX_NAMES];
    for (size_t i = 0; i < npos; i++)
        if ((list[i] = hj_experiment_find(pos[i])) == NULL)
            return cli_error("experiment", "unknown experiment '%s' (see 'hjdl experiment list')", pos[i]);
    for (size_t i = 0; i < npos; i++)
        if ((rc = check_overrides(list[i], &eo, "experiment")) != CLI_OK)
            return rc;
    if (threads)
        hj_set_threads(threads);
    run_progress rp = {quiet || cli_dist_rank() != 0, isatty(fileno(stderr)), 1, npos, cli_now(), -1.0};
    eo.progress = on_progress;
    eo.progress_ctx = &rp;
    hj_error err = {0};
    if (npos == 1 && hj_dist_size(cli_dist()) == 1) { /* one experiment, one process: as always */
        hj_result res;
        if (hj_experiment_run(list[0], &eo, &res, &err) != HJ_OK) {
            hj_result_free(&res);
            return cli_report("experiment", &err);
        }
        size_t failed = print_result(&res, 1);
        hj_result_free(&res);
        return failed ? CLI_FAIL : CLI_OK;
    }
    /* several names and/or several ranks: spread, gather, print in order */
    hj_result results[MAX_NAMES];
    int errors[MAX_NAMES];
    memset(results, 0, sizeof results);
    memset(errors, 0, sizeof errors);
    const int one = hj_dist_size(cli_dist()) == 1;
    hj_status st = run_spread(list, npos, &eo, &rp, "experiment", 1, results, errors, &err);
    size_t failed = 0, nerr = 0;
    if (st == HJ_OK && cli_dist_rank() == 0)
        for (size_t i = 0; i < npos; i++) {
            failed += one ? hj_check_failures(&results[i].checks) : print_result(&results[i], 1);
            nerr += errors[i] != 0;
        }
    for (size_t i = 0; i < npos; i++)
        hj_result_free(&results[i]);
    if (st != HJ_OK)
        return cli_report("experiment", &err);
    if (npos == 1 && nerr) /* the message was printed by the rank that ran it */
        return CLI_USAGE;
    return (failed || nerr) ? CLI_FAIL : CLI_OK;
}

int cmd_reproduce(int argc, char **argv)
{
    hj_experiment_options eo;
    hj_experiment_options_default(&eo);
    int quiet = 0;
    size_t threads = 0;
    reproduce_extra rx = {NULL, 0};
    int rc = parse_common(argc, argv, "reproduce", &eo, &quiet, &threads, NULL, 0, NULL, 1, &rx);
    if (rc == CLI_HELP)
        return CLI_OK;
    if (rc != CLI_OK)
        return rc;
    /* the other run is read before any work, so a bad --compare fails at once */
    hj_report_claim_row *other = NULL;
    size_t n_other = 0;
    char other_path[1100] = "";
    if (rx.compare != NULL) {
        hj_error ce = {0};
        int k = snprintf(other_path, sizeof other_path, "%s/claims.tsv", rx.compare);
        if (k < 0 || (size_t)k >= sizeof other_path)
            return cli_error("reproduce", "--compare: path too long");
        if (hj_report_read_claims(other_path, &other, &n_other, &ce) != HJ_OK)
            return cli_error("reproduce", "--compare %s: %s", rx.compare, ce.msg);
    }
    if (threads)
        hj_set_threads(threads);
    const size_t n = hj_experiment_count();
    hj_result *results = calloc(n, sizeof *results);
    const hj_experiment **list = calloc(n ? n : 1, sizeof *list);
    int *errs = calloc(n ? n : 1, sizeof *errs);
    if (results == NULL || list == NULL || errs == NULL) {
        free(results), free(list), free(errs), free(other);
        return cli_error("reproduce", "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        list[i] = hj_experiment_at(i);
    const int rank = cli_dist_rank();
    run_progress rp = {quiet || rank != 0, isatty(fileno(stderr)), 0, n, cli_now(), -1.0};
    eo.progress = on_progress;
    eo.progress_ctx = &rp;
    size_t failed = 0, errors = 0, done = 0;
    hj_error err = {0};
    /* under mpirun the experiments are spread over the ranks (run_spread) */
    hj_status st = run_spread(list, n, &eo, &rp, "reproduce", 0, results, errs, &err);
    free(list);
    if (st != HJ_OK || rank != 0) {
        for (size_t i = 0; i < n; i++)
            hj_result_free(&results[i]);
        free(results), free(errs), free(other);
        return st != HJ_OK ? cli_report("reproduce", &err) : CLI_OK;
    }
    const int one = hj_dist_size(cli_dist()) == 1;
    for (size_t i = 0; i < n; i++) {
        failed += one ? hj_check_failures(&results[i].checks) : print_result(&results[i], 0);
        errors += errs[i] != 0;
        done++;
    }
    free(errs);
    double secs = cli_now() - rp.t0;
    rc = CLI_OK;
    hj_report_options ro = {eo.quick, secs, rx.self_contained, other, n_other, rx.compare};
    if (hj_report_write_claims(eo.out_dir, results, done, &err) != HJ_OK ||
        hj_report_write(eo.out_dir, results, done, &ro, &err) != HJ_OK)
        rc = cli_report("reproduce", &err);
    free(other);
    size_t v[3] = {0, 0, 0}, checks = 0;
    for (size_t i = 0; i < done; i++) {
        checks += results[i].checks.n;
        for (size_t k = 0; k < results[i].n_claims; k++)
            v[results[i].claims[k].verdict]++;
    }
    printf("\nreproduce: %zu checks passed, %zu failed; claims: %zu agree, %zu disagree, %zu inconclusive;"
           " %.0f s\nreport: %s/report.html\n",
           checks - failed, failed, v[0], v[1], v[2], secs, eo.out_dir);
    for (size_t i = 0; i < done; i++)
        hj_result_free(&results[i]);
    free(results);
    if (rc != CLI_OK)
        return rc;
    /* 1 only for a failed check; an experiment that could not run is 2 */
    return failed ? CLI_FAIL : errors ? CLI_USAGE : CLI_OK;
}
