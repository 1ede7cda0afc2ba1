/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Unit tests for src/syms/ksyms.c: a fake kallsyms file, then the real /proc/kallsyms. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksyms.h"

static int passed, failed;

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (cond)
		passed++;
	else
		failed++;
}

static bool name_is(const struct ksym *sym, const char *name)
{
	return sym && sym->name && !strcmp(sym->name, name);
}

static bool mod_is(const struct ksym *sym, const char *mod)
{
	if (!sym)
		return false;
	if (!mod)
		return !sym->module;
	return sym->module && !strcmp(sym->module, mod);
}

static const char fake[] = "0000000000000000 A fixed_percpu_data\n"
			   "ffffffff81000000 T _text\n"
			   "ffffffff81000000 T _stext\n"
			   "ffffffff81001000 T alpha\n"
			   "ffffffff810010f0 t __pfx_beta\n"
			   "ffffffff81001100 t beta\n"
			   "ffffffff81002000 D some_data\n"
			   "this is not a kallsyms line\n"
			   "ffffffff81003000 W weak_text\n"
			   "ffffffffc0001000 t mod_func\t[mymod]\n"
			   "ffffffffc0002000 T mod_func2\t[other_mod]\n"
			   "ffffffffc0003000 b mod_bss\t[other_mod]"; /* no final newline */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static void test_fake(const char *dir)
{
	char path[4096];
	const struct ksym *sym;
	struct ksyms *ks;

	snprintf(path, sizeof(path), "%s/kallsyms", dir);
	check(!write_file(path, fake), "write fake kallsyms");
	ks = ksyms__load(path);
	check(ks != NULL, "load fake kallsyms (errno %d)", ks ? 0 : errno);
	if (!ks)
		return;
	check(ksyms__count(ks) == 8, "8 text symbols kept (got %zu)", ksyms__count(ks));

	sym = ksyms__find(ks, 0xffffffff81001010ULL);
	check(name_is(sym, "alpha") && sym->addr == 0xffffffff81001000ULL && mod_is(sym, NULL),
	      "alpha+0x10 -> alpha, core kernel");
	check(name_is(ksyms__find(ks, 0xffffffff81001000ULL), "alpha"), "exact start -> alpha");
	check(name_is(ksyms__find(ks, 0xffffffff810010f4ULL), "__pfx_beta"),
	      "padding before beta -> __pfx_beta");
	check(name_is(ksyms__find(ks, 0xffffffff81002010ULL), "beta"),
	      "data symbols ignored: some_data+0x10 -> beta");
	check(name_is(ksyms__find(ks, 0xffffffff81003001ULL), "weak_text"), "W symbols kept");
	sym = ksyms__find(ks, 0xffffffff81000004ULL);
	check(sym && sym->addr == 0xffffffff81000000ULL &&
		      (name_is(sym, "_text") || name_is(sym, "_stext")),
	      "aliases at one address -> one of them (%s)", sym ? sym->name : "NULL");
	sym = ksyms__find(ks, 0xffffffffc0001234ULL);
	check(name_is(sym, "mod_func") && mod_is(sym, "mymod"), "module symbol -> [mymod]");
	sym = ksyms__find(ks, 0xffffffffc0002001ULL);
	check(name_is(sym, "mod_func2") && mod_is(sym, "other_mod"),
	      "module symbol -> [other_mod]");
	check(name_is(ksyms__find(ks, 0xffffffffc0003010ULL), "mod_func2"),
	      "module bss ignored, last symbol extends");
	check(ksyms__find(ks, 0xffffffff80000000ULL) == NULL, "below first symbol -> NULL");
	check(ksyms__find(ks, 0) == NULL, "address 0 -> NULL");
	sym = ksyms__get(ks, "beta");
	check(sym && sym->addr == 0xffffffff81001100ULL, "ksyms__get(beta)");
	check(ksyms__get(ks, "some_data") == NULL, "ksyms__get of a data symbol -> NULL");
	ksyms__free(ks);

	check(!write_file(path, "0000000000000000 T a\n0000000000000000 t b\n"), "write zeros");
	ks = ksyms__load(path);
	check(!ks && errno == EPERM, "all-zero addresses -> EPERM");
	ksyms__free(ks);

	check(!write_file(path, ""), "write empty");
	ks = ksyms__load(path);
	check(!ks && errno == ENODATA, "empty file -> ENODATA");
	ksyms__free(ks);
	unlink(path);

	ks = ksyms__load("/nonexistent/kallsyms");
	check(!ks && errno == ENOENT, "missing file -> ENOENT");
	ksyms__free(ks);
}

static void test_real(void)
{
	static const char *const allocs[] = {"__kmalloc_noprof", "__kmalloc",
					     "kmem_cache_alloc_noprof", "kmem_cache_alloc"};
	const struct ksym *sym, *found;
	struct ksyms *ks;
	size_t i;

	ks = ksyms__load(NULL);
	if (!ks && (errno == EPERM || errno == EACCES)) {
		check(true, "# skip /proc/kallsyms: addresses hidden (errno %d)", errno);
		return;
	}
	check(ks != NULL, "load /proc/kallsyms (errno %d)", ks ? 0 : errno);
	if (!ks)
		return;
	check(ksyms__count(ks) > 1000, "/proc/kallsyms has %zu text symbols", ksyms__count(ks));

	sym = ksyms__get(ks, "vfs_read");
	check(sym != NULL, "vfs_read present");
	if (sym) {
		found = ksyms__find(ks, sym->addr + 4);
		check(name_is(found, "vfs_read") && found->addr == sym->addr && mod_is(found, NULL),
		      "vfs_read+4 -> vfs_read");
	}
	for (i = 0, sym = NULL; i < sizeof(allocs) / sizeof(allocs[0]) && !sym; i++)
		sym = ksyms__get(ks, allocs[i]);
	check(sym != NULL, "an allocator symbol present (%s)", sym ? sym->name : "none");
	if (sym) {
		found = ksyms__find(ks, sym->addr + 1);
		check(found && found->addr == sym->addr, "%s+1 -> %s", sym->name,
		      found ? found->name : "NULL");
	}
	ksyms__free(ks);
}

int main(void)
{
	char dir[] = "/tmp/test_ksyms.XXXXXX";

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_fake(dir);
	test_real();
	rmdir(dir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
