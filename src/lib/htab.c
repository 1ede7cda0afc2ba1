// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "htab.h"

#define MIN_SLOTS 16

void htab__init(struct htab *t, uint32_t entry_size, uint32_t key_size)
{
	htab__init_by(t, entry_size, key_size, NULL, NULL);
}

void htab__init_by(struct htab *t, uint32_t entry_size, uint32_t key_size, htab_hash_fn hash,
		   void *ctx)
{
	*t = (struct htab){
		.entry_size = entry_size, .key_size = key_size, .hash = hash, .ctx = ctx};
}

void htab__fini(struct htab *t)
{
	free(t->slots);
	t->slots = NULL;
	t->nr_slots = 0;
	t->nr = 0;
}

void htab__clear(struct htab *t)
{
	if (t->slots)
		memset(t->slots, 0, t->nr_slots * t->entry_size);
	t->nr = 0;
}

static inline uint64_t key_hash(const struct htab *t, const void *key)
{
	uint64_t k;

	if (t->key_size == sizeof(k)) {
		memcpy(&k, key, sizeof(k));
		return hash__u64(k);
	}
	return hash__bytes(key, t->key_size);
}

static inline uint64_t entry_hash(const struct htab *t, const void *e)
{
	return t->hash ? t->hash(e, t->ctx) : key_hash(t, e);
}

static inline bool key_eq(const struct htab *t, const void *e, const void *key)
{
	uint64_t a, b;

	if (t->key_size == sizeof(a)) {
		memcpy(&a, e, sizeof(a));
		memcpy(&b, key, sizeof(b));
		return a == b;
	}
	return !memcmp(e, key, t->key_size);
}

/* An entry or key moved: word by word when it is made of words (no call to memcpy). */
static inline void copy(void *dst, const void *src, size_t n)
{
	uint64_t w;
	size_t i;

	if (n % sizeof(w)) {
		memcpy(dst, src, n);
		return;
	}
	for (i = 0; i < n; i += sizeof(w)) {
		memcpy(&w, (const char *)src + i, sizeof(w));
		memcpy((char *)dst + i, &w, sizeof(w));
	}
}

static inline void zero(void *dst, size_t n)
{
	static const uint64_t w;
	size_t i;

	if (n % sizeof(w)) {
		memset(dst, 0, n);
		return;
	}
	for (i = 0; i < n; i += sizeof(w))
		memcpy((char *)dst + i, &w, sizeof(w));
}

static inline char *slot(const struct htab *t, size_t i)
{
	return t->slots + i * t->entry_size;
}

/* Where a hash's probe starts: its top bits, which the multiply mixes best (on addresses a
 * constant stride apart, slots a constant stride apart: what the tracker's old hash did). */
static inline size_t home(const struct htab *t, uint64_t hash)
{
	return hash >> t->shift;
}

static int grow(struct htab *t)
{
	size_t n = t->nr_slots ? t->nr_slots * 2 : MIN_SLOTS, mask = n - 1, i, j;
	char *old = t->slots, *e;
	struct htab g = *t;

	if (n > SIZE_MAX / t->entry_size)
		return -1;
	g.slots = calloc(n, t->entry_size);
	if (!g.slots)
		return -1;
	g.nr_slots = n;
	g.shift = 64 - __builtin_ctzll(n);
	for (i = 0; i < t->nr_slots; i++) {
		e = old + i * t->entry_size;
		if (htab__empty(t, e))
			continue;
		for (j = home(&g, entry_hash(t, e)); !htab__empty(t, slot(&g, j));
		     j = (j + 1) & mask)
			;
		copy(slot(&g, j), e, t->entry_size);
	}
	free(old);
	*t = g;
	return 0;
}

/* Room for one more entry: false when the table cannot grow. */
static inline bool room(struct htab *t)
{
	return (t->nr + 1) * 10 <= t->nr_slots * 7 || !grow(t);
}

void *htab__find(const struct htab *t, const void *key)
{
	size_t mask = t->nr_slots - 1, j;
	char *e;

	if (!t->nr)
		return NULL;
	for (j = home(t, key_hash(t, key)); !htab__empty(t, e = slot(t, j)); j = (j + 1) & mask)
		if (key_eq(t, e, key))
			return e;
	return NULL;
}

void *htab__insert(struct htab *t, const void *key, bool *found)
{
	size_t mask, j;
	char *e;

	*found = false;
	if (!room(t))
		return NULL;
	mask = t->nr_slots - 1;
	for (j = home(t, key_hash(t, key)); !htab__empty(t, e = slot(t, j)); j = (j + 1) & mask) {
		if (key_eq(t, e, key)) {
			*found = true;
			return e;
		}
	}
	copy(e, key, t->key_size);
	t->nr++;
	return e;
}

void *htab__find_by(const struct htab *t, uint64_t hash, htab_eq_fn eq, const void *arg)
{
	size_t mask = t->nr_slots - 1, j;
	char *e;

	if (!t->nr)
		return NULL;
	for (j = home(t, hash); !htab__empty(t, e = slot(t, j)); j = (j + 1) & mask)
		if (eq(e, arg))
			return e;
	return NULL;
}

void *htab__insert_by(struct htab *t, uint64_t hash, htab_eq_fn eq, const void *arg, bool *found)
{
	size_t mask, j;
	char *e;

	*found = false;
	if (!room(t))
		return NULL;
	mask = t->nr_slots - 1;
	for (j = home(t, hash); !htab__empty(t, e = slot(t, j)); j = (j + 1) & mask) {
		if (eq(e, arg)) {
			*found = true;
			return e;
		}
	}
	t->nr++;
	return e;
}

void htab__remove(struct htab *t, void *entry)
{
	size_t mask = t->nr_slots - 1, i = ((char *)entry - t->slots) / t->entry_size, j, h;
	char *e;

	/* move back each entry of the run after it that may sit at or before its place */
	for (j = (i + 1) & mask; !htab__empty(t, e = slot(t, j)); j = (j + 1) & mask) {
		h = home(t, entry_hash(t, e));
		if (((j - h) & mask) >= ((j - i) & mask)) {
			copy(slot(t, i), e, t->entry_size);
			i = j;
		}
	}
	zero(slot(t, i), t->entry_size);
	t->nr--;
}

bool htab__delete(struct htab *t, const void *key)
{
	void *e = htab__find(t, key);

	if (e)
		htab__remove(t, e);
	return e;
}

size_t htab__count(const struct htab *t)
{
	return t->nr;
}

size_t htab__mem(const struct htab *t)
{
	return t->nr_slots * t->entry_size;
}
