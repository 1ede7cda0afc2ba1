// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include <elfutils/libdw.h>

#include <unistd.h>
#include <sys/stat.h>

#include "cfi.h"
#include "debuginfo.h"
#include "guard.h"

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA	16

struct builder {
	struct cfi_table *t;
	uint32_t cap;
};

static int push_row(struct builder *b, uint64_t pc, const struct lt_uw_row *r)
{
	struct lt_uw_row *rows, *last;

	if (pc > UINT32_MAX)
		return -E2BIG;
	last = b->t->nr ? &b->t->rows[b->t->nr - 1] : NULL;
	if (last && last->rule == r->rule && last->cfa_off == r->cfa_off &&
	    last->rbp_slot == r->rbp_slot)
		return 0;
	if (last && last->pc == pc) {
		*last = *r;
		last->pc = pc;
		return 0;
	}
	if (last && last->pc > pc)
		return -EINVAL; /* FDEs overlap or are out of order */
	if (b->t->nr == CFI_MAX_ROWS)
		return -E2BIG;
	if (b->t->nr == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 4096;
		rows = realloc(b->t->rows, b->cap * sizeof(*rows));
		if (!rows)
			return -ENOMEM;
		b->t->rows = rows;
	}
	b->t->rows[b->t->nr] = *r;
	b->t->rows[b->t->nr++].pc = pc;
	return 0;
}

/* The CFA as a register plus an offset: true and the offset for rsp or rbp. */
static bool cfa_reg_off(const Dwarf_Op *op, int *reg, int64_t *off)
{
	if (op->atom == DW_OP_bregx) {
		*reg = op->number;
		*off = (int64_t)op->number2;
		return true;
	}
	if (op->atom >= DW_OP_breg0 && op->atom <= DW_OP_breg31) {
		*reg = op->atom - DW_OP_breg0;
		*off = (int64_t)op->number;
		return true;
	}
	return false;
}

/*
 * The lazy-binding .plt's CFA, which every linker writes the same way:
 * rsp + 8 + (((rip & 15) >= N) << 3), N 11 (or 10 for some linkers).
 */
static bool plt_rule(const Dwarf_Op *ops, size_t n, uint16_t *threshold)
{
	static const uint8_t want[] = {DW_OP_breg7, DW_OP_breg16, DW_OP_lit15, DW_OP_and, 0,
				       DW_OP_ge,    DW_OP_lit3,	  DW_OP_shl,   DW_OP_plus};
	size_t i;

	if (n != sizeof(want))
		return false;
	for (i = 0; i < n; i++)
		if (want[i] && ops[i].atom != want[i])
			return false;
	if (ops[0].number != 8 || ops[1].number != 0 || ops[4].atom < DW_OP_lit0 ||
	    ops[4].atom > DW_OP_lit31)
		return false;
	*threshold = ops[4].atom - DW_OP_lit0;
	return true;
}

/* Where a register was saved: its slot below the CFA (CFA - 8 * slot), 0 for "unchanged". */
static int saved_slot(Dwarf_Frame *fr, int regno, int *slot, bool *undefined)
{
	Dwarf_Op mem[3], *ops;
	size_t n;
	int64_t off;

	*undefined = false;
	if (dwarf_frame_register(fr, regno, mem, &ops, &n))
		return -EINVAL;
	if (!n) {
		*undefined = ops == mem;
		*slot = 0;
		return 0;
	}
	if (ops[0].atom != DW_OP_call_frame_cfa || n > 2)
		return -EOPNOTSUPP;
	off = n == 2 && ops[1].atom == DW_OP_plus_uconst ? (int64_t)ops[1].number : 0;
	if (n == 2 && ops[1].atom != DW_OP_plus_uconst)
		return -EOPNOTSUPP;
	if (off >= 0 || off % 8 || -off / 8 > 255)
		return -EOPNOTSUPP;
	*slot = -off / 8;
	return 0;
}

static void classify(Dwarf_Frame *fr, bool signal, struct lt_uw_row *r)
{
	Dwarf_Op *ops;
	size_t n;
	int reg, slot;
	int64_t off;
	bool undef;

	memset(r, 0, sizeof(*r));
	if (signal) {
		r->rule = LT_UW_SIGNAL;
		return;
	}
	if (!saved_slot(fr, REG_RA, &slot, &undef) && undef) {
		r->rule = LT_UW_END;
		return;
	}
	r->rule = LT_UW_EXPR;
	if (dwarf_frame_cfa(fr, &ops, &n) || !n)
		return;
	if (n == 1 && cfa_reg_off(ops, &reg, &off) && (reg == REG_RSP || reg == REG_RBP) &&
	    off >= 0 && off <= UINT16_MAX) {
		r->cfa_off = off;
		r->rule = reg == REG_RSP ? LT_UW_RSP : LT_UW_RBP;
	} else if (plt_rule(ops, n, &r->cfa_off)) {
		r->rule = LT_UW_PLT;
		return;
	} else {
		return;
	}
	if (saved_slot(fr, REG_RA, &slot, &undef) || slot != 1 ||
	    saved_slot(fr, REG_RBP, &slot, &undef)) {
		r->rule = LT_UW_EXPR;
		r->cfa_off = 0;
		return;
	}
	r->rbp_slot = slot;
}

/* Read an .eh_frame_hdr value of encoding enc (absptr/udata4/sdata4/udata8/sdata8 forms). */
static int read_enc(const uint8_t **p, const uint8_t *end, uint8_t enc, uint64_t *v)
{
	uint32_t u4;
	uint64_t u8;

	switch (enc & 0x0f) {
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		if (end - *p < 4)
			return -EINVAL;
		memcpy(&u4, *p, 4);
		*v = (enc & 0x0f) == DW_EH_PE_sdata4 ? (uint64_t)(int64_t)(int32_t)u4 : u4;
		*p += 4;
		return 0;
	case DW_EH_PE_absptr:
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
		if (end - *p < 8)
			return -EINVAL;
		memcpy(&u8, *p, 8);
		*v = u8;
		*p += 8;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The sorted table of FDE start addresses that .eh_frame_hdr holds for the unwinder. */
static int fde_starts(Elf *elf, uint64_t **out, uint64_t *count, const char **why)
{
	const uint8_t *p, *end;
	uint64_t ehptr, n, i, lo, fde, *v;
	GElf_Phdr ph, *hdr = NULL;
	Elf_Data *d;
	size_t nph, k;

	if (elf_getphdrnum(elf, &nph))
		return *why = "no program headers", -EINVAL;
	for (k = 0; k < nph && !hdr; k++)
		if (gelf_getphdr(elf, k, &ph) && ph.p_type == PT_GNU_EH_FRAME)
			hdr = &ph;
	if (!hdr)
		return *why = "no .eh_frame_hdr", -ENOENT;
	d = elf_getdata_rawchunk(elf, hdr->p_offset, hdr->p_filesz, ELF_T_BYTE);
	if (!d || d->d_size < 4)
		return *why = ".eh_frame_hdr unreadable", -EINVAL;
	p = d->d_buf;
	end = p + d->d_size;
	if (p[0] != 1 || p[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return *why = ".eh_frame_hdr: unsupported version or table encoding", -EINVAL;
	lo = p[2];
	k = p[1];
	p += 4;
	if (read_enc(&p, end, k, &ehptr) || read_enc(&p, end, lo, &n))
		return *why = ".eh_frame_hdr: unsupported encoding", -EINVAL;
	if (n > (uint64_t)(end - p) / 8)
		return *why = ".eh_frame_hdr: table beyond its segment", -EINVAL;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		int32_t rel;

		memcpy(&rel, p + i * 8, 4);
		fde = hdr->p_vaddr + (int64_t)rel;
		if (i && fde < v[i - 1]) {
			free(v);
			return *why = ".eh_frame_hdr: table not sorted", -EINVAL;
		}
		v[i] = fde;
	}
	*out = v;
	*count = n;
	return 0;
}

/* The sorted start addresses of the FDEs in .debug_frame (read as libdw has it in dbg). */
static int debug_fde_starts(Dwarf *dbg, Elf *elf, uint64_t **out, uint64_t *count)
{
	const unsigned char *ident = (const unsigned char *)elf_getident(elf, NULL);
	size_t shstrndx, asize = gelf_getclass(elf) == ELFCLASS32 ? 4 : 8, n = 0, cap = 0;
	Dwarf_Off off = 0, next;
	Dwarf_CFI_Entry entry;
	Elf_Scn *scn = NULL;
	Elf_Data *data = NULL;
	uint64_t lo = 0, len = 0, *v = NULL, *nv;
	GElf_Shdr sh;
	const char *name;
	int ret;

	(void)dbg; /* its sections are expanded already (dwarf_begin_elf) */
	if (!ident || elf_getshdrstrndx(elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(elf, scn)) && !data) {
		name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		if (name && !strcmp(name, ".debug_frame") && sh.sh_type == SHT_PROGBITS)
			data = elf_getdata(scn, NULL);
	}
	if (!data || !data->d_buf)
		return -ENOENT;
	while ((ret = dwarf_next_cfi(ident, data, false, off, &next, &entry)) == 0) {
		if (next <= off)
			break;
		off = next;
		if (dwarf_cfi_cie_p(&entry) ||
		    entry.fde.end - entry.fde.start < (ptrdiff_t)(2 * asize))
			continue;
		memcpy(&lo, entry.fde.start, asize); /* x86-64: little endian, as the host */
		memcpy(&len, entry.fde.start + asize, asize);
		if (!len)
			continue;
		if (n == CFI_MAX_ROWS) {
			free(v);
			return -E2BIG;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = lo;
	}
	if (!n) {
		free(v);
		return -ENOENT;
	}
	qsort(v, n, sizeof(*v), cmp_u64);
	*out = v;
	*count = n;
	return 0;
}

/* a and b (sorted) merged, each address once, in *out. */
static int merge_starts(const uint64_t *a, uint64_t na, const uint64_t *b, uint64_t nb,
			uint64_t **out, uint64_t *count)
{
	uint64_t i = 0, j = 0, n = 0, x, *v = malloc((na + nb + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	while (i < na || j < nb) {
		x = j >= nb || (i < na && a[i] <= b[j]) ? a[i++] : b[j++];
		if (!n || v[n - 1] != x)
			v[n++] = x;
	}
	*out = v;
	*count = n;
	return 0;
}

/*
 * Rows from each FDE start to the next: from .eh_frame where it covers a PC, else from the
 * debug file's .debug_frame (dbg_cfi, may be NULL); a gap between FDEs is the frame pointer
 * rule. *covered: the bytes rows from .eh_frame cover.
 */
static int build_rows(Dwarf_CFI *eh, Dwarf_CFI *dbg_cfi, const uint64_t *starts, uint64_t n,
		      struct cfi_table *t, uint64_t deadline, uint64_t *covered, const char **why)
{
	struct builder b = {.t = t};
	struct lt_uw_row r, gap = {.rule = LT_UW_FP};
	uint64_t i, pc, limit;
	Dwarf_Frame *fr;
	Dwarf_Addr s, e;
	bool signal, from_eh;
	int err;

	*covered = 0;
	for (i = 0; i < n; i++) {
		if (deadline && !(i & 255) && guard__now_ns() > deadline)
			return *why = "time budget", -E2BIG;
		pc = starts[i];
		limit = i + 1 < n ? starts[i + 1] : UINT64_MAX;
		/* an FDE's rows, each a range; a bounded count guards against looping CFI */
		for (int k = 0; pc < limit && k < 65536; k++) {
			if (deadline && (k & 1023) == 1023 && guard__now_ns() > deadline)
				return *why = "time budget", -E2BIG;
			from_eh = eh && !dwarf_cfi_addrframe(eh, pc, &fr);
			if (!from_eh && (!dbg_cfi || dwarf_cfi_addrframe(dbg_cfi, pc, &fr)))
				break;
			if (dwarf_frame_info(fr, &s, &e, &signal) < 0) {
				free(fr);
				break;
			}
			classify(fr, signal, &r);
			free(fr);
			if (r.rule == LT_UW_EXPR)
				t->nr_expr++;
			if (!from_eh)
				t->nr_debug++;
			err = push_row(&b, pc, &r);
			if (err)
				goto fail;
			if (e <= pc)
				break;
			if (from_eh)
				*covered += (e < limit ? e : limit) - pc;
			pc = e;
		}
		if (pc < limit || limit == UINT64_MAX) {
			err = push_row(&b, pc, &gap);
			if (err)
				goto fail;
		}
	}
	return 0;
fail:
	*why = err == -E2BIG ? "too many rows" : err == -EINVAL ? "FDEs overlap" : "out of memory";
	return err;
}

static int build(Elf *elf, Elf *debug, struct cfi_table *t, uint64_t budget_ns, uint64_t *covered,
		 const char **why)
{
	uint64_t *eh_starts = NULL, *dbg_starts = NULL, *starts = NULL, neh = 0, ndbg = 0, n;
	uint64_t deadline = budget_ns ? guard__now_ns() + budget_ns : 0;
	Dwarf_CFI *cfi = NULL, *dbg_cfi = NULL;
	Dwarf *dbg = NULL;
	int err;

	memset(t, 0, sizeof(*t));
	*why = NULL;
	*covered = 0;
	err = fde_starts(elf, &eh_starts, &neh, why);
	if (err && (err != -ENOENT || !debug))
		return err;
	if (!err) {
		cfi = dwarf_getcfi_elf(elf);
		if (!cfi) {
			err = -EINVAL;
			*why = "no CFI libdw can read";
			goto out;
		}
	}
	if (debug) {
		dbg = dwarf_begin_elf(debug, DWARF_C_READ, NULL);
		dbg_cfi = dbg ? dwarf_getcfi(dbg) : NULL;
		if (dbg_cfi && debug_fde_starts(dbg, debug, &dbg_starts, &ndbg))
			dbg_cfi = NULL;
		if (!dbg_cfi && !cfi) {
			err = -ENOENT;
			*why = "no .eh_frame_hdr, no .debug_frame in the debug file";
			goto out;
		}
	}
	err = merge_starts(eh_starts, neh, dbg_starts, ndbg, &starts, &n);
	if (err) {
		*why = "out of memory";
		goto out;
	}
	err = build_rows(cfi, dbg_cfi, starts, n, t, deadline, covered, why);
out:
	if (err) {
		free(t->rows);
		memset(t, 0, sizeof(*t));
	}
	if (cfi)
		dwarf_cfi_end(cfi);
	if (dbg)
		dwarf_end(dbg); /* ends dbg_cfi too */
	free(starts);
	free(dbg_starts);
	free(eh_starts);
	return err;
}

int cfi__build(Elf *elf, Elf *debug, struct cfi_table *t, uint64_t budget_ns, const char **why)
{
	uint64_t covered;

	return build(elf, debug, t, budget_ns, &covered, why);
}

/* Bytes of executable segments in the file. */
static uint64_t text_size(Elf *elf)
{
	uint64_t total = 0;
	GElf_Phdr ph;
	size_t n, i;

	if (elf_getphdrnum(elf, &n))
		return 0;
	for (i = 0; i < n; i++)
		if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
			total += ph.p_filesz;
	return total;
}

/* The separate debug file's ELF, when its DWARF stays within the guard's limits. */
static Elf *open_debug(Elf *elf, const char *path, struct guard *g, int *fd)
{
	uint64_t size, cap;
	struct stat st;
	Elf *debug;

	*fd = debuginfo__open(elf, -1, path, NULL, g);
	if (*fd < 0)
		return NULL;
	/* not mmap: a file truncated under us must not raise SIGBUS */
	debug = elf_begin(*fd, ELF_C_READ, NULL);
	cap = !fstat(*fd, &st) ? (uint64_t)st.st_size * GUARD_DWARF_RATIO : 0;
	if (cap > GUARD_DWARF_MAX)
		cap = GUARD_DWARF_MAX;
	if (debug && elf_kind(debug) == ELF_K_ELF && !debuginfo__dwarf_size(debug, &size) &&
	    size <= cap)
		return debug;
	if (debug)
		elf_end(debug);
	close(*fd);
	*fd = -1;
	return NULL;
}

/* What is left of g's deadline for build(); 1 ns once it has passed. */
static uint64_t budget_left(const struct guard *g)
{
	uint64_t now = guard__now_ns();

	return g->deadline_ns > now ? g->deadline_ns - now : 1;
}

int cfi__build_file(Elf *elf, const char *path, struct cfi_table *t, struct guard *g,
		    const char **why)
{
	uint64_t covered = 0, text = text_size(elf);
	const char *dwhy = NULL;
	struct cfi_table dt;
	Elf *debug;
	int err, fd;

	err = build(elf, NULL, t, budget_left(g), &covered, why);
	if ((err && err != -ENOENT) || covered >= text - text / 10)
		return err;
	/*
	 * .eh_frame leaves over a tenth of the code to frame pointers: ask the debug file.
	 * After a stop, no search: asked without guard__tripped, which would take the stop as
	 * one that cut a file read and end the symbolizer's reads 300 ms later (guard.c), leaving
	 * the final report without names. A stop during the search cuts it (g).
	 */
	if (g->why || (g->ctx && g->ctx->stop_requested && g->ctx->stop_requested()))
		return err;
	debug = open_debug(elf, path, g, &fd);
	if (!debug)
		return err;
	if (!build(elf, debug, &dt, budget_left(g), &covered, &dwhy) && dt.nr_debug) {
		cfi__free(t);
		*t = dt;
		*why = NULL;
		err = 0;
	} else if (!err || !dwhy) {
		cfi__free(&dt);
	} else {
		*why = dwhy; /* no table either way: why the debug file gave none */
	}
	elf_end(debug);
	close(fd);
	return err;
}

void cfi__free(struct cfi_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
