/* csv.c — CSV matrices with a header line: parser, file reader and writers.
 *
 * Grammar accepted by the parser (one pass, linear time, never reads past
 * len; the text need not be NUL-terminated and may hold arbitrary bytes):
 *   file   = [BOM] header NL row {NL row} {blank lines}
 *   header = name {',' name}      name = [ws] (bare | '"' {char | '""'} '"') [ws]
 *   row    = field {',' field}    field = [ws] decimal [ws]
 *   NL     = "\n" | "\r\n"        ws = ' ' | '\t'
 * decimal is [+-](D+[.D*] | .D+)[(e|E)[+-]D+], converted by strtod under the
 * C locale (switched per thread with uselocale; setlocale is never called).
 * Hex floats, empty fields and trailing garbage are rejected; "nan", "inf",
 * "infinity" (any case, signed) give HJ_ENAN; overflow gives HJ_EFORMAT;
 * underflow to a subnormal or zero is accepted. An unquoted header whose
 * every name is a number is rejected: the header line is probably missing.
 * Messages: "NAME:LINE: ..." or "NAME:LINE:FIELD: ..." (1-based numbers).
 *
 * The writers print %.17g under the C locale, which round-trips every finite
 * double exactly; the CLI itself never changes LC_NUMERIC away from "C".
 */
#include "io/io-impl.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MAX_NUMBER 256 /* longest numeric field accepted, in bytes */
#define CSV_EXCERPT 40     /* buffer for a quoted excerpt in a message */

static int is_blank(char c) { return c == ' ' || c == '\t'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Decimal floating-point syntax: [+-](D+[.D*] | .D+)[(e|E)[+-]D+]. */
int hj_number_syntax(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && is_digit(s[i])) {
        i++;
        digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i])) {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ed = 0;
        while (i < n && is_digit(s[i])) {
            i++;
            ed++;
        }
        if (ed == 0)
            return 0;
    }
    return i == n;
}

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* s[0..n) starts with the lower-case word w, ignoring case. */
static int prefix_ci(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (n < wl)
        return 0;
    for (size_t i = 0; i < wl; i++)
        if (ascii_lower(s[i]) != w[i])
            return 0;
    return 1;
}

/* [+-](nan | nan(...) | inf | infinity), any case: what strtod reads as
 * NaN or infinity. */
static int nonfinite_syntax(const char *s, size_t n)
{
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        s++;
        n--;
    }
    if ((n == 3 && prefix_ci(s, n, "nan")) || (n == 3 && prefix_ci(s, n, "inf")) ||
        (n == 8 && prefix_ci(s, n, "infinity")))
        return 1;
    return n >= 5 && prefix_ci(s, n, "nan(") && s[n - 1] == ')';
}

typedef struct csv_parser {
    const char *name; /* for messages */
    hj_error *err;
    char **names;     /* (ncols) names parsed so far */
    size_t ncols;
    size_t cap_names;
    double *data;     /* (cap_rows, ncols) */
    size_t rows;
    size_t cap_rows;
    char sep;         /* ',' (CSV) or '\t' (TSV) */
    int no_header;    /* 1: line 1 is data, names stay NULL */
} csv_parser;

/* Blank around a field: ' ', and '\t' unless it separates fields. */
static int blank(const csv_parser *p, char c) { return c == ' ' || (c == '\t' && p->sep != '\t'); }

static void parser_free(csv_parser *p)
{
    if (p->names != NULL) {
        for (size_t j = 0; j < p->ncols; j++)
            free(p->names[j]);
        free(p->names);
    }
    free(p->data);
    p->names = NULL;
    p->data = NULL;
}

static hj_status push_name(csv_parser *p, char *nm)
{
    if (p->ncols == p->cap_names) {
        size_t cap = p->cap_names ? p->cap_names : 8;
        if (p->cap_names != 0) {
            if (cap > SIZE_MAX / 2 / sizeof(char *)) {
                free(nm);
                return hj_error_set(p->err, HJ_ENOMEM, "%s:1: too many columns", p->name);
            }
            cap *= 2;
        }
        char **nn = realloc(p->names, cap * sizeof *nn);
        if (nn == NULL) {
            free(nm);
            return hj_error_set(p->err, HJ_ENOMEM, "%s:1: out of memory", p->name);
        }
        p->names = nn;
        p->cap_names = cap;
    }
    p->names[p->ncols++] = nm;
    return HJ_OK;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* HJ_EFORMAT "NAME:1: columns I and J are both named 'X'" (1-based) for the
 * first repeated name: a column chosen by name must be one column. Sorting
 * a copy keeps 100k-column headers O(n log n). */
static hj_status check_unique_names(csv_parser *p)
{
    const size_t n = p->ncols;
    if (n < 2)
        return HJ_OK;
    char **sorted = malloc(n * sizeof *sorted);
    if (sorted == NULL)
        return hj_error_set(p->err, HJ_ENOMEM, "%s:1: out of memory", p->name);
    memcpy(sorted, p->names, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_name);
    const char *dup = NULL;
    for (size_t k = 1; k < n && dup == NULL; k++)
        if (strcmp(sorted[k - 1], sorted[k]) == 0)
            dup = sorted[k];
    free(sorted);
    if (dup == NULL)
        return HJ_OK;
    size_t first = SIZE_MAX, second = SIZE_MAX;
    for (size_t k = 0; k < n && second == SIZE_MAX; k++)
        if (strcmp(p->names[k], dup) == 0) {
            if (first == SIZE_MAX)
                first = k;
            else
                second = k;
        }
    char ex[CSV_EXCERPT];
    hj_io_excerpt(ex, sizeof ex, dup, strlen(dup));
    return hj_error_set(p->err, HJ_EFORMAT, "%s:1: columns %zu and %zu are both named '%s'",
                        p->name, first + 1, second + 1, ex);
}

/* Header line s[0..n) (line end already removed) -> p->names, p->ncols. */
static hj_status parse_header(csv_parser *p, const char *s, size_t n)
{
    size_t i = 0, field = 1;
    int all_numeric = 1;
    for (;;) {
        while (i < n && blank(p, s[i]))
            i++;
        char *nm;
        size_t nl;
        if (i < n && s[i] == '"') {
            all_numeric = 0;
            size_t a = ++i, j = a;
            nl = 0;
            for (;;) { /* measure first, so each name costs O(its length) */
                if (j >= n)
                    return hj_error_set(p->err, HJ_EFORMAT, "%s:1:%zu: unterminated quoted name",
                                        p->name, field);
                if (s[j] == '"') {
                    if (j + 1 < n && s[j + 1] == '"') {
                        j += 2;
                        nl++;
                        continue;
                    }
                    break;
                }
                j++;
                nl++;
            }
            nm = malloc(nl + 1);
            if (nm == NULL)
                return hj_error_set(p->err, HJ_ENOMEM, "%s:1: out of memory", p->name);
            size_t k = 0;
            for (size_t q = a; q < j; q++) {
                nm[k++] = s[q];
                if (s[q] == '"')
                    q++; /* "" -> " */
            }
            nm[k] = '\0';
            i = j + 1;
            while (i < n && blank(p, s[i]))
                i++;
            if (i < n && s[i] != p->sep) {
                free(nm);
                return hj_error_set(p->err, HJ_EFORMAT,
                                    "%s:1:%zu: unexpected text after a closing quote", p->name,
                                    field);
            }
        } else {
            size_t a = i;
            while (i < n && s[i] != p->sep) {
                if (s[i] == '"')
                    return hj_error_set(p->err, HJ_EFORMAT,
                                        "%s:1:%zu: quote inside an unquoted name", p->name, field);
                i++;
            }
            size_t b = i;
            while (b > a && blank(p, s[b - 1]))
                b--;
            nl = b - a;
            if (nl > 0 && !hj_number_syntax(s + a, nl))
                all_numeric = 0;
            nm = malloc(nl + 1);
            if (nm == NULL)
                return hj_error_set(p->err, HJ_ENOMEM, "%s:1: out of memory", p->name);
            memcpy(nm, s + a, nl);
            nm[nl] = '\0';
        }
        if (nl == 0) {
            free(nm);
            return hj_error_set(p->err, HJ_EFORMAT, "%s:1:%zu: empty column name", p->name, field);
        }
        hj_status st = push_name(p, nm);
        if (st != HJ_OK)
            return st;
        if (i >= n)
            break;
        i++; /* s[i] == p->sep */
        field++;
    }
    if (all_numeric)
        return hj_error_set(p->err, HJ_EFORMAT,
                            "%s:1: the first line must name the columns, but it holds only "
                            "numbers (header line missing? a file without one needs --no-header)",
                            p->name);
    return check_unique_names(p);
}

hj_status hj_io_csv_header(const char *name, const char *s, size_t n, char ***names,
                           size_t *ncols, hj_error *err)
{
    csv_parser p = {.name = name, .err = err, .sep = ','};
    *names = NULL;
    *ncols = 0;
    hj_status st = parse_header(&p, s, n);
    if (st != HJ_OK) {
        parser_free(&p);
        return st;
    }
    *names = p.names;
    *ncols = p.ncols;
    return HJ_OK;
}

/* One trimmed field s[0..n) on line `line`, field `field` -> *out. */
static hj_status parse_number(const csv_parser *p, const char *s, size_t n, size_t line,
                              size_t field, double *out)
{
    char ex[CSV_EXCERPT];
    if (n == 0)
        return hj_error_set(p->err, HJ_EFORMAT, "%s:%zu:%zu: empty field", p->name, line, field);
    if (nonfinite_syntax(s, n)) {
        hj_io_excerpt(ex, sizeof ex, s, n);
        return hj_error_set(p->err, HJ_ENAN, "%s:%zu:%zu: '%s' is not a finite number", p->name,
                            line, field, ex);
    }
    if (!hj_number_syntax(s, n)) {
        hj_io_excerpt(ex, sizeof ex, s, n);
        return hj_error_set(p->err, HJ_EFORMAT, "%s:%zu:%zu: '%s' is not a number", p->name, line,
                            field, ex);
    }
    if (n > CSV_MAX_NUMBER)
        return hj_error_set(p->err, HJ_EFORMAT,
                            "%s:%zu:%zu: number is %zu characters long (at most %d accepted)",
                            p->name, line, field, n, CSV_MAX_NUMBER);
    char buf[CSV_MAX_NUMBER + 1];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    hj_io_excerpt(ex, sizeof ex, s, n);
    if (end != buf + n) /* cannot happen under the C locale */
        return hj_error_set(p->err, HJ_EFORMAT, "%s:%zu:%zu: '%s' is not a number", p->name, line,
                            field, ex);
    if (!isfinite(v))
        return hj_error_set(p->err, HJ_EFORMAT, "%s:%zu:%zu: '%s' is out of the range of a double",
                            p->name, line, field, ex);
    *out = v;
    return HJ_OK;
}

/* Make room for one more row; guards rows*cols*8 against size_t overflow. */
static hj_status grow_rows(csv_parser *p, size_t line)
{
    if (p->rows < p->cap_rows)
        return HJ_OK;
    size_t cap = p->cap_rows ? p->cap_rows : 16;
    if (p->cap_rows != 0) {
        if (cap > SIZE_MAX / 2)
            goto too_big;
        cap *= 2;
    }
    if (cap > SIZE_MAX / sizeof(double) / p->ncols)
        goto too_big;
    double *nd = realloc(p->data, cap * p->ncols * sizeof *nd);
    if (nd == NULL)
        return hj_error_set(p->err, HJ_ENOMEM, "%s:%zu: out of memory", p->name, line);
    p->data = nd;
    p->cap_rows = cap;
    return HJ_OK;
too_big:
    return hj_error_set(p->err, HJ_ENOMEM, "%s:%zu: too many values (rows x columns overflows)",
                        p->name, line);
}

/* Field count of a data line s[0..n): HJ_EFORMAT unless it is ncols. */
static hj_status check_field_count(const csv_parser *p, const char *s, size_t n, size_t line)
{
    size_t nf = 1;
    for (const char *c = s; (c = memchr(c, p->sep, n - (size_t)(c - s))) != NULL; c++)
        nf++;
    if (nf != p->ncols)
        return hj_error_set(p->err, HJ_EFORMAT, "%s:%zu: expected %zu field%s, found %zu",
                            p->name, line, p->ncols, p->ncols == 1 ? "" : "s", nf);
    return HJ_OK;
}

/* The fields of a data line s[0..n) with ncols fields -> row (ncols). */
static hj_status parse_fields(const csv_parser *p, const char *s, size_t n, size_t line,
                              double *row)
{
    size_t i = 0;
    for (size_t f = 0; f < p->ncols; f++) {
        size_t a = i;
        while (i < n && s[i] != p->sep)
            i++;
        size_t b = i++;
        while (a < b && blank(p, s[a]))
            a++;
        while (b > a && blank(p, s[b - 1]))
            b--;
        hj_status st = parse_number(p, s + a, b - a, line, f + 1, &row[f]);
        if (st != HJ_OK)
            return st;
    }
    return HJ_OK;
}

hj_status hj_io_csv_row(const char *name, const char *s, size_t n, size_t line, size_t ncols,
                        double *row, hj_error *err)
{
    csv_parser p = {.name = name, .err = err, .ncols = ncols, .sep = ','};
    hj_status st = check_field_count(&p, s, n, line);
    if (st != HJ_OK)
        return st;
    return parse_fields(&p, s, n, line, row);
}

/* A data line s[0..n) (line end removed, not blank) -> one more row. */
static hj_status parse_row(csv_parser *p, const char *s, size_t n, size_t line)
{
    hj_status st = check_field_count(p, s, n, line);
    if (st != HJ_OK)
        return st;
    st = grow_rows(p, line);
    if (st != HJ_OK)
        return st;
    double *row = p->data + p->rows * p->ncols; /* (ncols) */
    st = parse_fields(p, s, n, line, row);
    if (st != HJ_OK)
        return st;
    p->rows++;
    return HJ_OK;
}

hj_status hj_io_csv_line_check(const char *name, const char *s, size_t n, size_t line,
                               hj_error *err)
{
    if (memchr(s, '\r', n) != NULL)
        return hj_error_set(err, HJ_EFORMAT,
                            "%s:%zu: carriage return inside a line (only \\n and \\r\\n "
                            "line ends are supported)",
                            name, line);
    size_t k = 0;
    while (k < n && is_blank(s[k]))
        k++;
    if (k < n)
        return HJ_OK;
    return line == 1 ? hj_error_set(err, HJ_EFORMAT,
                                    "%s:1: blank first line (expected a header of column names)",
                                    name)
                     : hj_error_set(err, HJ_EFORMAT, "%s:%zu: blank line inside the data", name,
                                    line);
}

/* Without a header: ncols = the field count of the first line s[0..n). */
static hj_status first_width(csv_parser *p, const char *s, size_t n)
{
    p->ncols = 1;
    for (const char *c = s; (c = memchr(c, p->sep, n - (size_t)(c - s))) != NULL; c++)
        p->ncols++;
    return HJ_OK;
}

static hj_status csv_parse_body(csv_parser *p, const char *text, size_t len)
{
    /* A NUL byte means a binary file (or UTF-16); say where it is. */
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        size_t line = 1;
        const char *ls = text;
        for (const char *c = text; (c = memchr(c, '\n', (size_t)(nul - c))) != NULL; c++) {
            line++;
            ls = c + 1;
        }
        return hj_error_set(p->err, HJ_EFORMAT, "%s:%zu: NUL byte at column %zu (binary file?)",
                            p->name, line, (size_t)(nul - ls) + 1);
    }
    size_t start = 0, end = len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        start = 3; /* UTF-8 byte-order mark */
    while (end > start && (is_blank(text[end - 1]) || text[end - 1] == '\n' ||
                           text[end - 1] == '\r'))
        end--; /* trailing blank lines (and trailing blanks of the last line) */
    if (end == start)
        return hj_error_set(p->err, HJ_EFORMAT, "%s:1: empty file (expected a header line)",
                            p->name);

    const char *s = text + start;
    size_t n = end - start, pos = 0, line = 1;
    while (pos < n) {
        const char *nl = memchr(s + pos, '\n', n - pos);
        size_t lend = nl ? (size_t)(nl - s) : n;
        const char *L = s + pos;
        size_t ll = lend - pos;
        if (ll > 0 && L[ll - 1] == '\r')
            ll--;
        hj_status st = hj_io_csv_line_check(p->name, L, ll, line, p->err);
        if (st == HJ_OK && line == 1 && p->no_header) /* the first row sets the width */
            st = first_width(p, L, ll);
        if (st == HJ_OK)
            st = line == 1 && !p->no_header ? parse_header(p, L, ll) : parse_row(p, L, ll, line);
        if (st != HJ_OK)
            return st;
        pos = lend + 1;
        line++;
    }
    if (p->rows == 0)
        return hj_error_set(p->err, HJ_EFORMAT, "%s:1: header but no data rows", p->name);
    return HJ_OK;
}

/* Parse CSV text (see data.h and the grammar at the top of this file).
 * On success *out owns its data and names; on failure *out is zeroed. */
hj_status hj_csv_parse(const char *text, size_t len, const char *name, hj_matrix *out,
                       hj_error *err)
{
    return hj_io_csv_parse_sep(text, len, name, ',', 0, out, err);
}

hj_status hj_io_csv_parse_sep(const char *text, size_t len, const char *name, char sep,
                              int no_header, hj_matrix *out, hj_error *err)
{
    if (out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_csv_parse: NULL output");
    memset(out, 0, sizeof *out);
    if (name == NULL)
        name = "<csv>";
    if (text == NULL && len > 0)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL text", name);
    if (len == 0)
        return hj_error_set(err, HJ_EFORMAT, "%s:1: empty file (expected a header line)", name);

    hj_io_c_locale loc;
    hj_status st = hj_io_c_locale_enter(&loc, err);
    if (st != HJ_OK)
        return st;
    csv_parser p = {.name = name, .err = err, .sep = sep, .no_header = no_header};
    st = csv_parse_body(&p, text, len);
    hj_io_c_locale_leave(&loc);
    if (st != HJ_OK) {
        parser_free(&p);
        return st;
    }
    /* Give back the unused tail of the doubling buffer. */
    double *shrunk = realloc(p.data, p.rows * p.ncols * sizeof *shrunk);
    if (shrunk != NULL)
        p.data = shrunk;
    out->rows = p.rows;
    out->cols = p.ncols;
    out->data = p.data;
    out->names = p.names;
    return HJ_OK;
}

/* Read and parse a CSV file; messages are named by `path`. */
hj_status hj_csv_read(const char *path, hj_matrix *out, hj_error *err)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (path == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_csv_read: NULL path or output");
    char *buf;
    size_t len;
    hj_status st = hj_io_read_file(path, &buf, &len, err);
    if (st != HJ_OK)
        return st;
    st = hj_csv_parse(buf, len, path, out, err);
    free(buf);
    return st;
}

/* Names written in quotes: those the parser would otherwise misread. */
static int name_needs_quotes(const char *s)
{
    size_t n = strlen(s);
    return n == 0 || is_blank(s[0]) || is_blank(s[n - 1]) || strpbrk(s, ",\t\"") != NULL ||
           hj_number_syntax(s, n) || (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0);
}

/* Validate the matrix and the header names the writers will use. */
static hj_status csv_check(const hj_matrix *m, const char *const *names, const char *who,
                           hj_error *err)
{
    hj_status st = hj_io_check_writable(m, who, err);
    if (st != HJ_OK)
        return st;
    if (names == NULL)
        names = (const char *const *)m->names;
    if (names == NULL)
        return HJ_OK;
    for (size_t j = 0; j < m->cols; j++) {
        if (names[j] == NULL || names[j][0] == '\0')
            return hj_error_set(err, HJ_EINVAL, "%s: column %zu has an empty name", who, j + 1);
        if (strpbrk(names[j], "\r\n") != NULL)
            return hj_error_set(err, HJ_EINVAL, "%s: column %zu name contains a line break", who,
                                j + 1);
    }
    return HJ_OK;
}

static void write_name(FILE *f, const char *s)
{
    if (!name_needs_quotes(s)) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* The header line: names (cols), else c1..cN, separated by sep. */
static void emit_header(FILE *f, const char *const *names, size_t cols, char sep)
{
    for (size_t j = 0; j < cols; j++) {
        if (j > 0)
            fputc(sep, f);
        if (names != NULL)
            write_name(f, names[j]);
        else
            fprintf(f, "c%zu", j + 1);
    }
    fputc('\n', f);
}

/* The body once validated; the caller holds the C locale. */
static void csv_emit(FILE *f, const hj_matrix *m, const char *const *names, char sep)
{
    if (names == NULL)
        names = (const char *const *)m->names;
    emit_header(f, names, m->cols, sep);
    for (size_t i = 0; i < m->rows; i++) {
        const double *row = m->data + i * m->cols; /* (cols) */
        for (size_t j = 0; j < m->cols; j++) {
            if (j > 0)
                fputc(sep, f);
            fprintf(f, "%.17g", row[j]);
        }
        fputc('\n', f);
    }
}

static hj_status csv_write_checked(FILE *f, const hj_matrix *m, const char *const *names,
                                   char sep, hj_error *err)
{
    hj_io_c_locale loc;
    hj_status st = hj_io_c_locale_enter(&loc, err);
    if (st != HJ_OK)
        return st;
    csv_emit(f, m, names, sep);
    hj_io_c_locale_leave(&loc);
    if (fflush(f) != 0 || ferror(f))
        return hj_error_set(err, HJ_EIO, "write error: %s", strerror(errno));
    return HJ_OK;
}

/* Write m as CSV to f: header (names, else m->names, else c1..cN; names
 * that would be misread are double-quoted), then rows of %.17g values under
 * the C locale. HJ_EINVAL for an empty matrix or empty / multi-line names,
 * HJ_ENAN if m holds NaN/Inf (the readers would reject the file), HJ_EIO if
 * the stream reports an error (f is flushed, so a full disk shows here).
 * Nothing is written when validation fails. */
hj_status hj_csv_write_stream(FILE *f, const hj_matrix *m, const char *const *names,
                              hj_error *err)
{
    if (f == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_csv_write_stream: NULL stream");
    return hj_io_csv_write_sep(f, m, names, ',', err);
}

hj_status hj_io_csv_write_sep(FILE *f, const hj_matrix *m, const char *const *names, char sep,
                              hj_error *err)
{
    hj_status st = csv_check(m, names, "hj_csv_write_stream", err);
    if (st != HJ_OK)
        return st;
    return csv_write_checked(f, m, names, sep, err);
}

typedef struct csv_job {
    const hj_matrix *m;
    const char *const *names;
} csv_job;

static hj_status csv_job_write(FILE *f, const void *ctx, hj_error *err)
{
    const csv_job *job = ctx;
    return csv_write_checked(f, job->m, job->names, ',', err);
}

/* hj_csv_write_stream to `path`, atomically (see hj_io_write_atomic):
 * on failure no file appears at path and no temporary file remains. */
hj_status hj_csv_write(const char *path, const hj_matrix *m, const char *const *names,
                       hj_error *err)
{
    if (path == NULL || path[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "hj_csv_write: empty path");
    hj_status st = csv_check(m, names, path, err);
    if (st != HJ_OK)
        return st;
    csv_job job = {m, names};
    return hj_io_write_atomic(path, csv_job_write, &job, err);
}

typedef struct header_job {
    const char *const *names;
    size_t cols;
} header_job;

static hj_status header_job_write(FILE *f, const void *ctx, hj_error *err)
{
    const header_job *job = ctx;
    emit_header(f, job->names, job->cols, ',');
    if (fflush(f) != 0 || ferror(f))
        return hj_error_set(err, HJ_EIO, "write error: %s", strerror(errno));
    return HJ_OK;
}

hj_status hj_csv_write_header(const char *path, const char *const *names, size_t cols,
                              hj_error *err)
{
    if (path == NULL || path[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "hj_csv_write_header: empty path");
    if (names == NULL || cols == 0)
        return hj_error_set(err, HJ_EINVAL, "%s: a header needs at least one column name", path);
    for (size_t j = 0; j < cols; j++)
        if (names[j] == NULL || names[j][0] == '\0' || strpbrk(names[j], "\r\n") != NULL)
            return hj_error_set(err, HJ_EINVAL, "%s: column %zu name is empty or has a line break",
                                path, j + 1);
    header_job job = {names, cols};
    return hj_io_write_atomic(path, header_job_write, &job, err);
}
