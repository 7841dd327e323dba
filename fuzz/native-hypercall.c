/* hypercall.c, built on the fuzzing host (arm64-regs.h). */
#include "arm64-regs.h"
#include "../hypercall.c"
