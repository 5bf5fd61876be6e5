/* cmd_verify.c — `hjdl verify`: run the C1–C6 self-checks and print PASS/FAIL rows. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "hjdl/verify.h"

static void progress(const char *stage, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "  running %s ...\n", stage);
}

int cmd_verify(int argc, char **argv)
{
    int json = 0, quiet = 0;
    uint64_t seed = 20260527;
    size_t threads = 0;
    const cli_opt opts[] = {
        {"json", CLI_FLAG, &json, NULL, "print the results as JSON on stdout", 0},
        {"seed", CLI_U64, &seed, "S", "seed of the random test problems (default 20260527)", 0},
        CLI_QUIET_OPTION(quiet),
        CLI_THREADS_OPTION(threads),
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, NULL, 0, NULL, "verify");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "verify", "[--json] [--seed S] [--quiet]",
                       "Checks that hjdl computes the theory correctly: each row compares two\n"
                       "independent computations of the same quantity (LSE layer vs Hopf-Cole\n"
                       "solution, closed-form vs finite-difference PDE residual, network vs grid\n"
                       "PDE solvers, closed form vs an iterative entropic optimiser, tiled vs\n"
                       "reference attention, ...) or measures a proved bound, and prints the\n"
                       "measured number, its threshold and PASS/FAIL. Claims C1-C6 of SPEC.md.\n"
                       "Exit status 0 only if every check passes (1 otherwise).",
                       opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    hj_verify_options vo = {seed, (quiet || json) ? NULL : progress, NULL};
    if (!quiet && !json && !isatty(fileno(stderr)))
        vo.progress = NULL; /* keep logs clean when not on a terminal */
    hj_check_list checks = {0};
    hj_error err = {0};
    double t0 = cli_now();
    hj_status st = hj_verify_run(&vo, &checks, &err);
    double secs = cli_now() - t0;
    if (st != HJ_OK) {
        hj_check_list_free(&checks);
        return cli_report("verify", &err);
    }
    size_t failed = hj_check_failures(&checks);
    if (json) {
        fputs("{\"checks\": ", stdout);
        hj_check_list_write_json(stdout, &checks, NULL);
        printf(",\n \"passed\": %zu, \"failed\": %zu, \"seconds\": %.3f}\n",
               checks.n - failed, failed, secs);
    } else {
        printf("%-5s %-70s %10s %10s  %s\n", "claim", "check", "value", "threshold", "result");
        for (size_t i = 0; i < checks.n; i++) {
            const hj_check *c = &checks.items[i];
            printf("%-5s %-70s %10.3e %10.3e  %s\n", c->claim, c->name, c->value, c->threshold,
                   c->pass ? "PASS" : "FAIL");
        }
        printf("\nverify: %zu passed, %zu failed (%.1f s)\n", checks.n - failed, failed, secs);
    }
    hj_check_list_free(&checks);
    return failed ? CLI_FAIL : CLI_OK;
}
