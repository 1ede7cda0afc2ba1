// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* src/lib: the hash table against a naive reference, the sorted search at its edges. */
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "htab.h"
#include "search.h"
#include "unit.h"

struct ent {
	uint64_t key;
	uint64_t val;
	uint32_t extra;
};

/* keys as the tracker sees them: 16-byte aligned heap addresses, in clusters */
static uint64_t key_of(uint32_t i)
{
	return 0x7f0000000000ULL + (uint64_t)(i % 4096) * 0x40000 + (i / 4096) * 16 + 16;
}

static void test_htab_reference(void)
{
	enum { N = 200000, OPS = 1000000 };
	uint64_t *ref = calloc(N, sizeof(*ref)); /* ref[i]: value + 1 of key_of(i), 0 absent */
	size_t live = 0, pos, seen, i, bad = 0, grew = 0, last_slots = 0;
	struct htab t;
	struct ent *e, k = {0};
	uint32_t r = 12345;
	bool found;

	htab__init(&t, sizeof(struct ent), sizeof(uint64_t));
	CHECK(!htab__find(&t, &k) && !htab__count(&t), "an empty table finds nothing");
	for (i = 0; i < OPS; i++) {
		uint32_t x;

		r = r * 1103515245 + 12345;
		x = (r >> 8) % N;
		k.key = key_of(x);
		/* growth first (inserts dominate), then deletes interleaved with inserts */
		if (i < OPS / 4 || (r & 0x30)) {
			e = htab__insert(&t, &k, &found);
			if (!e || found != !!ref[x] || (found && e->val != ref[x] - 1) ||
			    (!found && (e->key != k.key || e->val || e->extra)))
				bad++;
			if (!found)
				live++;
			e->val = i;
			e->extra = x;
			ref[x] = i + 1;
		} else {
			if (htab__delete(&t, &k) != !!ref[x])
				bad++;
			if (ref[x])
				live--;
			ref[x] = 0;
		}
		if (t.nr_slots != last_slots) {
			grew++;
			last_slots = t.nr_slots;
		}
		if (t.nr * 10 > t.nr_slots * 7)
			bad++;
	}
	CHECK(!bad, "1M inserts and deletes agree with the reference (%zu disagreements)", bad);
	CHECK(htab__count(&t) == live, "count %zu, reference %zu", htab__count(&t), live);
	CHECK(grew > 10, "the table grew %zu times to %zu slots", grew, t.nr_slots);
	for (i = 0, bad = 0; i < N; i++) {
		k.key = key_of(i);
		e = htab__find(&t, &k);
		if (!e != !ref[i] || (e && (e->val != ref[i] - 1 || e->extra != i)))
			bad++;
	}
	CHECK(!bad, "every key found or not as the reference says (%zu wrong)", bad);
	for (pos = 0, seen = 0, bad = 0; (e = htab__next(&t, &pos)); seen++)
		if (e->extra >= N || ref[e->extra] != e->val + 1)
			bad++;
	CHECK(seen == live && !bad, "iteration visits each of %zu entries once (%zu, %zu bad)",
	      live, seen, bad);
	/* delete everything through remove, in slot order, with entries moving back */
	for (i = 0; i < N; i++) {
		k.key = key_of(i);
		e = htab__find(&t, &k);
		if (e)
			htab__remove(&t, e);
	}
	CHECK(!htab__count(&t), "all removed");
	for (pos = 0, seen = 0; htab__next(&t, &pos); seen++)
		;
	CHECK(!seen, "nothing left to iterate");
	k.key = key_of(7);
	e = htab__insert(&t, &k, &found);
	htab__clear(&t);
	CHECK(!htab__find(&t, &k) && !htab__count(&t) && t.nr_slots, "clear keeps the slots");
	htab__fini(&t);
	free(ref);
}

/* keys kept outside: strings, the entry an index + 1 into them */
struct strs {
	const char **v;
};

static uint64_t str_entry_hash(const void *entry, void *ctx)
{
	const struct strs *s = ctx;

	return hash__str(s->v[*(const uint32_t *)entry - 1]);
}

struct str_arg {
	const struct strs *s;
	const char *str;
};

static bool str_eq(const void *entry, const void *arg)
{
	const struct str_arg *a = arg;

	return !strcmp(a->s->v[*(const uint32_t *)entry - 1], a->str);
}

static void test_htab_by(void)
{
	static const char *words[] = {"malloc", "calloc", "realloc", "free", "mmap", "", "x"};
	enum { NW = sizeof(words) / sizeof(words[0]) };
	const char *v[NW * 50];
	char buf[NW * 50][32];
	struct strs s = {v};
	struct htab t;
	uint32_t i, n = 0, *e, bad = 0;
	bool found;

	htab__init_by(&t, sizeof(uint32_t), sizeof(uint32_t), str_entry_hash, &s);
	for (i = 0; i < NW * 50; i++) {
		struct str_arg a = {&s, buf[i]};

		snprintf(buf[i], sizeof(buf[i]), "%s%u", words[i % NW], i % 60);
		e = htab__insert_by(&t, hash__str(buf[i]), str_eq, &a, &found);
		if (!found) {
			v[n++] = buf[i];
			*e = n;
		} else if (strcmp(v[*e - 1], buf[i])) {
			bad++;
		}
	}
	CHECK(!bad && htab__count(&t) == n, "string keys interned once each: %u (%u bad)", n, bad);
	for (i = 0; i < n; i++) {
		struct str_arg a = {&s, v[i]};

		e = htab__find_by(&t, hash__str(v[i]), str_eq, &a);
		if (!e || *e != i + 1)
			bad++;
	}
	CHECK(!bad, "each string finds its own index");
	htab__fini(&t);
}

static void test_hash(void)
{
	uint64_t a = 0x7f12345670, b = a + 16;

	CHECK(hash__u64(a) != hash__u64(b), "neighbouring heap addresses hash apart");
	CHECK((hash__u64(a) & 0xffff) != (hash__u64(b) & 0xffff),
	      "and so do their low bits (what a table indexes by)");
	CHECK(hash__str("abc") == hash__bytes("abc", 3), "a string hashes as its bytes");
	CHECK(hash__bytes("abcdefgh1", 9) != hash__bytes("abcdefgh2", 9),
	      "a tail shorter than a word counts");
	CHECK(hash__bytes("", 0) != hash__bytes("\0", 1), "the length counts");
}

static size_t lower(const uint64_t *a, size_t n, uint64_t x)
{
	return search__prefix(n, i, a[i] < x);
}

static size_t upper(const uint64_t *a, size_t n, uint64_t x)
{
	return search__prefix(n, i, a[i] <= x);
}

static void test_search(void)
{
	static const uint64_t a[] = {10, 20, 20, 20, 30, 40};
	uint64_t big[1000];
	size_t i, x, bad = 0, want_lo, want_up;

	CHECK(lower(a, 0, 5) == 0 && upper(NULL, 0, 5) == 0, "empty: 0");
	CHECK(lower(a, 6, 5) == 0 && upper(a, 6, 5) == 0, "all greater: 0");
	CHECK(lower(a, 6, 50) == 6 && upper(a, 6, 50) == 6, "all less: n");
	CHECK(lower(a, 6, 20) == 1, "duplicates: lower bound is the first of them");
	CHECK(upper(a, 6, 20) == 4, "duplicates: upper bound is one past the last");
	CHECK(lower(a, 6, 10) == 0 && upper(a, 6, 10) == 1, "the first element");
	CHECK(lower(a, 6, 40) == 5 && upper(a, 6, 40) == 6, "the last element");
	CHECK(lower(a, 6, 25) == 4 && upper(a, 6, 25) == 4, "between two elements");
	CHECK(lower(a, 1, 10) == 0 && upper(a, 1, 10) == 1 && lower(a, 1, 11) == 1, "one element");
	for (i = 0; i < 1000; i++)
		big[i] = i / 3 * 2;
	for (x = 0; x < 700; x++) {
		for (want_lo = 0; want_lo < 1000 && big[want_lo] < x; want_lo++)
			;
		for (want_up = want_lo; want_up < 1000 && big[want_up] <= x; want_up++)
			;
		if (lower(big, 1000, x) != want_lo || upper(big, 1000, x) != want_up)
			bad++;
	}
	CHECK(!bad, "every key of a 1000-element array with runs of 3 as a linear scan finds");
}

int main(void)
{
	test_hash();
	test_htab_reference();
	test_htab_by();
	test_search();
	return unit_summary();
}
