// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The unwinding benchmark's library: the allocation 10 frames deep happens here. */
#include <stdlib.h>

void *volatile uwb_sink;

__attribute__((noinline)) void uwb_lib_op(unsigned long i)
{
	char *p = malloc(16 + (i * 7 % 512));

	uwb_sink = p;
	free(p);
	uwb_sink = NULL;
}
