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
 * be opened or read, HJ_ENOMEM. On failure *buf = NULL, *len = 0. */
hj_status hj_io_read_file(const char *path, char **buf, size_t *len, hj_error *err);

/* Writes the body of a file to f; returns a status and fills err. */
typedef hj_status (*hj_io_writer_fn)(FILE *f, const void *ctx, hj_error *err);

/* Atomic file write: create PATH.tmp.XXXXXX with mkstemp (same directory as
 * the target, so rename is atomic), call fn, fflush + fsync, close, rename
 * onto PATH, then fsync the directory (best effort). On any failure the
 * temporary file is removed, PATH is untouched (no file appears there if it
 * did not exist) and err reads "PATH: ...". The new file gets mode 0644. */
hj_status hj_io_write_atomic(const char *path, hj_io_writer_fn fn, const void *ctx,
                             hj_error *err);

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

/* .npy (format 1.0, <f8, C order, 2-D) to an open stream. */
hj_status hj_io_npy_write_stream(FILE *f, const hj_matrix *m, hj_error *err);

/* 1 when s[0..n) is exactly a decimal number [+-](D+[.D*] | .D+)[(e|E)[+-]D+]
 * (no spaces, no hex, no inf/nan); the syntax every hjdl text format accepts. */
int hj_io_number_syntax(const char *s, size_t n);

#endif /* HJDL_IO_IMPL_H */
