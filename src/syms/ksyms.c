/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksyms.h"
#include "search.h"

struct ksyms {
	struct ksym *syms;
	size_t cnt;
	char *buf; /* the file's text, cut into the name and module strings */
};

/* /proc/kallsyms reports size 0, so read until EOF. */
static int read_all(const char *path, char **out, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *buf, *tmp;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (cap - n < 2) {
			tmp = realloc(buf, cap * 2);
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			buf = tmp;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (!r)
			break;
		n += r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

static bool is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Among aliases, __pfx_ padding and other _-prefixed names sort first, so find() skips
	 * them. */
	if ((x->name[0] == '_') != (y->name[0] == '_'))
		return x->name[0] == '_' ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int parse(struct ksyms *ks, size_t len, size_t *nzero)
{
	size_t cap = 0;
	char *p = ks->buf, *end = ks->buf + len;

	*nzero = 0;
	while (p < end) {
		char *eol = memchr(p, '\n', end - p), *name, *mod, *q;
		unsigned long long addr;
		char type;

		if (!eol)
			eol = end;
		*eol = '\0';
		addr = strtoull(p, &q, 16);
		if (q == p || *q != ' ' || !q[1] || q[2] != ' ')
			goto next;
		type = q[1];
		name = q + 3;
		mod = strchr(name, '\t');
		if (!mod)
			mod = strchr(name, ' ');
		if (mod) {
			*mod++ = '\0';
			while (*mod == ' ' || *mod == '\t')
				mod++;
			if (*mod == '[') {
				char *close = strchr(++mod, ']');

				if (close)
					*close = '\0';
			} else {
				mod = NULL;
			}
		}
		if (!*name || !is_text(type))
			goto next;
		if (!addr) {
			(*nzero)++;
			goto next;
		}
		if (ks->cnt == cap) {
			struct ksym *tmp;

			cap = cap ? cap * 2 : 4096;
			tmp = realloc(ks->syms, cap * sizeof(*tmp));
			if (!tmp)
				return -ENOMEM;
			ks->syms = tmp;
		}
		ks->syms[ks->cnt++] = (struct ksym){
			.name = name,
			.addr = addr,
			.module = mod && *mod ? mod : NULL,
		};
	next:
		p = eol + 1;
	}
	return 0;
}

/* Takes buf (the text, NUL-terminated at len) and frees it on failure. */
static struct ksyms *ksyms__from_text(char *buf, size_t len)
{
	struct ksyms *ks;
	size_t nzero;
	int err;

	ks = calloc(1, sizeof(*ks));
	if (!ks) {
		free(buf);
		errno = ENOMEM;
		return NULL;
	}
	ks->buf = buf;
	err = parse(ks, len, &nzero);
	if (err)
		goto err_free;
	if (!ks->cnt) {
		err = nzero ? -EPERM : -ENODATA;
		goto err_free;
	}
	qsort(ks->syms, ks->cnt, sizeof(*ks->syms), ksym_cmp);
	return ks;

err_free:
	ksyms__free(ks);
	errno = -err;
	return NULL;
}

struct ksyms *ksyms__load(const char *path)
{
	size_t len = 0;
	char *buf = NULL;
	int err;

	err = read_all(path ? path : "/proc/kallsyms", &buf, &len);
	if (err) {
		errno = -err;
		return NULL;
	}
	return ksyms__from_text(buf, len);
}

struct ksyms *ksyms__load_mem(const char *data, size_t len)
{
	char *buf = malloc(len + 1);

	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(buf, data, len);
	buf[len] = '\0';
	return ksyms__from_text(buf, len);
}

const struct ksym *ksyms__find(const struct ksyms *ks, uint64_t addr)
{
	size_t n = search__prefix(ks->cnt, i, ks->syms[i].addr <= addr);

	return n ? &ks->syms[n - 1] : NULL;
}

const struct ksym *ksyms__get(const struct ksyms *ks, const char *name)
{
	size_t i;

	for (i = 0; i < ks->cnt; i++) {
		if (!strcmp(ks->syms[i].name, name))
			return &ks->syms[i];
	}
	return NULL;
}

size_t ksyms__count(const struct ksyms *ks)
{
	return ks->cnt;
}

const struct ksym *ksyms__at(const struct ksyms *ks, size_t i)
{
	return i < ks->cnt ? &ks->syms[i] : NULL;
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->buf);
	free(ks);
}
