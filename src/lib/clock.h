/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __CLOCK_H
#define __CLOCK_H

#include <stdint.h>
#include <time.h>

/* Tracker times, report ages and intervals: CLOCK_MONOTONIC, in ns. */
static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#endif /* __CLOCK_H */
