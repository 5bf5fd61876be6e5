/* claims_tsv.c — a run's claims as one tab-separated line each (claims.tsv), written beside
 * report.html and read back by `hjdl reproduce --compare DIR` for the verdict-stability table.
 * Plain TSV rather than parsing summary.json: the format is ours, line-oriented and trivially
 * validated, and the JSON files stay the full record. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hjdl/report.h"
#include "io/io.h"

#define N_FIELDS 9
static const char HEADER[] = "experiment\tclaim\tsource\tverdict\tprovisional\tmeasured\tlo\thi\tstatement";

typedef struct tsv_ctx {
    const hj_result *results;
    size_t n;
} tsv_ctx;

static void put_clean(FILE *f, const char *s)
{
    for (; s && *s; s++)
        fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static hj_status write_tsv(FILE *f, const void *ctx, hj_error *err)
{
    const tsv_ctx *c = ctx;
    fprintf(f, "%s\n", HEADER);
    for (size_t i = 0; i < c->n; i++) {
        const hj_result *r = &c->results[i];
        for (size_t j = 0; j < r->n_claims; j++) {
            const hj_claim *cl = &r->claims[j];
            put_clean(f, r->experiment);
            fputc('\t', f);
            put_clean(f, cl->claim);
            fprintf(f, "\t%s\t%s\t%d\t%.17g\t%.17g\t%.17g\t", hj_claim_source_name(cl->source),
                    hj_verdict_name(cl->verdict), cl->provisional ? 1 : 0, cl->measured, cl->lo, cl->hi);
            put_clean(f, cl->statement);
            fputc('\n', f);
        }
    }
    return ferror(f) ? hj_error_set(err, HJ_EIO, "write error") : HJ_OK;
}

hj_status hj_report_write_claims(const char *out_dir, const hj_result *results, size_t n,
                                 hj_error *err)
{
    if (out_dir == NULL || (results == NULL && n > 0))
        return hj_error_set(err, HJ_EINVAL, "claims.tsv: NULL argument");
    char path[1100];
    int k = snprintf(path, sizeof path, "%s/claims.tsv", out_dir);
    if (k < 0 || (size_t)k >= sizeof path)
        return hj_error_set(err, HJ_EINVAL, "claims.tsv: output path too long");
    tsv_ctx c = {results, n};
    hj_io_c_locale loc;
    hj_status st = hj_io_c_locale_enter(&loc, err);
    if (st != HJ_OK)
        return st;
    st = hj_io_write_atomic(path, write_tsv, &c, err);
    hj_io_c_locale_leave(&loc);
    return st;
}

/* Split line (NUL-terminated, modified) at tabs into at most max fields. */
static size_t split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        if (n < max)
            fields[n] = p;
        n++;
        char *t = strchr(p, '\t');
        if (t == NULL)
            break;
        *t = '\0';
        p = t + 1;
    }
    return n;
}

static int parse_double(const char *s, double *v)
{
    if (*s == '\0')
        return 0;
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && (errno == 0 || errno == ERANGE);
}

static int copy_field(char *dst, size_t cap, const char *src)
{
    size_t l = strlen(src);
    if (l == 0 || l >= cap)
        return 0;
    memcpy(dst, src, l + 1);
    return 1;
}

static hj_status parse_row(char *line, hj_report_claim_row *row, const char *path, size_t lineno,
                           hj_error *err)
{
    char *f[N_FIELDS];
    size_t nf = split(line, f, N_FIELDS);
    if (nf != N_FIELDS)
        return hj_error_set(err, HJ_EFORMAT, "%s:%zu: expected %d tab-separated fields, found %zu", path,
                            lineno, N_FIELDS, nf);
    memset(row, 0, sizeof *row);
    if (!copy_field(row->experiment, sizeof row->experiment, f[0]) ||
        !copy_field(row->claim, sizeof row->claim, f[1]) || !copy_field(row->source, sizeof row->source, f[2]) ||
        !copy_field(row->statement, sizeof row->statement, f[8]))
        return hj_error_set(err, HJ_EFORMAT, "%s:%zu: an empty or over-long name or statement", path, lineno);
    if (strcmp(row->source, "paper") != 0 && strcmp(row->source, "hjdl") != 0)
        return hj_error_set(err, HJ_EFORMAT, "%s:%zu: source '%s' is neither paper nor hjdl", path, lineno,
                            row->source);
    int found = 0;
    for (int v = HJ_VERDICT_AGREES; v <= HJ_VERDICT_INCONCLUSIVE; v++)
        if (strcmp(f[3], hj_verdict_name((hj_verdict)v)) == 0)
            row->verdict = (hj_verdict)v, found = 1;
    if (!found)
        return hj_error_set(err, HJ_EFORMAT, "%s:%zu: unknown verdict '%s'", path, lineno, f[3]);
    if (strcmp(f[4], "0") != 0 && strcmp(f[4], "1") != 0)
        return hj_error_set(err, HJ_EFORMAT, "%s:%zu: provisional must be 0 or 1, not '%s'", path, lineno, f[4]);
    row->provisional = f[4][0] == '1';
    if (!parse_double(f[5], &row->measured) || !parse_double(f[6], &row->lo) || !parse_double(f[7], &row->hi))
        return hj_error_set(err, HJ_EFORMAT, "%s:%zu: measured, lo and hi must be numbers", path, lineno);
    return HJ_OK;
}

hj_status hj_report_read_claims(const char *path, hj_report_claim_row **rows, size_t *n_rows,
                                hj_error *err)
{
    if (path == NULL || rows == NULL || n_rows == NULL)
        return hj_error_set(err, HJ_EINVAL, "claims.tsv: NULL argument");
    *rows = NULL;
    *n_rows = 0;
    char *buf = NULL;
    size_t len = 0;
    hj_status st = hj_io_read_file(path, &buf, &len, err);
    if (st != HJ_OK)
        return st;
    if (memchr(buf, '\0', len) != NULL) {
        free(buf);
        return hj_error_set(err, HJ_EFORMAT, "%s: NUL byte (not a claims.tsv file)", path);
    }
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    hj_report_claim_row *out = calloc(lines + 1, sizeof *out);
    if (out == NULL) {
        free(buf);
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
    }
    size_t n = 0, lineno = 0;
    char *p = buf, *end = buf + len;
    while (p < end && st == HJ_OK) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        *stop = '\0';
        if (stop > p && stop[-1] == '\r')
            stop[-1] = '\0';
        lineno++;
        if (lineno == 1) {
            if (strcmp(p, HEADER) != 0)
                st = hj_error_set(err, HJ_EFORMAT, "%s:1: not a claims.tsv header (expected '%s')", path,
                                  "experiment<TAB>claim<TAB>...");
        } else if (*p != '\0') {
            st = parse_row(p, &out[n], path, lineno, err);
            n += st == HJ_OK;
        }
        p = stop + 1;
    }
    if (st == HJ_OK && lineno == 0)
        st = hj_error_set(err, HJ_EFORMAT, "%s: empty file (not a claims.tsv file)", path);
    free(buf);
    if (st != HJ_OK) {
        free(out);
        return st;
    }
    *rows = out;
    *n_rows = n;
    return HJ_OK;
}
