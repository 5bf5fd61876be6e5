/* cmd_attack.c — placeholder: `hjdl attack` is being written. */
#include "cli.h"

int cmd_attack(int argc, char **argv)
{
    (void)argc, (void)argv;
    return cli_error("attack", "not implemented yet");
}
