/* format.c — the file formats of matrices: content checks and the dispatch to the parsers and writers (names and extensions: format_names.c). */
#include "io/io-impl.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The first line of a text buffer that is not a '#' comment: [0, *n). */
static const char *first_line(const char *s, size_t len, size_t *n)
{
    for (;;) {
        const char *nl = memchr(s, '\n', len);
        *n = nl ? (size_t)(nl - s) : len;
        if (nl == NULL || len == 0 || s[0] != '#')
            return s;
        len -= (size_t)(nl - s) + 1;
        s = nl + 1;
    }
}

/* LABEL IDX:VALUE: the second whitespace-separated token has a ':' after digits. */
static int looks_libsvm(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    while (i < n && s[i] != ' ' && s[i] != '\t')
        i++;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i > d && i < n && s[i] == ':';
}

hj_format hj_format_sniff(const void *buf, size_t len)
{
    const char *s = buf;
    if (len >= 6 && memcmp(s, "\x93NUMPY", 6) == 0)
        return HJ_FORMAT_NPY;
    if (len >= 4 && (memcmp(s, "PK\x03\x04", 4) == 0 || memcmp(s, "PK\x05\x06", 4) == 0))
        return HJ_FORMAT_NPZ;
    size_t n;
    const char *l = first_line(s, len, &n);
    /* libsvm: a line of the first 16 has INDEX:VALUE pairs, and none a comma
     * (a line may hold a label alone) */
    int svm = 0;
    const char *p = l, *end = s + len;
    for (int k = 0; k < 16 && p < end; k++) {
        size_t m;
        const char *q = first_line(p, (size_t)(end - p), &m);
        if (memchr(q, ',', m))
            break;
        svm |= looks_libsvm(q, m);
        p = q + m + 1;
    }
    if (svm && !memchr(l, ',', n))
        return HJ_FORMAT_LIBSVM;
    if (memchr(l, '\t', n) && !memchr(l, ',', n))
        return HJ_FORMAT_TSV;
    return HJ_FORMAT_CSV;
}

static const char *format_what(hj_format f)
{
    switch (f) {
    case HJ_FORMAT_NPY: return "a NumPy .npy array";
    case HJ_FORMAT_NPZ: return "a zip archive (.npz)";
    case HJ_FORMAT_TSV: return "tab-separated text (TSV)";
    case HJ_FORMAT_LIBSVM: return "libsvm/svmlight text";
    default: return "comma-separated text (CSV)";
    }
}

static const char *format_ext(hj_format f)
{
    static const char *const ext[] = {"", ".csv", ".tsv", ".npy", ".npz", ".svm"};
    return ext[f];
}

/* HJ_EFORMAT when the content is plainly another format than f: binary
 * for text and text for binary always; one text format for another only
 * when the first line leaves no doubt (tabs and no comma, commas and no
 * tab, INDEX:VALUE pairs). */
static hj_status check_content(const char *s, size_t len, const char *name, hj_format f,
                               hj_error *err)
{
    if (len > 4096) /* the head only: what the row readers see (hj_io_check_content_fd) */
        len = 4096;
    hj_format c = hj_format_sniff(s, len);
    if (len == 0 || c == f)
        return HJ_OK;
    int binary = c == HJ_FORMAT_NPY || c == HJ_FORMAT_NPZ;
    int want_binary = f == HJ_FORMAT_NPY || f == HJ_FORMAT_NPZ;
    if (!binary && !want_binary) {
        size_t n;
        const char *l = first_line(s, len, &n);
        int tabs = memchr(l, '\t', n) != NULL, commas = memchr(l, ',', n) != NULL;
        int clear = (c == HJ_FORMAT_TSV && f == HJ_FORMAT_CSV) ||
                    (c == HJ_FORMAT_LIBSVM && f != HJ_FORMAT_LIBSVM && !commas) ||
                    (f == HJ_FORMAT_TSV && commas && !tabs) ||
                    (f == HJ_FORMAT_LIBSVM && commas);
        if (!clear)
            return HJ_OK;
    }
    if (want_binary && !binary && memchr(s, '\0', len < 4096 ? len : 4096) != NULL)
        return HJ_OK; /* binary but unknown: the parser's own message */
    return hj_error_set(err, HJ_EFORMAT,
                        "%s: holds %s, not %s (name it *%s or give --format %s)", name,
                        format_what(c), format_what(f), format_ext(c), hj_format_name(c));
}

hj_status hj_matrix_parse(const void *buf, size_t len, const char *name, const hj_read_options *o,
                          hj_matrix *out, hj_error *err)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (out == NULL || (buf == NULL && len > 0))
        return hj_error_set(err, HJ_EINVAL, "hj_matrix_parse: NULL buffer or output");
    if (name == NULL)
        name = "<data>";
    hj_read_options d = {0};
    if (o == NULL)
        o = &d;
    hj_format f = o->format != HJ_FORMAT_AUTO ? o->format : hj_format_of_path(name);
    if (f == HJ_FORMAT_AUTO)
        f = HJ_FORMAT_CSV;
    hj_status st = check_content(buf, len, name, f, err);
    if (st != HJ_OK)
        return st;
    switch (f) {
    case HJ_FORMAT_TSV: return hj_io_csv_parse_sep(buf, len, name, '\t', o->no_header, out, err);
    case HJ_FORMAT_NPY: return hj_npy_parse(buf, len, name, out, err);
    case HJ_FORMAT_NPZ: return hj_npz_parse(buf, len, name, out, err);
    case HJ_FORMAT_LIBSVM: return hj_libsvm_parse(buf, len, name, o->features, out, err);
    default: return hj_io_csv_parse_sep(buf, len, name, ',', o->no_header, out, err);
    }
}

hj_status hj_io_check_content_fd(int fd, const char *name, hj_format f, hj_error *err)
{
    char head[4096];
    ssize_t n = pread(fd, head, sizeof head, 0);
    if (n <= 0)
        return HJ_OK; /* unreadable or empty: the parser's own message */
    return check_content(head, (size_t)n, name, f, err);
}

hj_status hj_matrix_read_with(const char *path, const hj_read_options *o, hj_matrix *out,
                              hj_error *err)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
    if (path == NULL || out == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_matrix_read: NULL path or output");
    const int std_in = strcmp(path, "-") == 0;
    hj_format f = o && o->format != HJ_FORMAT_AUTO ? o->format : hj_format_of_path(path);
    if (f == HJ_FORMAT_NPY && !std_in) { /* its header checks the size before the data are read */
        int fd = open(path, O_RDONLY);
        hj_status st = fd >= 0 ? hj_io_check_content_fd(fd, path, f, err) : HJ_OK;
        if (fd >= 0)
            close(fd);
        return st == HJ_OK ? hj_npy_read(path, out, err) : st;
    }
    char *buf;
    size_t len;
    hj_status st = hj_io_read_file(path, &buf, &len, err);
    if (st != HJ_OK)
        return st;
    hj_read_options so = o ? *o : (hj_read_options){0};
    if (std_in && so.format == HJ_FORMAT_AUTO) /* no extension: what the bytes are */
        so.format = hj_format_sniff(buf, len);
    st = hj_matrix_parse(buf, len, std_in ? "<stdin>" : path, &so, out, err);
    free(buf);
    return st;
}

hj_status hj_matrix_read(const char *path, hj_matrix *out, hj_error *err)
{
    return hj_matrix_read_with(path, NULL, out, err);
}

hj_status hj_format_for_write(const char *path, hj_format forced, hj_format *f, hj_error *err)
{
    hj_format g = forced != HJ_FORMAT_AUTO ? forced : hj_format_of_path(path);
    if (g == HJ_FORMAT_AUTO && forced == HJ_FORMAT_AUTO && hj_io_extension(path)[0] != '\0' &&
        strcmp(path, "-") != 0)
        return hj_error_set(err, HJ_EINVAL,
                            "%s: '%s' is not a table format; tables are written as .csv, .tsv, "
                            ".npy or .npz",
                            path, hj_io_extension(path));
    if (g == HJ_FORMAT_LIBSVM)
        return hj_error_set(err, HJ_EINVAL,
                            "%s: libsvm files are read, not written; tables are written as .csv, "
                            ".tsv, .npy or .npz",
                            path);
    *f = g == HJ_FORMAT_AUTO ? HJ_FORMAT_CSV : g;
    return HJ_OK;
}

hj_status hj_matrix_write_stream(FILE *f, hj_format fmt, const hj_matrix *m,
                                 const char *const *names, hj_error *err)
{
    switch (fmt) {
    case HJ_FORMAT_TSV: return hj_io_csv_write_sep(f, m, names, '\t', err);
    case HJ_FORMAT_NPY: return hj_io_npy_write_stream(f, m, err);
    case HJ_FORMAT_NPZ: return hj_npz_write_stream(f, m, names, err);
    case HJ_FORMAT_LIBSVM:
        return hj_error_set(err, HJ_EINVAL, "libsvm files are read, not written");
    default: return hj_csv_write_stream(f, m, names, err);
    }
}

typedef struct write_job {
    hj_format fmt;
    const hj_matrix *m;
    const char *const *names;
} write_job;

static hj_status job_write(FILE *f, const void *ctx, hj_error *err)
{
    const write_job *j = ctx;
    return hj_matrix_write_stream(f, j->fmt, j->m, j->names, err);
}

hj_status hj_matrix_write_format(const char *path, hj_format fmt, const hj_matrix *m,
                                 const char *const *names, hj_error *err)
{
    if (path == NULL || path[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "hj_matrix_write: empty path");
    hj_status st = HJ_OK;
    if (fmt == HJ_FORMAT_AUTO && hj_format_of_path(path) == HJ_FORMAT_AUTO)
        fmt = HJ_FORMAT_CSV; /* the library's old rule: an unknown extension is CSV */
    else
        st = hj_format_for_write(path, fmt, &fmt, err);
    if (st != HJ_OK)
        return st;
    if (fmt == HJ_FORMAT_CSV)
        return hj_csv_write(path, m, names, err);
    if (fmt == HJ_FORMAT_NPY)
        return hj_npy_write(path, m, err);
    /* validated before a temporary file is made */
    st = hj_io_check_writable(m, path, err);
    if (st != HJ_OK)
        return st;
    write_job j = {fmt, m, names};
    return hj_io_write_atomic(path, job_write, &j, err);
}

hj_status hj_matrix_write(const char *path, const hj_matrix *m, const char *const *names,
                          hj_error *err)
{
    return hj_matrix_write_format(path, HJ_FORMAT_AUTO, m, names, err);
}
