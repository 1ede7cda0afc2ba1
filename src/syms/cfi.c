// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include <elfutils/libdw.h>

#include "cfi.h"
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

int cfi__build(Elf *elf, struct cfi_table *t, uint64_t budget_ns, const char **why)
{
	uint64_t *starts = NULL, n, i, pc, limit, deadline;
	struct builder b = {.t = t};
	struct lt_uw_row r, gap = {.rule = LT_UW_FP};
	Dwarf_CFI *cfi = NULL;
	Dwarf_Frame *fr;
	Dwarf_Addr s, e;
	bool signal;
	int err;

	memset(t, 0, sizeof(*t));
	*why = NULL;
	deadline = budget_ns ? guard__now_ns() + budget_ns : 0;
	err = fde_starts(elf, &starts, &n, why);
	if (err)
		return err;
	cfi = dwarf_getcfi_elf(elf);
	if (!cfi) {
		err = -EINVAL;
		*why = "no CFI libdw can read";
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (deadline && !(i & 255) && guard__now_ns() > deadline) {
			err = -E2BIG;
			*why = "time budget";
			goto out;
		}
		pc = starts[i];
		limit = i + 1 < n ? starts[i + 1] : UINT64_MAX;
		/* an FDE's rows, each a range; a bounded count guards against looping CFI */
		for (int k = 0; pc < limit && k < 65536; k++) {
			if (deadline && (k & 1023) == 1023 && guard__now_ns() > deadline) {
				err = -E2BIG;
				*why = "time budget";
				goto out;
			}
			if (dwarf_cfi_addrframe(cfi, pc, &fr))
				break;
			if (dwarf_frame_info(fr, &s, &e, &signal) < 0) {
				free(fr);
				break;
			}
			classify(fr, signal, &r);
			free(fr);
			if (r.rule == LT_UW_EXPR)
				t->nr_expr++;
			err = push_row(&b, pc, &r);
			if (err)
				goto fail;
			if (e <= pc)
				break;
			pc = e;
		}
		if (pc < limit && limit != UINT64_MAX) {
			err = push_row(&b, pc, &gap);
			if (err)
				goto fail;
		} else if (limit == UINT64_MAX) {
			err = push_row(&b, pc, &gap);
			if (err)
				goto fail;
		}
	}
	err = 0;
	goto out;
fail:
	*why = err == -E2BIG ? "too many rows" : err == -EINVAL ? "FDEs overlap" : "out of memory";
out:
	if (err) {
		free(t->rows);
		memset(t, 0, sizeof(*t));
	}
	if (cfi)
		dwarf_cfi_end(cfi);
	free(starts);
	return err;
}

void cfi__free(struct cfi_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
