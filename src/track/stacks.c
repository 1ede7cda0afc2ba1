// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "stacks.h"

struct stacks {
	struct stack **by_id; /* by_id[0] is the empty stack */
	uint32_t nr, cap;
	uint32_t *slots; /* open addressing: id + 1, 0 = empty */
	uint32_t nr_slots;
	size_t mem;
};

static uint64_t hash_frames(const uint64_t *f, uint32_t nr, uint32_t kind)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ nr ^ (uint64_t)kind << 32;
	uint32_t i;

	for (i = 0; i < nr; i++) {
		h ^= f[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
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
	s->nr_slots = 2048;
	s->by_id = calloc(s->cap, sizeof(*s->by_id));
	s->slots = calloc(s->nr_slots, sizeof(*s->slots));
	if (!s->by_id || !s->slots)
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

static int grow_slots(struct stacks *s)
{
	uint32_t n = s->nr_slots * 2, i, j;
	uint32_t *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 1; i < s->nr; i++) {
		j = s->by_id[i]->hash & (n - 1);
		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = i + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->nr_slots = n;
	return 0;
}

int64_t stacks__intern(struct stacks *s, const uint64_t *frames, uint32_t nr, uint32_t kind)
{
	return stacks__intern_flags(s, frames, nr, kind, 0);
}

int64_t stacks__intern_flags(struct stacks *s, const uint64_t *frames, uint32_t nr, uint32_t kind,
			     uint32_t flags)
{
	uint64_t h;
	uint32_t j, id;
	struct stack *st, **by_id;

	if (!nr)
		return STACK_NONE;
	if ((s->nr + 1) * 2 > s->nr_slots && grow_slots(s))
		return -ENOMEM;
	h = hash_frames(frames, nr, kind) ^ flags;
	for (j = h & (s->nr_slots - 1); s->slots[j]; j = (j + 1) & (s->nr_slots - 1)) {
		st = s->by_id[s->slots[j] - 1];
		if (st->hash == h && st->nr_frames == nr && st->kind == kind &&
		    st->flags == flags && !memcmp(st->frames, frames, nr * sizeof(frames[0])))
			return s->slots[j] - 1;
	}
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
	id = s->nr++;
	s->by_id[id] = st;
	s->slots[j] = id + 1;
	s->mem += sizeof(*st) + nr * sizeof(frames[0]);
	return id;
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
	return s->mem + s->cap * sizeof(*s->by_id) + s->nr_slots * sizeof(*s->slots);
}

void stacks__free(struct stacks *s)
{
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < s->nr; i++)
		free(s->by_id[i]);
	free(s->by_id);
	free(s->slots);
	free(s);
}
