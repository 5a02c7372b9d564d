#include "user/lib/ulib.h"
int main(int argc, char **argv) { printf("utest\n"); return 0; }
