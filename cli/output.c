/* output.c — writing a result table with named columns: a file (CSV or .npy by extension, atomic) or stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hjdl/data.h"

/* Longest column name a command makes. */
#define CLI_NAME_LEN 64

int cli_write_table(const char *cmd, const char *path, const hj_matrix *m, cli_column_name_fn name,
                    const void *ctx)
{
    const size_t cols = m->cols;
    char **names = calloc(cols ? cols : 1, sizeof *names);
    char *text = malloc((cols ? cols : 1) * CLI_NAME_LEN);
    if (names == NULL || text == NULL) {
        free(names), free(text);
        return cli_error(cmd, "out of memory");
    }
    for (size_t k = 0; k < cols; k++) {
        names[k] = text + k * CLI_NAME_LEN;
        name(k, names[k], CLI_NAME_LEN, ctx);
    }
    hj_error err = {0};
    if (path != NULL && strcmp(path, "-") == 0)
        path = NULL; /* "-" is standard output */
    hj_status st = path ? hj_matrix_write(path, m, (const char *const *)names, &err)
                        : hj_csv_write_stream(stdout, m, (const char *const *)names, &err);
    free(names), free(text);
    return st == HJ_OK ? CLI_OK : cli_report(cmd, &err);
}
