/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one hash function of userspace: a word at a time, each folded in by a multiply and a
 * shift of the high half down, so that the low bits (what a table indexes by) depend on every
 * bit of the input. Heap addresses, 16-byte aligned, spread as well as random keys do.
 */
#ifndef __HASH_H
#define __HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HASH_MUL  0x9e3779b97f4a7c15ULL
#define HASH_SEED 0xcbf29ce484222325ULL

/* h with the word w folded in. */
static inline uint64_t hash__mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * HASH_MUL;
	return h ^ h >> 32;
}

static inline uint64_t hash__u64(uint64_t x)
{
	return hash__mix(0, x);
}

static inline uint64_t hash__bytes(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = HASH_SEED ^ n, w;

	for (; n >= sizeof(w); n -= sizeof(w), c += sizeof(w)) {
		memcpy(&w, c, sizeof(w));
		h = hash__mix(h, w);
	}
	if (n) {
		w = 0;
		memcpy(&w, c, n);
		h = hash__mix(h, w);
	}
	return h;
}

static inline uint64_t hash__str(const char *s)
{
	return hash__bytes(s, strlen(s));
}

#endif /* __HASH_H */
