/*
 * user/mtrue.c - the smallest musl program: exits with the number its first
 * argument gives (0 without one). The program that exec and posix_spawn tests
 * run, and the one bench spawn_exit_wait starts, from /bin/mtrue.
 */
#include <stdlib.h>

int main(int argc, char **argv)
{
    return argc > 1 ? atoi(argv[1]) : 0;
}
