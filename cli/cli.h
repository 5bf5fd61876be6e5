/* cli.h — shared pieces of the hjdl command-line tool: option parsing, help, errors.
 *
 * The tool is a thin layer over libhjdl: it parses argv, reads files through
 * the library, calls it, and turns hj_error messages into one line on stderr
 * and an exit code. Exit codes: 0 success, 1 a verification/check failed,
 * 2 bad usage or bad input.
 */
#ifndef HJDL_CLI_H
#define HJDL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hjdl/status.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_HELP = 3 };

typedef enum cli_kind {
    CLI_FLAG,     /* int: set to 1 when present */
    CLI_STRING,   /* const char * */
    CLI_INPUT,    /* const char *: a file read (never an output) */
    CLI_OUTPUT,   /* const char *: a table written (.csv/.tsv/.npy/.npz or none; "-": stdout) */
    CLI_MODEL_OUT,/* const char *: a model written (.hjm or none; "-": stdout) */
    CLI_OUTDIR,   /* const char *: a directory written into (a directory or a new path) */
    CLI_DOUBLE,   /* double, finite */
    CLI_SIZE,     /* size_t, >= 0 */
    CLI_U64       /* uint64_t */
} cli_kind;

typedef struct cli_opt {
    const char *name;      /* long name without dashes, e.g. "eps" */
    cli_kind kind;
    void *dest;            /* where the parsed value goes (keeps its default) */
    const char *metavar;   /* e.g. "E" (NULL for flags) */
    const char *help;      /* one line, mention the default */
    int required;          /* 1: missing is a usage error */
} cli_opt;

typedef struct cli_command {
    const char *name;
    const char *summary;   /* one line for `hjdl --help` */
    int (*run)(int argc, char **argv);
} cli_command;

/* Parse argv[1..] (argv[0] is the command name) against opts. Positional
 * arguments are collected into pos (at most max_pos); they are inputs.
 * "--" ends the options; "-q" is --quiet; "-" is standard input for one
 * input and standard output for one output. An option the verb lacks is
 * refused, a common one (--quiet, --threads, --seed, --format, ...) with
 * the reason it has no meaning there. A "threads" option (CLI_SIZE) is
 * checked (<= HJ_MAX_THREADS) and applied (hj_set_threads) here.
 * Output options are checked before the command does any work: each must
 * be a regular file or a new path (data.h, hj_output_check), none may be
 * an input or another output. Prints a one-line
 * error to stderr and returns CLI_USAGE on bad input; returns CLI_HELP when
 * --help/-h was given (the caller prints help); CLI_OK otherwise. */
int cli_parse(int argc, char **argv, const cli_opt *opts, size_t nopts,
              const char **pos, size_t max_pos, size_t *npos, const char *cmd);

/* The value an option holds before parsing, for --help: "off"/"on",
 * the shortest exact number, "none" for an unset path or size. */
void cli_default_text(const cli_opt *o, char *buf, size_t len);

/* The common options, spelled alike on every verb that has them. */
#define CLI_THREADS_OPTION(var) \
    {"threads", CLI_SIZE, &(var), "T", "threads for OpenMP and OpenBLAS, 1..1024 (default 0: all cores)", 0}
#define CLI_QUIET_OPTION(var) {"quiet", CLI_FLAG, &(var), NULL, "no progress on stderr (default off)", 0}

/* Print a command's help: synopsis line, description paragraph, options;
 * each option shows "(required)" or its default (cli_default_text) unless
 * its help text already says it. */
void cli_print_help(FILE *f, const char *cmd, const char *synopsis,
                    const char *description, const cli_opt *opts, size_t nopts);

/* "hjdl CMD: MESSAGE" on stderr for a failed library call; returns CLI_FAIL
 * when a method did not converge (HJ_EMAXITER), CLI_USAGE for every other
 * error (bad input, sizes that cannot be allocated). */
int cli_report(const char *cmd, const hj_error *err);

/* printf-style one-line error "hjdl CMD: ..." on stderr; returns CLI_USAGE. */
int cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Seconds since an arbitrary epoch (monotonic). */
double cli_now(void);

/* Progress display for long runs (stderr): a bar on a terminal, about ten
 * plain lines per phase otherwise; nothing when quiet. */
typedef struct cli_progress {
    const char *label;
    int quiet, tty;
    double t0, last;
} cli_progress;
void cli_progress_init(cli_progress *p, const char *label, int quiet);
void cli_progress_update(cli_progress *p, const char *phase, size_t step, size_t total, double loss);

/* ---- distributed runs (mpirun -np P hjdl CMD ...; cli_dist.c) ---------- */
struct hj_dist;
/* Start the distributed runtime (dist.h), run the command, stop the
 * runtime. Under mpirun, commands that do not split their work run on rank
 * 0 only. HJDL_DIST_STATS=1 prints each rank's traffic and peak RSS. */
int cli_dist_run(const cli_command *c, int argc, char **argv);
/* The context of this run (a 1-process one when not under mpirun). */
struct hj_dist *cli_dist(void);
/* This process's rank (0 without MPI). */
int cli_dist_rank(void);
/* Collective failure check (args.c, next to the error reporting it uses):
 * every rank passes its own outcome (HJ_OK, or the status and message of
 * what failed here). Returns CLI_OK when every
 * rank succeeded; otherwise rank 0 prints ONE line "hjdl CMD: rank R
 * failed: MESSAGE" (R the lowest failing rank; with one process the plain
 * message, as before) and every rank returns the exit code of that
 * status (cli_report). cli_error and cli_report print on rank 0 only, so
 * errors every rank meets alike (bad options) appear once. */
int cli_dist_fail(const char *cmd, hj_status local, const hj_error *local_err);

/* Rank agreement on inputs: every rank describes what it read of each
 * input (rows, columns, column names or NULL) and the file's whole-content
 * CRC-32 and size (hj_file_crc32) is added; rank 0's descriptions are
 * broadcast (one collective, called by every rank, have = 0 on a rank that
 * already failed) and a rank whose copy differs returns HJ_EFORMAT "PATH:
 * this rank's copy differs from rank 0's (rows: 120 here, 100 on rank 0)";
 * pass the result to cli_dist_fail, which names the rank. HJ_OK at once with
 * one process. At most 8 inputs. */
typedef struct cli_input {
    const char *path;
    size_t rows, cols;
    const char *const *names;
} cli_input;
hj_status cli_dist_same_inputs(const cli_input *in, size_t n, int have, hj_error *err);

/* ---- result tables (output.c) ------------------------------------------- */
struct hj_matrix;
/* Writes the name of column k (at most len bytes with the NUL) into buf. */
typedef void (*cli_column_name_fn)(size_t k, char *buf, size_t len, const void *ctx);
/* Write m with column names from name(k, ..., ctx) to path (CSV or .npy by
 * extension, atomically: nothing is left on failure) or, when path is NULL,
 * as CSV to stdout. Returns CLI_OK, or reports "hjdl CMD: ..." and returns
 * the exit code. */
int cli_write_table(const char *cmd, const char *path, const struct hj_matrix *m,
                    cli_column_name_fn name, const void *ctx);

/* ---- temporary files and staged outputs (cleanup.c) ---------------------
 * SIGINT, SIGTERM and SIGHUP remove this process's temporary files
 * ("*.tmp.PID.*", data.h) from the watched directories, then end the
 * process with the signal, as without the handler. */
void cli_cleanup_install(void);
/* Watch path's directory (is_dir: path itself); at most 16 are kept. */
void cli_cleanup_watch(const char *path, int is_dir);

/* A command with several output files writes each to a staged path
 * (cli_stage_path: FINAL.tmp.PID.s[.EXT] keeping a format's extension, same directory) and renames them
 * all onto their final paths at the end (cli_stage_commit), so they appear
 * only when the whole command succeeded; cli_stage_abort removes them. */
#define CLI_STAGE_MAX 8
typedef struct cli_stage {
    size_t n;
    const char *final[CLI_STAGE_MAX];
    char *tmp[CLI_STAGE_MAX];
} cli_stage;
/* The path to write instead of final (final itself for NULL or "-"). */
const char *cli_stage_path(cli_stage *s, const char *final);
int cli_stage_commit(cli_stage *s, const char *cmd);
void cli_stage_abort(cli_stage *s);

/* mkdir -p dir for a command's output directory; *created = 1 when it did
 * not exist. cli_remove_out_dir removes it again after a failure when the
 * command created it and it is empty. */
int cli_make_out_dir(const char *cmd, const char *dir, int *created);
void cli_remove_out_dir(const char *dir, int created);

/* Commands. */
int cmd_verify(int argc, char **argv);
int cmd_solve(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_hamiltonian(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_initial_data(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_landscape(int argc, char **argv);
int cmd_certify(int argc, char **argv);
int cmd_explore(int argc, char **argv);
int cmd_attack(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif /* HJDL_CLI_H */
