// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include "clock.h"
#include "freeze.h"
#include "procmaps.h"
#include "reach.h"
#include "search.h"
#include "tracker.h"
#include "vec.h"

#define BUF_SIZE      (8 << 20) /* one process_vm_readv reads up to this much */
#define BATCH_IOVS    1024	/* IOV_MAX: blocks read by one call */
#define RED_ZONE      128	/* below the stack pointer, a leaf function's data (x86-64 ABI) */
#define PAGE	      4096ULL
#define MAX_BAD_PAGES 64 /* unreadable pages in a row after which a mapping is given up */

struct range {
	uint64_t start, end;
};

struct scan {
	struct reach *r;
	pid_t pid;
	uint64_t lo, span; /* every block lies in [lo, lo + span) */
	uint32_t *work;	   /* blocks reached, their contents not scanned yet */
	size_t nr_work;
	char *buf;
};

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void add_block(const struct alloc_rec *rec, bool is_map, void *data)
{
	struct range **p = data;

	(void)is_map;
	(*p)->start = rec->addr;
	(*p)->end = rec->addr + (rec->size ? rec->size : 1); /* malloc(0) still has a start */
	(*p)++;
}

static int collect_blocks(struct reach *r, const struct tracker *tr)
{
	size_t n = tracker__outstanding(tr), i;
	struct range *v = malloc((n ? n : 1) * sizeof(*v)), *p = v;

	if (!v)
		return -ENOMEM;
	tracker__for_each(tr, add_block, &p);
	n = p - v;
	qsort(v, n, sizeof(*v), cmp_range);
	r->addrs = malloc((n ? n : 1) * sizeof(*r->addrs));
	r->ends = malloc((n ? n : 1) * sizeof(*r->ends));
	r->state = calloc(n ? n : 1, 1);
	if (!r->addrs || !r->ends || !r->state) {
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		r->addrs[i] = v[i].start;
		r->ends[i] = v[i].end;
	}
	r->nr = n;
	free(v);
	return 0;
}

/* The last block starting at or before a, or -1. */
static ssize_t block_at_or_before(const struct reach *r, uint64_t a)
{
	return (ssize_t)search__prefix(r->nr, i, r->addrs[i] <= a) - 1;
}

/*
 * Where glibc's next chunk header lies after the block at a (size bytes): the allocator's own
 * bins and top pointer point there, inside the block's last bytes, and are not the program's.
 */
static inline uint64_t next_chunk(uint64_t a, uint64_t size)
{
	uint64_t csize = (size + 8 + 15) & ~15ULL;

	return a - 16 + (csize < 32 ? 32 : csize);
}

static inline void mark(struct scan *s, uint64_t v)
{
	struct reach *r = s->r;
	ssize_t i;

	if (v - s->lo >= s->span)
		return;
	i = block_at_or_before(r, v);
	if (i < 0 || v >= r->ends[i])
		return;
	if (v == r->addrs[i]) {
		if (r->state[i] == REACH_LOST)
			s->work[s->nr_work++] = i;
		r->state[i] = REACH_REACHABLE;
	} else if (r->state[i] == REACH_LOST &&
		   v != next_chunk(r->addrs[i], r->ends[i] - r->addrs[i])) {
		r->state[i] = REACH_POSSIBLY;
		s->work[s->nr_work++] = i;
	}
}

/* The aligned words of [a, e), whose bytes are at p (p holds address a). */
static void scan_words(struct scan *s, const char *p, uint64_t a, uint64_t e)
{
	uint64_t w = (a + 7) & ~7ULL, v;

	for (; w + 8 <= e; w += 8) {
		memcpy(&v, p + (w - a), sizeof(v));
		mark(s, v);
	}
}

static ssize_t read_mem(struct scan *s, void *dst, uint64_t a, size_t len)
{
	struct iovec local = {dst, len}, remote = {(void *)a, len};

	return process_vm_readv(s->pid, &local, 1, &remote, 1, 0);
}

/* Scan [a, e) of the process, page by page where the kernel refuses a read. */
static void scan_range(struct scan *s, uint64_t a, uint64_t e)
{
	struct reach *r = s->r;
	unsigned int bad = 0;
	uint64_t c = a;

	while (c < e) {
		size_t len = e - c < BUF_SIZE ? e - c : BUF_SIZE;
		ssize_t got = read_mem(s, s->buf, c, len);

		if (got <= 0) {
			/* the page at c cannot be read (I/O mapping, a file's hole) */
			uint64_t next = (c & ~(PAGE - 1)) + PAGE;

			if (++bad >= MAX_BAD_PAGES)
				next = e;
			next = next < e ? next : e;
			r->unreadable_bytes += next - c;
			c = next;
			continue;
		}
		bad = 0;
		r->scanned_bytes += got;
		scan_words(s, s->buf, c, c + got);
		c += got;
	}
}

/*
 * A root mapping [a, e) without the traced blocks in it (scanned when reached, never as
 * roots): the gaps between them read many to a call, not the blocks' bytes with them.
 */
static void scan_gaps(struct scan *s, uint64_t a, uint64_t e)
{
	struct reach *r = s->r;
	ssize_t first = block_at_or_before(r, a);
	size_t bi = first < 0 ? 0 : first, n = 0, total = 0, i, off;
	struct iovec local, remote[BATCH_IOVS];
	uint64_t cur = a;
	ssize_t got;

	while (cur < e || n) {
		while (cur < e && n < BATCH_IOVS && total < BUF_SIZE) {
			uint64_t gap_end = e;

			while (bi < r->nr && r->ends[bi] <= cur)
				bi++;
			if (bi < r->nr && r->addrs[bi] <= cur) {
				cur = r->ends[bi];
				continue;
			}
			if (bi < r->nr && r->addrs[bi] < gap_end)
				gap_end = r->addrs[bi];
			if (gap_end - cur > BUF_SIZE - total)
				gap_end = cur + (BUF_SIZE - total);
			remote[n].iov_base = (void *)cur;
			remote[n].iov_len = gap_end - cur;
			total += gap_end - cur;
			n++;
			cur = gap_end;
		}
		local.iov_base = s->buf;
		local.iov_len = total;
		got = process_vm_readv(s->pid, &local, 1, remote, n, 0);
		if (got < 0)
			got = 0;
		r->scanned_bytes += got;
		for (i = 0, off = 0; i < n; i++) {
			uint64_t ga = (uint64_t)remote[i].iov_base, len = remote[i].iov_len;

			if (off + len <= (size_t)got) {
				scan_words(s, s->buf + off, ga, ga + len);
			} else { /* the read stopped in this gap: the rest page by page */
				r->scanned_bytes -= got > (ssize_t)off ? got - off : 0;
				got = 0;
				scan_range(s, ga, ga + len);
			}
			off += len;
		}
		n = 0;
		total = 0;
	}
}

/*
 * A list reaches its blocks one at a time: the work list holds one block, and reading each
 * alone costs a call. Then aligned windows around it are read and kept, serving the
 * neighbours the list reaches next; windows that serve nothing turn them off.
 */
#define WIN_SIZE (256 << 10)
#define NR_WINS	 16
#define NARROW	 64 /* blocks on the work list under which windows are used */

struct window {
	uint64_t base; /* 0: empty */
	size_t len;
	bool hit;
};

struct windows {
	struct window w[NR_WINS];
	char *data;
	uint64_t hits, misses;
};

/* The bytes of [a, e) from a window, reading it when needed; NULL when not worth it. */
static const char *window_of(struct scan *s, struct windows *ws, uint64_t a, uint64_t e)
{
	uint64_t base = a & ~(uint64_t)(WIN_SIZE - 1);
	size_t k = (a / WIN_SIZE) % NR_WINS;
	struct window *w = &ws->w[k];
	ssize_t got;

	if (e > base + WIN_SIZE)
		return NULL;
	if (w->base == base && base + w->len >= e) {
		ws->hits++;
		w->hit = true;
		return ws->data + k * (size_t)WIN_SIZE + (a - base);
	}
	if (ws->misses > 4 * ws->hits + 16)
		return NULL;
	if (w->base && !w->hit)
		ws->misses++;
	w->base = 0;
	got = read_mem(s, ws->data + k * (size_t)WIN_SIZE, base, WIN_SIZE);
	if (got <= 0 || base + got < e)
		return NULL; /* the window starts or ends outside the mapping */
	s->r->scanned_bytes += got;
	w->base = base;
	w->len = got;
	w->hit = false;
	return ws->data + k * (size_t)WIN_SIZE + (a - base);
}

/* Scan the contents of reached blocks until none is left: small ones many to a call. */
static void drain_work(struct scan *s, struct windows *ws)
{
	struct reach *r = s->r;
	struct iovec local, remote[BATCH_IOVS];
	uint32_t batch[BATCH_IOVS];
	size_t n, total, i, off;
	const char *p;
	ssize_t got;

	while (s->nr_work) {
		if (s->nr_work < NARROW && ws->data) {
			uint32_t b = s->work[s->nr_work - 1];

			p = window_of(s, ws, r->addrs[b], r->ends[b]);
			if (p) {
				s->nr_work--;
				scan_words(s, p, r->addrs[b], r->ends[b]);
				continue;
			}
		}
		n = 0;
		total = 0;
		while (s->nr_work && n < BATCH_IOVS) {
			uint32_t b = s->work[s->nr_work - 1];
			uint64_t len = r->ends[b] - r->addrs[b];

			if (len > BUF_SIZE - total) {
				if (!n) { /* larger than the buffer: read in pieces */
					s->nr_work--;
					scan_range(s, r->addrs[b], r->ends[b]);
				}
				break;
			}
			s->nr_work--;
			batch[n] = b;
			remote[n].iov_base = (void *)r->addrs[b];
			remote[n].iov_len = len;
			total += len;
			n++;
		}
		if (!n)
			continue;
		local.iov_base = s->buf;
		local.iov_len = total;
		got = process_vm_readv(s->pid, &local, 1, remote, n, 0);
		if (got < 0)
			got = 0;
		r->scanned_bytes += got;
		/* marking pushes onto work: the batch was copied out of it first */
		for (i = 0, off = 0; i < n; i++) {
			uint64_t len = remote[i].iov_len, a = r->addrs[batch[i]];

			if (off + len <= (size_t)got)
				scan_words(s, s->buf + off, a, a + len);
			else /* the read stopped in this block: the rest one by one */
				scan_range(s, a, a + len);
			off += len;
		}
	}
}

struct ranges {
	struct range *v;
	uint32_t n, cap;
};

static int add_writable(const struct procmaps_entry *e, void *data)
{
	struct ranges *r = data;

	if (e->perms[0] != 'r' || e->perms[1] != 'w')
		return 0;
	if (vec__reserve(&r->v, &r->cap, r->n + 1, sizeof(*r->v)))
		return -ENOMEM;
	r->v[r->n++] = (struct range){e->start, e->end};
	return 0;
}

static int read_maps(pid_t pid, struct range **out, size_t *nr)
{
	struct ranges r = {0};
	int err = procmaps__for_each(pid, add_writable, &r);

	if (err) {
		free(r.v);
		return err;
	}
	*out = r.v;
	*nr = r.n;
	return 0;
}

/* Roots: every register of every thread, each thread's stack from its stack pointer, and
 * every other writable mapping outside the traced blocks. */
static int scan_roots(struct scan *s, const struct freeze *f)
{
	struct reach *r = s->r;
	struct range *maps = NULL;
	size_t nr_maps = 0, i, k;
	unsigned int j;
	int err;

	err = read_maps(s->pid, &maps, &nr_maps);
	if (err)
		return err;
	/* a stack the program or libc mapped (a traced block) is in use: reached, and scanned
	 * below from its stack pointer only, never whole (what lies below sp is dead) */
	for (j = 0; j < f->n; j++) {
		ssize_t b = block_at_or_before(r, f->t[j].regs.rsp);

		if (f->t[j].tid && f->t[j].stopped && b >= 0 && f->t[j].regs.rsp < r->ends[b])
			r->state[b] = REACH_REACHABLE;
	}
	for (j = 0; j < f->n; j++) {
		const struct freeze_thread *t = &f->t[j];
		const unsigned long long *w = (const unsigned long long *)&t->regs;
		uint64_t sp = t->regs.rsp - RED_ZONE;
		ssize_t b;

		if (!t->tid || !t->stopped)
			continue;
		r->threads++;
		for (k = 0; k < sizeof(t->regs) / sizeof(*w); k++)
			mark(s, w[k]);
		for (i = 0; i < nr_maps; i++)
			if (t->regs.rsp >= maps[i].start && t->regs.rsp < maps[i].end)
				break;
		/* what lies below the stack pointer is dead: the stack mapping starts there */
		if (i < nr_maps && sp > maps[i].start)
			maps[i].start = sp;
		b = block_at_or_before(r, t->regs.rsp);
		if (b >= 0 && t->regs.rsp < r->ends[b])
			scan_range(s, sp > r->addrs[b] ? sp : r->addrs[b], r->ends[b]);
	}
	for (i = 0; i < nr_maps; i++) {
		scan_gaps(s, maps[i].start, maps[i].end);
		r->mappings++;
	}
	free(maps);
	return 0;
}

static int mark_all(struct reach *r, pid_t pid, const struct freeze *f)
{
	struct scan s = {.r = r, .pid = pid};
	struct windows ws = {};
	int err;

	if (r->nr) {
		s.lo = r->addrs[0];
		for (size_t i = 0; i < r->nr; i++)
			if (r->ends[i] - s.lo > s.span)
				s.span = r->ends[i] - s.lo;
	}
	s.work = malloc((r->nr ? r->nr : 1) * sizeof(*s.work));
	s.buf = malloc(BUF_SIZE);
	if (!s.work || !s.buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* without the windows' memory, lists are read a block a call: slower, as exact */
	ws.data = malloc((size_t)WIN_SIZE * NR_WINS);
	err = scan_roots(&s, f);
	if (!err)
		drain_work(&s, &ws);
cleanup:
	free(ws.data);
	free(s.work);
	free(s.buf);
	return err;
}

int reach__scan(struct reach *r, pid_t pid, const struct tracker *tr, void (*drain)(void *ctx),
		void *ctx)
{
	struct timespec cpu0, cpu1;
	struct freeze f;
	int err;

	memset(r, 0, sizeof(*r));
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
	err = freeze__stop(&f, pid);
	if (err)
		goto release;
	if (drain)
		drain(ctx);
	err = collect_blocks(r, tr);
	if (!err)
		err = mark_all(r, pid, &f);
release:
	freeze__release(&f);
	r->pause_ns = f.end_ns - f.start_ns;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
	r->cpu_ns = (cpu1.tv_sec - cpu0.tv_sec) * 1000000000ULL + cpu1.tv_nsec - cpu0.tv_nsec;
	if (err == -EBUSY)
		snprintf(r->note, sizeof(r->note),
			 "pid %d is traced by pid %d (a debugger): no reachability split", pid,
			 f.tracer);
	else if (err == -ETIMEDOUT)
		snprintf(r->note, sizeof(r->note),
			 "a thread of pid %d did not stop within 2 s: no reachability split", pid);
	else if (err)
		snprintf(r->note, sizeof(r->note), "cannot scan pid %d: %s: no reachability split",
			 pid, strerror(-err));
	r->done = !err;
	return err;
}

int reach__state(const struct reach *r, uint64_t addr)
{
	ssize_t i;

	if (!r->done)
		return -1;
	i = block_at_or_before(r, addr);
	return i >= 0 && r->addrs[i] == addr ? r->state[i] : -1;
}

void reach__free(struct reach *r)
{
	free(r->addrs);
	free(r->ends);
	free(r->state);
	r->addrs = r->ends = NULL;
	r->state = NULL;
	r->nr = 0;
}
