/* cli_columns.c — columns selected by name, class labels kept as the user wrote them, checked outputs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_data.h"
#include "hjdl/data.h"
#include "hjdl/lse.h"
#include "hjdl/rng.h"

void cli_shuffled_order(size_t n, uint64_t seed, size_t *perm)
{
    hj_rng r;
    hj_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(hj_rng_next(&r) % i), tmp = perm[i - 1];
        perm[i - 1] = perm[j], perm[j] = tmp;
    }
}

void cli_strings_free(char **s, size_t n)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void cli_list_columns(const hj_matrix *M, char *buf, size_t len)
{
    size_t k = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < M->cols; j++) {
        char one[64];
        if (M->names)
            snprintf(one, sizeof one, "%s%s", j ? ", " : "", M->names[j]);
        else
            snprintf(one, sizeof one, "%s%zu", j ? ", " : "", j + 1);
        size_t l = strlen(one);
        if (k + l + 4 >= len || k > 400) {
            snprintf(buf + k, len - k, ", ...");
            return;
        }
        memcpy(buf + k, one, l + 1);
        k += l;
    }
}

/* Whole file into a fresh buffer. */
static int slurp(const char *path, char **buf, size_t *len, const char *cmd)
{
    int std_in = strcmp(path, "-") == 0;
    FILE *f = std_in ? stdin : fopen(path, "rb");
    if (f == NULL)
        return cli_error(cmd, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *nb = realloc(b, cap * 2);
        if (nb == NULL)
            free(b);
        b = nb, cap *= 2;
    }
    int bad = ferror(f);
    if (!std_in)
        fclose(f);
    if (b == NULL)
        return cli_error(cmd, "%s: out of memory", path);
    if (bad) {
        free(b);
        return cli_error(cmd, "%s: read error", path);
    }
    *buf = b, *len = n;
    return CLI_OK;
}

/* Fields of a header line (separators outside double quotes, plus one). */
static size_t header_fields(const char *s, size_t n, char sep)
{
    size_t f = 1;
    int q = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            q = !q;
        else if (s[i] == sep && !q)
            f++;
    }
    return f;
}

int cli_io_options(const cli_io *io, hj_read_options *ro, const char *cmd)
{
    memset(ro, 0, sizeof *ro);
    if (io == NULL)
        return CLI_OK;
    hj_error err = {0};
    if (io->format && hj_format_parse(io->format, &ro->format, &err) != HJ_OK)
        return cli_error(cmd, "--format: %s", err.msg);
    ro->no_header = io->no_header;
    ro->features = io->features;
    if (io->no_header && ro->format != HJ_FORMAT_AUTO && ro->format != HJ_FORMAT_CSV &&
        ro->format != HJ_FORMAT_TSV)
        return cli_error(cmd, "--no-header applies to CSV and TSV, not --format %s", io->format);
    return CLI_OK;
}

/* The format path is read in: forced, by extension, by content for "-", else CSV. */
static hj_format table_format(const char *path, const hj_read_options *ro, const char *buf, size_t len)
{
    if (ro->format != HJ_FORMAT_AUTO)
        return ro->format;
    hj_format f = hj_format_of_path(path);
    if (f == HJ_FORMAT_AUTO && strcmp(path, "-") == 0)
        f = hj_format_sniff(buf, len);
    return f == HJ_FORMAT_AUTO ? HJ_FORMAT_CSV : f;
}

size_t cli_find_column(const hj_matrix *M, const char *spec)
{
    if (M->names)
        for (size_t k = 0; k < M->cols; k++)
            if (strcmp(M->names[k], spec) == 0)
                return k;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(spec, &end, 10);
    if (*spec && *end == '\0' && v >= 1 && v <= M->cols && errno == 0)
        return (size_t)v - 1;
    return SIZE_MAX;
}

static int check_duplicate_names(const hj_matrix *M, const char *path, const char *cmd)
{
    for (size_t j = 0; M->names && j < M->cols; j++)
        for (size_t k = 0; k < j; k++)
            if (strcmp(M->names[j], M->names[k]) == 0)
                return cli_error(cmd, "%s: columns %zu and %zu are both named '%s'; column names must be distinct",
                                 path, k + 1, j + 1, M->names[j]);
    return CLI_OK;
}

static int unknown_column(const hj_matrix *M, const char *spec, const char *path, const char *cmd)
{
    char list[512];
    cli_list_columns(M, list, sizeof list);
    return cli_error(cmd, "--target %s: %s has no such column; its columns are: %s", spec, path, list);
}

int cli_read_table(const char *path, const cli_io *io, const char *text_col, int text_last, int required,
                   hj_matrix *M, size_t *tcol, char ***texts, const char *cmd)
{
    hj_error err = {0};
    memset(M, 0, sizeof *M);
    *tcol = SIZE_MAX;
    *texts = NULL;
    hj_read_options ro;
    int rc = cli_io_options(io, &ro, cmd);
    if (rc != CLI_OK)
        return rc;
    const int std_in = strcmp(path, "-") == 0;
    const char *name = std_in ? "<stdin>" : path;
    char *buf = NULL, *re = NULL;
    size_t len = 0;
    if (std_in && (rc = slurp(path, &buf, &len, cmd)) != CLI_OK)
        return rc;
    ro.format = table_format(path, &ro, buf, len);
    const int text = ro.format == HJ_FORMAT_CSV || ro.format == HJ_FORMAT_TSV;
    const char sep = ro.format == HJ_FORMAT_TSV ? '\t' : ',';
    if (!text || (text_col == NULL && !text_last)) {
        hj_status st = std_in ? hj_matrix_parse(buf, len, name, &ro, M, &err)
                              : hj_matrix_read_with(path, &ro, M, &err);
        free(buf);
        if (st != HJ_OK)
            return cli_report(cmd, &err);
        rc = check_duplicate_names(M, path, cmd);
        if (rc == CLI_OK && text_col) {
            *tcol = cli_find_column(M, text_col);
            if (*tcol == SIZE_MAX && required)
                rc = unknown_column(M, text_col, path, cmd);
        } else if (rc == CLI_OK && text_last) {
            *tcol = M->cols - 1;
        }
        if (rc != CLI_OK)
            hj_matrix_free(M);
        return rc;
    }
    if (!std_in && (rc = slurp(path, &buf, &len, cmd)) != CLI_OK)
        return rc;
    /* the header alone (with a dummy row) gives the names through the
     * library's parser; without a header, the first line's width */
    const char *nl = memchr(buf, '\n', len);
    size_t hl = nl ? (size_t)(nl - buf) : len;
    size_t hl_trim = hl > 0 && buf[hl - 1] == '\r' ? hl - 1 : hl;
    size_t nf = header_fields(buf, hl_trim, sep);
    hj_matrix H = {0};
    char *hbuf = malloc(hl_trim + 2 * nf + 2);
    size_t rows = 0, cap = 64;
    char **tx = NULL;
    if (hbuf == NULL) {
        rc = cli_error(cmd, "out of memory");
        goto done;
    }
    size_t k = 0;
    if (!ro.no_header) {
        memcpy(hbuf, buf, hl_trim);
        k = hl_trim;
        hbuf[k++] = '\n';
    }
    for (size_t j = 0; j < nf; j++) {
        hbuf[k++] = '0';
        hbuf[k++] = j + 1 < nf ? sep : '\n';
    }
    if (hj_matrix_parse(hbuf, k, name, &ro, &H, &err) != HJ_OK) {
        free(hbuf);
        hbuf = NULL;
        /* fall back to the plain reader for its message */
        if (hj_matrix_parse(buf, len, name, &ro, M, &err) != HJ_OK)
            rc = cli_report(cmd, &err);
        else
            rc = cli_error(cmd, "%s: unreadable header", name);
        hj_matrix_free(M);
        goto done;
    }
    free(hbuf);
    if ((rc = check_duplicate_names(&H, path, cmd)) != CLI_OK)
        goto done;
    size_t col = text_col ? cli_find_column(&H, text_col) : H.cols - 1;
    if (col == SIZE_MAX) {
        if (required) {
            rc = unknown_column(&H, text_col, path, cmd);
            goto done;
        }
        hj_matrix_free(&H);
        hj_status st = hj_matrix_parse(buf, len, name, &ro, M, &err);
        free(buf);
        return st == HJ_OK ? CLI_OK : cli_report(cmd, &err);
    }
    /* the data lines again, with field col replaced by 0 and kept as text */
    re = malloc(len + 2 * (len / 2 + 2));
    tx = malloc(cap * sizeof *tx);
    if (re == NULL || tx == NULL) {
        rc = cli_error(cmd, "out of memory");
        goto done;
    }
    size_t o = 0, pos = ro.no_header ? 0 : nl ? hl + 1 : len;
    memcpy(re, buf, pos);
    o = pos;
    while (pos < len) {
        const char *L = buf + pos, *e = memchr(L, '\n', len - pos);
        size_t ll = e ? (size_t)(e - L) : len - pos;
        pos += ll + (e ? 1 : 0);
        size_t lt = ll > 0 && L[ll - 1] == '\r' ? ll - 1 : ll;
        size_t a = 0, f = 0;
        int blank = 1;
        for (size_t i = 0; i < lt; i++)
            if (L[i] != ' ' && L[i] != '\t')
                blank = 0;
        if (!blank) {
            while (f < col && a < lt) { /* start of field col */
                if (L[a] == sep)
                    f++;
                a++;
            }
        }
        if (blank || f < col) { /* blank or short line: left for the parser to judge */
            memcpy(re + o, L, ll);
            o += ll;
        } else {
            size_t b = a;
            while (b < lt && L[b] != sep)
                b++;
            size_t s0 = a, s1 = b;
            while (s0 < s1 && (L[s0] == ' ' || (L[s0] == '\t' && sep != '\t')))
                s0++;
            while (s1 > s0 && (L[s1 - 1] == ' ' || (L[s1 - 1] == '\t' && sep != '\t')))
                s1--;
            if (rows == cap) {
                char **nt = realloc(tx, 2 * cap * sizeof *nt);
                if (nt == NULL) {
                    rc = cli_error(cmd, "out of memory");
                    goto done;
                }
                tx = nt, cap *= 2;
            }
            if ((tx[rows] = dup_n(L + s0, s1 - s0)) == NULL) {
                rc = cli_error(cmd, "out of memory");
                goto done;
            }
            rows++;
            memcpy(re + o, L, a);
            o += a;
            re[o++] = '0';
            memcpy(re + o, L + b, lt - b);
            o += lt - b;
        }
        if (e)
            re[o++] = '\n';
    }
    if (hj_matrix_parse(re, o, name, &ro, M, &err) != HJ_OK) {
        rc = cli_report(cmd, &err);
        goto done;
    }
    if (M->rows != rows) { /* cannot happen: every parsed row had its field */
        hj_matrix_free(M);
        rc = cli_error(cmd, "%s: %zu rows but %zu labels", path, M->rows, rows);
        goto done;
    }
    *tcol = col;
    *texts = tx;
    tx = NULL;
done:
    if (tx)
        cli_strings_free(tx, rows);
    hj_matrix_free(&H);
    free(buf);
    free(re);
    return rc;
}

int cli_read_matrix(const char *path, const cli_io *io, hj_matrix *M, const char *cmd)
{
    size_t tcol;
    char **texts;
    return cli_read_table(path, io, NULL, 0, 0, M, &tcol, &texts, cmd);
}

int cli_model_inputs(const hj_model *m, const hj_matrix *M, const char *path, const char *model_path,
                     int allow_extra_last, double **x, size_t *target_col, const char *cmd)
{
    const size_t d = m->pre.d_raw, n = M->rows;
    size_t *map = malloc((d ? d : 1) * sizeof *map);
    *x = NULL;
    *target_col = SIZE_MAX;
    if (map == NULL)
        return cli_error(cmd, "out of memory");
    if (m->feature_names && M->names) {
        for (size_t j = 0; j < d; j++) {
            map[j] = SIZE_MAX;
            for (size_t k = 0; k < M->cols; k++)
                if (strcmp(M->names[k], m->feature_names[j]) == 0)
                    map[j] = k;
            if (map[j] == SIZE_MAX) {
                free(map);
                return cli_error(cmd, "%s has no column '%s', an input of the model %s", path,
                                 m->feature_names[j], model_path);
            }
        }
        for (size_t k = 0; m->target_name && k < M->cols; k++)
            if (strcmp(M->names[k], m->target_name) == 0)
                *target_col = k;
    } else {
        if (M->cols != d && !(allow_extra_last && M->cols == d + 1)) {
            free(map);
            return cli_error(cmd, "%s: %zu columns, but the model %s takes %zu input features%s", path, M->cols,
                             model_path, d, allow_extra_last ? " (plus a label column)" : "");
        }
        for (size_t j = 0; j < d; j++)
            map[j] = j;
        if (M->cols == d + 1)
            *target_col = d;
    }
    double *X = malloc((n * d > 0 ? n * d : 1) * sizeof *X);
    if (X == NULL) {
        free(map);
        return cli_error(cmd, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = M->data[i * M->cols + map[j]];
    free(map);
    *x = X;
    return CLI_OK;
}

/* Is s a (finite) number? *v gets it. */
static int label_number(const char *s, double *v)
{
    if (*s == '\0')
        return 0;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end != '\0' || !isfinite(x) || (s[0] != '-' && s[0] != '+' && s[0] != '.' && (s[0] < '0' || s[0] > '9')))
        return 0;
    *v = x;
    return 1;
}

int cli_label_class(const hj_model *m, const char *text, double v, size_t *cls)
{
    const size_t C = m->arch.n_classes;
    double tv = v;
    int tnum = text ? label_number(text, &tv) : 1;
    for (size_t c = 0; c < C; c++) {
        double lv;
        if (m->class_labels == NULL) {
            if (tnum && tv == (double)c) {
                *cls = c;
                return 1;
            }
            continue;
        }
        if (text && strcmp(text, m->class_labels[c]) == 0) {
            *cls = c;
            return 1;
        }
        if (tnum && label_number(m->class_labels[c], &lv) && lv == tv) {
            *cls = c;
            return 1;
        }
    }
    return 0;
}

static int cmp_num(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_labels_build(char *const *texts, size_t n, const char *path, char ***labels, size_t *C, double *y,
                     const char *cmd)
{
    *labels = NULL;
    *C = 0;
    int numeric = 1;
    double v;
    for (size_t i = 0; i < n; i++) {
        const char *s = texts[i];
        if (s[0] == '\0')
            return cli_error(cmd, "%s: data row %zu: empty class label", path, i + 1);
        if (strcasecmp(s, "nan") == 0 || strcasecmp(s, "-nan") == 0 || strcasecmp(s, "inf") == 0 ||
            strcasecmp(s, "-inf") == 0)
            return cli_error(cmd, "%s: data row %zu: class label '%s' is not a class", path, i + 1, s);
        if (!label_number(s, &v))
            numeric = 0;
    }
    /* distinct labels: sort a copy of the pointers (or values), keep firsts */
    char **u = malloc((n ? n : 1) * sizeof *u);
    double *vals = malloc((n ? n : 1) * sizeof *vals);
    if (u == NULL || vals == NULL) {
        free(u), free(vals);
        return cli_error(cmd, "out of memory");
    }
    size_t nu = 0;
    if (numeric) {
        for (size_t i = 0; i < n; i++)
            label_number(texts[i], &vals[i]);
        qsort(vals, n, sizeof *vals, cmp_num);
        for (size_t i = 0; i < n; i++)
            if (i == 0 || vals[i] != vals[i - 1])
                vals[nu++] = vals[i];
        for (size_t c = 0; c < nu; c++) /* the label as first written */
            for (size_t i = 0; i < n; i++)
                if (label_number(texts[i], &v) && v == vals[c]) {
                    u[c] = texts[i];
                    break;
                }
    } else {
        memcpy(u, texts, n * sizeof *u);
        qsort(u, n, sizeof *u, cmp_str);
        for (size_t i = 0; i < n; i++)
            if (i == 0 || strcmp(u[i], u[nu - 1]) != 0)
                u[nu++] = u[i];
    }
    if (nu < 2) {
        int rc = cli_error(cmd, "%s: classification needs at least 2 classes, the labels have %zu%s%s", path, nu,
                           nu ? ": " : "", nu ? u[0] : "");
        free(u), free(vals);
        return rc;
    }
    char **L = calloc(nu, sizeof *L);
    for (size_t c = 0; L && c < nu; c++)
        if ((L[c] = dup_n(u[c], strlen(u[c]))) == NULL) {
            cli_strings_free(L, nu);
            L = NULL;
        }
    free(u), free(vals);
    if (L == NULL)
        return cli_error(cmd, "out of memory");
    int rc = cli_labels_map(texts, n, path, L, nu, y, cmd);
    if (rc != CLI_OK) {
        cli_strings_free(L, nu);
        return rc;
    }
    *labels = L, *C = nu;
    return CLI_OK;
}

int cli_labels_map(char *const *texts, size_t n, const char *path, char *const *labels, size_t C, double *y,
                   const char *cmd)
{
    hj_model m;
    memset(&m, 0, sizeof m);
    m.arch.n_classes = C;
    m.class_labels = (char **)labels;
    for (size_t i = 0; i < n; i++) {
        size_t c;
        if (!cli_label_class(&m, texts[i], NAN, &c)) {
            char list[256];
            size_t k = 0;
            list[0] = '\0';
            for (size_t j = 0; j < C && k + 40 < sizeof list; j++)
                k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", j ? ", " : "", labels[j]);
            return cli_error(cmd, "%s: data row %zu: class '%s' is not one of the training classes (%s)", path,
                             i + 1, texts[i], list);
        }
        y[i] = (double)c;
    }
    return CLI_OK;
}

/* Are the model's labels all numbers (then predictions stay numeric)? */
static int labels_numeric(const hj_model *m)
{
    double v;
    for (size_t c = 0; m->class_labels && c < m->arch.n_classes; c++)
        if (!label_number(m->class_labels[c], &v))
            return 0;
    return 1;
}

static double label_value(const hj_model *m, size_t c)
{
    double v = (double)c;
    if (m->class_labels)
        label_number(m->class_labels[c], &v);
    return v;
}

typedef struct pred_cols {
    const hj_model *m;
    size_t base;   /* 1 + C with proba, else 1 */
} pred_cols;

static void pred_column_name(size_t k, char *buf, size_t len, const void *ctx)
{
    const pred_cols *p = ctx;
    const size_t C = p->m->arch.n_classes;
    if (k == 0)
        snprintf(buf, len, "%s", C ? "class" : "prediction");
    else if (k < p->base && p->m->class_labels)
        snprintf(buf, len, "p_%s", p->m->class_labels[k - 1]);
    else if (k < p->base)
        snprintf(buf, len, "p_%zu", k - 1);
    else
        snprintf(buf, len, (k - p->base) % 2 == 0 ? "neuron_%zu" : "pi_%zu", (k - p->base) / 2 + 1);
}

/* CSV with the class column as text (string labels), to f. */
static int write_text_predictions(FILE *f, const hj_matrix *T, const pred_cols *pc)
{
    char name[64];
    for (size_t k = 0; k < T->cols; k++) {
        pred_column_name(k, name, sizeof name, pc);
        fprintf(f, "%s%s", k ? "," : "", name);
    }
    fputc('\n', f);
    for (size_t i = 0; i < T->rows; i++) {
        const double *row = T->data + i * T->cols;
        fputs(pc->m->class_labels[(size_t)row[0]], f);
        for (size_t k = 1; k < T->cols; k++)
            fprintf(f, ",%.17g", row[k]);
        fputc('\n', f);
    }
    return ferror(f) ? CLI_FAIL : CLI_OK;
}

int cli_write_labelled_predictions(const char *path, const hj_model *m, const double *pred, size_t n,
                                   int proba, const double *pi_top, const size_t *idx_top, size_t K,
                                   const char *cmd)
{
    const size_t C = m->arch.n_classes, base = C && proba ? 1 + C : 1, cols = base + 2 * K;
    const int text = C && !labels_numeric(m);
    size_t plen = path ? strlen(path) : 0;
    if (text && plen >= 4 && strcmp(path + plen - 4, ".npy") == 0)
        return cli_error(cmd, "%s: the class labels are text, which .npy cannot hold; write a .csv", path);
    hj_matrix out = {0};
    hj_error err = {0};
    double *p = malloc((C ? C : 1) * sizeof *p);
    if (p == NULL || hj_matrix_alloc(&out, n, cols, &err) != HJ_OK) {
        free(p);
        return cli_error(cmd, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        double *row = out.data + i * cols;
        if (C == 0) {
            row[0] = pred[i];
        } else {
            const double *F = pred + i * C;
            size_t a = 0;
            for (size_t c = 1; c < C; c++)
                if (F[c] > F[a])
                    a = c;
            hj_lse_vec(F, C, 1.0, p);
            if (proba)
                memcpy(row + 1, p, C * sizeof *p);
            row[0] = text ? (double)a : label_value(m, a);
        }
        for (size_t k = 0; k < K; k++) {
            row[base + 2 * k] = (double)idx_top[i * K + k];
            row[base + 2 * k + 1] = pi_top[i * K + k];
        }
    }
    free(p);
    const pred_cols pc = {m, base};
    int rc;
    if (!text) {
        rc = cli_write_table(cmd, path, &out, pred_column_name, &pc);
    } else if (path == NULL) {
        rc = write_text_predictions(stdout, &out, &pc);
    } else {
        char *tmp = malloc(plen + 32);
        FILE *f = NULL;
        rc = CLI_FAIL;
        if (tmp) {
            snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
            f = fopen(tmp, "w");
        }
        if (f) {
            rc = write_text_predictions(f, &out, &pc);
            if (fclose(f) != 0)
                rc = CLI_FAIL;
            if (rc == CLI_OK && rename(tmp, path) != 0)
                rc = CLI_FAIL;
            if (rc != CLI_OK)
                remove(tmp);
        }
        if (rc != CLI_OK)
            rc = cli_error(cmd, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
    }
    hj_matrix_free(&out);
    return rc;
}

int cli_check_output(const char *path, const char *opt, const char *cmd)
{
    if (path == NULL)
        return CLI_OK;
    struct stat sb;
    if (path[0] == '\0')
        return cli_error(cmd, "--%s: empty path", opt);
    size_t n = strlen(path);
    if (path[n - 1] == '/' || (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)))
        return cli_error(cmd, "--%s %s: is a directory; give a file name", opt, path);
    if (stat(path, &sb) == 0 && access(path, W_OK) != 0)
        return cli_error(cmd, "--%s %s: not writable", opt, path);
    char *dir = dup_n(path, n);
    if (dir == NULL)
        return cli_error(cmd, "out of memory");
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir)
        d = "/";
    else if (slash) {
        *slash = '\0';
        d = dir;
    }
    int rc = CLI_OK;
    if (stat(d, &sb) != 0 || !S_ISDIR(sb.st_mode))
        rc = cli_error(cmd, "--%s %s: the directory %s does not exist", opt, path, d);
    else if (access(d, W_OK) != 0)
        rc = cli_error(cmd, "--%s %s: the directory %s is not writable", opt, path, d);
    free(dir);
    return rc;
}
