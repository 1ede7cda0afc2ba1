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

static uint64_t entry_hash(const struct htab *t, const void *e)
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

static inline bool is_empty(const struct htab *t, const char *e)
{
	uint64_t k;
	uint32_t i;

	if (t->key_size == sizeof(k)) {
		memcpy(&k, e, sizeof(k));
		return !k;
	}
	for (i = 0; i < t->key_size; i++)
		if (e[i])
			return false;
	return true;
}

static inline char *slot(const struct htab *t, size_t i)
{
	return t->slots + i * t->entry_size;
}

static int grow(struct htab *t)
{
	size_t n = t->nr_slots ? t->nr_slots * 2 : MIN_SLOTS, i, j;
	char *old = t->slots, *e;

	if (n > SIZE_MAX / t->entry_size)
		return -1;
	t->slots = calloc(n, t->entry_size);
	if (!t->slots) {
		t->slots = old;
		return -1;
	}
	for (i = 0; i < t->nr_slots; i++) {
		e = old + i * t->entry_size;
		if (is_empty(t, e))
			continue;
		for (j = entry_hash(t, e) & (n - 1); !is_empty(t, slot(t, j));
		     j = (j + 1) & (n - 1))
			;
		memcpy(slot(t, j), e, t->entry_size);
	}
	free(old);
	t->nr_slots = n;
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
	for (j = key_hash(t, key) & mask; !is_empty(t, e = slot(t, j)); j = (j + 1) & mask)
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
	for (j = key_hash(t, key) & mask; !is_empty(t, e = slot(t, j)); j = (j + 1) & mask) {
		if (key_eq(t, e, key)) {
			*found = true;
			return e;
		}
	}
	memcpy(e, key, t->key_size);
	t->nr++;
	return e;
}

void *htab__find_by(const struct htab *t, uint64_t hash, htab_eq_fn eq, const void *arg)
{
	size_t mask = t->nr_slots - 1, j;
	char *e;

	if (!t->nr)
		return NULL;
	for (j = hash & mask; !is_empty(t, e = slot(t, j)); j = (j + 1) & mask)
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
	for (j = hash & mask; !is_empty(t, e = slot(t, j)); j = (j + 1) & mask) {
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
	size_t mask = t->nr_slots - 1, i = ((char *)entry - t->slots) / t->entry_size, j, home;
	char *e;

	/* move back each entry of the run after it that may sit at or before its place */
	for (j = (i + 1) & mask; !is_empty(t, e = slot(t, j)); j = (j + 1) & mask) {
		home = entry_hash(t, e) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			memcpy(slot(t, i), e, t->entry_size);
			i = j;
		}
	}
	memset(slot(t, i), 0, t->entry_size);
	t->nr--;
}

bool htab__delete(struct htab *t, const void *key)
{
	void *e = htab__find(t, key);

	if (e)
		htab__remove(t, e);
	return e;
}

void *htab__next(const struct htab *t, size_t *pos)
{
	char *e;

	for (; *pos < t->nr_slots; (*pos)++) {
		e = slot(t, *pos);
		if (!is_empty(t, e)) {
			(*pos)++;
			return e;
		}
	}
	return NULL;
}

size_t htab__count(const struct htab *t)
{
	return t->nr;
}

size_t htab__mem(const struct htab *t)
{
	return t->nr_slots * t->entry_size;
}
