/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Interned stacks: equal frame lists of the same kind share one id (a kernel stack can hand out
 * page orders or slab caches of several kinds); a hash collision never merges two stacks.
 */
#ifndef __STACKS_H
#define __STACKS_H

#include <stddef.h>
#include <stdint.h>

#define STACK_NONE 0 /* id of "stack not captured" */

/* The walk met a return address outside code and stopped there: the callers are unknown. */
#define STACK_TRUNCATED 1U

struct stack {
	uint64_t hash;
	uint32_t nr_frames;
	uint32_t kind;	/* enum lt_kind, or a kernel kind label (see klabels.h) */
	uint32_t flags; /* STACK_TRUNCATED */
	uint64_t frames[];
};

struct stacks;

struct stacks *stacks__new(void);
/* The id of frames[0..nr-1], interned on first sight; negative errno on allocation failure. */
int64_t stacks__intern(struct stacks *s, const uint64_t *frames, uint32_t nr, uint32_t kind);
/* The same, for a stack with flags: equal frames with other flags are another stack. */
int64_t stacks__intern_flags(struct stacks *s, const uint64_t *frames, uint32_t nr, uint32_t kind,
			     uint32_t flags);
const struct stack *stacks__get(const struct stacks *s, uint32_t id);
uint32_t stacks__count(const struct stacks *s);
size_t stacks__mem(const struct stacks *s);
void stacks__free(struct stacks *s);

#endif /* __STACKS_H */
