/* messages.c — how the CLI speaks: errors and library failures as "hjdl VERB: what is wrong" (on rank 0 of a distributed run), the agreed failure of all ranks, and the clock of its progress lines. The bottom of the CLI: everything else may call it, it calls only cli_dist.c's rank. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hjdl/dist.h"
#include "hjdl/runtime.h"

int cli_error(const char *cmd, const char *fmt, ...)
{
    if (cli_dist_rank() != 0) /* under mpirun rank 0 speaks for all (cli_dist.c) */
        return CLI_USAGE;
    fprintf(stderr, "hjdl %s: ", cmd);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

int cli_report(const char *cmd, const hj_error *err)
{
    const char *msg = err->msg[0] ? err->msg : hj_status_string(err->code);
    size_t cl = strlen(cmd);
    if (strncmp(msg, cmd, cl) == 0 && msg[cl] == ':' && msg[cl + 1] == ' ')
        msg += cl + 2; /* "hjdl certify: certify: ..." says the verb once */
    if (cli_dist_rank() == 0) /* under mpirun rank 0 speaks for all (cli_dist.c) */
        fprintf(stderr, "hjdl %s: %s\n", cmd, msg);
    /* every refusal of input or options is 2, sizes that cannot be
     * allocated included; 1 is left for a failed check and for a method
     * that did not converge */
    return err->code == HJ_EMAXITER ? CLI_FAIL : CLI_USAGE;
}

int cli_dist_fail(const char *cmd, hj_status local, const hj_error *local_err)
{
    hj_error err = {0};
    if (hj_dist_agree(cli_dist(), local, local_err, NULL, &err) == HJ_OK)
        return CLI_OK;
    return cli_report(cmd, &err); /* printed by rank 0 only */
}

double cli_now(void) { return hj_now_seconds(); } /* the library's one monotonic clock */
