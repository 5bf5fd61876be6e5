/* io-impl.h — private helpers shared by the data I/O module (src/io/). */
#ifndef HJDL_IO_IMPL_H
#define HJDL_IO_IMPL_H

#include <locale.h>
#include <stdio.h>
#include <stddef.h>

#include "hjdl/data.h"

/* Read the whole file at `path` into a fresh malloc'd buffer (*buf, *len
 * bytes, NOT NUL-terminated; *buf is non-NULL even for an empty file). The
 * caller frees *buf. Errors: HJ_EIO "PATH: strerror" when the file cannot
 * be opened or read, HJ_ENOMEM. On failure *buf = NULL, *len = 0. Path
 * "-" reads standard input to its end (messages name it "<stdin>"). */
hj_status hj_io_read_file(const char *path, char **buf, size_t *len, hj_error *err);

/* Writes the body of a file to f; returns a status and fills err. */
typedef hj_status (*hj_io_writer_fn)(FILE *f, const void *ctx, hj_error *err);

/* Atomic file write: refuse PATH unless hj_output_check accepts it (a
 * regular file, a new path, or a symbolic link to a regular file, whose
 * target is then replaced), sweep stale temporary files of dead hjdl
 * processes from the directory (hj_io_sweep_stale), create
 * PATH.tmp.PID.XXXXXX with mkstemp (same directory as the target, so rename
 * is atomic), call fn, fflush + fsync, close, rename onto PATH, then fsync
 * the directory (best effort). On any failure the temporary file is
 * removed, PATH is untouched (no file appears there if it did not exist)
 * and err reads "PATH: ...". The new file gets mode 0644. Path "-" is
 * standard output: fn writes there directly (and flushes). */
hj_status hj_io_write_atomic(const char *path, hj_io_writer_fn fn, const void *ctx,
                             hj_error *err);

/* Remove from dir the temporary files "NAME.tmp.PID.*" that a killed
 * writer left: regular files of this user whose PID names no running
 * process, last written before this run (the time of /proc/self, which Linux
 * sets when this process is first looked up there, no later than its first
 * write). Best effort, never fails. */
void hj_io_sweep_stale(const char *dir);

/* The calling thread's locale switched to "C" for strtod/printf, then
 * restored. Uses newlocale/uselocale (per thread); never setlocale. */
typedef struct hj_io_c_locale {
    locale_t c;      /* the C locale object, or (locale_t)0 */
    locale_t saved;  /* the thread's previous locale */
} hj_io_c_locale;

hj_status hj_io_c_locale_enter(hj_io_c_locale *g, hj_error *err);
void hj_io_c_locale_leave(hj_io_c_locale *g);

/* Copy at most 32 bytes of s[0..n) into out (size >= 40) for an error
 * message: control and non-ASCII bytes become '?', "..." marks a cut. */
void hj_io_excerpt(char *out, size_t outsz, const char *s, size_t n);

/* HJ_EINVAL unless m is a non-empty matrix with data; HJ_ENAN naming the
 * first non-finite value ("row I, column J is NaN; ...", 1-based). `who`
 * starts the message (a function name). */
hj_status hj_io_check_writable(const hj_matrix *m, const char *who, hj_error *err);

/* True when path ends in ".npy", any case: the format choice of
 * hj_matrix_read/hj_matrix_write and the row readers (src/io/format.c). */
int hj_io_has_npy_extension(const char *path);

/* HJ_EFORMAT when the first 4 KiB of the open file fd (read with pread,
 * the position is kept) plainly hold another format than f, with the
 * message of hj_matrix_parse ("NAME: holds ..., not ..."). */
hj_status hj_io_check_content_fd(int fd, const char *name, hj_format f, hj_error *err);

/* .npy (format 1.0, <f8, C order, 2-D) to an open stream. */
hj_status hj_io_npy_write_stream(FILE *f, const hj_matrix *m, hj_error *err);

/* The .npy 1.0 preamble and header of a <f8 C-order array of shape
 * (rows, cols), or (rows,) when one_d, into head; returns its length (a
 * multiple of 64). */
#define HJ_IO_NPY_HEAD_MAX 128
size_t hj_io_npy_head(unsigned char head[HJ_IO_NPY_HEAD_MAX], size_t rows, size_t cols, int one_d);
/* src[0], src[stride], ..., n doubles -> dst (8 n bytes, little-endian). */
void hj_io_npy_le(const double *src, size_t n, size_t stride, unsigned char *dst);

/* CSV with separator sep (',' or '\t'); no_header: line 1 is data and
 * names stay NULL. Otherwise hj_csv_parse / hj_csv_write_stream. */
hj_status hj_io_csv_parse_sep(const char *text, size_t len, const char *name, char sep,
                              int no_header, hj_matrix *out, hj_error *err);
hj_status hj_io_csv_write_sep(FILE *f, const hj_matrix *m, const char *const *names, char sep,
                              hj_error *err);


/* ---- pieces of the CSV and .npy parsers, for the row readers (rows.c) ---- */

/* Parse a CSV header line s[0..n) (BOM and line end already removed) into
 * *names (ncols malloc'd strings in a malloc'd array; free each, then the
 * array) and *ncols, with the messages of hj_csv_parse ("NAME:1:...").
 * On failure *names = NULL, *ncols = 0. */
hj_status hj_io_csv_header(const char *name, const char *s, size_t n, char ***names,
                           size_t *ncols, hj_error *err);

/* The per-line checks of hj_csv_parse on line `line` s[0..n) (line end
 * removed): HJ_EFORMAT "NAME:LINE: carriage return inside a line ..." or,
 * for a blank line, "NAME:1: blank first line ..." / "NAME:LINE: blank line
 * inside the data". */
hj_status hj_io_csv_line_check(const char *name, const char *s, size_t n, size_t line,
                               hj_error *err);

/* Parse the CSV data line s[0..n) (line end removed, not blank), which is
 * line `line` of the file, into row (ncols), with the messages of
 * hj_csv_parse ("NAME:LINE: expected ...", "NAME:LINE:FIELD: ..."). The
 * caller holds the C locale (hj_io_c_locale_enter). */
hj_status hj_io_csv_row(const char *name, const char *s, size_t n, size_t line, size_t ncols,
                        double *row, hj_error *err);

/* What a .npy header says. */
typedef struct hj_io_npy_info {
    char kind;          /* 'f', 'i' or 'u' */
    size_t itemsize;    /* 1, 4 or 8 */
    int big_endian;
    int fortran;        /* column-major data */
    size_t rows, cols;  /* 1-D arrays: (n, 1) */
    size_t data_offset; /* bytes before the first element */
} hj_io_npy_info;

/* Validate the preamble and header of a .npy file of len bytes whose first
 * avail bytes are in buf (avail >= min(len, preamble + header length) is
 * enough), including the data size against len, with the messages of
 * hj_npy_parse ("NAME: ..."). */
hj_status hj_io_npy_header(const void *buf, size_t avail, size_t len, const char *name,
                           hj_io_npy_info *info, hj_error *err);

/* One element of that dtype at p, as a double (int64 rounds to nearest). */
double hj_io_npy_decode(const unsigned char *p, char kind, size_t itemsize, int big_endian);

#endif /* HJDL_IO_IMPL_H */
