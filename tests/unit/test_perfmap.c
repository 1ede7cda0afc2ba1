/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Unit tests for src/syms/perfmap.c: perf's /tmp/perf-PID.map JIT symbol files. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "perfmap.h"
#include "unit.h"

static const char *name_at(const struct perfmap *pm, uint64_t addr)
{
	const struct perfmap_sym *s = perfmap__find(pm, addr);

	return s ? s->name : "(none)";
}

static void test_basic(void)
{
	static const char map[] = "7f0000001000 40 LazyCompile:~foo file.js:10\n"
				  "7f0000002000 0x100 Stub:CEntry\r\n"
				  "\n"
				  "0x7f0000003000 10 bar\n"
				  "7f0000000000 10 first\n";
	struct perfmap *pm = perfmap__parse(map, strlen(map));

	CHECK(pm && perfmap__count(pm) == 4 && perfmap__skipped(pm) == 0, "4 entries parsed");
	CHECK(!strcmp(name_at(pm, 0x7f0000001000), "LazyCompile:~foo file.js:10"),
	      "name keeps its spaces");
	CHECK(!strcmp(name_at(pm, 0x7f000000103f), "LazyCompile:~foo file.js:10"), "last byte");
	CHECK(!strcmp(name_at(pm, 0x7f0000001040), "(none)"), "end is exclusive");
	CHECK(!strcmp(name_at(pm, 0x7f00000020ff), "Stub:CEntry"), "CRLF and 0x size");
	CHECK(!strcmp(name_at(pm, 0x7f0000003005), "bar"), "0x start");
	CHECK(!strcmp(name_at(pm, 0x7f0000000000), "first"), "unsorted input is sorted");
	CHECK(!strcmp(name_at(pm, 0x7effffffffff), "(none)"), "below every entry");
	CHECK(!strcmp(name_at(pm, UINT64_MAX), "(none)"), "far above");
	perfmap__free(pm);
}

static void test_malformed(void)
{
	static const char map[] = "zz 10 nohex\n"
				  "1000 nosize\n"
				  "2000 0 zerosize\n"
				  "3000 10\n"
				  "4000 10   \n"
				  "12345678901234567 10 toolong\n"
				  "5000\t10\ttabs ok\n"
				  "6000 10 no newline at end";
	struct perfmap *pm = perfmap__parse(map, strlen(map));

	CHECK(pm && perfmap__count(pm) == 2 && perfmap__skipped(pm) == 6,
	      "2 good lines, 6 skipped (%zu, %zu)", perfmap__count(pm), perfmap__skipped(pm));
	CHECK(!strcmp(name_at(pm, 0x5008), "tabs ok"), "tab separated");
	CHECK(!strcmp(name_at(pm, 0x6000), "no newline at end"), "last line without newline");
	CHECK(!strcmp(name_at(pm, 0x2000), "(none)"), "size 0 is no symbol");
	perfmap__free(pm);

	pm = perfmap__parse("", 0);
	CHECK(pm && perfmap__count(pm) == 0 && !perfmap__find(pm, 0), "empty buffer");
	perfmap__free(pm);
	pm = perfmap__parse("1000 10 a\0b\n2000 10 c\n", 21);
	CHECK(pm && perfmap__count(pm) == 1 && !strcmp(name_at(pm, 0x2000), "c"),
	      "a name with a NUL is skipped");
	perfmap__free(pm);
	pm = perfmap__parse("ffffffffffffff00 1000 wraps\n", 28);
	CHECK(pm && !strcmp(name_at(pm, UINT64_MAX - 1), "wraps"), "end clamped at 2^64-1");
	perfmap__free(pm);
	CHECK(perfmap__find(NULL, 1) == NULL && perfmap__count(NULL) == 0, "NULL map");
	perfmap__free(NULL);
}

static void test_overlap(void)
{
	/* A JIT that frees code and reuses the memory writes a new line for the same range. */
	static const char map[] = "1000 1000 big_old\n"
				  "1800 100 inner\n"
				  "1000 100 reused_new\n"
				  "3000 10 after\n";
	struct perfmap *pm = perfmap__parse(map, strlen(map));

	CHECK(!strcmp(name_at(pm, 0x1000), "reused_new"), "same start: the later line wins");
	CHECK(!strcmp(name_at(pm, 0x1200), "big_old"), "outer range still there beyond");
	CHECK(!strcmp(name_at(pm, 0x1850), "inner"), "nested later entry wins");
	CHECK(!strcmp(name_at(pm, 0x1fff), "big_old"), "end of the outer range");
	CHECK(!strcmp(name_at(pm, 0x2000), "(none)"), "gap");
	CHECK(!strcmp(name_at(pm, 0x3000), "after"), "entry after an overlap");
	perfmap__free(pm);
}

static void test_load(void)
{
	char path[] = "/tmp/test_perfmap.XXXXXX";
	static const char map[] = "a000 20 from_file\nb000 20 cut_sh";
	struct perfmap *pm;
	int fd = mkstemp(path);

	CHECK(fd >= 0 && write(fd, map, strlen(map)) == (ssize_t)strlen(map), "write %s", path);
	close(fd);
	pm = perfmap__load(path);
	CHECK(pm && perfmap__count(pm) == 1 && !strcmp(name_at(pm, 0xa010), "from_file"),
	      "load a file; a last line without newline may be half written: dropped");
	perfmap__free(pm);
	unlink(path);
	errno = 0;
	CHECK(!perfmap__load(path) && errno == ENOENT, "missing file: ENOENT");
	errno = 0;
	CHECK(!perfmap__load("/tmp") && errno == EINVAL, "a directory: EINVAL");
}

static void test_many(void)
{
	size_t cap = 100000 * 32, len = 0, i, bad = 0;
	char *buf = malloc(cap);
	struct perfmap *pm;

	for (i = 0; i < 100000; i++)
		len += snprintf(buf + len, cap - len, "%zx 10 f%zu\n",
				0x100000 + (99999 - i) * 0x20, i);
	pm = perfmap__parse(buf, len);
	for (i = 0; pm && i < 100000; i++) {
		const struct perfmap_sym *s = perfmap__find(pm, 0x100000 + i * 0x20 + 5);
		char want[16];

		snprintf(want, sizeof(want), "f%zu", 99999 - i);
		bad += !s || strcmp(s->name, want);
	}
	CHECK(pm && perfmap__count(pm) == 100000 && !bad, "100k entries: %zu wrong lookups", bad);
	perfmap__free(pm);
	free(buf);
}

int main(void)
{
	test_basic();
	test_malformed();
	test_overlap();
	test_load();
	test_many();
	return unit_summary();
}
