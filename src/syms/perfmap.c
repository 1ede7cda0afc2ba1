/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "guard.h"
#include "perfmap.h"
#include "search.h"

/* A map the target wrote can be any size: read its first GUARD_PERFMAP_MAX bytes. */
#define PERFMAP_MAX_FILE ((size_t)GUARD_PERFMAP_MAX)

struct entry {
	struct perfmap_sym sym;
	size_t seq;	  /* line order: a later line wins an overlap */
	uint64_t max_end; /* largest end of this entry and every one sorted before it */
};

struct perfmap {
	struct entry *ents;
	size_t n;
	size_t skipped;
	char *names; /* all names, NUL-separated; syms point into it */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex number of at most 16 digits at *p, then at least one blank. */
static bool parse_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0, d;

	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while (s < end && (d = hexval(*s)) >= 0) {
		if (++digits > 16)
			return false;
		v = v << 4 | d;
		s++;
	}
	if (!digits || s == end || (*s != ' ' && *s != '\t'))
		return false;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*p = s;
	*out = v;
	return true;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->sym.start != y->sym.start)
		return x->sym.start < y->sym.start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct perfmap *perfmap__parse(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	struct perfmap *pm;
	size_t cap = 0, nlen = 0, i;

	pm = calloc(1, sizeof(*pm));
	if (!pm)
		goto enomem;
	/* Names are never longer than the input: one buffer holds them all. */
	pm->names = malloc(len + 1);
	if (!pm->names)
		goto enomem;

	while (p < end) {
		const char *eol = memchr(p, '\n', end - p), *name, *nend;
		uint64_t start, size;

		if (!eol)
			eol = end;
		nend = eol;
		while (nend > p && (nend[-1] == '\r' || nend[-1] == ' ' || nend[-1] == '\t'))
			nend--;
		name = p;
		if (nend == p) {
			p = eol + 1;
			continue; /* blank line */
		}
		if (!parse_hex(&name, nend, &start) || !parse_hex(&name, nend, &size) || !size ||
		    name == nend || memchr(name, '\0', nend - name)) {
			pm->skipped++;
			p = eol + 1;
			continue;
		}
		if (pm->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct entry *e = realloc(pm->ents, ncap * sizeof(*e));

			if (!e)
				goto enomem;
			pm->ents = e;
			cap = ncap;
		}
		memcpy(pm->names + nlen, name, nend - name);
		pm->ents[pm->n] = (struct entry){
			.sym = {.start = start,
				.end = start + size < start ? UINT64_MAX : start + size,
				.name = (const char *)(uintptr_t)nlen},
			.seq = pm->n,
		};
		nlen += nend - name;
		pm->names[nlen++] = '\0';
		pm->n++;
		p = eol + 1;
	}
	for (i = 0; i < pm->n; i++)
		pm->ents[i].sym.name = pm->names + (uintptr_t)pm->ents[i].sym.name;
	if (pm->n)
		qsort(pm->ents, pm->n, sizeof(*pm->ents), entry_cmp);
	for (i = 0; i < pm->n; i++) {
		uint64_t prev = i ? pm->ents[i - 1].max_end : 0;

		pm->ents[i].max_end = pm->ents[i].sym.end > prev ? pm->ents[i].sym.end : prev;
	}
	return pm;

enomem:
	perfmap__free(pm);
	errno = ENOMEM;
	return NULL;
}

struct perfmap *perfmap__load(const char *path)
{
	struct perfmap *pm = NULL;
	size_t len = 0, cap;
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	err = guard__check_fd(fd, UINT64_MAX);
	if (err || fstat(fd, &st)) {
		err = err ? -err : errno;
		close(fd);
		errno = err;
		return NULL;
	}
	cap = st.st_size > 0 && (size_t)st.st_size < PERFMAP_MAX_FILE ? st.st_size + 1 : 65536;
	buf = malloc(cap);
	if (!buf)
		goto out;
	/* The JIT may be appending while we read: take what is there, up to the cap. */
	while (len < PERFMAP_MAX_FILE) {
		if (len == cap) {
			char *nb;

			cap = cap * 2 < PERFMAP_MAX_FILE ? cap * 2 : PERFMAP_MAX_FILE;
			nb = realloc(buf, cap);
			if (!nb)
				goto out;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	/* A last line cut short by a concurrent writer is not a symbol. */
	while (len && buf[len - 1] != '\n')
		len--;
	pm = perfmap__parse(buf, len);
out:
	err = pm ? 0 : errno ? errno : ENOMEM;
	free(buf);
	close(fd);
	errno = err;
	return pm;
}

const struct perfmap_sym *perfmap__find(const struct perfmap *pm, uint64_t addr)
{
	const struct entry *best = NULL;
	size_t lo;

	if (!pm)
		return NULL;
	lo = search__prefix(pm->n, i, pm->ents[i].sym.start <= addr);
	/* Walk back while an earlier entry could still reach addr. */
	while (lo > 0 && pm->ents[lo - 1].max_end > addr) {
		const struct entry *e = &pm->ents[--lo];

		if (addr < e->sym.end && (!best || e->seq > best->seq))
			best = e;
	}
	return best ? &best->sym : NULL;
}

size_t perfmap__count(const struct perfmap *pm)
{
	return pm ? pm->n : 0;
}

size_t perfmap__skipped(const struct perfmap *pm)
{
	return pm ? pm->skipped : 0;
}

void perfmap__free(struct perfmap *pm)
{
	if (!pm)
		return;
	free(pm->ents);
	free(pm->names);
	free(pm);
}
