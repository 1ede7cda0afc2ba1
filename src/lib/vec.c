// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vec.h"

int vec__reserve(void *v, uint32_t *cap, uint32_t need, size_t elem_size)
{
	void **p = v;
	uint64_t n = *cap ? *cap : 16;
	char *grown;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (n > UINT32_MAX || n > SIZE_MAX / elem_size)
		return -ENOMEM;
	grown = realloc(*p, n * elem_size);
	if (!grown)
		return -ENOMEM;
	memset(grown + *cap * elem_size, 0, (n - *cap) * elem_size);
	*p = grown;
	*cap = n;
	return 0;
}
