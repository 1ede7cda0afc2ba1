// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include "escape.h"
#include "guard.h"
#include "htab.h"
#include "procmaps.h"
#include "python.h"

#define ESC(s) escape__str((s), (char[ESCAPE_SIZE(4096)]){0}, ESCAPE_SIZE(4096))

/*
 * Where each supported CPython keeps what the frames are read from. 3.11: from the DWARF of
 * Debian 12's python3.11 (python3.11-dbg, 3.11.2-6+deb12u9), the same in its debug build; the
 * type fields checked against __basicsize__, __itemsize__ and __flags__ read through ctypes.
 */
struct py_layout {
	unsigned int version; /* major << 8 | minor */
	struct lt_py_proc bpf;
	uint16_t ob_type;
	uint16_t co_firstlineno;
	uint16_t co_qualname;
	uint16_t co_linetable;
	uint16_t str_state;	   /* PyASCIIObject.state */
	uint16_t str_length;	   /* PyASCIIObject.length */
	uint16_t str_ascii_data;   /* sizeof(PyASCIIObject) */
	uint16_t str_compact_data; /* sizeof(PyCompactUnicodeObject) */
	uint16_t bytes_size;	   /* PyVarObject.ob_size */
	uint16_t bytes_data;	   /* PyBytesObject.ob_sval */
};

static const struct py_layout layouts[] = {
	{
		.version = 0x030b,
		.bpf =
			{
				.tstate_current = 0x240,
				.interp_head = 0x28,
				.threads_head = 0x10,
				.ts_next = 0x8,
				.ts_native_tid = 0xa0,
				.ts_cframe = 0x38,
				.cf_current_frame = 8,
				.fr_code = 32,
				.fr_previous = 48,
				.fr_prev_instr = 56,
				.fr_is_entry = 68,
				.co_filename = 112,
				.co_code_adaptive = 184,
				.tp_basicsize = 32,
				.tp_itemsize = 40,
				.tp_flags = 168,
				.ob_type = 8,
				.gc_size = 16,
				.pre_size = 16,
				.tp_name = 24,
				.gc_flag = 1 << 14,
				.pre_flags = 1 << 4,
			},
		.ob_type = 8,
		.co_firstlineno = 72,
		.co_qualname = 128,
		.co_linetable = 136,
		.str_state = 32,
		.str_length = 16,
		.str_ascii_data = 48,
		.str_compact_data = 72,
		.bytes_size = 16,
		.bytes_data = 32,
	},
};

#define PY_CODE_READ  192
#define PY_MAX_STR    1024
#define PY_MAX_LINES  (64 << 10)
#define PY_PENDING    64
#define PY_MAX_TOKENS (1U << 20)
#define PY_MAX_TYPES  4096 /* object types named in the reports; objects of more: "pyobject" */
#define PY_TYPE_NAME  128

struct py_code {
	uint64_t code;
	uint32_t fingerprint;
	bool valid; /* read and checked; else every frame of it is dropped */
	char *qualname;
	char *filename;
	int firstlineno;
	uint8_t *linetable;
	uint32_t lt_len;
};

struct py_token {
	uint32_t code; /* index in codes */
	int line;
};

struct py_pending {
	uint32_t tid;
	uint32_t n;
	uint64_t addr;
	struct lt_py_frame frames[LT_PY_MAX_FRAMES];
};

struct python {
	pid_t pid;
	const struct py_layout *layout; /* NULL: no frames from the current image */
	uint64_t code_type;		/* address of PyCode_Type */
	uint64_t eval_start, eval_end;	/* _PyEval_EvalFrameDefault */
	struct py_pending pending[PY_PENDING];
	uint32_t next_pending;
	struct py_code *codes;
	uint32_t nr_codes, cap_codes;
	struct htab code_idx; /* struct code_ent */
	struct py_token *tokens;
	uint32_t nr_tokens, cap_tokens;
	struct htab token_idx; /* struct token_ent */
	uint64_t *type_names;  /* tp_name pointers of the types named, by label */
	char **labels;	       /* "pyobject:JobHandler": kind LT_K_MAX + index */
	uint32_t nr_types, cap_types;
	struct htab type_idx; /* struct type_ent */
};

/* The indexes of codes, tokens and labels by what they are found by. */
struct code_ent {
	uint64_t code;
	uint32_t fingerprint;
	uint32_t index;
};

struct token_ent {
	uint32_t code1; /* code + 1: no key is all zero */
	int32_t line;
	uint32_t index;
};

struct type_ent {
	uint64_t name;
	uint32_t index;
};

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)addr, len};
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* "pyobject:NAME" for the C string at name in the target, or NULL. */
static char *type_label(struct python *py, uint64_t name)
{
	char buf[PY_TYPE_NAME], *label;
	size_t len = PY_TYPE_NAME - 1;

	/* not past the string's page when it ends there: the next may be unmapped */
	if (len > 4096 - (name & 4095))
		len = 4096 - (name & 4095);
	memset(buf, 0, sizeof(buf));
	if (read_mem(py->pid, name, buf, len) || !buf[0])
		return NULL;
	if (asprintf(&label, "pyobject:%s", buf) < 0)
		return NULL;
	return label;
}

/*
 * Objects are labelled by the C string naming their type (tp_name; BPF sends its address),
 * read once per address: a heap type freed and another whose name lands at the same address
 * would keep the first one's name.
 */
uint32_t python__kind(struct python *py, const struct lt_alloc *e)
{
	struct type_ent *ent;
	char **tl, *label;
	uint64_t *tn;
	bool found;

	if (!py || !py->layout || e->h.kind != LT_K_PYOBJECT || !e->py_type_name)
		return e->h.kind;
	ent = htab__find(&py->type_idx, &e->py_type_name);
	if (ent)
		return LT_K_MAX + ent->index;
	if (py->nr_types == PY_MAX_TYPES)
		return e->h.kind;
	if (py->nr_types == py->cap_types) {
		uint32_t cap = py->cap_types ? py->cap_types * 2 : 64;

		tn = realloc(py->type_names, cap * sizeof(*tn));
		if (tn)
			py->type_names = tn;
		tl = realloc(py->labels, cap * sizeof(*tl));
		if (tl)
			py->labels = tl;
		if (!tn || !tl)
			return e->h.kind;
		py->cap_types = cap;
	}
	label = type_label(py, e->py_type_name);
	if (!label)
		return e->h.kind;
	ent = htab__insert(&py->type_idx, &e->py_type_name, &found);
	if (!ent) {
		free(label);
		return e->h.kind;
	}
	ent->index = py->nr_types;
	py->type_names[py->nr_types] = e->py_type_name;
	py->labels[py->nr_types++] = label;
	return LT_K_MAX + ent->index;
}

const char *const *python__labels(const struct python *py, uint32_t *nr)
{
	*nr = py ? py->nr_types : 0;
	return py ? (const char *const *)py->labels : NULL;
}

/* A str object as UTF-8 (compact ones: what code objects' names and files are); NULL if not. */
static char *read_str(struct python *py, uint64_t obj)
{
	const struct py_layout *l = py->layout;
	uint8_t hdr[128], raw[PY_MAX_STR * 4];
	uint32_t state, kind, i, c;
	uint64_t len;
	char *s, *o;

	if (!obj || read_mem(py->pid, obj, hdr, l->str_compact_data))
		return NULL;
	memcpy(&len, hdr + l->str_length, sizeof(len));
	memcpy(&state, hdr + l->str_state, sizeof(state));
	kind = (state >> 2) & 7;
	if (!(state & (1 << 5)) || (kind != 1 && kind != 2 && kind != 4))
		return NULL; /* not compact: a legacy string, never a code object's */
	if (len > PY_MAX_STR)
		len = PY_MAX_STR;
	if (read_mem(py->pid, obj + ((state & (1 << 6)) ? l->str_ascii_data : l->str_compact_data),
		     raw, len * kind))
		return NULL;
	s = o = malloc(len * 4 + 1);
	if (!s)
		return NULL;
	for (i = 0; i < len; i++) {
		c = kind == 1 ? raw[i] : kind == 2 ? ((uint16_t *)raw)[i] : ((uint32_t *)raw)[i];
		if (c < 0x80) {
			*o++ = c;
		} else if (c < 0x800) {
			*o++ = 0xc0 | (c >> 6);
			*o++ = 0x80 | (c & 0x3f);
		} else if (c < 0x10000) {
			*o++ = 0xe0 | (c >> 12);
			*o++ = 0x80 | ((c >> 6) & 0x3f);
			*o++ = 0x80 | (c & 0x3f);
		} else {
			*o++ = 0xf0 | (c >> 18);
			*o++ = 0x80 | ((c >> 12) & 0x3f);
			*o++ = 0x80 | ((c >> 6) & 0x3f);
			*o++ = 0x80 | (c & 0x3f);
		}
	}
	*o = '\0';
	return s;
}

static uint32_t fold(uint64_t filename, uint64_t name, uint64_t linetable)
{
	uint64_t x = filename ^ name ^ linetable;

	return (x ^ (x >> 31)) & 0x7fffffff;
}

/*
 * Read a code object the first time (code, fingerprint) is seen. It is taken as what BPF saw
 * only if it is still a code object and its name, file and line table are the objects BPF
 * folded into the fingerprint: a code object freed and its memory reused is never misnamed.
 */
static void code_load(struct python *py, struct py_code *c)
{
	const struct py_layout *l = py->layout;
	uint64_t type, filename, name, qualname, linetable, size;
	uint8_t buf[PY_CODE_READ];
	int32_t first;

	if (read_mem(py->pid, c->code, buf, sizeof(buf)))
		return;
	memcpy(&type, buf + l->ob_type, 8);
	memcpy(&filename, buf + l->bpf.co_filename, 8);
	memcpy(&name, buf + l->bpf.co_filename + 8, 8);
	memcpy(&qualname, buf + l->co_qualname, 8);
	memcpy(&linetable, buf + l->co_linetable, 8);
	memcpy(&first, buf + l->co_firstlineno, 4);
	if (type != py->code_type || fold(filename, name, linetable) != c->fingerprint)
		return;
	if (read_mem(py->pid, linetable + l->bytes_size, &size, 8) || size > PY_MAX_LINES)
		return;
	c->linetable = malloc(size ?: 1);
	c->qualname = read_str(py, qualname);
	c->filename = read_str(py, filename);
	if (!c->linetable || !c->qualname || !c->filename ||
	    read_mem(py->pid, linetable + l->bytes_data, c->linetable, size))
		return;
	c->lt_len = size;
	c->firstlineno = first;
	c->valid = true;
}

static struct py_code *code_get(struct python *py, uint64_t code, uint32_t fp, uint32_t *index)
{
	struct code_ent key = {.code = code, .fingerprint = fp}, *ent;
	struct py_code *c, *t;
	bool found;

	if (!code) /* never a code object; its key would be the empty slot's */
		return NULL;
	ent = htab__find(&py->code_idx, &key);
	if (ent) {
		*index = ent->index;
		return &py->codes[ent->index];
	}
	if (py->nr_codes == py->cap_codes) {
		uint32_t cap = py->cap_codes ? py->cap_codes * 2 : 256;

		t = realloc(py->codes, cap * sizeof(*t));
		if (!t)
			return NULL;
		py->codes = t;
		py->cap_codes = cap;
	}
	ent = htab__insert(&py->code_idx, &key, &found);
	if (!ent)
		return NULL;
	c = &py->codes[py->nr_codes];
	*c = (struct py_code){.code = code, .fingerprint = fp};
	code_load(py, c);
	*index = ent->index = py->nr_codes++;
	return c;
}

static int varint(const uint8_t *p, const uint8_t *end, const uint8_t **next)
{
	unsigned int v, shift = 0, b;

	if (p >= end)
		return 0;
	b = *p++;
	v = b & 63;
	while ((b & 64) && p < end && shift < 24) {
		b = *p++;
		shift += 6;
		v |= (b & 63) << shift;
	}
	*next = p;
	return v;
}

static int svarint(const uint8_t *p, const uint8_t *end)
{
	unsigned int v = varint(p, end, &p);

	return v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
}

/*
 * The line of instruction lasti, as PyCode_Addr2Line finds it in 3.11's location table: entries
 * start with a byte with bit 7 set: code (bits 3-6) and length in code units - 1 (bits 0-2).
 */
static int code_line(const struct py_code *c, int lasti)
{
	const uint8_t *p = c->linetable, *end = p + c->lt_len;
	int line = c->firstlineno, addr = 0, code, delta;

	if (lasti < 0)
		return c->firstlineno;
	while (p < end) {
		code = (*p >> 3) & 15;
		addr += (*p & 7) + 1;
		delta = 0;
		if (code == 13 || code == 14)
			delta = svarint(p + 1, end);
		else if (code == 11 || code == 12)
			delta = code - 10;
		line += delta;
		if (lasti < addr)
			return code == 15 ? 0 : line;
		for (p++; p < end && !(*p & 128); p++)
			;
	}
	return 0;
}

/* The tagged word for (code, line); 0 when the table cannot grow. */
static uint64_t token_get(struct python *py, uint32_t code, int line)
{
	struct token_ent key = {.code1 = code + 1, .line = line}, *ent;
	struct py_token *t;
	bool found;

	ent = htab__find(&py->token_idx, &key);
	if (ent)
		return PYTHON_FRAME_TAG | ent->index;
	if (py->nr_tokens == PY_MAX_TOKENS)
		return 0;
	if (py->nr_tokens == py->cap_tokens) {
		uint32_t cap = py->cap_tokens ? py->cap_tokens * 2 : 256;

		t = realloc(py->tokens, cap * sizeof(*t));
		if (!t)
			return 0;
		py->tokens = t;
		py->cap_tokens = cap;
	}
	ent = htab__insert(&py->token_idx, &key, &found);
	if (!ent)
		return 0;
	py->tokens[py->nr_tokens] = (struct py_token){code, line};
	ent->index = py->nr_tokens++;
	return PYTHON_FRAME_TAG | ent->index;
}

void python__pending(struct python *py, const struct lt_pyframes *e)
{
	struct py_pending *pp = NULL;
	uint32_t i, n = e->nr_frames;

	if (!py || !py->layout)
		return;
	for (i = 0; i < PY_PENDING; i++)
		if (py->pending[i].tid == e->h.tid)
			pp = &py->pending[i];
	if (!pp) {
		pp = &py->pending[py->next_pending];
		py->next_pending = (py->next_pending + 1) % PY_PENDING;
	}
	pp->tid = e->h.tid;
	pp->addr = e->addr;
	pp->n = n > LT_PY_MAX_FRAMES ? LT_PY_MAX_FRAMES : n;
	memcpy(pp->frames, e->frames, pp->n * sizeof(pp->frames[0]));
}

/* Append the Python frames of one C-level evaluation (up to its entry frame) from *i on. */
static uint32_t put_group(struct python *py, const struct py_pending *pp, uint32_t *i,
			  uint64_t *out, uint32_t n, uint32_t max)
{
	const struct lt_py_frame *f;
	struct py_code *c;
	uint32_t index;
	uint64_t w;

	while (*i < pp->n) {
		f = &pp->frames[(*i)++];
		c = code_get(py, f->code, f->fingerprint, &index);
		if (c && c->valid && n < max) {
			w = token_get(py, index, code_line(c, f->lasti));
			if (w)
				out[n++] = w;
		}
		if (f->is_entry)
			break;
	}
	return n;
}

uint32_t python__join(struct python *py, const struct lt_alloc *e, const uint64_t *native,
		      uint32_t nr, uint64_t *out, uint32_t max)
{
	struct py_pending *pp = NULL;
	uint32_t i, k, n = 0;

	for (i = 0; py && py->layout && i < PY_PENDING; i++)
		if (py->pending[i].tid == e->h.tid && py->pending[i].n)
			pp = &py->pending[i];
	if (!pp || pp->addr != e->addr) {
		nr = nr > max ? max : nr;
		memcpy(out, native, nr * sizeof(*out));
		return nr;
	}
	for (i = 0, k = 0; i < nr && n < max; i++) {
		/* a return address is inside the function it returns to; frames[0] is the pc */
		uint64_t pc = i ? native[i] - 1 : native[i];

		if (pc >= py->eval_start && pc < py->eval_end && k < pp->n)
			n = put_group(py, pp, &k, out, n, max);
		else
			out[n++] = native[i];
	}
	while (k < pp->n && n < max)
		n = put_group(py, pp, &k, out, n, max);
	pp->n = 0;
	return n;
}

int python__resolve(struct python *py, uint64_t word, struct sym_frame *out)
{
	uint32_t i = word & ~PYTHON_FRAME_MASK;
	const struct py_code *c;

	*out = (struct sym_frame){.addr = word};
	if (!py || i >= py->nr_tokens)
		return 1;
	c = &py->codes[py->tokens[i].code];
	out->name = c->qualname;
	out->file = c->filename;
	out->line = py->tokens[i].line;
	out->module = "python";
	out->script = true;
	return 1;
}

/* The dynamic symbols of a CPython image, read from its file. */
struct py_syms {
	uint64_t runtime, version, code_type, eval, eval_size;
	uint32_t version_hex; /* Py_Version as the file holds it; 0 when it has none */
	bool has_malloc;
};

/* The 4 bytes at address addr of the ELF file open as fd: 0 when no segment holds them. */
static uint32_t elf_word_at(Elf *elf, int fd, uint64_t addr)
{
	size_t i, n = 0;
	uint32_t v = 0;
	GElf_Phdr ph;

	if (!addr || elf_getphdrnum(elf, &n))
		return 0;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || addr < ph.p_vaddr ||
		    addr + sizeof(v) > ph.p_vaddr + ph.p_filesz)
			continue;
		if (pread(fd, &v, sizeof(v), ph.p_offset + (addr - ph.p_vaddr)) != sizeof(v))
			v = 0;
		break;
	}
	return v;
}

static int elf_py_syms(const char *path, struct py_syms *ps)
{
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Sym sym;
	const char *name;
	Elf *elf;
	int fd, i, n, err = -ENOENT;

	memset(ps, 0, sizeof(*ps));
	elf_version(EV_CURRENT);
	/* a file the target chose: regular, bounded, never blocking */
	fd = guard__openat(AT_FDCWD, path, GUARD_ELF_MAX);
	if (fd < 0)
		return fd;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		goto out_fd;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		n = data ? sh.sh_size / sh.sh_entsize : 0;
		for (i = 0; i < n; i++) {
			if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name || (name[0] != '_' && name[0] != 'P'))
				continue;
			if (!strcmp(name, "_PyRuntime"))
				ps->runtime = sym.st_value;
			else if (!strcmp(name, "Py_Version"))
				ps->version = sym.st_value;
			else if (!strcmp(name, "PyCode_Type"))
				ps->code_type = sym.st_value;
			else if (!strcmp(name, "PyObject_Malloc"))
				ps->has_malloc = true;
			else if (!strcmp(name, "_PyEval_EvalFrameDefault")) {
				ps->eval = sym.st_value;
				ps->eval_size = sym.st_size;
			}
		}
		break;
	}
	err = ps->runtime && ps->has_malloc ? 0 : -ENOENT;
	ps->version_hex = elf_word_at(elf, fd, ps->version);
	elf_end(elf);
out_fd:
	close(fd);
	return err;
}

static bool is_python_name(const char *path)
{
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	return !strncmp(b, "python", 6) || !strncmp(b, "libpython", 9);
}

void python__launch_env(char *const *objs, int n)
{
	struct py_syms ps;
	const char *cur;
	int i;

	for (i = 0; i < n; i++) {
		if (!is_python_name(objs[i]) || elf_py_syms(objs[i], &ps))
			continue;
		cur = getenv("PYTHONMALLOC");
		if (cur)
			return;
		setenv("PYTHONMALLOC", "malloc", 0);
		fprintf(stderr, "leaktrace: CPython: PYTHONMALLOC=malloc, so that every object "
				"allocation reaches malloc\n");
		return;
	}
}

/* Whether pid's environment sends object allocations to malloc (PYTHONMALLOC=malloc[_debug]). */
static bool uses_malloc(pid_t pid)
{
	char path[64], buf[65536];
	ssize_t n, off;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (off = 0; off < n; off += strlen(buf + off) + 1)
		if (!strncmp(buf + off, "PYTHONMALLOC=malloc", 19))
			return true;
	return false;
}

static const struct py_layout *layout_of(unsigned int version)
{
	unsigned int i;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].version == version)
			return &layouts[i];
	return NULL;
}

bool python__objects_wanted(const char *path, pid_t pid, bool launched)
{
	const char *cur = getenv("PYTHONMALLOC");
	struct py_syms ps;

	if (elf_py_syms(path, &ps) || !layout_of(ps.version_hex >> 16))
		return false;
	/* a launched command gets leaktrace's environment (python__launch_env) */
	if (launched)
		return !cur || strncmp(cur, "malloc", 6);
	return !uses_malloc(pid);
}

struct image_ctx {
	pid_t pid;
	struct py_syms *ps;
	char *image;
	size_t size;
	uint64_t *bias;
};

/* 1 when the mapping me is of a CPython image: its path and load bias taken. */
static int image_of(const struct procmaps_entry *me, void *data)
{
	struct image_ctx *c = data;
	char file[4200];

	if (!me->path || me->pgoff || me->deleted || !is_python_name(me->path))
		return 0;
	snprintf(file, sizeof(file), "/proc/%d/root%s", c->pid, me->path);
	if (elf_py_syms(file, c->ps))
		return 0;
	snprintf(c->image, c->size, "%s", me->path);
	/* an executable (ET_EXEC) maps at its link address; a PIE or library at start */
	*c->bias = c->ps->runtime >= me->start ? 0 : me->start;
	return 1;
}

/* The CPython image pid maps: its path and load bias; -ENOENT when none. */
static int find_image(pid_t pid, struct py_syms *ps, char *image, size_t size, uint64_t *bias)
{
	struct image_ctx c = {pid, ps, image, size, bias};
	int err = procmaps__for_each(pid, image_of, &c);

	return err < 0 ? err : err ? 0 : -ENOENT;
}

int python__open(struct python **out, pid_t pid, struct lt_py_proc *cfg, bool verbose)
{
	struct python *py = *out;
	char image[4096];
	struct py_syms ps;
	uint64_t bias = 0;
	uint32_t hex = 0;
	unsigned int ver;
	int err;

	if (!py) {
		py = calloc(1, sizeof(*py));
		if (!py)
			return -ENOMEM;
		htab__init(&py->code_idx, sizeof(struct code_ent),
			   offsetof(struct code_ent, index));
		htab__init(&py->token_idx, sizeof(struct token_ent),
			   offsetof(struct token_ent, index));
		htab__init(&py->type_idx, sizeof(struct type_ent), sizeof(uint64_t));
		*out = py;
	}
	py->pid = pid;
	py->layout = NULL;
	err = find_image(pid, &ps, image, sizeof(image), &bias);
	if (err)
		return err;
	if (!ps.version || read_mem(pid, bias + ps.version, &hex, sizeof(hex))) {
		fprintf(stderr,
			"leaktrace: pid %d: CPython at %s has no Py_Version (3.10 or older): "
			"native frames only\n",
			pid, ESC(image));
		return -ENOTSUP;
	}
	ver = hex >> 16;
	py->layout = layout_of(ver);
	if (!py->layout || !ps.eval) {
		py->layout = NULL;
		fprintf(stderr,
			"leaktrace: pid %d: CPython %u.%u at %s is not supported (3.11 is): "
			"native frames only\n",
			pid, ver >> 8, ver & 0xff, ESC(image));
		return -ENOTSUP;
	}
	py->code_type = bias + ps.code_type;
	py->eval_start = bias + ps.eval;
	py->eval_end = py->eval_start + ps.eval_size;
	*cfg = py->layout->bpf;
	cfg->runtime = bias + ps.runtime;
	fprintf(stderr, "leaktrace: pid %d: CPython %u.%u: Python frames on\n", pid, ver >> 8,
		ver & 0xff);
	if (!uses_malloc(pid))
		fprintf(stderr,
			"leaktrace: pid %d: pymalloc is out of the probes' reach: objects are "
			"counted at their constructors (not str, int, bytes, float, nor the buffers "
			"objects own); PYTHONMALLOC=malloc would count every block\n",
			pid);
	if (verbose)
		fprintf(stderr, "leaktrace: pid %d: _PyRuntime at 0x%llx in %s\n", pid,
			(unsigned long long)cfg->runtime, ESC(image));
	return 0;
}

void python__free(struct python *py)
{
	uint32_t i;

	if (!py)
		return;
	for (i = 0; i < py->nr_codes; i++) {
		free(py->codes[i].qualname);
		free(py->codes[i].filename);
		free(py->codes[i].linetable);
	}
	free(py->codes);
	htab__fini(&py->code_idx);
	free(py->tokens);
	htab__fini(&py->token_idx);
	for (i = 0; i < py->nr_types; i++)
		free(py->labels[i]);
	free(py->labels);
	free(py->type_names);
	htab__fini(&py->type_idx);
	free(py);
}
