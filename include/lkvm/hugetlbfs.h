/* Guest RAM from a hugetlbfs mount (--hugetlbfs DIR). */
#ifndef LKVM_HUGETLBFS_H
#define LKVM_HUGETLBFS_H

#include "lkvm/util.h"

/*
 * Maps size bytes of huge pages from the hugetlbfs mounted at dir, reserved now; size must be a
 * multiple of its page size. The mapping is page-aligned. Logs and returns NULL on error.
 */
void *hugetlbfs__map(const char *dir, u64 size);

#endif
