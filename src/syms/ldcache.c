// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Library names as the dynamic loader finds them: /etc/ld.so.cache in glibc's format (the
 * "glibc-ld.so.cache1.1" layout, written by ldconfig since glibc 2.32 alone), read directly
 * rather than by running ldconfig -p.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ldcache.h"

#define CACHE_MAGIC	 "glibc-ld.so.cache1.1"
#define CACHE_MAX_SIZE	 (64 << 20)
#define FLAG_ELF_LIBC6	 0x0003
#define FLAG_X8664_LIB64 0x0300

struct cache_header {
	char magic[20]; /* "glibc-ld.so.cache" "1.1" */
	unsigned int nlibs;
	unsigned int len_strings;
	unsigned char flags;
	unsigned char pad[3];
	unsigned int extension_offset;
	unsigned int unused[3];
};

struct cache_entry {
	int flags;
	unsigned int key, value; /* offsets of the soname and the path from the file's start */
	unsigned int osversion;
	unsigned long long hwcap;
};

static char *read_all(const char *path, size_t *len)
{
	char *buf = NULL, *tmp;
	size_t cap = 0, n = 0, r;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 16;
			tmp = cap <= CACHE_MAX_SIZE ? realloc(buf, cap + 1) : NULL;
			if (!tmp) {
				free(buf);
				fclose(f);
				errno = EFBIG;
				return NULL;
			}
			buf = tmp;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* A soname the name stands for: itself, or memleak's lib<name>.so* and lib<name>-* */
bool ldcache__name_matches(const char *base, const char *name)
{
	size_t n = strlen(name);

	if (!strcmp(base, name))
		return true;
	if (strncmp(base, "lib", 3) || strncmp(base + 3, name, n))
		return false;
	return !strncmp(base + 3 + n, ".so", 3) || base[3 + n] == '-';
}

int ldcache__find(const char *cache_path, const char *name, char *out, size_t size)
{
	const struct cache_header *h;
	const struct cache_entry *e;
	size_t len = 0, i;
	char *buf;
	int err = -ENOENT;

	buf = read_all(cache_path ? cache_path : "/etc/ld.so.cache", &len);
	if (!buf)
		return -errno;
	h = (const struct cache_header *)buf;
	if (len < sizeof(*h) || memcmp(h->magic, CACHE_MAGIC, sizeof(h->magic))) {
		err = -ENOEXEC;
		goto out;
	}
	if (h->nlibs > (len - sizeof(*h)) / sizeof(*e)) {
		err = -ENOEXEC;
		goto out;
	}
	e = (const struct cache_entry *)(h + 1);
	for (i = 0; i < h->nlibs; i++, e++) {
		if (e->key >= len || e->value >= len)
			continue;
		/* this machine's libraries, not the 32-bit ones beside them */
		if ((e->flags & 0xff) != FLAG_ELF_LIBC6 || (e->flags & 0xff00) != FLAG_X8664_LIB64)
			continue;
		if (!ldcache__name_matches(buf + e->key, name))
			continue;
		if ((size_t)snprintf(out, size, "%s", buf + e->value) >= size) {
			err = -ENAMETOOLONG;
			goto out;
		}
		err = 0;
		break;
	}
out:
	free(buf);
	return err;
}
