/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Unit tests for the report encoders: protobuf varints, JSON strings, folded, pprof, svg. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "protobuf.h"
#include "report.h"
#include "unit.h"

static char *capture(int (*fn)(const struct report *, FILE *, const struct report_opts *),
		     const struct report *r, size_t *len, int *err)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	*err = fn(r, f, NULL);
	fclose(f);
	return buf;
}

static char *json_string(const char *s)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	json__write_string(f, s);
	fclose(f);
	return buf;
}

static void test_varint(void)
{
	static const struct {
		uint64_t v;
		const char *enc;
		size_t len;
	} cases[] = {
		{0, "\x00", 1},	      {1, "\x01", 1},
		{127, "\x7f", 1},     {128, "\x80\x01", 2},
		{300, "\xac\x02", 2}, {UINT64_MAX, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10},
	};
	struct pb b = {}, sub = {};
	uint64_t packed[] = {1, 300};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pb__reset(&b);
		pb__varint(&b, cases[i].v);
		CHECK(b.len == cases[i].len && !memcmp(b.data, cases[i].enc, b.len), "varint %llu",
		      (unsigned long long)cases[i].v);
	}
	pb__reset(&b);
	pb__uint(&b, 1, 0);
	CHECK(b.len == 0, "a zero field is left out");
	pb__uint(&sub, 2, 150);
	pb__message(&b, 3, &sub);
	CHECK(b.len == 5 && !memcmp(b.data, "\x1a\x03\x10\x96\x01", 5), "nested message");
	CHECK(sub.len == 0, "sub-message buffer emptied");
	pb__reset(&b);
	pb__packed(&b, 4, packed, 2);
	CHECK(b.len == 5 && !memcmp(b.data, "\x22\x03\x01\xac\x02", 5), "packed repeated");
	pb__free(&b);
	pb__free(&sub);
}

static void test_json_strings(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain", "\"plain\""},
		{"a\"b\\c", "\"a\\\"b\\\\c\""},
		{"tab\tnl\n\x01", "\"tab\\tnl\\n\\u0001\""},
		{"caf\xc3\xa9", "\"caf\xc3\xa9\""},
		{"bad\xff\xc3", "\"bad\\ufffd\\ufffd\""},
		{"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""}, /* a UTF-16 surrogate */
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = json_string(cases[i].in);
		CHECK(!strcmp(s, cases[i].out), "json string %zu: %s", i, s);
		free(s);
	}
	s = json_string(NULL);
	CHECK(!strcmp(s, "null"), "NULL is null");
	free(s);
}

/* Two stacks; the first holds an inlined frame and a C++ name with spaces and '<'. */
static struct sym_frame frames1[] = {
	{.addr = 0x1010,
	 .name = "inl;fn",
	 .module = "prog",
	 .file = "a.c",
	 .line = 7,
	 .inlined = true},
	{.addr = 0x1010,
	 .name = "std::vector<int> f(int, int)",
	 .offset = 0x10,
	 .module = "prog",
	 .path = "/bin/prog",
	 .file = "a.c",
	 .line = 3},
	{.addr = 0x2020, .name = "main", .offset = 0x20, .module = "prog", .path = "/bin/prog"},
};
static struct sym_frame frames2[] = {
	{.addr = 0x3030, .module = "libx.so"},
	{.addr = 0x2024, .name = "main", .offset = 0x24, .module = "prog", .path = "/bin/prog"},
};

static int fake_mapping(void *ctx, uint64_t addr, struct sym_mapping *out)
{
	(void)ctx;
	*out = (struct sym_mapping){.start = addr & ~0xfffULL,
				    .end = (addr & ~0xfffULL) + 0x1000,
				    .path = "/bin/prog",
				    .module = "prog",
				    .build_id = "0123abcd"};
	return 0;
}

static struct resolver fake_resolver = {.mapping = fake_mapping};

static void fake_report(struct report *r, struct report_stack *st)
{
	st[0] = (struct report_stack){.stack_id = 1,
				      .kind = LT_K_MALLOC,
				      .bytes = 3000,
				      .count = 3,
				      .samples = 3,
				      .nr_frames = 3,
				      .frames = frames1};
	st[1] = (struct report_stack){.stack_id = 2,
				      .kind = LT_K_CALLOC,
				      .bytes = 500,
				      .count = 5,
				      .samples = 5,
				      .nr_frames = 2,
				      .frames = frames2};
	*r = (struct report){.pid = 42,
			     .comm = "prog",
			     .now_ms = 1000,
			     .total_bytes = 3500,
			     .total_count = 8,
			     .stacks = st,
			     .nr_stacks = 2,
			     .top = 2,
			     .resolver = &fake_resolver};
}

static void test_folded(const struct report *r)
{
	size_t len;
	int err;
	char *s = capture(report__folded, r, &len, &err);

	CHECK(!err && !strcmp(s, "main;std::vector<int>_f(int,_int);inl_fn 3000\n"
				 "main;[libx.so] 500\n"),
	      "folded, root first, names sanitized:\n%s", s);
	free(s);
}

static void test_json(const struct report *r)
{
	size_t len;
	int err;
	char *s = capture(report__json, r, &len, &err);

	CHECK(!err && len && strchr(s, '\n') == s + len - 1, "json: one line");
	CHECK(strstr(s, "\"totals\":{\"bytes\":3500,\"count\":8,\"stacks\":2}") != NULL,
	      "json totals");
	CHECK(strstr(s, "{\"address\":\"0x1010\",\"symbol\":\"inl;fn\",\"offset\":0,"
			"\"module\":\"prog\",\"path\":null,\"file\":\"a.c\",\"line\":7,"
			"\"inlined\":true}") != NULL,
	      "json inlined frame");
	CHECK(strstr(s, "{\"address\":\"0x3030\",\"symbol\":null,\"offset\":null,"
			"\"module\":\"libx.so\",\"path\":null,\"file\":null,\"line\":null,"
			"\"inlined\":false}") != NULL,
	      "json unknown frame");
	CHECK(strstr(s, "\"losses\":{\"bpf\":{\"ringbuf_drop\":0,") != NULL, "json losses by name");
	free(s);
}

static void test_svg(const struct report *r)
{
	size_t len;
	int err;
	char *s = capture(report__svg, r, &len, &err);

	CHECK(!err && strstr(s, "<title>std::vector&lt;int&gt; f(int, int) [prog]: 3000 bytes in "
				"3 allocations") != NULL,
	      "svg title escaped");
	CHECK(strstr(s, "<title>main [prog]: 3500 bytes in 8 allocations") != NULL,
	      "svg merges main");
	CHECK(len > 6 && !strcmp(s + len - 7, "</svg>\n"), "svg closed");
	free(s);
}

/* A minimal reader: walk the top-level fields of a gunzipped profile. */
static uint64_t rd_varint(const uint8_t **p)
{
	uint64_t v = 0;
	int shift = 0;

	while (**p & 0x80) {
		v |= (uint64_t)(**p & 0x7f) << shift;
		shift += 7;
		(*p)++;
	}
	v |= (uint64_t) * *p << shift;
	(*p)++;
	return v;
}

static void test_pprof(const struct report *r)
{
	uint8_t raw[65536];
	const uint8_t *p, *end;
	uLongf rawlen = sizeof(raw);
	int counts[16] = {}, err, lines_in_first_loc = -1;
	size_t len;
	char *gz = capture(report__pprof, r, &len, &err);
	z_stream z = {.next_in = (uint8_t *)gz,
		      .avail_in = len,
		      .next_out = raw,
		      .avail_out = sizeof(raw)};
	bool has_space = false, has_build_id = false;

	CHECK(!err && len > 2 && (uint8_t)gz[0] == 0x1f && (uint8_t)gz[1] == 0x8b, "pprof gzip");
	inflateInit2(&z, 15 + 32);
	CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END, "pprof inflates");
	rawlen = z.total_out;
	inflateEnd(&z);
	for (p = raw, end = raw + rawlen; p < end;) {
		uint64_t key = rd_varint(&p), field = key >> 3, n;

		if ((key & 7) == 0) {
			rd_varint(&p);
		} else {
			n = rd_varint(&p);
			if (field == 6 && n == 11 && !memcmp(p, "inuse_space", 11))
				has_space = true;
			if (field == 6 && n == 8 && !memcmp(p, "0123abcd", 8))
				has_build_id = true;
			if (field == 4 && lines_in_first_loc < 0) {
				const uint8_t *q = p;

				lines_in_first_loc = 0;
				while (q < p + n) {
					uint64_t k = rd_varint(&q);

					if ((k & 7) == 0) {
						rd_varint(&q);
					} else {
						uint64_t m = rd_varint(&q);

						lines_in_first_loc += (k >> 3) == 4;
						q += m;
					}
				}
			}
			p += n;
		}
		if (field < 16)
			counts[field]++;
	}
	CHECK(p == end, "pprof parses to the end");
	CHECK(counts[1] == 2 && counts[2] == 2, "2 sample types, 2 samples");
	CHECK(counts[3] == 3, "3 mappings (one per page in the fake): %d", counts[3]);
	CHECK(counts[4] == 4, "4 locations (one per address): %d", counts[4]);
	CHECK(counts[5] == 4, "4 functions: %d", counts[5]);
	CHECK(lines_in_first_loc == 2, "inlined frame is a second line of its location: %d",
	      lines_in_first_loc);
	CHECK(has_space && has_build_id, "string table holds inuse_space and the build ID");
	free(gz);
}

/* Thread stacks only, the innermost frame in libc: no main(), the executable still first. */
static int libc_or_prog(void *ctx, uint64_t addr, struct sym_mapping *out)
{
	bool lib = addr >= 0x7000;

	(void)ctx;
	*out = (struct sym_mapping){.start = addr & ~0xfffULL,
				    .end = (addr & ~0xfffULL) + 0x1000,
				    .path = lib ? "/lib/libc.so.6" : "/bin/prog",
				    .module = lib ? "libc.so.6" : "prog"};
	return 0;
}

static void test_pprof_executable_first(void)
{
	static struct sym_frame frames[] = {
		{.addr = 0x7010, .name = "strdup", .module = "libc.so.6"},
		{.addr = 0x5020, .name = "worker", .module = "prog"},
		{.addr = 0x7120, .name = "start_thread", .module = "libc.so.6"},
	};
	struct resolver res = {.mapping = libc_or_prog};
	struct report_stack st = {.stack_id = 1,
				  .bytes = 10,
				  .count = 1,
				  .samples = 1,
				  .nr_frames = 3,
				  .frames = frames};
	struct report r = {.pid = 42,
			   .comm = "prog",
			   .stacks = &st,
			   .nr_stacks = 1,
			   .top = 1,
			   .resolver = &res};
	uint8_t raw[65536];
	const uint8_t *p, *end, *q;
	size_t len;
	int err;
	uint64_t first_start = 0;
	char *gz = capture(report__pprof, &r, &len, &err);
	z_stream z = {.next_in = (uint8_t *)gz,
		      .avail_in = len,
		      .next_out = raw,
		      .avail_out = sizeof(raw)};

	inflateInit2(&z, 15 + 32);
	CHECK(!err && inflate(&z, Z_FINISH) == Z_STREAM_END, "pprof (no main) inflates");
	end = raw + z.total_out;
	inflateEnd(&z);
	for (p = raw; p < end && !first_start;) {
		uint64_t key = rd_varint(&p), n;

		if ((key & 7) == 0) {
			rd_varint(&p);
			continue;
		}
		n = rd_varint(&p);
		for (q = p; key >> 3 == 3 && q < p + n;) {
			uint64_t k = rd_varint(&q), v = (k & 7) == 0 ? rd_varint(&q) : 0;

			if ((k & 7) != 0)
				q += rd_varint(&q);
			if (k >> 3 == 2) {
				first_start = v;
				break;
			}
		}
		p += n;
	}
	CHECK(first_start == 0x5000, "first mapping is the executable's, not libc's: 0x%llx",
	      (unsigned long long)first_start);
	free(gz);
}

int main(void)
{
	struct report_stack st[2];
	struct report r;

	test_varint();
	test_json_strings();
	fake_report(&r, st);
	test_folded(&r);
	test_json(&r);
	test_svg(&r);
	test_pprof(&r);
	test_pprof_executable_first();
	CHECK(report__format("pprof") && report__format("pprof")->binary && !report__format("xml"),
	      "format table");
	return unit_summary();
}
