/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Unit tests for the terminal-safe escaping of target-supplied strings. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "unit.h"

static void check(const char *in, const char *want)
{
	char buf[256], *mem = NULL;
	size_t len;
	FILE *f = open_memstream(&mem, &len);

	escape__fputs(in, f);
	fclose(f);
	CHECK(!strcmp(escape__str(in, buf, sizeof(buf)), want), "str '%s' -> '%s'", want, buf);
	CHECK(mem && !strcmp(mem, want), "fputs '%s' -> '%s'", want, mem ? mem : "");
	free(mem);
}

int main(void)
{
	char small[8];

	check("plain name_1+0x10", "plain name_1+0x10");
	check("\x1b]0;owned\x07", "\\x1b]0;owned\\x07");
	check("a\tb\nc\rd\x7f", "a\\x09b\\x0ac\\x0dd\\x7f");
	check("back\\slash", "back\\\\slash");
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check("c1 \xc2\x9b"
	      "31m",
	      "c1 \\xc2\\x9b31m");
	check("raw \x9b \xff \xc3", "raw \\x9b \\xff \\xc3");
	check("\xed\xa0\x80", "\\xed\\xa0\\x80");
	check(NULL, "?");
	/* cut short between escapes, never inside one */
	CHECK(!strcmp(escape__str("ab\x1b\x1b", small, sizeof(small)), "ab\\x1b"), "cut: %s",
	      small);
	CHECK(!strcmp(escape__str("abc", small, 1), ""), "size 1");
	return unit_summary();
}
