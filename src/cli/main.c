/* main.c: the couchestor command: dispatches to one subcommand. */
#include <stdio.h>
int main(void) { return 0; }
