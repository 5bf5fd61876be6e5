/* cmd_explore.c — `hjdl explore`: serve the explorer page (explorer/, built by
 * `make explorer`) on 127.0.0.1. A minimal static-file HTTP/1.0 server: GET and
 * HEAD of regular files under the directory, nothing else; it opens no browser. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "cli.h"

static const char DESCRIPTION[] =
    "Serves the explorer, the interactive page whose numbers come from libhjdl\n"
    "compiled to WebAssembly, at http://127.0.0.1:PORT/ and prints that address.\n"
    "It listens on the loopback interface only and opens no browser: open the\n"
    "address yourself. The page needs no server (explorer/index.html opened from\n"
    "the file system works offline too); this is for browsers or setups that\n"
    "prefer http. Build the page first with 'make explorer'. DIR defaults to\n"
    "./explorer, then the explorer/ directory next to the build directory of this\n"
    "binary (../explorer from it). Ctrl-C stops the server.";

/* Is DIR an explorer that was built (index.html and hjdl-wasm.js present)? */
static int is_explorer(const char *dir)
{
    char p[PATH_MAX];
    struct stat st;
    snprintf(p, sizeof p, "%s/index.html", dir);
    if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    snprintf(p, sizeof p, "%s/hjdl-wasm.js", dir);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The default directory: ./explorer, else <dir of this binary>/../explorer. */
static int find_dir(char *out, size_t len)
{
    if (is_explorer("explorer")) {
        snprintf(out, len, "explorer");
        return 1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return 0;
    *slash = '\0';
    const int w = snprintf(out, len, "%s/../explorer", exe);
    return w > 0 && (size_t)w < len && is_explorer(out);
}

static const char *content_type(const char *path)
{
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".png", "image/png"},
        {".svg", "image/svg+xml"},             {".csv", "text/csv; charset=utf-8"},
        {".json", "application/json"},         {".wasm", "application/wasm"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot != NULL && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(dot, map[i][0]) == 0)
            return map[i][1];
    return "application/octet-stream";
}

static void send_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, buf, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        buf += k, n -= (size_t)k;
    }
}

static void reply_status(int fd, int code, const char *reason)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s\n",
                     code, reason, strlen(reason) + 1, reason);
    send_all(fd, head, (size_t)n);
}

/* One request on fd: GET/HEAD of a file under dir. */
static void serve_one(int fd, const char *dir)
{
    char req[4096];
    size_t got = 0;
    req[0] = '\0';
    /* the whole header (a reply before the rest is read would reset the connection) */
    while (got < sizeof req - 1 && strstr(req, "\r\n\r\n") == NULL && strstr(req, "\n\n") == NULL) {
        ssize_t k = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (k <= 0)
            break;
        got += (size_t)k;
        req[got] = '\0';
    }
    char method[8], target[2048];
    if (sscanf(req, "%7s %2047s", method, target) != 2) {
        reply_status(fd, 400, "Bad Request");
        return;
    }
    const int head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        reply_status(fd, 405, "Method Not Allowed");
        return;
    }
    char *q = strpbrk(target, "?#");
    if (q != NULL)
        *q = '\0';
    /* plain relative paths only: no "..", no percent-escapes, no backslashes */
    if (target[0] != '/' || strstr(target, "..") || strchr(target, '%') || strchr(target, '\\')) {
        reply_status(fd, 403, "Forbidden");
        return;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", dir, target, strcmp(target, "/") == 0 ? "index.html" : "");
    int f = open(path, O_RDONLY);
    struct stat st;
    if (f < 0 || fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (f >= 0)
            close(f);
        reply_status(fd, 404, "Not Found");
        return;
    }
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.0 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
                     "Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
                     content_type(path), (long long)st.st_size);
    send_all(fd, hdr, (size_t)n);
    char buf[65536];
    ssize_t k;
    while (!head && (k = read(f, buf, sizeof buf)) > 0)
        send_all(fd, buf, (size_t)k);
    close(f);
}

int cmd_explore(int argc, char **argv)
{
    const char *dir_opt = NULL;
    size_t port = 8800, max_requests = 0;
    const cli_opt opts[] = {
        {"port", CLI_SIZE, &port, "P", "TCP port on 127.0.0.1 (default 8800; 0: any free port)", 0},
        {"dir", CLI_STRING, &dir_opt, "DIR", "the explorer directory (default: see above)", 0},
        {"max-requests", CLI_SIZE, &max_requests, "K", "stop after K requests (default 0: run until stopped)", 0},
    };
    const size_t nopts = sizeof opts / sizeof opts[0];
    int rc = cli_parse(argc, argv, opts, nopts, NULL, 0, NULL, "explore");
    if (rc == CLI_HELP) {
        cli_print_help(stdout, "explore", "[--port P] [--dir DIR]", DESCRIPTION, opts, nopts);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (port > 65535)
        return cli_error("explore", "--port must be in 0..65535 (got %zu)", port);
    char dir[PATH_MAX];
    if (dir_opt != NULL) {
        if (!is_explorer(dir_opt))
            return cli_error("explore", "--dir %s: no index.html and hjdl-wasm.js there (run 'make explorer')", dir_opt);
        snprintf(dir, sizeof dir, "%s", dir_opt);
    } else if (!find_dir(dir, sizeof dir)) {
        return cli_error("explore", "the explorer is not built: run 'make explorer' (or give --dir)");
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return cli_error("explore", "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
        rc = cli_error("explore", "cannot listen on 127.0.0.1:%zu: %s", port, strerror(errno));
        close(s);
        return rc;
    }
    printf("hjdl explore: serving %s at http://127.0.0.1:%u/ (Ctrl-C stops)\n", dir,
           (unsigned)ntohs(a.sin_port));
    fflush(stdout);
    for (size_t served = 0; max_requests == 0 || served < max_requests; served++) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            rc = cli_error("explore", "accept: %s", strerror(errno));
            close(s);
            return rc;
        }
        serve_one(c, dir);
        shutdown(c, SHUT_WR);
        close(c);
    }
    close(s);
    return CLI_OK;
}
