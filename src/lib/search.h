/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one sorted search: a binary search for where a predicate stops holding. */
#ifndef __SEARCH_H
#define __SEARCH_H

#include <stddef.h>

/*
 * How many of the indexes 0..n-1 pred holds for, when it holds for a prefix of them and for
 * none after: pred is an expression of idx, a size_t the macro declares. For a sorted array
 * a, search__prefix(n, i, a[i] < x) is x's lower bound (the first element not below x) and
 * search__prefix(n, i, a[i] <= x) its upper bound (one past the last element at or below x).
 * A macro, so that the comparison is compiled in place: the symbolizer's lookups stay as fast
 * as the loops they replace.
 */
#define search__prefix(n, idx, pred)                           \
	({                                                     \
		size_t __lo = 0, __hi = (n);                   \
		while (__lo < __hi) {                          \
			size_t idx = __lo + (__hi - __lo) / 2; \
			if (pred)                              \
				__lo = idx + 1;                \
			else                                   \
				__hi = idx;                    \
		}                                              \
		__lo;                                          \
	})

#endif /* __SEARCH_H */
