/* cmd_certify.c — placeholder: `hjdl certify` is being written. */
#include "cli.h"

int cmd_certify(int argc, char **argv)
{
    (void)argc, (void)argv;
    return cli_error("certify", "not implemented yet");
}
