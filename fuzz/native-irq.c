/* hw/irq.c, built by clang: its KVM routing table header is a GNU extension clang warns of. */
#pragma clang diagnostic ignored "-Wgnu-variable-sized-type-not-at-end"
#include "../hw/irq.c"
