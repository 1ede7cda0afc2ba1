// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "history.h"
#include "report.h"
#include "restab.h"
#include "tracker.h"

int restab__init(struct restab *rt, uint64_t start_ns)
{
	memset(rt, 0, sizeof(*rt));
	rt->tr = tracker__new(start_ns);
	rt->hist = history__new();
	if (!rt->tr || !rt->hist) {
		restab__fini(rt);
		return -ENOMEM;
	}
	return 0;
}

void restab__fini(struct restab *rt)
{
	tracker__free_all(rt->tr);
	history__free(rt->hist);
	rt->tr = NULL;
	rt->hist = NULL;
}

void restab__set_start(struct restab *rt, uint64_t start_ns)
{
	tracker__set_start(rt->tr, start_ns);
}

int restab__add(struct restab *rt, uint64_t key, uint32_t stack_id, uint64_t ts_ns)
{
	rt->created++;
	return tracker__alloc(rt->tr, key, 1, ts_ns, stack_id);
}

void restab__end(struct restab *rt, uint64_t key)
{
	tracker__free(rt->tr, key);
	rt->ended++;
}

int restab__move(struct restab *rt, uint64_t key, uint32_t stack_id, uint64_t ts_ns)
{
	tracker__free(rt->tr, key);
	return tracker__alloc(rt->tr, key, 1, ts_ns, stack_id);
}

void restab__reset(struct restab *rt)
{
	tracker__reset(rt->tr);
}

int restab__report(struct restab *rt, struct report *r, const struct stacks *st,
		   const struct report_filter *f, uint64_t now_ms, const struct resolver *res)
{
	int err;

	r->opens = rt->created;
	r->closes = rt->ended;
	err = report__build(r, rt->tr, st, f, now_ms);
	return err ? err : history__apply(rt->hist, r, st, res);
}
