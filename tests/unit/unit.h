/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A minimal TAP-style harness for the unit tests. */
#ifndef __UNIT_H
#define __UNIT_H

#include <stdio.h>

static int unit_passed, unit_failed;

#define CHECK(cond, ...)                                                                   \
	do {                                                                               \
		if (cond) {                                                                \
			unit_passed++;                                                     \
			printf("ok - ");                                                   \
		} else {                                                                   \
			unit_failed++;                                                     \
			printf("not ok - %s:%d: ", __FILE__, __LINE__);                    \
		}                                                                          \
		printf(__VA_ARGS__);                                                       \
		printf("\n");                                                              \
	} while (0)

static inline int unit_summary(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif /* __UNIT_H */
