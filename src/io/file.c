/* file.c — whole-file reads, atomic writes and the per-thread C locale for src/io. */
#include "io/io-impl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

hj_status hj_io_read_file(const char *path, char **buf, size_t *len, hj_error *err)
{
    if (buf == NULL || len == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_io_read_file: NULL output");
    *buf = NULL;
    *len = 0;
    if (path == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_io_read_file: NULL path");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));

    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (b == NULL) {
        fclose(f);
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap > SIZE_MAX / 2) {
                free(b);
                fclose(f);
                return hj_error_set(err, HJ_ENOMEM, "%s: file too large", path);
            }
            char *nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                fclose(f);
                return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(b);
                fclose(f);
                return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(e ? e : EIO));
            }
            break; /* end of file */
        }
    }
    fclose(f);
    *buf = b;
    *len = n;
    return HJ_OK;
}

/* fsync the directory holding `path` so the rename itself is durable. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (slash == NULL) {
        dir = malloc(2);
        if (dir != NULL)
            memcpy(dir, ".", 2);
    } else {
        size_t dl = (slash == path) ? 1 : (size_t)(slash - path);
        dir = malloc(dl + 1);
        if (dir != NULL) {
            memcpy(dir, path, dl);
            dir[dl] = '\0';
        }
    }
    if (dir == NULL)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some file systems refuse it */
        close(fd);
    }
    free(dir);
}

hj_status hj_io_write_atomic(const char *path, hj_io_writer_fn fn, const void *ctx,
                             hj_error *err)
{
    if (path == NULL || path[0] == '\0' || fn == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_io_write_atomic: empty path or NULL writer");
    static const char suffix[] = ".tmp.XXXXXX";
    size_t pl = strlen(path);
    char *tmp = malloc(pl + sizeof suffix);
    if (tmp == NULL)
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, suffix, sizeof suffix);

    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(e));
    }
    /* mkstemp makes the file 0600; give the result the usual 0644. */
    (void)fchmod(fd, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);

    hj_status st = HJ_OK;
    FILE *f = fdopen(fd, "wb");
    if (f == NULL) {
        int e = errno;
        close(fd);
        st = hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(e));
        goto fail;
    }
    st = fn(f, ctx, err);
    if (st != HJ_OK) {
        hj_error_prefix(err, "%s: ", path);
        goto fail_open;
    }
    if (fflush(f) != 0 || ferror(f)) {
        st = hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
        goto fail_open;
    }
    if (fsync(fileno(f)) != 0) {
        st = hj_error_set(err, HJ_EIO, "%s: fsync: %s", path, strerror(errno));
        goto fail_open;
    }
    if (fclose(f) != 0) {
        st = hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        st = hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    free(tmp);
    sync_parent_dir(path);
    return HJ_OK;

fail_open:
    fclose(f);
fail:
    unlink(tmp);
    free(tmp);
    return st;
}

hj_status hj_io_c_locale_enter(hj_io_c_locale *g, hj_error *err)
{
    g->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (g->c == (locale_t)0)
        return hj_error_set(err, HJ_ENOMEM, "cannot create the C locale: %s", strerror(errno));
    g->saved = uselocale(g->c);
    if (g->saved == (locale_t)0) {
        freelocale(g->c);
        g->c = (locale_t)0;
        return hj_error_set(err, HJ_EINVAL, "cannot switch to the C locale: %s",
                            strerror(errno));
    }
    return HJ_OK;
}

void hj_io_c_locale_leave(hj_io_c_locale *g)
{
    if (g->c == (locale_t)0)
        return;
    uselocale(g->saved);
    freelocale(g->c);
    g->c = (locale_t)0;
}

void hj_io_excerpt(char *out, size_t outsz, const char *s, size_t n)
{
    const size_t lim = 32;
    size_t k = 0;
    if (outsz == 0)
        return;
    for (size_t i = 0; i < n && i < lim && k + 1 < outsz; i++) {
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    if (n > lim && k + 4 <= outsz) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
}

hj_status hj_io_check_writable(const hj_matrix *m, const char *who, hj_error *err)
{
    if (m == NULL || m->data == NULL)
        return hj_error_set(err, HJ_EINVAL, "%s: NULL matrix", who);
    if (m->rows == 0 || m->cols == 0)
        return hj_error_set(err, HJ_EINVAL, "%s: empty matrix (%zu x %zu) cannot be read back",
                            who, m->rows, m->cols);
    if (m->rows > SIZE_MAX / m->cols)
        return hj_error_set(err, HJ_EINVAL, "%s: %zu x %zu overflows size_t", who, m->rows,
                            m->cols);
    for (size_t i = 0; i < m->rows; i++)
        for (size_t j = 0; j < m->cols; j++) {
            double v = m->data[i * m->cols + j];
            if (!isfinite(v))
                return hj_error_set(err, HJ_ENAN,
                                    "%s: row %zu, column %zu is %s; refusing to write a "
                                    "value the readers reject",
                                    who, i + 1, j + 1, isnan(v) ? "NaN" : "infinite");
        }
    return HJ_OK;
}

hj_status hj_make_dirs(const char *path, hj_error *err)
{
    char buf[1024];
    size_t len = path ? strlen(path) : 0;
    if (len == 0 || len >= sizeof buf)
        return hj_error_set(err, HJ_EINVAL, "output directory path is empty or too long");
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return hj_error_set(err, HJ_EIO, "%s: %s", buf, strerror(errno));
        buf[i] = c;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return hj_error_set(err, HJ_EIO, "%s: not a directory", path);
    return HJ_OK;
}
