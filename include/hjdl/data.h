/* data.h — numeric matrices and their files: CSV and TSV (with a header
 * line, or without), NumPy .npy and .npz, libsvm/svmlight (read). Readers
 * validate everything and name file, line and column in their messages;
 * writers are atomic (temp file + rename), so a failed write
 * never leaves a partial file.
 */
#ifndef HJDL_DATA_H
#define HJDL_DATA_H

#include "hjdl/export.h"

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

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
HJ_API hj_status hj_matrix_alloc(hj_matrix *m, size_t rows, size_t cols, hj_error *err);
/* Free storage and names; leaves *m zeroed. Safe on a zeroed matrix. */
HJ_API void hj_matrix_free(hj_matrix *m);

/* Parse CSV text: first line is a header of column names, then one numeric
 * row per line; separators ',' (whitespace around fields allowed), '\n' or
 * "\r\n" line ends, a final newline optional, blank lines at the end
 * ignored. Rejects: empty input, no data rows, ragged rows, non-numeric
 * fields, NaN/Inf (HJ_ENAN), values out of double range. Messages read
 * "NAME:LINE:COL: ...", NAME being `name`. */
HJ_API hj_status hj_csv_parse(const char *text, size_t len, const char *name,
                       hj_matrix *out, hj_error *err);
HJ_API hj_status hj_csv_read(const char *path, hj_matrix *out, hj_error *err);

/* Parse a .npy buffer (format 1.0/2.0/3.0): dtype <f8, <f4, <i4, <i8, |u1
 * (and big-endian forms), C or Fortran order, 1-D (n -> n x 1) or 2-D.
 * Rejects truncated data, bad magic/header, other dtypes, NaN/Inf. */
HJ_API hj_status hj_npy_parse(const void *buf, size_t len, const char *name,
                       hj_matrix *out, hj_error *err);
HJ_API hj_status hj_npy_read(const char *path, hj_matrix *out, hj_error *err);

/* Read by extension (hj_format_of_path; none or unknown: CSV), checking
 * that the content matches (hj_matrix_read_with with default options). */
HJ_API hj_status hj_matrix_read(const char *path, hj_matrix *out, hj_error *err);

/* ---- file formats ------------------------------------------------------------
 * csv   comma-separated text, a header line of names (hj_csv_parse)
 * tsv   the same with tabs ('\t' separates fields; ' ' around them is blank)
 * npy   one NumPy array (hj_npy_parse); no names
 * npz   a NumPy zip of .npy arrays (np.savez, stored, or np.savez_compressed,
 *       deflated). Read: arrays X and y -> the columns of X, then y as the
 *       last column (no names); else one array -> its columns; else arrays
 *       of one column and equal length -> one column each, named by the
 *       array names, in archive order. Written: one 1-D array per column,
 *       named by the column names (X when there are none: one 2-D array).
 * libsvm  svmlight/libsvm text "LABEL IDX:VALUE ..." (1-based increasing
 *       indices, '#' comments, qid: ignored), read only: a dense matrix of
 *       the features 1..D, then the label as the last column (no names);
 *       D = the largest index, or hj_read_options.features when given. */
typedef enum hj_format {
    HJ_FORMAT_AUTO = 0, /* by extension */
    HJ_FORMAT_CSV,
    HJ_FORMAT_TSV,
    HJ_FORMAT_NPY,
    HJ_FORMAT_NPZ,
    HJ_FORMAT_LIBSVM
} hj_format;

/* "csv", "tsv", "npy", "npz", "libsvm" ("auto" for HJ_FORMAT_AUTO). */
HJ_API const char *hj_format_name(hj_format f);
/* The format named name (those of hj_format_name; "svmlight" and "svm" are
 * libsvm); HJ_EINVAL "unknown format 'X' (csv, tsv, npy, npz or libsvm)". */
HJ_API hj_status hj_format_parse(const char *name, hj_format *f, hj_error *err);
/* By extension, any case: .csv, .tsv/.tab, .npy, .npz, .svm/.libsvm/.svmlight;
 * HJ_FORMAT_AUTO for a path without one of these. */
HJ_API hj_format hj_format_of_path(const char *path);
/* By content: a .npy magic, a zip signature (npz), else a text format:
 * libsvm when one of the first 16 lines (not '#' comments) has INDEX:VALUE
 * as its second field and none has a comma, tsv when the first line has a
 * tab and no comma, csv otherwise. */
HJ_API hj_format hj_format_sniff(const void *buf, size_t len);

typedef struct hj_read_options {
    hj_format format;  /* HJ_FORMAT_AUTO: by the name's extension, else CSV */
    int no_header;     /* csv/tsv: line 1 is data; the columns have no names */
    size_t features;   /* libsvm: number of feature columns (0: the largest index) */
} hj_read_options;

/* Parse buf[0..len) named name (messages "NAME: ..." / "NAME:LINE: ...")
 * in format o->format, or by name's extension (o NULL: defaults). A content
 * that is plainly another format is refused with HJ_EFORMAT saying so,
 * e.g. "x.csv: holds a NumPy .npy array, not CSV text (rename it x.npy or
 * give --format npy)". */
HJ_API hj_status hj_matrix_parse(const void *buf, size_t len, const char *name,
                          const hj_read_options *o, hj_matrix *out, hj_error *err);
/* The file at path; "-" is standard input (read to its end, named
 * "<stdin>", its format o->format or else hj_format_sniff). */
HJ_API hj_status hj_matrix_read_with(const char *path, const hj_read_options *o, hj_matrix *out,
                              hj_error *err);

/* The format a table written to path takes: forced (not AUTO), else its
 * extension, else (no extension, or "-") CSV. HJ_EINVAL "PATH: '.EXT' is not
 * a table format; tables are written as .csv, .tsv, .npy or .npz" for any
 * other extension and for libsvm (read only). */
HJ_API hj_status hj_format_for_write(const char *path, hj_format forced, hj_format *f, hj_error *err);
/* Write m in format f (csv, tsv, npy, npz; names as hj_csv_write) to an
 * open stream, or to path atomically. */
HJ_API hj_status hj_matrix_write_stream(FILE *f, hj_format fmt, const hj_matrix *m,
                                 const char *const *names, hj_error *err);
HJ_API hj_status hj_matrix_write_format(const char *path, hj_format fmt, const hj_matrix *m,
                                 const char *const *names, hj_error *err);

/* The shortest "%.Ng" text of v (N = 1..17) that reads back as exactly v,
 * e.g. "0.1" rather than 0.10000000000000001: numbers printed for people.
 * buf should hold 32 bytes; returns buf. */
HJ_API char *hj_double_text(double v, char *buf, size_t len);

/* NumPy .npz archives (see above). */
HJ_API hj_status hj_npz_parse(const void *buf, size_t len, const char *name, hj_matrix *out,
                       hj_error *err);
HJ_API hj_status hj_npz_write_stream(FILE *f, const hj_matrix *m, const char *const *names,
                              hj_error *err);
/* libsvm/svmlight text (see above); features 0: the largest index. */
HJ_API hj_status hj_libsvm_parse(const char *text, size_t len, const char *name, size_t features,
                          hj_matrix *out, hj_error *err);

/* Write CSV with the given header names (cols entries; NULL -> m->names,
 * and if that is NULL too, c1..cN), values printed with %.17g in the C
 * locale so they round-trip exactly. */
HJ_API hj_status hj_csv_write_stream(FILE *f, const hj_matrix *m, const char *const *names,
                              hj_error *err);
/* Same to a file, atomically (write PATH.tmp.XXXXXX, fsync, rename). */
HJ_API hj_status hj_csv_write(const char *path, const hj_matrix *m, const char *const *names,
                       hj_error *err);
/* .npy (format 1.0, <f8, C order, 2-D), atomically. */
HJ_API hj_status hj_npy_write(const char *path, const hj_matrix *m, hj_error *err);
/* 1 when s[0..n) is exactly a decimal number [+-](D+[.D*] | .D+)[(e|E)[+-]D+]
 * (no spaces, no hex, no inf/nan): the one number syntax of hjdl, in every
 * text format it reads and in the options of the command-line tool. A
 * subnormal value is accepted; one below the smallest subnormal reads as 0. */
HJ_API int hj_number_syntax(const char *s, size_t n);

/* ---- output paths --------------------------------------------------------
 * Every writer of hjdl (matrices, models, reports, plots) writes only to a
 * regular file or a new path: HJ_EINVAL "PATH: is a directory|a FIFO|a
 * character device|...; refusing to replace it" otherwise, checked before
 * anything is written. A symbolic link is followed: it must lead to an
 * existing regular file, which is replaced (the link stays); a dangling link
 * is refused. Writers create PATH.tmp.PID.XXXXXX next to PATH and rename it
 * onto PATH; a temporary file left by a killed process (its PID no longer
 * running, last written before this process started) is removed by the next
 * write into that directory. Path "-" names standard output for every
 * writer (written directly, once the data are validated). */
HJ_API hj_status hj_output_check(const char *path, hj_error *err);
/* 1 when a and b are the same string or name the same existing file
 * (device and inode, through links), else 0. */
HJ_API int hj_path_same_file(const char *a, const char *b);

/* The zlib CRC-32 and the size of the whole file at path, read in 1 MiB
 * chunks: what ranks of a distributed run compare to agree they read the
 * same data. HJ_EIO naming path when it cannot be read. */
HJ_API hj_status hj_file_crc32(const char *path, uint32_t *crc, uint64_t *bytes, hj_error *err);

/* mkdir -p: create path and its missing parents (mode 0755). HJ_EIO
 * naming the component that failed, or when path exists but is not a
 * directory. */
HJ_API hj_status hj_make_dirs(const char *path, hj_error *err);

/* By extension: .tsv, .npy, .npz, and CSV for .csv and any other
 * extension (the command-line tool refuses those first, hj_format_for_write);
 * .svm/.libsvm are refused (read only). */
HJ_API hj_status hj_matrix_write(const char *path, const hj_matrix *m, const char *const *names,
                          hj_error *err);

/* ---- streaming row readers ---------------------------------------------------
 * Read a matrix file (CSV or .npy, by extension as hj_matrix_read) a tile of
 * rows at a time, from any row: what `hjdl solve/explain --stream` and each
 * MPI rank (reading its own row range [begin, end)) use. Rows read this way
 * are bit-identical to the same rows of hj_matrix_read, whatever the tile
 * sizes and seeks. Memory: O(R cols) for tiles of R rows, plus, for CSV, a
 * sparse index of one file offset per 1024 rows.
 *
 * CSV: same syntax and messages as hj_csv_parse. Opening scans the whole
 * file once (line ends, NUL bytes) and parses the header; the row count is
 * the number of lines after the header up to the last non-blank byte. A bad
 * data line (ragged, non-numeric, NaN, blank, stray CR) is reported by the
 * read that reaches it ("PATH:LINE: ..." / "PATH:LINE:FIELD: ...", LINE =
 * row + 2 counting the header as line 1); rows never read are never checked.
 * .npy: dtypes, orders and header validation of hj_npy_parse, checked (with
 * the data size against the file size) at open; a non-finite element is
 * reported by the read that reaches it ("PATH: element [I, J] (0-based) is
 * NaN", I the row). A file shrinking after open gives HJ_EIO.
 * A reader is not thread-safe; open one per thread. */
typedef struct hj_rows hj_rows;

/* Open path for streaming. *out = NULL on failure. Errors: HJ_EIO (cannot
 * open/read), HJ_EFORMAT (bad header, empty file, no data rows, truncated
 * .npy, NUL byte in a CSV), HJ_ENOMEM. */
HJ_API hj_status hj_rows_open(const char *path, hj_rows **out, hj_error *err);
/* Close and free (NULL is a no-op). */
HJ_API void hj_rows_close(hj_rows *r);

HJ_API size_t hj_rows_count(const hj_rows *r);              /* data rows (>= 1) */
HJ_API size_t hj_rows_cols(const hj_rows *r);               /* columns (>= 1) */
/* CSV column names (cols entries, owned by r), or NULL for .npy. */
const char *const *hj_rows_names(const hj_rows *r);
/* Index of the next row hj_rows_read returns (count at the end). */
HJ_API size_t hj_rows_tell(const hj_rows *r);

/* Position the reader at row `row` (0-based, row <= count; count = end).
 * CSV: O(1024) lines from the nearest index entry. HJ_EINVAL past the end. */
HJ_API hj_status hj_rows_seek(hj_rows *r, size_t row, hj_error *err);

/* Read the next up to max_rows rows into buf (max_rows, cols), row-major;
 * *got receives how many (0 at the end; fewer than max_rows only at the
 * end). On error *got = 0, the rows of buf are unspecified and the position
 * is undefined until the next hj_rows_seek. */
HJ_API hj_status hj_rows_read(hj_rows *r, double *buf, size_t max_rows, size_t *got, hj_error *err);

/* Rows [begin, end) of path into a fresh matrix (names from the CSV header,
 * NULL for .npy): open + seek + read + close. HJ_EINVAL unless
 * begin < end <= count. On failure *out is zeroed. */
HJ_API hj_status hj_rows_read_range(const char *path, size_t begin, size_t end, hj_matrix *out,
                             hj_error *err);

/* ---- sequences -----------------------------------------------------------------
 * Inputs that are sequences: n points of T steps of d features, held as a
 * matrix of n rows of T*d values, step-major: feature j of step k of point
 * i is data[i*T*d + k*d + j] (the input layout of model.h's sequence
 * models). Files: .npy of shape (n, T, d); .npz with an array X of shape
 * (n, T, d) and, optionally, y of shape (n,) or (n, 1) (targets or class
 * labels); or a long table (hj_sequences_from_long). */

/* A .npy array of 1 to max_ndim (<= 3) dimensions into out (shape[0],
 * shape[1] * shape[2]) (1-D: (n, 1)); shape (may be NULL) gets the
 * dimensions (1 for the missing ones), *ndim (may be NULL) their number.
 * With max_ndim 2 it is hj_npy_parse. A non-finite element of a 3-D array
 * is refused naming it: "NAME: element [I, K, J] (0-based) is NaN:
 * sequence I+1, step K+1, feature J+1". */
HJ_API hj_status hj_npy_parse_nd(const void *buf, size_t len, const char *name, size_t max_ndim,
                                 hj_matrix *out, size_t shape[3], size_t *ndim, hj_error *err);
HJ_API hj_status hj_npy_read_nd(const char *path, size_t max_ndim, hj_matrix *out, size_t shape[3],
                                size_t *ndim, hj_error *err);

typedef struct hj_sequences {
    hj_matrix x;       /* (n, T*d), step-major */
    size_t steps;      /* T >= 1 */
    size_t features;   /* d >= 1 */
    hj_matrix y;       /* (n, 1): the .npz array y; empty (rows 0, data NULL) when absent */
} hj_sequences;

/* Sequences from buf named name in format f (npy or npz; AUTO: by name's
 * extension, else by content). Refused with HJ_EFORMAT: a 1-D or 2-D array
 * ("NAME: a 2-D array of shape 10 x 5, but sequences need a 3-D array
 * (n, T, d)"), an .npz without X, a y whose length is not n, any other
 * format (its message says how to give sequences). */
HJ_API hj_status hj_sequences_parse(const void *buf, size_t len, const char *name, hj_format f,
                                    hj_sequences *s, hj_error *err);
/* The same from path ("-": standard input, format by f or content). */
HJ_API hj_status hj_sequences_read(const char *path, hj_format f, hj_sequences *s, hj_error *err);
/* Free and zero (safe on a zeroed struct). */
HJ_API void hj_sequences_free(hj_sequences *s);
/* The shape of the inputs in the .npy or .npz file at path (format f, or
 * by extension) without keeping them: *ndim (1 to 3) and shape (3; 1 for
 * the missing dimensions); for an .npz those of X, else of its one array,
 * else (n, number of arrays) for column arrays. A .npy is checked by its
 * header alone. Errors as hj_sequences_read; HJ_EINVAL for other formats. */
HJ_API hj_status hj_sequences_probe(const char *path, hj_format f, size_t shape[3], size_t *ndim,
                                    hj_error *err);

/* Long format: the rows of M (one per step, in order) grouped into
 * sequences by column id_col, a new sequence starting wherever its value
 * changes; the features of a step are the columns other than id_col and
 * skip_col (SIZE_MAX: none, e.g. the target). Every sequence must have the
 * same number of rows T: a ragged one is refused with HJ_EFORMAT "NAME:LINE:
 * sequence S (id V) has R rows, but sequence 1 has T (every sequence must
 * have the same number of steps)", LINE its first line (data row r is line
 * r + 1 + header_lines). first (may be NULL) gets a fresh array (n) of the
 * first row of each sequence (caller frees). s->y is left empty. */
HJ_API hj_status hj_sequences_from_long(const hj_matrix *M, size_t id_col, size_t skip_col, const char *name,
                                        size_t header_lines, hj_sequences *s, size_t **first,
                                        hj_error *err);

#ifdef __cplusplus
}
#endif
#endif /* HJDL_DATA_H */
