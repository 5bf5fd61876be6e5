/* args.c — table-driven option parsing and help text for the CLI (messages: messages.c). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "hjdl/data.h"
#include "hjdl/dist.h"
#include "hjdl/limits.h"
#include "hjdl/runtime.h"

static const cli_opt *find_opt(const cli_opt *opts, size_t nopts, const char *name, size_t len)
{
    for (size_t i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

/* Store text into the option's destination; 0 on success. */
static int store(const char *cmd, const cli_opt *o, const char *text)
{
    char *end = NULL;
    errno = 0;
    switch (o->kind) {
    case CLI_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case CLI_STRING:
    case CLI_INPUT:
    case CLI_OUTPUT:
    case CLI_MODEL_OUT:
    case CLI_OUTDIR:
        if (text[0] == '\0')
            return cli_error(cmd, "--%s needs a non-empty value", o->name);
        *(const char **)o->dest = text;
        return 0;
    case CLI_DOUBLE: {
        /* the number syntax of the data files (data.h): decimal, no hex,
         * subnormals accepted */
        if (!hj_number_syntax(text, strlen(text)))
            return cli_error(cmd, "--%s: '%s' is not a finite number (decimal, e.g. 0.5 or 1e-3)",
                             o->name, text);
        double v = strtod(text, &end);
        if (*end != '\0' || !isfinite(v))
            return cli_error(cmd, "--%s: '%s' is out of the range of a double", o->name, text);
        *(double *)o->dest = v;
        return 0;
    }
    case CLI_SIZE:
    case CLI_U64: {
        /* decimal digits only: no sign, space or hex, as in the data files */
        if (text[strspn(text, "0123456789")] != '\0' || text[0] == '\0')
            return cli_error(cmd, "--%s: '%s' is not a non-negative integer", o->name, text);
        unsigned long long v = strtoull(text, &end, 10);
        if (*end != '\0' || errno == ERANGE)
            return cli_error(cmd, "--%s: '%s' is not a non-negative integer", o->name, text);
        if (o->kind == CLI_SIZE) {
            if (v > SIZE_MAX)
                return cli_error(cmd, "--%s: %s is too large", o->name, text);
            *(size_t *)o->dest = (size_t)v;
        } else {
            *(uint64_t *)o->dest = (uint64_t)v;
        }
        return 0;
    }
    }
    return cli_error(cmd, "internal: unknown option kind");
}

/* The output-path policy (data.h, hj_output_check) for every output option,
 * before any work: no output is an input (an input option or a positional
 * argument) or another output; "-" is standard output. Output directories
 * must be directories or new paths. Each output's directory is watched for
 * temporary files on SIGINT/SIGTERM (cli_cleanup_watch). */
static int is_output(cli_kind k) { return k == CLI_OUTPUT || k == CLI_MODEL_OUT || k == CLI_OUTDIR; }

/* At most one input is standard input and one output standard output. */
static int check_streams(const cli_opt *opts, size_t nopts, const char **pos, size_t np, const char *cmd)
{
    const char *in = NULL, *out = NULL;
    for (size_t j = 0; j < np; j++)
        if (strcmp(pos[j], "-") == 0) {
            if (in)
                return cli_error(cmd, "two inputs are '-'; only one can be standard input");
            in = "another input";
        }
    for (size_t k = 0; k < nopts; k++) {
        const cli_opt *o = &opts[k];
        const char *v = o->kind == CLI_INPUT || is_output(o->kind) ? *(const char *const *)o->dest : NULL;
        if (v == NULL || strcmp(v, "-") != 0)
            continue;
        if (o->kind == CLI_OUTDIR)
            return cli_error(cmd, "--%s -: an output directory cannot be standard output", o->name);
        const char **slot = o->kind == CLI_INPUT ? &in : &out;
        if (*slot)
            return cli_error(cmd, "--%s - and %s both use standard %s; only one can", o->name, *slot,
                             o->kind == CLI_INPUT ? "input" : "output");
        *slot = o->kind == CLI_INPUT ? "another input" : "another output";
    }
    return CLI_OK;
}

/* A model is written as .hjm text: another extension is refused. */
static int check_model_path(const cli_opt *o, const char *out, const char *cmd)
{
    const char *base = strrchr(out, '/');
    base = base ? base + 1 : out;
    const char *dot = strrchr(base, '.');
    if (dot == NULL || dot == base || strcasecmp(dot, ".hjm") == 0)
        return CLI_OK;
    return cli_error(cmd, "--%s %s: '%s' is not a model format; %s writes models as .hjm text", o->name,
                     out, dot, cmd);
}

static int check_paths(const cli_opt *opts, size_t nopts, const char **pos, size_t np, const char *cmd)
{
    if (check_streams(opts, nopts, pos, np, cmd) != CLI_OK)
        return CLI_USAGE;
    for (size_t k = 0; k < nopts; k++) {
        const cli_opt *o = &opts[k];
        const char *out = is_output(o->kind) ? *(const char *const *)o->dest : NULL;
        if (out == NULL || strcmp(out, "-") == 0)
            continue;
        hj_error err = {0};
        if (o->kind != CLI_OUTDIR && hj_output_check(out, &err) != HJ_OK)
            return cli_error(cmd, "--%s %s", o->name, err.msg);
        struct stat sb;
        if (o->kind == CLI_OUTDIR && stat(out, &sb) == 0 && !S_ISDIR(sb.st_mode))
            return cli_error(cmd, "--%s %s: exists and is not a directory", o->name, out);
        for (size_t j = 0; o->kind != CLI_OUTDIR && j < np; j++)
            if (hj_path_same_file(out, pos[j]))
                return cli_error(cmd, "--%s %s is the input %s; refusing to overwrite an input",
                                 o->name, out, pos[j]);
        for (size_t j = 0; j < nopts; j++) {
            const cli_opt *q = &opts[j];
            if (j == k || !(q->kind == CLI_INPUT || is_output(q->kind)))
                continue;
            const char *other = *(const char *const *)q->dest;
            if (other == NULL || !hj_path_same_file(out, other))
                continue;
            if (q->kind == CLI_INPUT)
                return cli_error(cmd, "--%s %s is the input --%s; refusing to overwrite an input",
                                 o->name, out, q->name);
            if (j > k)
                return cli_error(cmd, "--%s and --%s name the same file %s", o->name, q->name,
                                 out);
        }
        /* then the format the name asks for */
        hj_format fmt;
        if (o->kind == CLI_OUTPUT && hj_format_for_write(out, HJ_FORMAT_AUTO, &fmt, &err) != HJ_OK)
            return cli_error(cmd, "--%s %s", o->name, err.msg);
        if (o->kind == CLI_MODEL_OUT && check_model_path(o, out, cmd) != CLI_OK)
            return CLI_USAGE;
        cli_cleanup_watch(out, o->kind == CLI_OUTDIR);
    }
    return CLI_OK;
}

/* An option the verb lacks: a common one says why it has no meaning here. */
static int unknown_option(const char *name, size_t len, const char *cmd)
{
    static const struct { const char *name, *why; } common[] = {
        {"quiet", "it shows no progress"},
        {"threads", "it does no parallel work"},
        {"seed", "it draws no random numbers"},
        {"format", "it reads no data table"},
        {"no-header", "it reads no data table"},
        {"version", "it is an option of hjdl itself: 'hjdl --version'"},
    };
    for (size_t k = 0; k < sizeof common / sizeof common[0]; k++)
        if (strlen(common[k].name) == len && strncmp(common[k].name, name, len) == 0)
            return cli_error(cmd, "--%s is not an option of %s: %s", common[k].name, cmd, common[k].why);
    return cli_error(cmd, "unknown option '--%.*s' (see 'hjdl %s --help')", (int)len, name, cmd);
}

/* --threads N: checked and applied for every verb that has it. */
static int apply_threads(const cli_opt *opts, size_t nopts, const unsigned char *seen, const char *cmd)
{
    for (size_t k = 0; k < nopts && k < 64; k++) {
        if (strcmp(opts[k].name, "threads") != 0 || opts[k].kind != CLI_SIZE || !seen[k])
            continue;
        size_t n = *(const size_t *)opts[k].dest;
        if (n > HJ_MAX_THREADS)
            return cli_error(cmd, "--threads %zu is more than the limit of %d", n, HJ_MAX_THREADS);
        if (n > 0)
            hj_set_threads(n);
    }
    return CLI_OK;
}

int cli_parse(int argc, char **argv, const cli_opt *opts, size_t nopts,
              const char **pos, size_t max_pos, size_t *npos, const char *cmd)
{
    size_t np = 0;
    unsigned char seen[64] = {0};
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_positional && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0))
            return CLI_HELP;
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            if (np == max_pos)
                return cli_error(cmd, "unexpected argument '%s' (see 'hjdl %s --help')", a, cmd);
            pos[np++] = a;
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        if (a[1] != '-') { /* the short forms: -q (--quiet) */
            if (strcmp(a, "-q") != 0)
                return cli_error(cmd, "unknown option '%s' (short forms are -h and -q; other options are "
                                 "spelled --name; see 'hjdl %s --help')", a, cmd);
            name = "quiet", eq = NULL;
        }
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = find_opt(opts, nopts, name, len);
        if (o == NULL)
            return unknown_option(name, len, cmd);
        size_t idx = (size_t)(o - opts);
        if (idx < sizeof seen && seen[idx])
            return cli_error(cmd, "option --%s given twice", o->name);
        if (idx < sizeof seen)
            seen[idx] = 1;
        const char *val = NULL;
        if (o->kind == CLI_FLAG) {
            if (eq)
                return cli_error(cmd, "--%s takes no value", o->name);
        } else if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            return cli_error(cmd, "--%s needs a value (%s)", o->name, o->metavar ? o->metavar : "VALUE");
        }
        if (store(cmd, o, val) != 0)
            return CLI_USAGE;
    }
    for (size_t k = 0; k < nopts && k < sizeof seen; k++)
        if (opts[k].required && !seen[k])
            return cli_error(cmd, "missing required option --%s (see 'hjdl %s --help')", opts[k].name, cmd);
    if (check_paths(opts, nopts, pos, np, cmd) != CLI_OK || apply_threads(opts, nopts, seen, cmd) != CLI_OK)
        return CLI_USAGE;
    if (npos)
        *npos = np;
    return CLI_OK;
}

void cli_default_text(const cli_opt *o, char *buf, size_t len)
{
    switch (o->kind) {
    case CLI_FLAG:
        snprintf(buf, len, "%s", *(const int *)o->dest ? "on" : "off");
        return;
    case CLI_DOUBLE:
        if (isnan(*(const double *)o->dest)) /* NaN: not given */
            snprintf(buf, len, "none");
        else
            hj_double_text(*(const double *)o->dest, buf, len);
        return;
    case CLI_SIZE: {
        size_t v = *(const size_t *)o->dest;
        if (v == SIZE_MAX)
            snprintf(buf, len, "none");
        else
            snprintf(buf, len, "%zu", v);
        return;
    }
    case CLI_U64:
        snprintf(buf, len, "%" PRIu64, *(const uint64_t *)o->dest);
        return;
    default: {
        const char *v = *(const char *const *)o->dest;
        snprintf(buf, len, "%s", v ? v : "none");
        return;
    }
    }
}

void cli_print_help(FILE *f, const char *cmd, const char *synopsis,
                    const char *description, const cli_opt *opts, size_t nopts)
{
    fprintf(f, "usage: hjdl %s %s\n\n%s\n", cmd, synopsis, description);
    if (nopts)
        fputs("\noptions:\n", f);
    for (size_t i = 0; i < nopts; i++) {
        const cli_opt *o = &opts[i];
        char lhs[64], dflt[96] = "";
        const char *shorts = strcmp(o->name, "quiet") == 0 ? "-q, " : "";
        if (o->kind == CLI_FLAG)
            snprintf(lhs, sizeof lhs, "%s--%s", shorts, o->name);
        else
            snprintf(lhs, sizeof lhs, "--%s %s", o->name, o->metavar ? o->metavar : "V");
        if (o->required) {
            if (strstr(o->help, "(required)") == NULL)
                snprintf(dflt, sizeof dflt, " (required)");
        } else if (strstr(o->help, "default") == NULL) {
            char v[48];
            cli_default_text(o, v, sizeof v);
            snprintf(dflt, sizeof dflt, " (default %s)", v);
        }
        fprintf(f, "  %-22s %s%s\n", lhs, o->help, dflt);
    }
    fprintf(f, "  %-22s %s\n", "-h, --help", "show this help");
}
