/* cmd_explain.c — placeholder: `hjdl explain` is being written. */
#include "cli.h"

int cmd_explain(int argc, char **argv)
{
    (void)argc, (void)argv;
    return cli_error("explain", "not implemented yet");
}
