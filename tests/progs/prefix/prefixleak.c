// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for an allocator that exports its API under a prefix (PFX: je_ or mi_), called
 * directly, beside plain malloc. Outstanding after "done":
 *   pfx_leak_malloc           6 x 700      = 4200
 *   pfx_leak_calloc           3 x 7*100    = 2100
 *   pfx_leak_realloc          2 x 3000     = 6000 (charged to the realloc)
 *   pfx_leak_posix_memalign   2 x 640      = 1280
 *   pfx_leak_aligned_alloc    2 x 128      = 256
 *   pfx_leak_mallocx          3 x 900      = 2700 (with MALLOCX: jemalloc's API)
 *   pfx_leak_rallocx          1 x 1500     = 1500 (with MALLOCX)
 *   plain_leak_malloc         5 x 1000     = 5000 (malloc: glibc's, or the prefixed
 *                                                  allocator's own when it overrides malloc)
 * Everything else (pfx_churn, no_leak_*) is freed.
 */
#include <stddef.h>
#include "../progs.h"

#define CAT2(a, b) a##b
#define CAT(a, b)  CAT2(a, b)
#define P(fn)	   CAT(PFX, fn)

void *P(malloc)(size_t size);
void *P(calloc)(size_t nmemb, size_t size);
void *P(realloc)(void *p, size_t size);
void P(free)(void *p);
int P(posix_memalign)(void **memptr, size_t align, size_t size);
void *P(aligned_alloc)(size_t align, size_t size);
#ifdef MALLOCX
void *P(mallocx)(size_t size, int flags);
void *P(rallocx)(void *p, size_t size, int flags);
void P(dallocx)(void *p, int flags);
void P(sdallocx)(void *p, size_t size, int flags);
#define MALLOCX_LG_ALIGN(la) ((int)(la))
#define MALLOCX_ZERO	     0x40
#endif

#define CHURN 3000

NOINLINE void pfx_leak_malloc(void)
{
	for (int i = 0; i < 6; i++)
		hold(P(malloc)(700));
}

NOINLINE void pfx_leak_calloc(void)
{
	for (int i = 0; i < 3; i++)
		hold(P(calloc)(7, 100));
}

NOINLINE void pfx_leak_realloc(void)
{
	for (int i = 0; i < 2; i++) {
		void *p = P(malloc)(50);

		hold(P(realloc)(p, 3000));
	}
}

NOINLINE void pfx_leak_posix_memalign(void)
{
	for (int i = 0; i < 2; i++) {
		void *p = NULL;

		if (P(posix_memalign)(&p, 256, 640) == 0)
			hold(p);
	}
}

NOINLINE void pfx_leak_aligned_alloc(void)
{
	for (int i = 0; i < 2; i++)
		hold(P(aligned_alloc)(64, 128));
}

NOINLINE void plain_leak_malloc(void)
{
	for (int i = 0; i < 5; i++)
		hold(malloc(1000));
}

#ifdef MALLOCX
NOINLINE void pfx_leak_mallocx(void)
{
	for (int i = 0; i < 3; i++)
		hold(P(mallocx)(900, MALLOCX_LG_ALIGN(6) | MALLOCX_ZERO));
}

NOINLINE void pfx_leak_rallocx(void)
{
	void *p = P(mallocx)(100, 0);

	hold(P(rallocx)(p, 1500, 0));
}
#endif

NOINLINE void pfx_churn(unsigned int i)
{
	void *p = P(malloc)(16 + i % 700);
	void *q = P(calloc)(1, 24 + i % 300);
	void *r = malloc(40 + i % 200);

	if (i % 4 == 0)
		p = P(realloc)(p, 900 + i % 5000);
	P(free)(q);
	P(free)(p);
	free(r);
	if (P(posix_memalign)(&p, 128, 64 + i % 100) == 0)
		P(free)(p);
#ifdef MALLOCX
	p = P(mallocx)(32 + i % 400, i % 2 ? MALLOCX_ZERO : 0);
	if (i % 3 == 0)
		p = P(rallocx)(p, 2000 + i % 100, 0);
	if (i % 2)
		P(sdallocx)(p, 32 + i % 400, 0);
	else
		P(dallocx)(p, 0);
#endif
}

NOINLINE void no_leak_edge_cases(void)
{
	for (int i = 0; i < 100; i++)
		P(free)(NULL);
	P(free)(P(realloc)(NULL, 70));
}

int main(void)
{
	wait_for_go();
	pfx_leak_malloc();
	pfx_leak_calloc();
	pfx_leak_realloc();
	pfx_leak_posix_memalign();
	pfx_leak_aligned_alloc();
	plain_leak_malloc();
#ifdef MALLOCX
	pfx_leak_mallocx();
	pfx_leak_rallocx();
#endif
	for (unsigned int i = 0; i < CHURN; i++)
		pfx_churn(i);
	no_leak_edge_cases();
	done_and_wait();
	return 0;
}
