// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* -O NAME: memleak's name matching and glibc's ld.so.cache format, on a cache made here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ldcache.h"
#include "unit.h"

struct entry {
	int flags;
	unsigned int key, value, osversion;
	unsigned long long hwcap;
};

/* A cache of n entries {flags, soname, path}; nlibs_delta corrupts its count. */
static char *make_cache(const char *dir, int n, const int *flags, const char *const *names,
			const char *const *paths, int nlibs_delta, size_t truncate_to)
{
	static char path[256];
	char buf[4096] = "glibc-ld.so.cache1.1";
	size_t hdr = 48, off = hdr + n * sizeof(struct entry), len;
	unsigned int nlibs = n + nlibs_delta;
	struct entry *e = (struct entry *)(buf + hdr);
	FILE *f;
	int i;

	memcpy(buf + 20, &nlibs, 4);
	for (i = 0; i < n; i++) {
		e[i] = (struct entry){.flags = flags[i], .key = off};
		strcpy(buf + off, names[i]);
		off += strlen(names[i]) + 1;
		e[i].value = off;
		strcpy(buf + off, paths[i]);
		off += strlen(paths[i]) + 1;
	}
	len = truncate_to ? truncate_to : off;
	snprintf(path, sizeof(path), "%s/ld.so.cache", dir);
	f = fopen(path, "w");
	if (!f || fwrite(buf, 1, len, f) != len)
		exit(1);
	fclose(f);
	return path;
}

int main(void)
{
	char dir[] = "/tmp/test_ldcache.XXXXXX", out[256], *cache;
	static const int flags[] = {0x0003, 0x0303, 0x0303, 0x0303, 0x0303};
	static const char *const names[] = {"libc.so.6", "libc.so.6", "libmvec.so.1", "libm.so.6",
					    "libjemalloc.so.2"};
	static const char *const paths[] = {"/lib32/libc.so.6", "/lib/x86_64/libc.so.6",
					    "/lib/x86_64/libmvec.so.1", "/lib/x86_64/libm.so.6",
					    "/lib/x86_64/libjemalloc.so.2"};

	CHECK(ldcache__name_matches("libc.so.6", "c"), "c is libc.so.6");
	CHECK(ldcache__name_matches("libc.so.6", "libc.so.6"), "a soname is itself");
	CHECK(ldcache__name_matches("libc-2.31.so", "c"), "c is libc-2.31.so (lib<name>-)");
	CHECK(!ldcache__name_matches("libcrypt.so.1", "c"), "c is not libcrypt");
	CHECK(!ldcache__name_matches("libmvec.so.1", "m"), "m is not libmvec");
	CHECK(ldcache__name_matches("leaker", "leaker"), "an executable by its name");
	if (!mkdtemp(dir))
		return 1;

	cache = make_cache(dir, 5, flags, names, paths, 0, 0);
	CHECK(!ldcache__find(cache, "c", out, sizeof(out)) && !strcmp(out, "/lib/x86_64/libc.so.6"),
	      "c: the 64-bit libc, not the 32-bit one listed first: %s", out);
	CHECK(!ldcache__find(cache, "libc.so.6", out, sizeof(out)) &&
		      !strcmp(out, "/lib/x86_64/libc.so.6"),
	      "libc.so.6 by soname");
	CHECK(!ldcache__find(cache, "m", out, sizeof(out)) && !strcmp(out, "/lib/x86_64/libm.so.6"),
	      "m: libm, not libmvec before it: %s", out);
	CHECK(!ldcache__find(cache, "jemalloc", out, sizeof(out)), "jemalloc");
	CHECK(ldcache__find(cache, "nosuch", out, sizeof(out)) == -ENOENT, "unknown name: ENOENT");
	CHECK(ldcache__find(cache, "c", out, 8) == -ENAMETOOLONG, "short buffer: ENAMETOOLONG");

	cache = make_cache(dir, 5, flags, names, paths, 1000, 0);
	CHECK(ldcache__find(cache, "c", out, sizeof(out)) == -ENOEXEC,
	      "count past the end: ENOEXEC");
	cache = make_cache(dir, 5, flags, names, paths, 0, 30);
	CHECK(ldcache__find(cache, "c", out, sizeof(out)) == -ENOEXEC, "truncated header: ENOEXEC");
	cache = make_cache(dir, 5, flags, names, paths, 0, 200);
	CHECK(ldcache__find(cache, "jemalloc", out, sizeof(out)) == -ENOENT,
	      "strings cut off: not read past the end");
	CHECK(ldcache__find("/nonexistent/ld.so.cache", "c", out, sizeof(out)) == -ENOENT,
	      "no cache file: ENOENT");
	unlink(cache);
	rmdir(dir);
	return unit_summary();
}
