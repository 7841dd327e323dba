/* sdei/sdei-kvm.c, built on the fuzzing host (arm64-regs.h). */
#include "arm64-regs.h"
#include "../sdei/sdei-kvm.c"
