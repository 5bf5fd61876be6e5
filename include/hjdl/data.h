/* data.h — numeric matrices and their files: CSV (with a header line) and
 * NumPy .npy. Readers validate everything and name file, line and column in
 * their messages; writers are atomic (temp file + rename), so a failed write
 * never leaves a partial file.
 */
#ifndef HJDL_DATA_H
#define HJDL_DATA_H

#include <stdio.h>
#include <stddef.h>

#include "hjdl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A dense row-major matrix that owns its storage. */
typedef struct hj_matrix {
    size_t rows;
    size_t cols;
    double *data;    /* (rows, cols) */
    char **names;    /* cols column names (from a CSV header), or NULL */
} hj_matrix;

/* Zero-initialised rows x cols matrix (names NULL). */
hj_status hj_matrix_alloc(hj_matrix *m, size_t rows, size_t cols, hj_error *err);
/* Free storage and names; leaves *m zeroed. Safe on a zeroed matrix. */
void hj_matrix_free(hj_matrix *m);

/* Parse CSV text: first line is a header of column names, then one numeric
 * row per line; separators ',' (whitespace around fields allowed), '\n' or
 * "\r\n" line ends, a final newline optional, blank lines at the end
 * ignored. Rejects: empty input, no data rows, ragged rows, non-numeric
 * fields, NaN/Inf (HJ_ENAN), values out of double range. Messages read
 * "NAME:LINE:COL: ...", NAME being `name`. */
hj_status hj_csv_parse(const char *text, size_t len, const char *name,
                       hj_matrix *out, hj_error *err);
hj_status hj_csv_read(const char *path, hj_matrix *out, hj_error *err);

/* Parse a .npy buffer (format 1.0/2.0/3.0): dtype <f8, <f4, <i4, <i8, |u1
 * (and big-endian forms), C or Fortran order, 1-D (n -> n x 1) or 2-D.
 * Rejects truncated data, bad magic/header, other dtypes, NaN/Inf. */
hj_status hj_npy_parse(const void *buf, size_t len, const char *name,
                       hj_matrix *out, hj_error *err);
hj_status hj_npy_read(const char *path, hj_matrix *out, hj_error *err);

/* Read by extension: ".npy" -> npy, anything else -> CSV. */
hj_status hj_matrix_read(const char *path, hj_matrix *out, hj_error *err);

/* Write CSV with the given header names (cols entries; NULL -> m->names,
 * and if that is NULL too, c1..cN), values printed with %.17g in the C
 * locale so they round-trip exactly. */
hj_status hj_csv_write_stream(FILE *f, const hj_matrix *m, const char *const *names,
                              hj_error *err);
/* Same to a file, atomically (write PATH.tmp.XXXXXX, fsync, rename). */
hj_status hj_csv_write(const char *path, const hj_matrix *m, const char *const *names,
                       hj_error *err);
/* .npy (format 1.0, <f8, C order, 2-D), atomically. */
hj_status hj_npy_write(const char *path, const hj_matrix *m, hj_error *err);
/* mkdir -p: create path and its missing parents (mode 0755). HJ_EIO
 * naming the component that failed, or when path exists but is not a
 * directory. */
hj_status hj_make_dirs(const char *path, hj_error *err);

/* By extension, like hj_matrix_read. */
hj_status hj_matrix_write(const char *path, const hj_matrix *m, const char *const *names,
                          hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_DATA_H */
