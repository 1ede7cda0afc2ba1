/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gelf.h>
#include <zlib.h>

#include "debuginfo.h"
#include "guard.h"

#define DEBUG_ROOT "/usr/lib/debug"

static int note_build_id(Elf_Data *data, const uint8_t **id, size_t *len)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nhdr;

	while ((next = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
		if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 && nhdr.n_descsz &&
		    !memcmp((const char *)data->d_buf + name_off, "GNU", 4)) {
			*id = (const uint8_t *)data->d_buf + desc_off;
			*len = nhdr.n_descsz;
			return 0;
		}
		off = next;
	}
	return -ENOENT;
}

int debuginfo__build_id(Elf *elf, const uint8_t **id, size_t *len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	size_t i, nphdrs;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (data && data->d_buf && !note_build_id(data, id, len))
			return 0;
	}
	/* Binaries stripped of their section headers still have PT_NOTE. */
	if (elf_getphdrnum(elf, &nphdrs))
		return -ENOENT;
	for (i = 0; i < nphdrs; i++) {
		GElf_Phdr phdr;
		Elf_Data *data;

		if (!gelf_getphdr(elf, i, &phdr) || phdr.p_type != PT_NOTE)
			continue;
		data = elf_getdata_rawchunk(elf, phdr.p_offset, phdr.p_filesz, ELF_T_NHDR);
		if (data && data->d_buf && !note_build_id(data, id, len))
			return 0;
	}
	return -ENOENT;
}

int debuginfo__debuglink(Elf *elf, const char **name, uint32_t *crc)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	size_t shstrndx, len;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -ENOENT;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *sname;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_PROGBITS)
			continue;
		sname = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!sname || strcmp(sname, ".gnu_debuglink"))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			return -EINVAL;
		len = strnlen(data->d_buf, data->d_size);
		/* The name, NUL, padding to 4 bytes, then the CRC (in the file's byte order). */
		if (!len || ((len + 4) & ~3UL) + 4 > data->d_size)
			return -EINVAL;
		*name = data->d_buf;
		{
			Elf_Data src = {
				.d_buf = (char *)data->d_buf + ((len + 4) & ~3UL),
				.d_size = 4,
				.d_type = ELF_T_WORD,
				.d_version = EV_CURRENT,
			};
			Elf_Data dst = {
				.d_buf = crc,
				.d_size = 4,
				.d_type = ELF_T_WORD,
				.d_version = EV_CURRENT,
			};

			if (!gelf_xlatetom(elf, &dst, &src, elf_getident(elf, NULL)[EI_DATA]))
				return -EINVAL;
		}
		return 0;
	}
	return -ENOENT;
}

int debuginfo__file_crc(int fd, uint32_t *crc, struct guard *g)
{
	unsigned char buf[65536];
	uLong c = crc32(0L, Z_NULL, 0);
	struct stat st;
	off_t off = 0;
	ssize_t n;

	/* Never past the size seen at open: a file that grows meanwhile must not keep us here. */
	if (fstat(fd, &st))
		return -errno;
	while (off < st.st_size) {
		if (g && guard__tripped(g))
			return -ETIME;
		n = pread(fd, buf,
			  st.st_size - off < (off_t)sizeof(buf) ? st.st_size - off
								: (off_t)sizeof(buf),
			  off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		c = crc32(c, buf, (uInt)n);
		off += n;
	}
	*crc = (uint32_t)c;
	return 0;
}

/* Debug files are found by names the target's files give: open them as untrusted. */
static int open_in_root(int root_fd, const char *path, struct guard *g)
{
	const char *rel = path;
	int fd;

	if (root_fd >= 0)
		while (*rel == '/')
			rel++;
	fd = guard__openat(root_fd >= 0 ? root_fd : AT_FDCWD, rel, GUARD_ELF_MAX);
	if ((fd == -EINVAL || fd == -EFBIG) && g && g->ctx && g->ctx->verbose)
		fprintf(stderr, "leaktrace: skipping debug file %s: %s\n", path,
			guard__strerror(fd));
	return fd;
}

static bool build_id_matches(int fd, const uint8_t *id, size_t len)
{
	const uint8_t *fid;
	size_t flen;
	bool ok = false;
	Elf *elf;

	/* Not mmap: a file truncated under us must not raise SIGBUS. */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return false;
	if (!debuginfo__build_id(elf, &fid, &flen))
		ok = flen == len && !memcmp(fid, id, len);
	elf_end(elf);
	return ok;
}

static int open_by_build_id(int root_fd, const uint8_t *id, size_t len, const char *debug_dir,
			    struct guard *g)
{
	const char *roots[] = {DEBUG_ROOT, debug_dir};
	char hex[2 * 64 + 1], path[PATH_MAX];
	size_t i, r;
	int fd;

	if (len < 2 || len > 64)
		return -EINVAL;
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);

	for (r = 0; r < sizeof(roots) / sizeof(roots[0]); r++) {
		int pass;

		if (!roots[r])
			continue;
		if (snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", roots[r], hex,
			     hex + 2) >= (int)sizeof(path))
			continue;
		/* The target's root first (containers), then the host's. */
		for (pass = 0; pass < 2; pass++) {
			fd = open_in_root(pass ? -1 : root_fd, path, g);
			if (fd < 0)
				continue;
			if (build_id_matches(fd, id, len))
				return fd;
			close(fd);
		}
	}
	return -ENOENT;
}

static int open_by_debuglink(int root_fd, const char *path, const char *name, uint32_t crc,
			     const char *debug_dir, struct guard *g)
{
	char dir[PATH_MAX], cand[PATH_MAX];
	const char *slash;
	int i, fd, len;

	/* A path name, not a bare file name, would escape the search directories. */
	if (strchr(name, '/'))
		return -EINVAL;
	slash = strrchr(path, '/');
	len = slash ? (int)(slash - path) : 0;
	if (len >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, len);
	dir[len] = '\0';

	for (i = 0; i < 7; i++) {
		int root = root_fd, n;
		uint32_t fcrc;

		switch (i) {
		case 0:
			n = snprintf(cand, sizeof(cand), "%s/%s", dir, name);
			break;
		case 1:
			n = snprintf(cand, sizeof(cand), "%s/.debug/%s", dir, name);
			break;
		case 2:
			n = snprintf(cand, sizeof(cand), DEBUG_ROOT "%s/%s", dir, name);
			break;
		case 3:
			n = snprintf(cand, sizeof(cand), DEBUG_ROOT "%s/%s", dir, name);
			root = -1;
			break;
		case 4:
		case 5:
			if (!debug_dir)
				continue;
			n = snprintf(cand, sizeof(cand), "%s/%s", debug_dir, name);
			if (i == 5)
				n = snprintf(cand, sizeof(cand), "%s%s/%s", debug_dir, dir, name);
			root = -1;
			break;
		default:
			if (!debug_dir)
				continue;
			n = snprintf(cand, sizeof(cand), "%s/.debug/%s", debug_dir, name);
			root = -1;
			break;
		}
		if (n < 0 || n >= (int)sizeof(cand))
			continue;
		fd = open_in_root(root, cand, g);
		if (fd < 0)
			continue;
		if (!debuginfo__file_crc(fd, &fcrc, g) && fcrc == crc)
			return fd;
		close(fd);
		if (g && g->why)
			return -ETIME;
	}
	return -ENOENT;
}

int debuginfo__open_alt(int root_fd, const char *name, const uint8_t *id, size_t len,
			const char *debug_dir, struct guard *g)
{
	int fd = open_by_build_id(root_fd, id, len, debug_dir, g);

	if (fd >= 0 || !name || name[0] != '/')
		return fd;
	fd = open_in_root(root_fd, name, g);
	if (fd < 0)
		return fd;
	if (build_id_matches(fd, id, len))
		return fd;
	close(fd);
	return -ENOENT;
}

int debuginfo__open(Elf *elf, int root_fd, const char *path, const char *debug_dir, struct guard *g)
{
	const uint8_t *id;
	const char *name;
	uint32_t crc;
	size_t len;
	int fd = -ENOENT;

	if (!debuginfo__build_id(elf, &id, &len))
		fd = open_by_build_id(root_fd, id, len, debug_dir, g);
	if (fd < 0 && path && !debuginfo__debuglink(elf, &name, &crc))
		fd = open_by_debuglink(root_fd, path, name, crc, debug_dir, g);
	return fd;
}

/* What one section costs once libdw has it in memory: its expanded size when compressed. */
static int section_size(Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr, const char *name,
			uint64_t *size)
{
	const unsigned char *p;
	GElf_Chdr chdr;
	Elf_Data *raw;
	uint64_t n = 0;
	int i;

	(void)elf;
	if (shdr->sh_type == SHT_NOBITS) {
		*size = 0;
		return 0;
	}
	if (shdr->sh_flags & SHF_COMPRESSED) {
		if (!gelf_getchdr(scn, &chdr))
			return -EINVAL;
		*size = chdr.ch_size;
		return 0;
	}
	if (strncmp(name, ".zdebug", 7)) {
		*size = shdr->sh_size;
		return 0;
	}
	/* GNU style: "ZLIB", then the expanded size in 8 big-endian bytes. */
	raw = elf_rawdata(scn, NULL);
	if (!raw || !raw->d_buf || raw->d_size < 12 || memcmp(raw->d_buf, "ZLIB", 4))
		return -EINVAL;
	p = (const unsigned char *)raw->d_buf + 4;
	for (i = 0; i < 8; i++)
		n = n << 8 | p[i];
	*size = n;
	return 0;
}

int debuginfo__dwarf_size(Elf *elf, uint64_t *size)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	uint64_t total = 0;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -EINVAL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;
		GElf_Shdr shdr;
		uint64_t n;

		if (!gelf_getshdr(scn, &shdr))
			return -EINVAL;
		name = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (!name || (strncmp(name, ".debug_", 7) && strncmp(name, ".zdebug_", 8)))
			continue;
		if (section_size(elf, scn, &shdr, name, &n))
			return -EINVAL;
		if (n > UINT64_MAX - total)
			return -E2BIG;
		total += n;
	}
	*size = total;
	return 0;
}
