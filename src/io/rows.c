/* rows.c — streaming row readers over CSV and .npy files: open, count, seek, read tiles of rows.
 *
 * CSV: opening scans the file once in 1 MiB chunks for line ends and NUL
 * bytes, remembering the offset of every ROWS_STRIDE-th data row (the sparse
 * index behind hj_rows_seek) and of the last non-blank byte (the parser
 * ignores trailing blanks and blank lines; so does the row count). Lines are
 * then read with getline and parsed by the CSV parser's own header and row
 * functions (io-impl.h), so syntax and messages are those of hj_csv_parse.
 * .npy: the header is validated at open by the .npy parser's own function;
 * tiles are read with fseeko + fread (one read per tile in C order, one per
 * column in Fortran order) and decoded element by element as hj_npy_parse does.
 */
#include "io/io-impl.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define ROWS_STRIDE 1024          /* data rows per sparse-index entry */
#define SCAN_CHUNK (1u << 20)     /* bytes per read of the opening scan */

struct hj_rows {
    char *path;
    FILE *f;
    int npy;
    size_t rows, cols;
    size_t pos;                   /* next row to read */
    /* CSV */
    char **names;                 /* (cols) */
    off_t *index;                 /* (rows / ROWS_STRIDE + 1) offset of data row k * STRIDE */
    off_t content_end;            /* offset one past the last non-blank byte */
    char *line;                   /* getline buffer */
    size_t line_cap;
    /* .npy */
    hj_io_npy_info info;
    unsigned char *raw;           /* tile bytes */
    size_t raw_cap;
};

static int is_content(unsigned char c) { return c != ' ' && c != '\t' && c != '\n' && c != '\r'; }

void hj_rows_close(hj_rows *r)
{
    if (r == NULL)
        return;
    if (r->f != NULL)
        fclose(r->f);
    if (r->names != NULL) {
        for (size_t j = 0; j < r->cols; j++)
            free(r->names[j]);
        free(r->names);
    }
    free(r->index);
    free(r->line);
    free(r->raw);
    free(r->path);
    free(r);
}

size_t hj_rows_count(const hj_rows *r) { return r->rows; }
size_t hj_rows_cols(const hj_rows *r) { return r->cols; }
const char *const *hj_rows_names(const hj_rows *r) { return (const char *const *)r->names; }
size_t hj_rows_tell(const hj_rows *r) { return r->pos; }

static hj_status io_fail(const hj_rows *r, hj_error *err)
{
    if (r->f != NULL && feof(r->f))
        return hj_error_set(err, HJ_EIO, "%s: unexpected end of file (changed while open?)",
                            r->path);
    return hj_error_set(err, HJ_EIO, "%s: %s", r->path, strerror(errno ? errno : EIO));
}

/* ---- CSV ------------------------------------------------------------------------ */

/* The opening scan: NUL bytes, line count up to the last content byte, the
 * sparse index. *bom = 3 when the file starts with a UTF-8 byte-order mark. */
static hj_status csv_scan(hj_rows *r, size_t *lines, off_t *bom, hj_error *err)
{
    /* a chunk no larger than the file (small files are the common case) */
    struct stat sb;
    size_t chunk = SCAN_CHUNK;
    if (fstat(fileno(r->f), &sb) == 0 && sb.st_size >= 0 && (uintmax_t)sb.st_size < chunk)
        chunk = (size_t)sb.st_size + 1;
    unsigned char *buf = malloc(chunk);
    size_t icap = 64, nidx = 0;
    off_t *index = malloc(icap * sizeof *index);
    if (buf == NULL || index == NULL) {
        free(buf);
        free(index);
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", r->path);
    }
    hj_status st = HJ_OK;
    off_t base = 0, content_end = -1, line_start = 0;
    size_t line = 1, lines_at_content = 0;
    int first = 1;
    *bom = 0;
    for (;;) {
        size_t got = fread(buf, 1, chunk, r->f);
        if (got == 0) {
            if (ferror(r->f))
                st = io_fail(r, err);
            break;
        }
        size_t from = 0;
        if (first) {
            first = 0;
            if (got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
                *bom = 3;
                from = 3;
            }
        }
        const unsigned char *nul = memchr(buf, '\0', got);
        size_t lim = nul ? (size_t)(nul - buf) : got;
        for (size_t k = from; k < lim;) {
            const unsigned char *nl = memchr(buf + k, '\n', lim - k);
            size_t e = nl ? (size_t)(nl - buf) : lim;
            /* last content byte in [k, e) */
            for (size_t q = e; q > k; q--)
                if (is_content(buf[q - 1])) {
                    content_end = base + (off_t)q;
                    lines_at_content = line;
                    break;
                }
            if (nl == NULL)
                break;
            line++;
            line_start = base + (off_t)e + 1;
            if (line >= 2 && (line - 2) % ROWS_STRIDE == 0) {
                if (nidx == icap) {
                    off_t *ni = realloc(index, 2 * icap * sizeof *ni);
                    if (ni == NULL) {
                        st = hj_error_set(err, HJ_ENOMEM, "%s: out of memory", r->path);
                        goto done;
                    }
                    index = ni;
                    icap *= 2;
                }
                index[nidx++] = line_start;
            }
            k = e + 1;
        }
        if (nul != NULL) {
            st = hj_error_set(err, HJ_EFORMAT, "%s:%zu: NUL byte at column %zu (binary file?)",
                              r->path, line, (size_t)(base + (off_t)lim - line_start) + 1);
            goto done;
        }
        base += (off_t)got;
    }
done:
    free(buf);
    if (st != HJ_OK) {
        free(index);
        return st;
    }
    r->index = index;
    r->content_end = content_end;
    *lines = content_end < 0 ? 0 : lines_at_content;
    return HJ_OK;
}

/* Read the line starting at the current file offset `at`: *s, *n without
 * its line end, cut at the last content byte of the file. 0 at EOF. */
static int csv_getline(hj_rows *r, off_t at, const char **s, size_t *n, off_t *next)
{
    errno = 0;
    ssize_t got = getline(&r->line, &r->line_cap, r->f);
    if (got < 0)
        return 0;
    size_t len = (size_t)got;
    *next = at + (off_t)len;
    if (len > 0 && r->line[len - 1] == '\n')
        len--;
    if (at + (off_t)len > r->content_end) /* the trimmed end of the last line */
        len = r->content_end > at ? (size_t)(r->content_end - at) : 0;
    if (len > 0 && r->line[len - 1] == '\r')
        len--;
    *s = r->line;
    *n = len;
    return 1;
}

static hj_status csv_open(hj_rows *r, hj_error *err)
{
    size_t lines = 0;
    off_t bom = 0;
    hj_status st = csv_scan(r, &lines, &bom, err);
    if (st != HJ_OK)
        return st;
    if (lines == 0)
        return hj_error_set(err, HJ_EFORMAT, "%s:1: empty file (expected a header line)", r->path);
    if (fseeko(r->f, bom, SEEK_SET) != 0)
        return io_fail(r, err);
    const char *s;
    size_t n;
    off_t next;
    if (!csv_getline(r, bom, &s, &n, &next))
        return io_fail(r, err);
    if ((st = hj_io_csv_line_check(r->path, s, n, 1, err)) != HJ_OK)
        return st;
    if ((st = hj_io_csv_header(r->path, s, n, &r->names, &r->cols, err)) != HJ_OK)
        return st;
    if (lines < 2)
        return hj_error_set(err, HJ_EFORMAT, "%s:1: header but no data rows", r->path);
    r->rows = lines - 1;
    r->pos = 0;
    /* the file is now positioned at data row 0 (= index[0]) */
    return HJ_OK;
}

static hj_status csv_seek(hj_rows *r, size_t row, hj_error *err)
{
    if (row == r->rows) {
        r->pos = row;
        return HJ_OK;
    }
    size_t k = row / ROWS_STRIDE;
    off_t at = r->index[k];
    if (fseeko(r->f, at, SEEK_SET) != 0)
        return io_fail(r, err);
    for (size_t skip = k * ROWS_STRIDE; skip < row; skip++) {
        const char *s;
        size_t n;
        if (!csv_getline(r, at, &s, &n, &at))
            return io_fail(r, err);
    }
    r->pos = row;
    return HJ_OK;
}

static hj_status csv_read(hj_rows *r, double *buf, size_t want, hj_error *err)
{
    hj_io_c_locale loc;
    hj_status st = hj_io_c_locale_enter(&loc, err);
    if (st != HJ_OK)
        return st;
    off_t at = ftello(r->f);
    for (size_t k = 0; k < want && st == HJ_OK; k++) {
        const char *s;
        size_t n;
        const size_t line = r->pos + k + 2;
        if (!csv_getline(r, at, &s, &n, &at)) {
            st = io_fail(r, err);
            break;
        }
        if ((st = hj_io_csv_line_check(r->path, s, n, line, err)) != HJ_OK)
            break;
        st = hj_io_csv_row(r->path, s, n, line, r->cols, buf + k * r->cols, err);
    }
    hj_io_c_locale_leave(&loc);
    return st;
}

/* ---- .npy ------------------------------------------------------------------------ */

static hj_status npy_open(hj_rows *r, hj_error *err)
{
    struct stat sb;
    if (fstat(fileno(r->f), &sb) != 0)
        return io_fail(r, err);
    const size_t len = (size_t)sb.st_size;
    unsigned char pre[12];
    size_t np = len < sizeof pre ? len : sizeof pre;
    if (np > 0 && fread(pre, 1, np, r->f) != np)
        return io_fail(r, err);
    size_t want = np;
    const size_t p = np >= 7 && pre[6] == 1 ? 10 : 12;
    if (np >= p && memcmp(pre, "\x93NUMPY", 6) == 0 && pre[6] >= 1 && pre[6] <= 3) {
        size_t hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
        if (pre[6] >= 2)
            hlen |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        want = hlen <= len - p ? p + hlen : len; /* else hj_io_npy_header reports truncation */
        if (want > len)
            want = len;
    }
    if (want < np)
        want = np;
    unsigned char *head = malloc(want ? want : 1);
    if (head == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", r->path);
    memcpy(head, pre, np);
    if (want > np && fread(head + np, 1, want - np, r->f) != want - np) {
        free(head);
        return io_fail(r, err);
    }
    hj_status st = hj_io_npy_header(head, want, len, r->path, &r->info, err);
    free(head);
    if (st != HJ_OK)
        return st;
    r->rows = r->info.rows;
    r->cols = r->info.cols;
    r->pos = 0;
    return HJ_OK;
}

static int host_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static hj_status npy_read(hj_rows *r, double *buf, size_t want, hj_error *err)
{
    const hj_io_npy_info *h = &r->info;
    const size_t cols = r->cols, isz = h->itemsize, bytes = want * cols * isz;
    if (bytes > r->raw_cap) {
        unsigned char *nr = realloc(r->raw, bytes);
        if (nr == NULL)
            return hj_error_set(err, HJ_ENOMEM, "%s: out of memory (%zu bytes for a tile)",
                                r->path, bytes);
        r->raw = nr;
        r->raw_cap = bytes;
    }
    if (!h->fortran) {
        off_t at = (off_t)(h->data_offset + r->pos * cols * isz);
        if (fseeko(r->f, at, SEEK_SET) != 0 || fread(r->raw, 1, bytes, r->f) != bytes)
            return io_fail(r, err);
    } else {
        for (size_t j = 0; j < cols; j++) {
            off_t at = (off_t)(h->data_offset + (j * r->rows + r->pos) * isz);
            if (fseeko(r->f, at, SEEK_SET) != 0 ||
                fread(r->raw + j * want * isz, 1, want * isz, r->f) != want * isz)
                return io_fail(r, err);
        }
    }
    const int fast = h->kind == 'f' && isz == 8 && !h->big_endian && host_little_endian();
    if (fast && !h->fortran)
        memcpy(buf, r->raw, bytes);
    for (size_t i = 0; i < want; i++)
        for (size_t j = 0; j < cols; j++) {
            double v;
            if (fast && !h->fortran) {
                v = buf[i * cols + j];
            } else {
                const size_t e = h->fortran ? j * want + i : i * cols + j;
                v = hj_io_npy_decode(r->raw + e * isz, h->kind, isz, h->big_endian);
                buf[i * cols + j] = v;
            }
            if (!isfinite(v))
                return hj_error_set(err, HJ_ENAN, "%s: element [%zu, %zu] (0-based) is %s",
                                    r->path, r->pos + i, j, isnan(v) ? "NaN" : "infinite");
        }
    return HJ_OK;
}

/* ---- public ---------------------------------------------------------------------- */

hj_status hj_rows_open(const char *path, hj_rows **out, hj_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_rows_open: NULL path or output");
    hj_format fmt = hj_format_of_path(path);
    if (strcmp(path, "-") == 0)
        return hj_error_set(err, HJ_EINVAL,
                            "-: standard input cannot be read in several passes; save it to a "
                            "file first");
    if (fmt != HJ_FORMAT_AUTO && fmt != HJ_FORMAT_CSV && fmt != HJ_FORMAT_NPY)
        return hj_error_set(err, HJ_EINVAL,
                            "%s: rows are streamed from CSV or .npy files, not %s; convert it first",
                            path, hj_format_name(fmt));
    hj_rows *r = calloc(1, sizeof *r);
    if (r == NULL || (r->path = strdup(path)) == NULL) {
        free(r);
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
    }
    r->f = fopen(path, "rb");
    if (r->f == NULL) {
        hj_status st = hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
        hj_rows_close(r);
        return st;
    }
    struct stat sb;
    if (fstat(fileno(r->f), &sb) == 0 && !S_ISREG(sb.st_mode)) {
        hj_status st = hj_error_set(err, HJ_EIO,
                                    "%s: not a regular file (a pipe, FIFO or device): it is read "
                                    "in several passes and must be seekable; save it to a file first",
                                    path);
        hj_rows_close(r);
        return st;
    }
    r->npy = hj_io_has_npy_extension(path); /* as hj_matrix_read decides */
    hj_status st = hj_io_check_content_fd(fileno(r->f), path, r->npy ? HJ_FORMAT_NPY : HJ_FORMAT_CSV, err);
    if (st == HJ_OK)
        st = r->npy ? npy_open(r, err) : csv_open(r, err);
    if (st != HJ_OK) {
        hj_rows_close(r);
        return st;
    }
    *out = r;
    return HJ_OK;
}

hj_status hj_rows_seek(hj_rows *r, size_t row, hj_error *err)
{
    if (r == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_rows_seek: NULL reader");
    if (row > r->rows)
        return hj_error_set(err, HJ_EINVAL, "%s: seek to row %zu past the end (%zu rows)", r->path,
                            row, r->rows);
    if (r->npy) {
        r->pos = row;
        return HJ_OK;
    }
    hj_status st = csv_seek(r, row, err);
    if (st != HJ_OK)
        r->pos = SIZE_MAX;
    return st;
}

hj_status hj_rows_read(hj_rows *r, double *buf, size_t max_rows, size_t *got, hj_error *err)
{
    if (got != NULL)
        *got = 0;
    if (r == NULL || got == NULL || (buf == NULL && max_rows > 0))
        return hj_error_set(err, HJ_EINVAL, "hj_rows_read: NULL argument");
    if (r->pos == SIZE_MAX)
        return hj_error_set(err, HJ_EINVAL, "%s: reader position lost after an error (seek first)",
                            r->path);
    size_t want = r->rows - r->pos;
    if (want > max_rows)
        want = max_rows;
    if (want == 0)
        return HJ_OK;
    if (want > SIZE_MAX / sizeof(double) / r->cols)
        return hj_error_set(err, HJ_EINVAL, "%s: tile of %zu rows is too large", r->path, want);
    hj_status st = r->npy ? npy_read(r, buf, want, err) : csv_read(r, buf, want, err);
    if (st != HJ_OK) {
        r->pos = SIZE_MAX;
        return st;
    }
    r->pos += want;
    *got = want;
    return HJ_OK;
}

hj_status hj_rows_read_range(const char *path, size_t begin, size_t end, hj_matrix *out,
                             hj_error *err)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_rows_read_range: NULL output");
    hj_rows *r;
    hj_status st = hj_rows_open(path, &r, err);
    if (st != HJ_OK)
        return st;
    if (!(begin < end && end <= r->rows)) {
        st = hj_error_set(err, HJ_EINVAL, "%s: row range [%zu, %zu) is not within the %zu rows",
                          path, begin, end, r->rows);
        hj_rows_close(r);
        return st;
    }
    size_t got = 0;
    if ((st = hj_matrix_alloc(out, end - begin, r->cols, err)) == HJ_OK &&
        (st = hj_rows_seek(r, begin, err)) == HJ_OK)
        st = hj_rows_read(r, out->data, end - begin, &got, err);
    if (st == HJ_OK && r->names != NULL) {
        out->names = r->names; /* hand the header over */
        r->names = NULL;
    }
    hj_rows_close(r);
    if (st != HJ_OK)
        hj_matrix_free(out);
    return st;
}
