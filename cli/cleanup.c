/* cleanup.c — no temporary file outlives a run: SIGINT/SIGTERM cleanup of the output directories, staged multi-file outputs. */
/* syscall(2) and SYS_getdents64: the directory listing a signal handler may use */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "hjdl/data.h"

/* The directories this run writes into and "tmp.PID." of this process:
 * written by the main thread before the work starts (cli_cleanup_watch),
 * read by the signal handler. Like cli_dist.c's run context, process-wide by
 * nature: a signal handler has no other way to learn what to remove. */
#define WATCH_MAX 16
#define WATCH_LEN 4096
static char watched[WATCH_MAX][WATCH_LEN];
static volatile sig_atomic_t nwatched;
static char tag[32];     /* ".tmp.PID." */
static size_t tag_len;

/* Async-signal-safe substring test. */
static int has_tag(const char *name)
{
    for (const char *p = name; *p; p++) {
        size_t k = 0;
        while (k < tag_len && p[k] == tag[k])
            k++;
        if (k == tag_len)
            return 1;
    }
    return 0;
}

/* Remove this process's temporary files from one directory, with
 * async-signal-safe calls only (open, getdents64, unlinkat, close). */
static void remove_ours(const char *dir)
{
    static char buf[1 << 15];
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            /* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name */
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            const char *name = buf + off + 19;
            if (has_tag(name))
                (void)unlinkat(fd, name, 0);
            off += reclen;
        }
    }
    close(fd);
}

static void on_signal(int sig)
{
    for (sig_atomic_t i = 0; i < nwatched; i++)
        remove_ours(watched[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_cleanup_install(void)
{
    int n = snprintf(tag, sizeof tag, ".tmp.%ld.", (long)getpid());
    tag_len = n > 0 ? (size_t)n : 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void cli_cleanup_watch(const char *path, int is_dir)
{
    /* a link is followed (data.h): its target's directory gets the files */
    struct stat lsb;
    if (!is_dir && lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode)) {
        char *target = realpath(path, NULL);
        if (target != NULL && strcmp(target, path) != 0)
            cli_cleanup_watch(target, 0);
        free(target);
    }
    char d[WATCH_LEN];
    size_t len = strlen(path);
    if (len == 0 || len >= WATCH_LEN)
        return;
    if (is_dir) {
        memcpy(d, path, len + 1);
    } else {
        const char *slash = strrchr(path, '/');
        if (slash == NULL)
            memcpy(d, ".", 2);
        else {
            size_t dl = slash == path ? 1 : (size_t)(slash - path);
            memcpy(d, path, dl);
            d[dl] = '\0';
        }
    }
    for (sig_atomic_t i = 0; i < nwatched; i++)
        if (strcmp(watched[i], d) == 0)
            return;
    if (nwatched == WATCH_MAX)
        return;
    memcpy(watched[nwatched], d, strlen(d) + 1);
    nwatched = nwatched + 1; /* published after the name is complete */
}

/* ---- staged outputs ------------------------------------------------------ */

const char *cli_stage_path(cli_stage *s, const char *final)
{
    if (final == NULL || strcmp(final, "-") == 0 || s->n == CLI_STAGE_MAX)
        return final;
    /* staged beside what is replaced: a link's target (data.h), so that the
     * final rename stays within one directory */
    char *target = NULL;
    struct stat lsb;
    if (lstat(final, &lsb) == 0 && S_ISLNK(lsb.st_mode))
        target = realpath(final, NULL);
    const char *base = target ? target : final;
    size_t len = strlen(base);
    /* the staged name keeps a format's extension: the writers choose by it */
    const char *slash = strrchr(base, '/'), *dot = strrchr(slash ? slash + 1 : base, '.');
    const char *ext = dot && hj_format_of_path(base) != HJ_FORMAT_AUTO ? dot : "";
    char *tmp = malloc(2 * len + 48);
    if (tmp == NULL) {
        free(target);
        return final;
    }
    snprintf(tmp, 2 * len + 48, "%s%ss%s", base, tag, ext);
    free(target);
    cli_cleanup_watch(final, 0);
    s->final[s->n] = final;
    s->tmp[s->n++] = tmp;
    return tmp;
}

int cli_stage_commit(cli_stage *s, const char *cmd)
{
    int rc = CLI_OK;
    for (size_t i = 0; i < s->n && rc == CLI_OK; i++) {
        /* a symbolic link is followed: its target is replaced (data.h) */
        char *target = NULL;
        struct stat lsb;
        if (lstat(s->final[i], &lsb) == 0 && S_ISLNK(lsb.st_mode))
            target = realpath(s->final[i], NULL);
        hj_error err = {0};
        const char *dest = target ? target : s->final[i];
        if (hj_output_check(dest, &err) != HJ_OK)
            rc = cli_report(cmd, &err);
        else if (rename(s->tmp[i], dest) != 0)
            rc = cli_error(cmd, "%s: %s", s->final[i], strerror(errno));
        free(target);
    }
    cli_stage_abort(s); /* what was not renamed */
    return rc;
}

void cli_stage_abort(cli_stage *s)
{
    for (size_t i = 0; i < s->n; i++) {
        unlink(s->tmp[i]);
        free(s->tmp[i]);
    }
    s->n = 0;
}

/* ---- directories a command creates --------------------------------------- */

int cli_make_out_dir(const char *cmd, const char *dir, int *created)
{
    struct stat sb;
    *created = stat(dir, &sb) != 0;
    hj_error err = {0};
    if (hj_make_dirs(dir, &err) != HJ_OK) {
        *created = 0;
        return cli_report(cmd, &err);
    }
    cli_cleanup_watch(dir, 1);
    return CLI_OK;
}

void cli_remove_out_dir(const char *dir, int created)
{
    if (created)
        (void)rmdir(dir); /* only when empty: nothing of the user's goes */
}
