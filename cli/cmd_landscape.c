/* cmd_landscape.c — placeholder: `hjdl landscape` is being written. */
#include "cli.h"

int cmd_landscape(int argc, char **argv)
{
    (void)argc, (void)argv;
    return cli_error("landscape", "not implemented yet");
}
