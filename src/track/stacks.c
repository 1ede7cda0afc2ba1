// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "htab.h"
#include "stacks.h"

struct stacks {
	struct stack **by_id; /* by_id[0] is the empty stack */
	uint32_t nr, cap;
	struct htab ids; /* id + 1 (uint32_t), by the stack's hash */
	size_t mem;
};

/* What a stack is interned by: its frames, kind and flags. */
struct stack_key {
	const uint64_t *frames;
	uint32_t nr, kind, flags;
	uint64_t hash;
	const struct stacks *s;
};

static uint64_t hash_key(const struct stack_key *k)
{
	uint64_t h = hash__mix(HASH_SEED ^ k->nr, (uint64_t)k->kind << 32 | k->flags);

	return hash__mix(h, hash__bytes(k->frames, k->nr * sizeof(k->frames[0])));
}

static uint64_t id_hash(const void *entry, void *ctx)
{
	const struct stacks *s = ctx;

	return s->by_id[*(const uint32_t *)entry - 1]->hash;
}

static bool id_is(const void *entry, const void *arg)
{
	const struct stack_key *k = arg;
	const struct stack *st = k->s->by_id[*(const uint32_t *)entry - 1];

	return st->hash == k->hash && st->nr_frames == k->nr && st->kind == k->kind &&
	       st->flags == k->flags &&
	       !memcmp(st->frames, k->frames, k->nr * sizeof(k->frames[0]));
}

static struct stack *stack_new(const uint64_t *frames, uint32_t nr, uint64_t hash, uint32_t kind,
			       uint32_t flags)
{
	struct stack *st = malloc(sizeof(*st) + nr * sizeof(frames[0]));

	if (!st)
		return NULL;
	st->hash = hash;
	st->nr_frames = nr;
	st->kind = kind;
	st->flags = flags;
	if (nr) /* the empty stack has no frames array to copy from */
		memcpy(st->frames, frames, nr * sizeof(frames[0]));
	return st;
}

struct stacks *stacks__new(void)
{
	struct stacks *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cap = 1024;
	htab__init_by(&s->ids, sizeof(uint32_t), sizeof(uint32_t), id_hash, s);
	s->by_id = calloc(s->cap, sizeof(*s->by_id));
	if (!s->by_id)
		goto err;
	s->by_id[0] = stack_new(NULL, 0, 0, 0, 0);
	if (!s->by_id[0])
		goto err;
	s->nr = 1;
	return s;
err:
	stacks__free(s);
	return NULL;
}

int64_t stacks__intern(struct stacks *s, const uint64_t *frames, uint32_t nr, uint32_t kind)
{
	return stacks__intern_flags(s, frames, nr, kind, 0);
}

int64_t stacks__intern_flags(struct stacks *s, const uint64_t *frames, uint32_t nr, uint32_t kind,
			     uint32_t flags)
{
	struct stack_key k = {frames, nr, kind, flags, 0, s};
	struct stack *st, **by_id;
	uint32_t *slot;
	bool found;
	uint64_t h;

	if (!nr)
		return STACK_NONE;
	h = k.hash = hash_key(&k);
	slot = htab__find_by(&s->ids, h, id_is, &k);
	if (slot)
		return *slot - 1;
	if (s->nr == UINT32_MAX - 1)
		return -E2BIG;
	if (s->nr == s->cap) {
		by_id = realloc(s->by_id, s->cap * 2 * sizeof(*by_id));
		if (!by_id)
			return -ENOMEM;
		s->by_id = by_id;
		s->cap *= 2;
	}
	st = stack_new(frames, nr, h, kind, flags);
	if (!st)
		return -ENOMEM;
	s->by_id[s->nr] = st;
	slot = htab__insert_by(&s->ids, h, id_is, &k, &found);
	if (!slot) {
		free(st);
		return -ENOMEM;
	}
	*slot = ++s->nr;
	s->mem += sizeof(*st) + nr * sizeof(frames[0]);
	return s->nr - 1;
}

const struct stack *stacks__get(const struct stacks *s, uint32_t id)
{
	return id < s->nr ? s->by_id[id] : NULL;
}

uint32_t stacks__count(const struct stacks *s)
{
	return s->nr;
}

size_t stacks__mem(const struct stacks *s)
{
	return s->mem + s->cap * sizeof(*s->by_id) + htab__mem(&s->ids);
}

void stacks__free(struct stacks *s)
{
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr; i++)
		free(s->by_id[i]);
	free(s->by_id);
	htab__fini(&s->ids);
	free(s);
}
