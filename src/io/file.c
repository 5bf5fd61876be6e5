/* file.c — whole-file reads, atomic writes and the per-thread C locale for src/io. */
/* realpath(3) is an X/Open function */
#define _XOPEN_SOURCE 700
#include "io/io-impl.h"
#include "hjdl/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

hj_status hj_io_read_file(const char *path, char **buf, size_t *len, hj_error *err)
{
    if (buf == NULL || len == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_io_read_file: NULL output");
    *buf = NULL;
    *len = 0;
    if (path == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_io_read_file: NULL path");
    const int std_in = strcmp(path, "-") == 0; /* standard input, read to its end */
    FILE *f = std_in ? stdin : fopen(path, "rb");
    if (f == NULL)
        return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
    if (std_in)
        path = "<stdin>";

    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (b == NULL) {
        if (!std_in)
        fclose(f);
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap > SIZE_MAX / 2) {
                free(b);
                if (!std_in)
        fclose(f);
                return hj_error_set(err, HJ_ENOMEM, "%s: file too large", path);
            }
            char *nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                if (!std_in)
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
                if (!std_in)
        fclose(f);
                return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(e ? e : EIO));
            }
            break; /* end of file */
        }
    }
    if (!std_in)
        fclose(f);
    *buf = b;
    *len = n;
    return HJ_OK;
}

/* Directory part of path ("." when it has none), malloc'd, or NULL. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dl = slash == NULL ? 1 : (slash == path) ? 1 : (size_t)(slash - path);
    char *dir = malloc(dl + 1);
    if (dir == NULL)
        return NULL;
    memcpy(dir, slash == NULL ? "." : path, dl);
    dir[dl] = '\0';
    return dir;
}

/* fsync the directory dir so a rename into it is durable. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some file systems refuse it */
        close(fd);
    }
}

hj_status hj_output_check(const char *path, hj_error *err)
{
    if (path == NULL || path[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "empty output path");
    struct stat lsb, sb;
    if (lstat(path, &lsb) != 0) {
        if (errno != ENOENT)
            return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
        /* a new path: its directory must exist */
        char *dir = dir_of(path);
        if (dir == NULL)
            return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
        hj_status st = HJ_OK;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = hj_error_set(err, HJ_EIO, "%s: directory %s does not exist", path, dir);
        free(dir);
        return st;
    }
    sb = lsb;
    if (S_ISLNK(lsb.st_mode) && stat(path, &sb) != 0)
        return hj_error_set(err, HJ_EINVAL,
                            "%s: a symbolic link whose target cannot be reached (%s); hjdl "
                            "writes through a link only to an existing regular file",
                            path, strerror(errno));
    if (S_ISREG(sb.st_mode))
        return HJ_OK;
    const char *what = S_ISDIR(sb.st_mode)   ? "a directory"
                       : S_ISFIFO(sb.st_mode) ? "a FIFO"
                       : S_ISCHR(sb.st_mode)  ? "a character device"
                       : S_ISBLK(sb.st_mode)  ? "a block device"
                       : S_ISSOCK(sb.st_mode) ? "a socket"
                                              : "not a regular file";
    return hj_error_set(err, HJ_EINVAL,
                        "%s: is %s%s; refusing to replace it (outputs go to a regular file or a "
                        "new path)",
                        path, what, S_ISLNK(lsb.st_mode) ? " (through a symbolic link)" : "");
}

int hj_path_same_file(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return 0;
    if (strcmp(a, b) == 0)
        return 1;
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* After "PID.": the six characters of mkstemp, or a staged output's "s"
 * with the extension of its format (cli_stage_path). */
static int tmp_tail(const char *r)
{
    size_t n = strlen(r), k = 0;
    while (k < n && ((r[k] >= '0' && r[k] <= '9') || (r[k] >= 'a' && r[k] <= 'z') ||
                     (r[k] >= 'A' && r[k] <= 'Z')))
        k++;
    if (n == 6 && k == 6)
        return 1;
    return r[0] == 's' && (r[1] == '\0' || (r[1] == '.' && hj_format_of_path(r) != HJ_FORMAT_AUTO &&
                                             strchr(r + 2, '.') == NULL));
}

/* The pid in a temporary-file name "NAME.tmp.PID.XXXXXX" (or a staged
 * "NAME.tmp.PID.s[.EXT]"), or 0 when name is not one of ours. */
static long tmp_name_pid(const char *name)
{
    const char *p = strstr(name, ".tmp.");
    while (p != NULL) {
        const char *q = p + 5;
        long pid = 0;
        while (*q >= '0' && *q <= '9' && pid < 100000000L)
            pid = pid * 10 + (*q++ - '0');
        if (q > p + 5 && *q == '.' && pid > 0 && tmp_tail(q + 1))
            return pid;
        p = strstr(p + 1, ".tmp.");
    }
    return 0;
}

void hj_io_sweep_stale(const char *dir)
{
    struct stat self;
    if (stat("/proc/self", &self) != 0)
        return; /* no start time of this run: sweep nothing */
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    int dfd = dirfd(d);
    const long me = (long)getpid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = tmp_name_pid(e->d_name);
        if (pid == 0 || pid == me)
            continue;
        struct stat sb;
        if (fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode) ||
            sb.st_uid != geteuid() || sb.st_mtime >= self.st_mtime)
            continue; /* not a file of ours, or written since this run started */
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* its writer may still be running */
        (void)unlinkat(dfd, e->d_name, 0);
    }
    closedir(d);
}

hj_status hj_io_write_atomic(const char *path, hj_io_writer_fn fn, const void *ctx,
                             hj_error *err)
{
    if (path == NULL || path[0] == '\0' || fn == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_io_write_atomic: empty path or NULL writer");
    if (strcmp(path, "-") == 0) { /* standard output: the writers validate before they write */
        hj_status so = fn(stdout, ctx, err);
        if (so == HJ_OK && (fflush(stdout) != 0 || ferror(stdout)))
            so = hj_error_set(err, HJ_EIO, "standard output: %s", strerror(errno));
        return so;
    }
    hj_status st = hj_output_check(path, err);
    if (st != HJ_OK)
        return st;
    /* A symbolic link is followed: its target is replaced, the link stays. */
    char *target = NULL;
    struct stat lsb;
    if (lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode)) {
        target = realpath(path, NULL);
        if (target == NULL)
            return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
    }
    const char *dest = target ? target : path;
    char suffix[48];
    snprintf(suffix, sizeof suffix, ".tmp.%ld.XXXXXX", (long)getpid());
    size_t pl = strlen(dest), sl = strlen(suffix);
    char *tmp = malloc(pl + sl + 1);
    char *dir = dir_of(dest);
    if (tmp == NULL || dir == NULL) {
        free(tmp), free(dir), free(target);
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
    }
    memcpy(tmp, dest, pl);
    memcpy(tmp + pl, suffix, sl + 1);
    hj_io_sweep_stale(dir);

    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp), free(dir), free(target);
        return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(e));
    }
    /* mkstemp makes the file 0600; give the result the usual 0644. */
    (void)fchmod(fd, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);

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
    /* the check again, just before replacing: a FIFO or device made at
     * `path` while we wrote is still refused */
    if ((st = hj_output_check(dest, err)) != HJ_OK)
        goto fail;
    if (rename(tmp, dest) != 0) {
        st = hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    free(tmp);
    sync_dir(dir);
    free(dir), free(target);
    return HJ_OK;

fail_open:
    fclose(f);
fail:
    unlink(tmp);
    free(tmp), free(dir), free(target);
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

hj_status hj_memory_check(double bytes, const char *what, hj_error *err)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psz <= 0)
        return HJ_OK;
    double mem = (double)pages * (double)psz;
    if (!(bytes <= mem))
        return hj_error_set(err, HJ_ENOMEM, "%s needs %.3g GB, more than this machine's %.3g GB of memory",
                            what, bytes / 1e9, mem / 1e9);
    return HJ_OK;
}

hj_status hj_file_crc32(const char *path, uint32_t *crc, uint64_t *bytes, hj_error *err)
{
    if (path == NULL || crc == NULL || bytes == NULL)
        return hj_error_set(err, HJ_EINVAL, "hj_file_crc32: NULL argument");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno));
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK);
    if (buf == NULL) {
        fclose(f);
        return hj_error_set(err, HJ_ENOMEM, "%s: out of memory", path);
    }
    uLong c = crc32(0L, Z_NULL, 0);
    uint64_t n = 0;
    size_t got;
    while ((got = fread(buf, 1, CHUNK, f)) > 0) {
        c = crc32(c, buf, (uInt)got);
        n += got;
    }
    hj_status st = ferror(f) ? hj_error_set(err, HJ_EIO, "%s: %s", path, strerror(errno ? errno : EIO))
                             : HJ_OK;
    free(buf);
    fclose(f);
    if (st == HJ_OK) {
        *crc = (uint32_t)(c & 0xffffffffUL);
        *bytes = n;
    }
    return st;
}
