#include "user/lib/ulib.h"
int main(int argc, char **argv) { printf("ubench\n"); return 0; }
