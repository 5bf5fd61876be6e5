/* io.h — the file services of the io module for the modules above it:
 * whole-file reads, the atomic write (temporary file renamed on success),
 * the sweep of stale temporaries, the per-thread C-locale guard and the
 * excerpt of bad input for messages.
 *
 * Not installed: the library's own plumbing for its writers (results,
 * figures, the report, model files), not an API for C users. The parsers'
 * helpers stay private in io/io-impl.h.
 */
#ifndef HJDL_IO_IO_H
#define HJDL_IO_IO_H

#include <locale.h>
#include <stdio.h>
#include <stddef.h>

#include "hjdl/status.h"

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

/* A CSV file holding only its header line, names (cols), quoted as
 * hj_csv_write quotes them: a table with no rows (which hj_csv_write
 * refuses), written atomically. HJ_EINVAL for no, empty or multi-line
 * names. */
hj_status hj_csv_write_header(const char *path, const char *const *names, size_t cols,
                              hj_error *err);

#endif /* HJDL_IO_IO_H */
