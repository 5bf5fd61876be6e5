/* main.c — entry point of the hjdl command-line tool: dispatches to the commands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hjdl/lse.h"
#include "hjdl/runtime.h"

static const cli_command COMMANDS[] = {
    {"verify", "run the self-checks C1-C6 (LSE = Hopf-Cole, PDE residual, diagram, ...)", cmd_verify},
    {"solve", "evaluate the Hopf-Cole / Hopf-Lax solution of atoms at points", cmd_solve},
    {"fit", "train a model (choose the initial data of an HJ equation) and save it", cmd_fit},
    {"predict", "evaluate a saved model, with closed-form attributions", cmd_predict},
    {"initial-data", "print the atoms (y_j, g_j) a trained readout encodes", cmd_initial_data},
    {"info", "describe a saved model", cmd_info},
    {"explain", "top-K closed-form attributions, entropy and regime of points", cmd_explain},
    {"hamiltonian", "a trained sequence model's recurrent layer as optimal control: co-states, H_k, stationarity", cmd_hamiltonian},
    {"landscape", "critical points and fold bifurcations of the entropy landscape", cmd_landscape},
    {"certify", "certified robustness radius of a classifier, per point", cmd_certify},
    {"attack", "FGSM / PGD attacks: clean and robust accuracy", cmd_attack},
    {"experiment", "run one experiment of the reproduction suite ('list' names them)", cmd_experiment},
    {"reproduce", "run every experiment and write an HTML report of checks and claims", cmd_reproduce},
    {"explore", "serve the interactive explorer page (WebAssembly) on 127.0.0.1", cmd_explore},
    {"bench", "time the kernels against this machine's roofline (exp, GEMM, memory)", cmd_bench},
};
static const size_t NCOMMANDS = sizeof COMMANDS / sizeof COMMANDS[0];

static void usage(FILE *f)
{
    fputs("usage: hjdl COMMAND [OPTIONS]\n"
          "       hjdl COMMAND --help\n"
          "       hjdl --version\n\n"
          "hjdl computes the Hamilton-Jacobi theory of deep learning: a log-sum-exp\n"
          "layer f(x) = eps log sum_j exp((w_j.x + b_j)/eps) is exactly the Hopf-Cole\n"
          "solution of the viscous HJ equation u_t + |grad u|^2 = eps Lap u whose\n"
          "initial data are encoded in the weights.\n\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-13s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fputs("\nStart with 'hjdl verify'. Exit codes: 0 success, 1 a check failed,\n"
          "2 bad usage or bad input.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            for (size_t i = 0; i < NCOMMANDS; i++)
                if (strcmp(argv[2], COMMANDS[i].name) == 0) {
                    char *sub[] = {argv[2], "--help", NULL};
                    return COMMANDS[i].run(2, sub);
                }
            fprintf(stderr, "hjdl: unknown command '%s'\n", argv[2]);
            return CLI_USAGE;
        }
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        hj_error err = {0};
        if (hj_kernels_check(&err) != HJ_OK) { /* HJDL_KERNELS names a set this CPU cannot run */
            fprintf(stderr, "hjdl: %s\n", err.msg);
            return CLI_USAGE;
        }
        printf("hjdl %s\nkernels: %s\n", HJDL_VERSION_STRING, hj_kernels());
        return CLI_OK;
    }
    cli_cleanup_install();
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, COMMANDS[i].name) == 0)
            return cli_dist_run(&COMMANDS[i], argc - 1, argv + 1);
    fprintf(stderr, "hjdl: unknown command '%s' (run 'hjdl --help' for the list)\n", cmd);
    return CLI_USAGE;
}
