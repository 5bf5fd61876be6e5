/* io-impl.h — private helpers shared by the data I/O module (src/io/); what
 * other modules may use is io/io.h. */
#ifndef HJDL_IO_IMPL_H
#define HJDL_IO_IMPL_H

#include <stdio.h>
#include <stddef.h>

#include "hjdl/data.h"
#include "io/io.h"

/* HJ_EINVAL unless m is a non-empty matrix with data; HJ_ENAN naming the
 * first non-finite value ("row I, column J is NaN; ...", 1-based). `who`
 * starts the message (a function name). */
hj_status hj_io_check_writable(const hj_matrix *m, const char *who, hj_error *err);

/* The extension of path's last component, with its dot ("" when it has
 * none): the pointer into path (format_names.c). */
const char *hj_io_extension(const char *path);

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
    size_t rows, cols;  /* 1-D arrays: (n, 1); 3-D (n, T, d): (n, T*d) */
    size_t ndim;        /* 1, 2 or 3 */
    size_t dims[3];     /* the shape, 1 for the missing dimensions */
    size_t data_offset; /* bytes before the first element */
} hj_io_npy_info;

/* Validate the preamble and header of a .npy file of len bytes whose first
 * avail bytes are in buf (avail >= min(len, preamble + header length) is
 * enough), including the data size against len, with the messages of
 * hj_npy_parse ("NAME: ..."). */
hj_status hj_io_npy_header(const void *buf, size_t avail, size_t len, const char *name,
                           hj_io_npy_info *info, hj_error *err);
/* The same for arrays of up to max_ndim (<= 3) dimensions. */
hj_status hj_io_npy_header_nd(const void *buf, size_t avail, size_t len, const char *name,
                              size_t max_ndim, hj_io_npy_info *info, hj_error *err);

/* Sequences from an .npz image: X (n, T, d), y optional (hj_sequences_parse). */
hj_status hj_io_npz_sequences(const void *buf, size_t len, const char *name, hj_sequences *s,
                              hj_error *err);

/* The shape of the inputs of an .npz image: of X, else of its one array
 * (else a table of its columns, ndim 2). */
hj_status hj_io_npz_probe(const void *buf, size_t len, const char *name, size_t shape[3], size_t *ndim,
                          hj_error *err);

/* One element of that dtype at p, as a double (int64 rounds to nearest). */
double hj_io_npy_decode(const unsigned char *p, char kind, size_t itemsize, int big_endian);

#endif /* HJDL_IO_IMPL_H */
