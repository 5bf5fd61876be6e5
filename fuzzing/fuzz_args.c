/* fuzz_args.c — libFuzzer harness for the command-line option parser
 * (cli/args.c, cli_parse): the input, split at NUL bytes, is an argv; the
 * option table has one option of every kind. Properties: no crash or
 * sanitizer report; the result is CLI_OK, CLI_USAGE or CLI_HELP; on CLI_OK
 * every double is finite and in the decimal syntax of the data files, every
 * string option is non-empty, every output option passes the output-path
 * policy (or is "-"), names no input and no other output, and a required
 * option is present. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hjdl/data.h"
#include "hjdl/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What cli_parse needs from the rest of the CLI: rank != 0 keeps cli_error
 * quiet (under mpirun only rank 0 speaks), and no directory is watched. */
int cli_dist_rank(void) { return 1; }
void cli_cleanup_watch(const char *path, int is_dir) { (void)path, (void)is_dir; }
/* --threads is applied by cli_parse: no thread pool here */
void hj_set_threads(size_t n) { (void)n; }

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_args: property violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { MAX_ARGS = 32 };
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[MAX_ARGS + 1] = {"fuzz"};
    int argc = 1;
    for (size_t i = 0; i <= size && argc < MAX_ARGS;) { /* NUL-separated arguments */
        argv[argc++] = text + i;
        i += strlen(text + i) + 1;
    }
    int flag = 0;
    const char *str = NULL, *in = NULL, *in2 = NULL, *out = NULL, *out2 = NULL, *dir = NULL;
    double dbl = 0.25;
    size_t sz = 7;
    uint64_t u = 9;
    const cli_opt opts[] = {
        {"flag", CLI_FLAG, &flag, NULL, "a flag", 0},
        {"s", CLI_STRING, &str, "S", "a string", 0},
        {"x", CLI_INPUT, &in, "FILE", "an input", 0},
        {"data", CLI_INPUT, &in2, "FILE", "another input", 0},
        {"out", CLI_OUTPUT, &out, "FILE", "an output", 0},
        {"trace", CLI_OUTPUT, &out2, "FILE", "another output", 0},
        {"dir", CLI_OUTDIR, &dir, "DIR", "an output directory", 0},
        {"eps", CLI_DOUBLE, &dbl, "E", "a double", 0},
        {"n", CLI_SIZE, &sz, "N", "a size", 0},
        {"seed", CLI_U64, &u, "S", "a seed", 0},
        {"req", CLI_FLAG, &flag, NULL, "required when argv says so", 0},
    };
    /* the first argument's length picks whether --req is required */
    const int need_req = argc > 1 && strlen(argv[1]) % 5 == 0;
    cli_opt table[sizeof opts / sizeof opts[0]];
    memcpy(table, opts, sizeof opts);
    table[10].required = need_req;
    const char *pos[4];
    size_t npos = 0;
    int rc = cli_parse(argc, argv, table, sizeof table / sizeof table[0], pos, 4, &npos, "fuzz");
    check(rc == CLI_OK || rc == CLI_USAGE || rc == CLI_HELP, "status is OK, USAGE or HELP");
    if (rc == CLI_OK) {
        check(isfinite(dbl), "a double option is finite");
        check(npos <= 4, "positional count within bounds");
        const char *strs[] = {str, in, in2, out, out2, dir};
        for (size_t k = 0; k < 6; k++)
            check(strs[k] == NULL || strs[k][0] != '\0', "string options are non-empty");
        const char *outs[] = {out, out2};
        for (size_t k = 0; k < 2; k++) {
            if (outs[k] == NULL || strcmp(outs[k], "-") == 0)
                continue;
            hj_error e = {0};
            check(hj_output_check(outs[k], &e) == HJ_OK, "outputs pass the output-path policy");
            check(!hj_path_same_file(outs[k], in) && !hj_path_same_file(outs[k], in2),
                  "no output is an input");
            for (size_t j = 0; j < npos; j++)
                check(!hj_path_same_file(outs[k], pos[j]), "no output is a positional input");
        }
        check(out == NULL || out2 == NULL || strcmp(out, "-") == 0 || !hj_path_same_file(out, out2),
              "outputs are distinct (\"-\" is stdout)");
        check(!need_req || flag, "a required option is present");
    }
    free(text);
    return 0;
}
