/* cmd_experiment.c — `hjdl experiment` (list / run one) and `hjdl reproduce` (run all, write the report). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
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

static int parse_common(int argc, char **argv, const char *cmd, hj_experiment_options *eo, int *quiet,
                        size_t *threads, const char **pos, size_t max_pos, size_t *npos, int reproduce)
{
    size_t N = 0, d = 0, iters = 0;
    const cli_opt opts[] = {
        {"quick", CLI_FLAG, &eo->quick, NULL, "small sizes: every experiment in seconds (the CI mode)", 0},
        {"out", CLI_STRING, &eo->out_dir, "DIR", "output directory (default hjdl-out)", 0},
        {"seeds", CLI_SIZE, &eo->seeds, "S", "number of seeds (default: the experiment's)", 0},
        {"seed", CLI_U64, &eo->seed, "S", "base seed (default 1)", 0},
        {"threads", CLI_SIZE, threads, "T", "threads for OpenMP and OpenBLAS (default: all cores)", 0},
        {"eps", CLI_DOUBLE, &eo->eps, "E", "override eps where the experiment has one", 0},
        {"N", CLI_SIZE, &N, "N", "override the number of atoms/neurons where it has one", 0},
        {"d", CLI_SIZE, &d, "D", "override the dimension where it has one", 0},
        {"iters", CLI_SIZE, &iters, "N", "override training steps where it has them", 0},
        {"quiet", CLI_FLAG, quiet, NULL, "no progress on stderr", 0},
    };
    const size_t nopts = reproduce ? 5 : sizeof opts / sizeof opts[0];
    const cli_opt *use = opts;
    cli_opt ropts[6];
    if (reproduce) { /* reproduce takes the suite-wide options only */
        memcpy(ropts, opts, 5 * sizeof *opts);
        ropts[5] = opts[9];
        use = ropts;
    }
    size_t n_use = reproduce ? 6 : nopts;
    int rc = cli_parse(argc, argv, use, n_use, pos, max_pos, npos, cmd);
    if (rc == CLI_HELP) {
        if (reproduce) {
            cli_print_help(stdout, "reproduce", "[--quick] [--out DIR] [--seeds S] [--threads T]",
                           "Runs every registered experiment (see 'hjdl experiment list') and writes\n"
                           "DIR/report.html: one section per claim C1..C13 of SPEC.md with figures,\n"
                           "checks (PASS/FAIL with numbers) and claims (predicted vs measured +-\n"
                           "uncertainty, verdict agrees/disagrees/inconclusive by a rule fixed in\n"
                           "advance). Each experiment also writes DIR/NAME/ (CSV, PNG, SVG, .gp,\n"
                           "summary.json). Exit status 1 if any check fails; a claim that disagrees\n"
                           "is a finding and does not change the exit status.",
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
    eo->N = N, eo->d = d, eo->iters = iters;
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
    const char *pos[1] = {NULL};
    int rc = parse_common(argc, argv, "experiment", &eo, &quiet, &threads, pos, 1, &npos, 0);
    if (rc == CLI_HELP) {
        printf("\nexperiments:\n");
        run_list();
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (npos == 0)
        return cli_error("experiment", "name an experiment, or 'list' (see 'hjdl experiment --help')");
    if (strcmp(pos[0], "list") == 0)
        return run_list();
    const hj_experiment *e = hj_experiment_find(pos[0]);
    if (e == NULL)
        return cli_error("experiment", "unknown experiment '%s' (see 'hjdl experiment list')", pos[0]);
    if (threads)
        hj_set_threads(threads);
    run_progress rp = {quiet, isatty(fileno(stderr)), 1, 1, cli_now(), -1.0};
    eo.progress = on_progress;
    eo.progress_ctx = &rp;
    hj_result res;
    hj_error err = {0};
    if (hj_experiment_run(e, &eo, &res, &err) != HJ_OK) {
        hj_result_free(&res);
        return cli_report("experiment", &err);
    }
    size_t failed = print_result(&res, 1);
    hj_result_free(&res);
    return failed ? CLI_FAIL : CLI_OK;
}

int cmd_reproduce(int argc, char **argv)
{
    hj_experiment_options eo;
    hj_experiment_options_default(&eo);
    int quiet = 0;
    size_t threads = 0;
    int rc = parse_common(argc, argv, "reproduce", &eo, &quiet, &threads, NULL, 0, NULL, 1);
    if (rc == CLI_HELP)
        return CLI_OK;
    if (rc != CLI_OK)
        return rc;
    if (threads)
        hj_set_threads(threads);
    const size_t n = hj_experiment_count();
    hj_result *results = calloc(n, sizeof *results);
    if (results == NULL)
        return cli_error("reproduce", "out of memory");
    run_progress rp = {quiet, isatty(fileno(stderr)), 0, n, cli_now(), -1.0};
    eo.progress = on_progress;
    eo.progress_ctx = &rp;
    size_t failed = 0, errors = 0, done = 0;
    hj_error err = {0};
    for (size_t i = 0; i < n; i++) {
        rp.index = i + 1;
        const hj_experiment *e = hj_experiment_at(i);
        if (hj_experiment_run(e, &eo, &results[done], &err) != HJ_OK) {
            fprintf(stderr, "hjdl reproduce: %s\n", err.msg);
            /* keep a record of the failure in the report */
            hj_result *r = &results[done];
            snprintf(r->experiment, sizeof r->experiment, "%s", e->name);
            hj_check_add(&r->checks, "C0", "experiment ran to completion", 1.0, 0.0, NULL);
            hj_result_note(r, "The experiment could not run: %s", err.msg);
            errors++;
        }
        failed += print_result(&results[done], 0);
        done++;
    }
    double secs = cli_now() - rp.t0;
    rc = CLI_OK;
    if (hj_report_write_html(eo.out_dir, results, done, eo.quick, secs, &err) != HJ_OK)
        rc = cli_report("reproduce", &err);
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
    return (failed || errors) ? CLI_FAIL : CLI_OK;
}
