/* commands.h: prototypes of the subcommand entry points listed in commands.def. */
#ifndef COUCHESTOR_CLI_COMMANDS_H
#define COUCHESTOR_CLI_COMMANDS_H

#define CS_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef CS_COMMAND

#endif
