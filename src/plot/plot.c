/* plot.c — figures: write a gnuplot script for CSV series and render it to PNG and SVG. */
#include "hjdl/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/io.h"

/* gnuplot is run as a separate program (not linked): it is the well-kept
 * plotting tool every Debian system has, and the .gp script it reads stays
 * beside the figure so anyone can restyle it. */

extern char **environ;

#define PLOT_WIDTH 800
#define PLOT_HEIGHT 560
#define PLOT_STDERR_MAX 2048

/* A readable colour cycle (Tableau 10) with distinct point types; item k of a figure gets
 * colour k % 10, dash type 1 + k / 10 and point type (k + 3 (k / 10)) % 10, so no two of the
 * up to HJ_PLOT_MAX_SERIES + 4 items of one figure share a style (points-only series too). */
#define N_STYLES 10
static const char *const COLOURS[N_STYLES] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                              "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
static const int POINT_TYPES[N_STYLES] = {7, 5, 9, 13, 11, 15, 6, 4, 1, 2};
#define N_ITEMS (HJ_PLOT_MAX_SERIES + 4)

/* ---- gnuplot on PATH ----------------------------------------------------- */

/* Find an executable `gnuplot` on PATH; writes its path into buf. 1 if found. */
static int find_gnuplot(char *buf, size_t len)
{
    const char *path = getenv("PATH");
    if (path == NULL || path[0] == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    const char *p = path;
    for (;;) {
        const char *colon = strchr(p, ':');
        size_t dl = colon ? (size_t)(colon - p) : strlen(p);
        int k;
        if (dl == 0)
            k = snprintf(buf, len, "./gnuplot");
        else
            k = snprintf(buf, len, "%.*s/gnuplot", (int)dl, p);
        if (k > 0 && (size_t)k < len) {
            struct stat sb;
            if (stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && access(buf, X_OK) == 0)
                return 1;
        }
        if (colon == NULL)
            break;
        p = colon + 1;
    }
    return 0;
}

/* Run exe with argv in directory dir (NULL: the current one), stdin and
 * stdout on /dev/null, stderr captured into errbuf (NUL-terminated, cut at
 * errlen - 1 bytes). *exit_code is the exit status (or 128 + signal, or -1
 * when unknown). Returns 0, or -1 when the process could not be started
 * (errno set). */
static int run_program(const char *exe, char *const argv[], const char *dir, char *errbuf,
                       size_t errlen, int *exit_code)
{
    int fds[2];
    *exit_code = -1;
    if (errlen > 0)
        errbuf[0] = '\0';
    if (pipe(fds) != 0)
        return -1;
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls until execv. */
        close(fds[0]);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
            if (devnull > 2)
                close(devnull);
        }
        if (fds[1] != 2) {
            dup2(fds[1], 2);
            close(fds[1]);
        }
        if (dir != NULL && chdir(dir) != 0) {
            static const char msg[] = "cannot change into the figure directory\n";
            ssize_t w = write(2, msg, sizeof msg - 1);
            (void)w;
            _exit(126);
        }
        execve(exe, argv, environ);
        static const char msg[] = "cannot execute gnuplot\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    char chunk[512];
    for (;;) {
        ssize_t got = read(fds[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        /* Keep the beginning (where the first error is); drain the rest. */
        size_t g = (size_t)got;
        if (errlen > 0 && used < errlen - 1) {
            size_t take = errlen - 1 - used < g ? errlen - 1 - used : g;
            memcpy(errbuf + used, chunk, take);
            used += take;
        }
    }
    close(fds[0]);
    if (errlen > 0)
        errbuf[used] = '\0';
    int status = 0;
    pid_t w;
    do {
        w = waitpid(pid, &status, 0);
    } while (w < 0 && errno == EINTR);
    if (w == pid) {
        if (WIFEXITED(status))
            *exit_code = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
            *exit_code = 128 + WTERMSIG(status);
    }
    return 0;
}

int hj_plot_available(void)
{
    char exe[1024];
    if (!find_gnuplot(exe, sizeof exe))
        return 0;
    char *argv[] = {exe, "--version", NULL};
    char out[256];
    int code;
    if (run_program(exe, argv, NULL, out, sizeof out, &code) != 0)
        return 0;
    return code == 0 || code == -1; /* -1: status lost (SIGCHLD ignored) */
}

/* ---- validation ------------------------------------------------------------ */

static int has_control(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Style name -> gnuplot style without / with error bars; NULL if unknown. */
static const char *style_of(const char *style, int with_err)
{
    if (style == NULL || style[0] == '\0' || strcmp(style, "linespoints") == 0)
        return with_err ? "yerrorlines" : "linespoints";
    if (strcmp(style, "points") == 0)
        return with_err ? "yerrorbars" : "points";
    if (strcmp(style, "lines") == 0)
        return with_err ? "yerrorlines" : "lines";
    return NULL;
}

static hj_status validate(const char *dir, const hj_plot *p, hj_error *err)
{
    if (dir == NULL || dir[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "plot: empty or NULL directory");
    if (p == NULL)
        return hj_error_set(err, HJ_EINVAL, "plot: NULL plot");
    const char *name = p->name;
    if (name == NULL || name[0] == '\0')
        return hj_error_set(err, HJ_EINVAL, "plot: empty name");
    if (strlen(name) > 200)
        return hj_error_set(err, HJ_EINVAL, "plot: name longer than 200 characters");
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return hj_error_set(err, HJ_EINVAL, "plot: name '%s' is not a file name", name);
    for (const char *c = name; *c; c++)
        if (*c == '/' || *c == '\'' || *c == '"' || *c == '\\' || (unsigned char)*c < 0x20 ||
            *c == 0x7f)
            return hj_error_set(err, HJ_EINVAL,
                                "plot: name must be a plain file name (no '/', quotes, "
                                "backslashes or control characters)");
    if (p->n_series > HJ_PLOT_MAX_SERIES)
        return hj_error_set(err, HJ_EINVAL, "plot %s: %zu series (at most %d)", name,
                            p->n_series, HJ_PLOT_MAX_SERIES);
    if (p->n_functions > 4)
        return hj_error_set(err, HJ_EINVAL, "plot %s: %zu functions (at most 4)", name,
                            p->n_functions);
    if (p->n_series == 0 && p->n_functions == 0)
        return hj_error_set(err, HJ_EINVAL, "plot %s: nothing to plot (no series, no functions)",
                            name);
    if (has_control(p->title) || has_control(p->xlabel) || has_control(p->ylabel))
        return hj_error_set(err, HJ_EINVAL, "plot %s: control character in a title or label",
                            name);
    for (size_t i = 0; i < p->n_series; i++) {
        const hj_plot_series *s = &p->series[i];
        if (s->csv == NULL || s->csv[0] == '\0')
            return hj_error_set(err, HJ_EINVAL, "plot %s: series %zu has no CSV file", name,
                                i + 1);
        if (s->xcol < 1 || s->ycol < 1 || s->errcol < 0)
            return hj_error_set(err, HJ_EINVAL,
                                "plot %s: series %zu: columns are 1-based (xcol %d, ycol %d, "
                                "errcol %d)",
                                name, i + 1, s->xcol, s->ycol, s->errcol);
        if (style_of(s->style, 0) == NULL)
            return hj_error_set(err, HJ_EINVAL,
                                "plot %s: series %zu: unknown style '%s' (linespoints, points, "
                                "lines)",
                                name, i + 1, s->style);
        if (has_control(s->csv) || has_control(s->title) || has_control(s->filter))
            return hj_error_set(err, HJ_EINVAL, "plot %s: series %zu: control character in a "
                                "file name, title or filter", name, i + 1);
    }
    for (size_t i = 0; i < p->n_functions; i++) {
        const char *f = p->functions[i];
        if (f == NULL || f[0] == '\0')
            return hj_error_set(err, HJ_EINVAL, "plot %s: function %zu is empty", name, i + 1);
        if (has_control(f) || strchr(f, ';') != NULL || strchr(f, '#') != NULL)
            return hj_error_set(err, HJ_EINVAL,
                                "plot %s: function %zu must be one gnuplot expression (no ';', "
                                "'#' or control characters)",
                                name, i + 1);
        if (has_control(p->function_titles[i]))
            return hj_error_set(err, HJ_EINVAL, "plot %s: control character in function title %zu",
                                name, i + 1);
    }
    return HJ_OK;
}

/* ---- the script ------------------------------------------------------------ */

static int is_word(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Text for people in gnuplot's enhanced mode, as a single-quoted string: the words eps and
 * pi become ε and π; a_b and a_{b} subscripts, a^b, a^(b) and a^{b} superscripts (the
 * parentheses of a^(...) dropped); an apostrophe prints as a prime; gnuplot's other enhanced-mode specials (@ & ~ and a
 * brace not opened by _ or ^) are escaped so they print as themselves. */
static void gp_text(FILE *f, const char *s)
{
    fputc('\'', f);
    for (size_t i = 0; s && s[i]; i++) {
        const char c = s[i];
        const int start = i == 0 || !is_word(s[i - 1]);
        if (start && strncmp(s + i, "eps", 3) == 0 && !is_word(s[i + 3])) {
            fputs("ε", f);
            i += 2;
        } else if (start && strncmp(s + i, "pi", 2) == 0 && !is_word(s[i + 2])) {
            fputs("π", f);
            i += 1;
        } else if ((c == '_' || c == '^') && s[i + 1] != '\0' && i > 0) {
            const char *q = s + i + 1;
            fputc(c, f);
            fputc('{', f);
            if (*q == '{' || *q == '(') { /* a group: copy up to its matching close */
                const char open = *q, close = open == '{' ? '}' : ')';
                int lvl = 0;
                size_t j = 1;
                for (; q[j] && !(q[j] == close && lvl == 0); j++) {
                    lvl += q[j] == open;
                    lvl -= q[j] == close;
                }
                for (size_t k = 1; k < j; k++) {
                    if (q[k] == '\'')
                        fputs("′", f);
                    else if (strchr("@&~{}", q[k]))
                        fprintf(f, "\\%c", q[k]);
                    else
                        fputc(q[k], f);
                }
                i += j + (q[j] ? 1 : 0);
            } else { /* a token: letters, digits, a leading sign, dots */
                size_t j = 0;
                if (q[j] == '-' || q[j] == '+')
                    j++;
                while (is_word(q[j]) || (q[j] == '.' && is_word(q[j + 1])))
                    j++;
                if (j == 0)
                    j = 1;
                fwrite(q, 1, j, f);
                i += j;
            }
            fputc('}', f);
        } else if (c == '\'') { /* a prime (f'' as f′′): gnuplot 5.4 misparses runs of '' */
            fputs("′", f);
        } else if (strchr("@&~{}", c)) {
            fprintf(f, "\\%c", c);
        } else {
            fputc(c, f);
        }
    }
    fputc('\'', f);
}

/* A gnuplot single-quoted string: no escapes are processed, '' is a quote. */
static void gp_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '\'')
            fputs("''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

static hj_status write_script(FILE *f, const void *ctx, hj_error *err)
{
    const hj_plot *p = ctx;
    const char *name = p->name;
    fprintf(f, "# %s.gp - written by hjdl (hj_plot_render); the CSV files sit beside it.\n", name);
    fputs("# Render from this directory:\n", f);
    fprintf(f, "#   gnuplot %s.gp                      -> %s.png\n", name, name);
    fprintf(f, "#   gnuplot -e \"term='svg'\" %s.gp      -> %s.svg\n", name, name);
    fputs("# (outfile='...' overrides the output file name.)\n\n", f);

    /* the legend sits below the axes, three entries a row: each row past the second makes
     * the figure taller instead of squeezing the data */
    size_t items = 0, longest = 0;
    for (size_t i = 0; i < p->n_series; i++)
        if (p->series[i].title && p->series[i].title[0]) {
            items++;
            longest = strlen(p->series[i].title) > longest ? strlen(p->series[i].title) : longest;
        }
    for (size_t i = 0; i < p->n_functions; i++)
        if (p->function_titles[i] && p->function_titles[i][0]) {
            items++;
            const size_t l = strlen(p->function_titles[i]);
            longest = l > longest ? l : longest;
        }
    /* gnuplot fits as many columns as the longest entry allows (about 7 px a character plus
     * the sample): estimate them to know the rows */
    size_t cols = (size_t)(PLOT_WIDTH - 40) / (7 * longest + 70);
    cols = cols < 1 ? 1 : cols > 3 ? 3 : cols;
    const size_t rows = (items + cols - 1) / cols;
    const int height = PLOT_HEIGHT + (rows > 2 ? (int)(rows - 2) * 22 : 0);
    fputs("if (!exists(\"term\")) term = 'png'\n", f);
    fprintf(f, "if (!exists(\"outfile\")) outfile = '%s.' . term\n", name);
    fputs("if (term eq 'svg') {\n", f);
    fprintf(f, "    set terminal svg size %d,%d dynamic font 'Sans,13' background rgb 'white' "
               "enhanced\n", PLOT_WIDTH, height);
    fputs("} else {\n", f);
    fputs("    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n", f);
    fprintf(f, "        set terminal pngcairo size %d,%d font 'Sans,11' background rgb 'white' "
               "enhanced\n", PLOT_WIDTH, height);
    fputs("    } else {\n", f);
    fprintf(f, "        set terminal png size %d,%d background rgb 'white' enhanced\n",
            PLOT_WIDTH, height);
    fputs("    }\n}\nset output outfile\n\n", f);

    fputs("# data: comma-separated, first line = column names\n", f);
    fputs("set datafile separator ','\n", f);
    fputs("set key autotitle columnhead\n", f);
    fputs("# rows failing a filter become NaN, treated as missing so lines join across them\n",
          f);
    fputs("set datafile missing NaN\n\n", f);

    fputs("# look (the svg terminal draws points larger than pngcairo)\n", f);
    fputs("point_size = (term eq 'svg') ? 0.8 : 1.1\n", f);
    for (int i = 0; i < N_ITEMS; i++)
        fprintf(f, "set linetype %d lc rgb '%s' lw 2 pt %d ps point_size dt %d\n", i + 1,
                COLOURS[i % N_STYLES], POINT_TYPES[(i + 3 * (i / N_STYLES)) % N_STYLES],
                1 + i / N_STYLES);
    fputs("set border lw 1.2\n", f);
    fputs("set style line 100 lc rgb '#d4d4d4' lw 1 dt 1\n", f);
    fputs("set style line 101 lc rgb '#ececec' lw 1 dt 1\n", f);
    fputs("set grid xtics ytics mxtics mytics back ls 100, ls 101\n", f);
    /* the key goes below the axes: it never hides data, whatever the trend */
    fprintf(f, "set key below center vertical maxrows %zu nobox samplen 3 spacing 1.3 width 2\n",
            rows > 0 ? rows : 1);
    fputs("set rmargin 5\n", f);
    fputs("set tics out nomirror\n", f);
    fputs("set bars small\n", f);
    fputs("set samples 400\n", f);
    if (p->title && p->title[0]) {
        fputs("set title ", f);
        gp_text(f, p->title);
        fputc('\n', f);
    }
    if (p->xlabel && p->xlabel[0]) {
        fputs("set xlabel ", f);
        gp_text(f, p->xlabel);
        fputc('\n', f);
    }
    if (p->ylabel && p->ylabel[0]) {
        fputs("set ylabel ", f);
        gp_text(f, p->ylabel);
        fputc('\n', f);
    }
    if (p->logx)
        fputs("set logscale x 10\nset mxtics 10\nset format x '%g'\n", f);
    else
        fputs("set mxtics 2\n", f);
    if (p->logy)
        fputs("set logscale y 10\nset mytics 10\nset format y '%g'\n", f);
    else
        fputs("set mytics 2\n", f);
    fputc('\n', f);

    fputs("plot", f);
    size_t item = 0;
    for (size_t i = 0; i < p->n_series; i++, item++) {
        const hj_plot_series *s = &p->series[i];
        fputs(item ? ", \\\n     " : " ", f);
        gp_string(f, s->csv);
        fprintf(f, " using %d:", s->xcol);
        if (s->filter && s->filter[0])
            fprintf(f, "((%s) ? $%d : NaN)", s->filter, s->ycol);
        else
            fprintf(f, "%d", s->ycol);
        if (s->errcol > 0)
            fprintf(f, ":%d", s->errcol);
        fprintf(f, " with %s lt %zu", style_of(s->style, s->errcol > 0), item % N_ITEMS + 1);
        if (s->title && s->title[0]) {
            fputs(" title ", f);
            gp_text(f, s->title);
        } else {
            fputs(" notitle", f);
        }
    }
    for (size_t i = 0; i < p->n_functions; i++, item++) {
        fputs(item ? ", \\\n     " : " ", f);
        fprintf(f, "%s with lines lt %zu lw 2", p->functions[i], item % N_ITEMS + 1);
        const char *t = p->function_titles[i];
        if (t && t[0]) {
            fputs(" title ", f);
            gp_text(f, t);
        } else {
            fputs(" notitle", f);
        }
    }
    fputs("\n", f);
    return ferror(f) ? hj_error_set(err, HJ_EIO, "write error") : HJ_OK;
}

/* ---- rendering ------------------------------------------------------------- */

/* Collapse gnuplot's stderr into one line: runs of whitespace become one
 * space, and lines are joined by " | ". */
static void one_line(const char *in, char *out, size_t len)
{
    size_t o = 0;
    int pending_sep = 0, pending_space = 0;
    for (const char *c = in; *c && o + 4 < len; c++) {
        if (*c == '\n') {
            pending_sep = o > 0;
            pending_space = 0;
            continue;
        }
        if (*c == ' ' || *c == '\t' || *c == '\r' || *c == '^') {
            pending_space = o > 0;
            continue;
        }
        if (pending_sep) {
            if (o + 7 >= len)
                break;
            memcpy(out + o, " | ", 3);
            o += 3;
        } else if (pending_space) {
            out[o++] = ' ';
        }
        pending_sep = pending_space = 0;
        out[o++] = ((unsigned char)*c < 0x20) ? '?' : *c;
    }
    out[o] = '\0';
}

static int nonempty_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
}

/* Render one terminal ("png" or "svg") into DIR/NAME.EXT via a temporary
 * output file renamed on success. */
static hj_status render_one(const char *exe, const char *dir, const char *name, const char *ext,
                            hj_error *err)
{
    char tmpname[256], final_path[1400], tmp_path[1400], expr[320];
    snprintf(tmpname, sizeof tmpname, ".%s.%s.tmp.%ld", name, ext, (long)getpid());
    int k1 = snprintf(final_path, sizeof final_path, "%s/%s.%s", dir, name, ext);
    int k2 = snprintf(tmp_path, sizeof tmp_path, "%s/%s", dir, tmpname);
    if (k1 < 0 || (size_t)k1 >= sizeof final_path || k2 < 0 || (size_t)k2 >= sizeof tmp_path)
        return hj_error_set(err, HJ_EINVAL, "plot %s: path too long", name);
    snprintf(expr, sizeof expr, "term='%s'; outfile='%s'", ext, tmpname);
    char script[240];
    snprintf(script, sizeof script, "%s.gp", name);
    char *argv[] = {(char *)exe, "-e", expr, script, NULL};

    char errbuf[PLOT_STDERR_MAX];
    int code;
    if (run_program(exe, argv, dir, errbuf, sizeof errbuf, &code) != 0)
        return hj_error_set(err, HJ_EIO, "plot %s: cannot run %s: %s", name, exe,
                            strerror(errno));
    /* A data file gnuplot could not open is only a warning to gnuplot when
     * another series still has data; a figure silently missing a series is
     * wrong, so it is an error here. */
    int missing = strstr(errbuf, "Cannot find or open file") != NULL;
    /* code -1: the status was lost (e.g. SIGCHLD ignored by the caller);
     * then the output file decides. */
    if (code > 0 || missing || !nonempty_file(tmp_path)) {
        char msg[400];
        one_line(errbuf, msg, sizeof msg);
        unlink(tmp_path);
        if (msg[0] == '\0')
            snprintf(msg, sizeof msg, "no output file (exit status %d)", code);
        return hj_error_set(err, HJ_EIO, "plot %s (%s): gnuplot failed: %s", name, ext, msg);
    }
    if (rename(tmp_path, final_path) != 0) {
        int e = errno;
        unlink(tmp_path);
        return hj_error_set(err, HJ_EIO, "%s: %s", final_path, strerror(e));
    }
    if (!nonempty_file(final_path))
        return hj_error_set(err, HJ_EIO, "plot %s: %s is missing or empty", name, final_path);
    return HJ_OK;
}

hj_status hj_plot_run_script(const char *dir, const char *name, hj_error *err)
{
    char exe[1024];
    if (!find_gnuplot(exe, sizeof exe))
        return hj_error_set(err, HJ_EIO,
                            "plot %s: gnuplot not found (install gnuplot-nox; scripts/setup "
                            "does); the script %s/%s.gp was written",
                            name, dir, name);
    hj_status st = render_one(exe, dir, name, "png", err);
    return st != HJ_OK ? st : render_one(exe, dir, name, "svg", err);
}

hj_status hj_plot_render(const char *dir, const hj_plot *p, hj_error *err)
{
    hj_status st = validate(dir, p, err);
    if (st != HJ_OK)
        return st;
    char gp_path[1400];
    int k = snprintf(gp_path, sizeof gp_path, "%s/%s.gp", dir, p->name);
    if (k < 0 || (size_t)k >= sizeof gp_path)
        return hj_error_set(err, HJ_EINVAL, "plot %s: directory path too long", p->name);

    hj_io_c_locale loc;
    if ((st = hj_io_c_locale_enter(&loc, err)) != HJ_OK)
        return st;
    st = hj_io_write_atomic(gp_path, write_script, p, err);
    hj_io_c_locale_leave(&loc);
    if (st != HJ_OK)
        return st;

    return hj_plot_run_script(dir, p->name, err);
}
