// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "elf_func.h"
#include "guard.h"

struct elf_funcs {
	int fd;
	Elf *elf;
};

struct elf_funcs *elf_funcs__open(const char *path)
{
	struct elf_funcs *ef;
	GElf_Ehdr ehdr;
	int err;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = EINVAL;
		return NULL;
	}
	ef = calloc(1, sizeof(*ef));
	if (!ef)
		return NULL;
	/* The target's libraries, or -O: a FIFO or device there must neither block nor be read. */
	ef->fd = guard__openat(AT_FDCWD, path, GUARD_ELF_MAX);
	if (ef->fd < 0) {
		err = ef->fd == -EINVAL ? ENOEXEC : -ef->fd;
		goto err_free;
	}
	/* Not mmap: a library truncated under us must not raise SIGBUS. */
	ef->elf = elf_begin(ef->fd, ELF_C_READ, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF || !gelf_getehdr(ef->elf, &ehdr)) {
		err = ENOEXEC;
		goto err_close;
	}
	return ef;

err_close:
	if (ef->elf)
		elf_end(ef->elf);
	close(ef->fd);
err_free:
	free(ef);
	errno = err;
	return NULL;
}

static int vaddr_to_off(Elf *elf, uint64_t vaddr, uint64_t *off)
{
	size_t i, n;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*off = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static int find_in(Elf *elf, Elf_Scn *scn, const char *name, GElf_Sym *out)
{
	GElf_Shdr sh;
	Elf_Data *data;
	GElf_Sym sym;
	size_t i, n;
	const char *s;
	size_t len = strlen(name);

	if (!gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return -ENOENT;
	data = elf_getdata(scn, NULL);
	if (!data)
		return -ENOENT;
	n = data->d_size / sh.sh_entsize;
	for (i = 0; i < n; i++) {
		if (!gelf_getsym(data, i, &sym) || !sym.st_value || sym.st_shndx == SHN_UNDEF)
			continue;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
		    GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC)
			continue;
		s = elf_strptr(elf, sh.sh_link, sym.st_name);
		/* .dynsym names may carry a version suffix (free@@GLIBC_2.2.5) */
		if (s && !strncmp(s, name, len) && (s[len] == '\0' || s[len] == '@')) {
			*out = sym;
			return 0;
		}
	}
	return -ENOENT;
}

int elf_funcs__find(struct elf_funcs *ef, const char *name, struct elf_func *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;
	int err = -ENOENT;
	ssize_t n;

	while ((scn = elf_nextscn(ef->elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, &sh))
			return -ENOEXEC;
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		err = find_in(ef->elf, scn, name, &sym);
		if (!err)
			break;
	}
	if (err)
		return err;
	if (GELF_ST_TYPE(sym.st_info) == STT_GNU_IFUNC)
		return -ENOTSUP;
	memset(out, 0, sizeof(*out));
	out->vaddr = sym.st_value;
	out->size = sym.st_size;
	err = vaddr_to_off(ef->elf, sym.st_value, &out->file_off);
	if (err)
		return err;
	n = pread(ef->fd, out->code, sizeof(out->code), out->file_off);
	out->code_len = n > 0 ? n : 0;
	if (out->size && out->code_len > out->size)
		out->code_len = out->size;
	return 0;
}

void elf_funcs__close(struct elf_funcs *ef)
{
	if (!ef)
		return;
	elf_end(ef->elf);
	close(ef->fd);
	free(ef);
}
