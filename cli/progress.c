/* progress.c — progress display on stderr: a bar on a terminal, periodic lines otherwise. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void cli_progress_init(cli_progress *p, const char *label, int quiet)
{
    memset(p, 0, sizeof *p);
    p->label = label;
    p->quiet = quiet;
    p->tty = isatty(fileno(stderr));
    p->t0 = cli_now();
    p->last = -1.0;
}

void cli_progress_update(cli_progress *p, const char *phase, size_t step, size_t total, double loss)
{
    if (p->quiet || total == 0)
        return;
    double now = cli_now(), el = now - p->t0;
    int done = step >= total;
    if (p->tty) {
        if (!done && now - p->last < 0.1)
            return;
        p->last = now;
        double frac = (double)step / (double)total, rate = el > 0 ? (double)step / el : 0.0;
        double eta = rate > 0 ? (double)(total - step) / rate : 0.0;
        char bar[31];
        size_t fill = (size_t)(frac * 30.0 + 0.5);
        for (size_t k = 0; k < 30; k++)
            bar[k] = k < fill ? '=' : ' ';
        bar[30] = '\0';
        fprintf(stderr, "\r%s %-5s [%s] %zu/%zu loss %.4e %.0f it/s ETA %.0fs ", p->label, phase, bar,
                step, total, loss, rate, eta);
        if (done)
            fputc('\n', stderr);
        fflush(stderr);
    } else {
        /* about ten lines per phase */
        size_t every = total >= 10 ? total / 10 : 1;
        if (step % every != 0 && !done)
            return;
        fprintf(stderr, "%s %s step %zu/%zu loss %.6e (%.1f s)\n", p->label, phase, step, total, loss, el);
    }
}
