// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pprof's profile.proto (github.com/google/pprof/blob/main/proto/profile.proto), gzipped,
 * encoded by hand. Read by go tool pprof, Pyroscope and Parca. A location is one captured
 * address; its inlined frames are its lines, innermost first, as the proto asks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "hash.h"
#include "htab.h"
#include "protobuf.h"
#include "report.h"

/* profile.proto field numbers */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,

	VALUE_TYPE_TYPE = 1,
	VALUE_TYPE_UNIT = 2,

	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,

	LABEL_KEY = 1,
	LABEL_STR = 2,
	LABEL_NUM = 3,

	MAPPING_ID = 1,
	MAPPING_MEMORY_START = 2,
	MAPPING_MEMORY_LIMIT = 3,
	MAPPING_FILE_OFFSET = 4,
	MAPPING_FILENAME = 5,
	MAPPING_BUILD_ID = 6,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	MAPPING_HAS_INLINE_FRAMES = 10,

	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_ADDRESS = 3,
	LOCATION_LINE = 4,

	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,

	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_SYSTEM_NAME = 3,
	FUNCTION_FILENAME = 4,
};

/* Exact-key map from a 64-bit key to an id (ids start at 1; 0 means absent). */
struct idmap {
	struct htab t;	  /* struct id_ent */
	uint64_t zero_id; /* key 0's: an all-zero key marks the table's empty slots */
};

struct id_ent {
	uint64_t key;
	uint64_t id;
};

static void idmap__init(struct idmap *m)
{
	htab__init(&m->t, sizeof(struct id_ent), sizeof(uint64_t));
	m->zero_id = 0;
}

static uint64_t idmap__get(const struct idmap *m, uint64_t key)
{
	const struct id_ent *e;

	if (!key)
		return m->zero_id;
	e = htab__find(&m->t, &key);
	return e ? e->id : 0;
}

static int idmap__put(struct idmap *m, uint64_t key, uint64_t id)
{
	struct id_ent *e;
	bool found;

	if (!key) {
		m->zero_id = id;
		return 0;
	}
	e = htab__insert(&m->t, &key, &found);
	if (!e)
		return -ENOMEM;
	e->id = id;
	return 0;
}

static void idmap__free(struct idmap *m)
{
	htab__fini(&m->t);
}

struct strtab {
	char **strs;
	size_t n;
	size_t cap;
	struct htab by_str; /* index in strs (uint32_t; never 0: "" is not in it) */
};

struct profile {
	const struct report *r;
	struct strtab strs;
	struct idmap funcs; /* (name, file) string indexes -> function id */
	struct idmap locs;  /* address -> location id */
	struct idmap maps;  /* mapping start -> mapping id */
	uint64_t nr_funcs, nr_locs, nr_maps;
	uint64_t lost_loc;			      /* location of "[stack not captured]" */
	struct pb out, fn, loc, map, sub, sub2, leaf; /* leaf: function and mapping messages */
	uint64_t *ids;				      /* location ids of one sample */
	int err;
};

static uint64_t str_hash(const void *entry, void *ctx)
{
	const struct strtab *t = ctx;

	return hash__str(t->strs[*(const uint32_t *)entry]);
}

struct str_key {
	const struct strtab *t;
	const char *s;
};

static bool str_is(const void *entry, const void *arg)
{
	const struct str_key *k = arg;

	return !strcmp(k->t->strs[*(const uint32_t *)entry], k->s);
}

/* Index of s in the string table, added when new; 0 ("") for NULL or on failure. */
static uint64_t str_id(struct profile *p, const char *s)
{
	struct strtab *t = &p->strs;
	struct str_key k = {t, s};
	uint32_t *e;
	bool found;

	if (!s || !*s || p->err)
		return 0;
	e = htab__find_by(&t->by_str, hash__str(s), str_is, &k);
	if (e)
		return *e;
	if (t->n == t->cap) {
		size_t cap = t->cap * 2;
		char **strs = realloc(t->strs, cap * sizeof(*strs));

		if (!strs)
			goto oom;
		t->strs = strs;
		t->cap = cap;
	}
	t->strs[t->n] = strdup(s);
	if (!t->strs[t->n])
		goto oom;
	e = htab__insert_by(&t->by_str, hash__str(s), str_is, &k, &found);
	if (!e) {
		free(t->strs[t->n]);
		goto oom;
	}
	*e = t->n;
	return t->n++;
oom:
	p->err = -ENOMEM;
	return 0;
}

static void value_type(struct profile *p, uint32_t field, const char *type, const char *unit)
{
	pb__uint(&p->sub, VALUE_TYPE_TYPE, str_id(p, type));
	pb__uint(&p->sub, VALUE_TYPE_UNIT, str_id(p, unit));
	pb__message(&p->out, field, &p->sub);
}

static uint64_t function_id(struct profile *p, const struct sym_frame *fr)
{
	char buf[256];
	uint64_t name = str_id(p, report__frame_name(fr, buf, sizeof(buf)));
	uint64_t file = str_id(p, fr->file);
	uint64_t key = name << 32 | file, id;

	id = idmap__get(&p->funcs, key);
	if (id)
		return id;
	id = ++p->nr_funcs;
	if (idmap__put(&p->funcs, key, id)) {
		p->err = -ENOMEM;
		return 0;
	}
	pb__uint(&p->leaf, FUNCTION_ID, id);
	pb__uint(&p->leaf, FUNCTION_NAME, name);
	pb__uint(&p->leaf, FUNCTION_SYSTEM_NAME, name);
	pb__uint(&p->leaf, FUNCTION_FILENAME, file);
	pb__message(&p->fn, PROFILE_FUNCTION, &p->leaf);
	return id;
}

static uint64_t mapping_id(struct profile *p, uint64_t addr)
{
	struct sym_mapping m;
	uint64_t id;

	if (report__mapping(p->r, addr, &m))
		return 0;
	id = idmap__get(&p->maps, m.start);
	if (id)
		return id;
	id = ++p->nr_maps;
	if (idmap__put(&p->maps, m.start, id)) {
		p->err = -ENOMEM;
		return 0;
	}
	pb__uint(&p->leaf, MAPPING_ID, id);
	pb__uint(&p->leaf, MAPPING_MEMORY_START, m.start);
	pb__uint(&p->leaf, MAPPING_MEMORY_LIMIT, m.end);
	pb__uint(&p->leaf, MAPPING_FILE_OFFSET, m.pgoff);
	pb__uint(&p->leaf, MAPPING_FILENAME, str_id(p, m.path ? m.path : m.module));
	pb__uint(&p->leaf, MAPPING_BUILD_ID, str_id(p, m.build_id));
	pb__uint(&p->leaf, MAPPING_HAS_FUNCTIONS, 1);
	pb__uint(&p->leaf, MAPPING_HAS_FILENAMES, 1);
	pb__uint(&p->leaf, MAPPING_HAS_LINE_NUMBERS, 1);
	pb__uint(&p->leaf, MAPPING_HAS_INLINE_FRAMES, 1);
	pb__message(&p->map, PROFILE_MAPPING, &p->leaf);
	return id;
}

/* One location for the address of frames[0..n-1]: inlined frames, then their container. */
static uint64_t location_id(struct profile *p, const struct sym_frame *frames, uint32_t n)
{
	uint64_t addr = frames[0].addr, id;
	uint32_t i;

	id = idmap__get(&p->locs, addr);
	if (id)
		return id;
	id = ++p->nr_locs;
	if (idmap__put(&p->locs, addr, id)) {
		p->err = -ENOMEM;
		return 0;
	}
	pb__uint(&p->sub, LOCATION_ID, id);
	pb__uint(&p->sub, LOCATION_MAPPING_ID, mapping_id(p, addr));
	pb__uint(&p->sub, LOCATION_ADDRESS, addr);
	for (i = 0; i < n; i++) {
		pb__uint(&p->sub2, LINE_FUNCTION_ID, function_id(p, &frames[i]));
		pb__uint(&p->sub2, LINE_LINE, frames[i].file ? frames[i].line : 0);
		pb__message(&p->sub, LOCATION_LINE, &p->sub2);
	}
	pb__message(&p->loc, PROFILE_LOCATION, &p->sub);
	return id;
}

static uint64_t lost_location(struct profile *p)
{
	struct sym_frame fr = {.name = "[stack not captured]"};

	if (!p->lost_loc) {
		p->lost_loc = ++p->nr_locs;
		pb__uint(&p->sub, LOCATION_ID, p->lost_loc);
		pb__uint(&p->sub2, LINE_FUNCTION_ID, function_id(p, &fr));
		pb__message(&p->sub, LOCATION_LINE, &p->sub2);
		pb__message(&p->loc, PROFILE_LOCATION, &p->sub);
	}
	return p->lost_loc;
}

/* r: the memory report, or its descriptors' (r->fds of the first): their own sample type */
static void sample(struct profile *p, const struct report *r, const struct report_stack *rs)
{
	uint64_t values[6] = {0};
	int reach = p->r->reach_done ? 2 : 0;
	int nvalues = 2 + reach + !!p->r->fds + !!p->r->threads;
	uint32_t i, j, n = 0;

	/* frames of one address: inlined ones (innermost first), then the one that holds it */
	for (i = 0; i < rs->nr_frames; i = j) {
		for (j = i; j < rs->nr_frames && rs->frames[j].inlined; j++)
			;
		if (j < rs->nr_frames)
			j++;
		p->ids[n++] = location_id(p, &rs->frames[i], j - i);
	}
	if (!n)
		p->ids[n++] = lost_location(p);
	pb__packed(&p->sub, SAMPLE_LOCATION_ID, p->ids, n);
	if (r == p->r) {
		values[0] = (uint64_t)(rs->count + 0.5);
		values[1] = rs->bytes;
		if (reach) {
			values[2] = (uint64_t)(rs->unreachable_count + 0.5);
			values[3] = rs->unreachable_bytes;
		}
	} else { /* descriptors, then threads: their own sample types */
		values[2 + reach + (r == p->r->fds ? 0 : !!p->r->fds)] =
			(uint64_t)(rs->count + 0.5);
	}
	pb__packed(&p->sub, SAMPLE_VALUE, values, nvalues);
	pb__uint(&p->sub2, LABEL_KEY, str_id(p, "kind"));
	pb__uint(&p->sub2, LABEL_STR, str_id(p, report__kind_name(r, rs->kind)));
	pb__message(&p->sub, SAMPLE_LABEL, &p->sub2);
	pb__uint(&p->sub2, LABEL_KEY, str_id(p, "oldest_age_ms"));
	pb__uint(&p->sub2, LABEL_NUM, p->r->now_ms - rs->oldest_ms);
	pb__message(&p->sub, SAMPLE_LABEL, &p->sub2);
	/* glibc's one-time allocations, --suppress: pprof -tagignore=suppressed=. hides them */
	if (rs->suppressed) {
		pb__uint(&p->sub2, LABEL_KEY, str_id(p, "suppressed"));
		pb__uint(&p->sub2, LABEL_STR, str_id(p, rs->suppressed));
		pb__message(&p->sub, SAMPLE_LABEL, &p->sub2);
	}
	pb__message(&p->out, PROFILE_SAMPLE, &p->sub);
}

static void comments(struct profile *p)
{
	const struct report *r = p->r;
	char buf[512];
	int i;

	snprintf(buf, sizeof(buf), "leaktrace: pid %d (%s), outstanding allocations", r->pid,
		 r->comm ? r->comm : "?");
	pb__uint_always(&p->out, PROFILE_COMMENT, str_id(p, buf));
	for (i = 0; i < LT_ST_MAX; i++) {
		snprintf(buf, sizeof(buf), "bpf %s: %" PRIu64, lt_stat_names[i], r->bpf_stats[i]);
		pb__uint_always(&p->out, PROFILE_COMMENT, str_id(p, buf));
	}
	snprintf(buf, sizeof(buf),
		 "unknown frees: %" PRIu64 ", missed frees: %" PRIu64 ", out of memory: %" PRIu64
		 ", untracked unmaps: %" PRIu64,
		 r->tstats.unknown_frees, r->tstats.missed_frees, r->oom,
		 r->tstats.untracked_unmaps);
	pb__uint_always(&p->out, PROFILE_COMMENT, str_id(p, buf));
	snprintf(buf, sizeof(buf), "truncated stacks: %" PRIu64, r->truncated_stacks);
	pb__uint_always(&p->out, PROFILE_COMMENT, str_id(p, buf));
}

/* A file that is no library (nor [vdso], [anon]): comm's own first, as comm may be truncated */
static bool is_executable(const struct sym_mapping *m, const char *comm, bool by_comm)
{
	if (!m->path || !m->module || m->module[0] == '[' || strstr(m->module, ".so"))
		return false;
	return !by_comm || (comm && *comm && !strncmp(m->module, comm, strlen(comm)));
}

/*
 * pprof takes the first mapping for the main binary and titles the profile by it ("File:"):
 * the mapping holding main(), else (thread stacks only, -p on a server) the executable any
 * frame lies in, named like the process first.
 */
static void main_mapping(struct profile *p)
{
	const struct report *r = p->r;
	struct sym_mapping m;
	uint32_t i, j;
	int pass;

	for (i = 0; i < r->nr_stacks && !p->nr_maps; i++)
		for (j = 0; j < r->stacks[i].nr_frames; j++)
			if (r->stacks[i].frames[j].name && !r->stacks[i].frames[j].inlined &&
			    !strcmp(r->stacks[i].frames[j].name, "main")) {
				mapping_id(p, r->stacks[i].frames[j].addr);
				break;
			}
	for (pass = 0; pass < 2 && !p->nr_maps; pass++)
		for (i = 0; i < r->nr_stacks && !p->nr_maps; i++)
			for (j = 0; j < r->stacks[i].nr_frames; j++) {
				uint64_t addr = r->stacks[i].frames[j].addr;

				if (!report__mapping(r, addr, &m) &&
				    is_executable(&m, r->comm, pass == 0)) {
					mapping_id(p, addr);
					break;
				}
			}
}

static int encode(struct profile *p)
{
	const struct report *r = p->r;
	uint32_t i, max_frames = 1;

	/* string 0 is "" */
	p->strs.cap = 256;
	p->strs.strs = calloc(p->strs.cap, sizeof(*p->strs.strs));
	if (!p->strs.strs || !(p->strs.strs[0] = strdup("")))
		return -ENOMEM;
	p->strs.n = 1;
	for (i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].nr_frames > max_frames)
			max_frames = r->stacks[i].nr_frames;
	for (i = 0; r->fds && i < r->fds->nr_stacks; i++)
		if (r->fds->stacks[i].nr_frames > max_frames)
			max_frames = r->fds->stacks[i].nr_frames;
	for (i = 0; r->threads && i < r->threads->nr_stacks; i++)
		if (r->threads->stacks[i].nr_frames > max_frames)
			max_frames = r->threads->stacks[i].nr_frames;
	p->ids = calloc(max_frames, sizeof(*p->ids));
	if (!p->ids || p->err)
		return -ENOMEM;

	main_mapping(p);
	value_type(p, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(p, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	if (r->reach_done) { /* --reachable */
		value_type(p, PROFILE_SAMPLE_TYPE, "unreachable_objects", "count");
		value_type(p, PROFILE_SAMPLE_TYPE, "unreachable_space", "bytes");
	}
	if (r->fds)
		value_type(p, PROFILE_SAMPLE_TYPE, "descriptors", "count");
	for (i = 0; i < r->nr_stacks; i++)
		if (r->stacks[i].bytes)
			sample(p, r, &r->stacks[i]);
	if (r->threads)
		value_type(p, PROFILE_SAMPLE_TYPE, "threads", "count");
	for (i = 0; r->fds && i < r->fds->nr_stacks; i++)
		sample(p, r->fds, &r->fds->stacks[i]);
	for (i = 0; r->threads && i < r->threads->nr_stacks; i++)
		sample(p, r->threads, &r->threads->stacks[i]);
	pb__uint(&p->out, PROFILE_TIME_NANOS, (uint64_t)r->wall * 1000000000ULL);
	pb__uint(&p->out, PROFILE_DURATION_NANOS, r->now_ms * 1000000ULL);
	value_type(p, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb__uint(&p->out, PROFILE_PERIOD, r->sample_bytes);
	comments(p);
	pb__uint(&p->out, PROFILE_DEFAULT_SAMPLE_TYPE,
		 str_id(p, !r->memory_off ? "inuse_space"
			   : r->fds	  ? "descriptors"
					  : "threads"));
	if (p->err)
		return p->err;

	return 0;
}

static int gzip_write(const struct pb *parts[], size_t nparts, FILE *out)
{
	uint8_t buf[65536];
	z_stream z = {};
	size_t i;
	int ret, err = 0;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY))
		return -ENOMEM;
	for (i = 0; i <= nparts; i++) {
		int flush = i == nparts ? Z_FINISH : Z_NO_FLUSH;

		z.next_in = i < nparts ? parts[i]->data : NULL;
		z.avail_in = i < nparts ? parts[i]->len : 0;
		do {
			z.next_out = buf;
			z.avail_out = sizeof(buf);
			ret = deflate(&z, flush);
			if (ret == Z_STREAM_ERROR) {
				err = -EINVAL;
				goto out;
			}
			if (fwrite(buf, 1, sizeof(buf) - z.avail_out, out) !=
			    sizeof(buf) - z.avail_out) {
				err = -EIO;
				goto out;
			}
		} while (z.avail_out == 0);
	}
out:
	deflateEnd(&z);
	return err;
}

int report__pprof(const struct report *r, FILE *out, const struct report_opts *o)
{
	struct profile p = {.r = r};
	struct pb strings = {};
	const struct pb *parts[5];
	size_t i;
	int err;

	htab__init_by(&p.strs.by_str, sizeof(uint32_t), sizeof(uint32_t), str_hash, &p.strs);
	idmap__init(&p.funcs);
	idmap__init(&p.locs);
	idmap__init(&p.maps);

	(void)o;
	err = encode(&p);
	for (i = 0; !err && i < p.strs.n; i++)
		pb__bytes(&strings, PROFILE_STRING_TABLE, p.strs.strs[i], strlen(p.strs.strs[i]));
	if (!err)
		err = strings.err ?: p.out.err ?: p.map.err ?: p.loc.err ?: p.fn.err;
	if (!err) {
		/* field order does not matter in protobuf: each repeated field is one part */
		parts[0] = &p.out;
		parts[1] = &p.map;
		parts[2] = &p.loc;
		parts[3] = &p.fn;
		parts[4] = &strings;
		err = gzip_write(parts, 5, out);
	}
	if (!err) {
		fflush(out);
		err = ferror(out) ? -EIO : 0;
	}
	for (i = 0; i < p.strs.n; i++)
		free(p.strs.strs[i]);
	free(p.strs.strs);
	htab__fini(&p.strs.by_str);
	idmap__free(&p.funcs);
	idmap__free(&p.locs);
	idmap__free(&p.maps);
	pb__free(&p.out);
	pb__free(&p.fn);
	pb__free(&p.loc);
	pb__free(&p.map);
	pb__free(&p.sub);
	pb__free(&p.sub2);
	pb__free(&p.leaf);
	pb__free(&strings);
	free(p.ids);
	return err;
}
