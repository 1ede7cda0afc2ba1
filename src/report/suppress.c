// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stacks.h"
#include "suppress.h"

#define SUPPRESS_MAX_RULES 4096

struct rule {
	const char *label; /* what the report says: the built-in's name, or "leak:PATTERN" */
	char *glob;	   /* fnmatch pattern */
};

struct suppressions {
	struct rule *v;
	uint32_t n;
};

/*
 * glibc allocates these once and keeps them to the end (heaptrack and LeakSanitizer suppress
 * them): not what a user can fix. The stdio buffers, thread stacks and locale archive data are
 * labelled allocator-internal already (src/track/history.c), and ranked last.
 */
static const struct {
	const char *label;
	const char *pattern;
} builtin[] = {
	{"glibc NSS (getpwuid, getgrnam...)", "^getpwuid$"},
	{"glibc NSS (getpwuid, getgrnam...)", "^getpwnam$"},
	{"glibc NSS (getpwuid, getgrnam...)", "^getpwent$"},
	{"glibc NSS (getpwuid, getgrnam...)", "^getgrgid$"},
	{"glibc NSS (getpwuid, getgrnam...)", "^getgrnam$"},
	{"glibc NSS (getpwuid, getgrnam...)", "^getspnam$"},
	{"glibc NSS (getpwuid, getgrnam...)", "^__nss_*"},
	{"glibc NSS (getpwuid, getgrnam...)", "^nss_*"},
	{"glibc NSS (getpwuid, getgrnam...)", "^libnss_*.so*$"},
	{"glibc locale (setlocale, newlocale)", "^setlocale$"},
	{"glibc locale (setlocale, newlocale)", "^new_composite_name$"},
	{"glibc locale (setlocale, newlocale)", "^_nl_*"},
	{"glibc locale (setlocale, newlocale)", "^__newlocale$"},
	{"glibc locale (setlocale, newlocale)", "^newlocale$"},
	/* what ld.so keeps for each object it loads, not a constructor's leak (_dl_init) */
	{"glibc dlopen and TLS (ld.so)", "^_dl_new_object$"},
	{"glibc dlopen and TLS (ld.so)", "^_dl_map_object*"},
	{"glibc dlopen and TLS (ld.so)", "^_dl_check_map_versions$"},
	{"glibc dlopen and TLS (ld.so)", "^_dl_add_to_namespace_list$"},
	{"glibc dlopen and TLS (ld.so)", "^_dl_find_object_update*"},
	{"glibc dlopen and TLS (ld.so)", "^add_to_global_resize$"},
	{"glibc dlopen and TLS (ld.so)", "^_dl_allocate_tls*"},
	{"glibc dlopen and TLS (ld.so)", "^_dl_resize_dtv$"},
	{"glibc dlopen and TLS (ld.so)", "^__tls_get_addr$"},
	{"glibc dlopen and TLS (ld.so)", "^_dlerror_run$"},
	{"glibc dlopen and TLS (ld.so)", "^_dl_signal_error$"},
};

/* LeakSanitizer's pattern to a glob: a substring unless anchored by '^' or '$'. */
static char *to_glob(const char *pat, size_t len)
{
	bool head = len && pat[0] == '^', tail = len > head && pat[len - 1] == '$';
	char *g;

	pat += head;
	len -= head + tail;
	if (!len)
		return NULL;
	g = malloc(len + 3);
	if (!g)
		return NULL;
	snprintf(g, len + 3, "%s%.*s%s", head ? "" : "*", (int)len, pat, tail ? "" : "*");
	return g;
}

static int add(struct suppressions *s, const char *label, const char *pat, size_t len)
{
	struct rule *v;

	if (s->n == SUPPRESS_MAX_RULES)
		return -E2BIG;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	v[s->n].glob = to_glob(pat, len);
	v[s->n].label = label;
	if (!v[s->n].glob)
		return len ? -ENOMEM : -EINVAL;
	s->n++;
	return 0;
}

static int load_file(struct suppressions *s, const char *path)
{
	char *line = NULL, *p, *end, *label;
	size_t cap = 0, len;
	int err = 0, lineno = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		err = -errno;
		fprintf(stderr, "leaktrace: --suppress %s: %s\n", path, strerror(-err));
		return err;
	}
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		for (end = p + strlen(p); end > p && strchr(" \t\r\n", end[-1]); end--)
			;
		*end = '\0';
		if (!*p || *p == '#')
			continue;
		if (strncmp(p, "leak:", 5) || !p[5]) {
			fprintf(stderr,
				"leaktrace: --suppress %s:%d: expected leak:PATTERN, not '%.60s'\n",
				path, lineno, p);
			err = -EINVAL;
			break;
		}
		len = strlen(p);
		label = strdup(p);
		if (!label) {
			err = -ENOMEM;
			break;
		}
		err = add(s, label, p + 5, len - 5);
		if (err) {
			free(label);
			fprintf(stderr, "leaktrace: --suppress %s:%d: %s\n", path, lineno,
				err == -EINVAL ? "empty pattern" : strerror(-err));
			break;
		}
	}
	free(line);
	fclose(f);
	return err;
}

int suppress__load(struct suppressions **out, const char *path)
{
	struct suppressions *s = calloc(1, sizeof(*s));
	size_t i;
	int err = 0;

	if (!s)
		return -ENOMEM;
	for (i = 0; i < sizeof(builtin) / sizeof(builtin[0]) && !err; i++)
		err = add(s, builtin[i].label, builtin[i].pattern, strlen(builtin[i].pattern));
	if (!err && path)
		err = load_file(s, path);
	if (err) {
		suppress__free(s);
		return err;
	}
	*out = s;
	return 0;
}

static bool is_builtin(const struct suppressions *s, const struct rule *r)
{
	return r < s->v + sizeof(builtin) / sizeof(builtin[0]);
}

static const char *base(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path;
}

/* The rule (index + 2) a frame matches, 1 for none. */
static uint16_t match(const struct suppressions *s, const struct sym_frame *fr)
{
	const char *what[4] = {fr->name, fr->file, base(fr->file), fr->module};
	uint32_t k;
	int i;

	for (k = 0; k < s->n; k++)
		for (i = 0; i < 4; i++)
			if (what[i] && !fnmatch(s->v[k].glob, what[i], 0))
				return k + 2;
	return 1;
}

static bool libc_strdup(const struct sym_frame *fr)
{
	return fr->name && fr->module && !strncmp(fr->module, "libc.so", 7) &&
	       (!strcmp(fr->name, "__strdup") || !strcmp(fr->name, "__strndup"));
}

/*
 * setlocale copies locale names with strdup from code without frame pointers: the walk ends in
 * data, so the stack is a libc strdup and no code after it. A program's own strdup has its
 * caller in the chain (its frame pointer is the one the walk starts from).
 */
#define CALLER_LOST 0xffff

static uint16_t check_stack(const struct suppressions *s, const struct stacks *st, uint32_t id,
			    const struct resolver *res)
{
	const struct stack *sk = stacks__get(st, id);
	struct sym_frame fr[8];
	bool strdup_first = false, code_after = false;
	uint16_t m = 1;
	uint32_t i;
	int j, n;

	for (i = 0; sk && i < sk->nr_frames && m == 1; i++) {
		n = res->resolve(res->ctx, sk->frames[i], fr, 8);
		for (j = 0; j < n && m == 1; j++) {
			m = match(s, &fr[j]);
			if (i == 0 && j == 0)
				strdup_first = libc_strdup(&fr[0]);
			else if (fr[j].module)
				code_after = true;
		}
	}
	if (m == 1 && strdup_first && !code_after)
		return CALLER_LOST;
	return m;
}

int suppress__apply(const struct suppressions *s, struct report *r, const struct stacks *st,
		    const struct resolver *res, uint16_t **marks, uint32_t *nr_marks)
{
	uint32_t i, n;
	uint16_t *v;

	if (!s || !res || !res->resolve)
		return 0;
	for (i = 0; i < r->nr_stacks; i++) {
		struct report_stack *rs = &r->stacks[i];

		if (rs->stack_id >= *nr_marks) {
			for (n = *nr_marks ? *nr_marks : 256; n <= rs->stack_id; n *= 2)
				;
			v = realloc(*marks, n * sizeof(*v));
			if (!v)
				return -ENOMEM;
			memset(v + *nr_marks, 0, (n - *nr_marks) * sizeof(*v));
			*marks = v;
			*nr_marks = n;
		}
		if (!(*marks)[rs->stack_id])
			(*marks)[rs->stack_id] = check_stack(s, st, rs->stack_id, res);
		if ((*marks)[rs->stack_id] < 2)
			continue;
		if ((*marks)[rs->stack_id] == CALLER_LOST) {
			rs->suppressed = "glibc locale (setlocale's strdup, caller not unwound)";
			rs->suppressed_builtin = true;
		} else {
			rs->suppressed = s->v[(*marks)[rs->stack_id] - 2].label;
			rs->suppressed_builtin = is_builtin(s, &s->v[(*marks)[rs->stack_id] - 2]);
		}
		r->suppressed_bytes += rs->bytes;
		r->suppressed_count += rs->count;
		r->suppressed_stacks++;
	}
	r->suppress_file_rules = s->n - sizeof(builtin) / sizeof(builtin[0]);
	return 0;
}

void suppress__free(struct suppressions *s)
{
	uint32_t k;

	if (!s)
		return;
	for (k = 0; k < s->n; k++) {
		free(s->v[k].glob);
		if (!is_builtin(s, &s->v[k]))
			free((char *)s->v[k].label);
	}
	free(s->v);
	free(s);
}
