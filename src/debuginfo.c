/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gelf.h>
#include <zlib.h>

#include "debuginfo.h"

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

int debuginfo__file_crc(int fd, uint32_t *crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0L, Z_NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c = crc32(c, buf, (uInt)n);
		off += n;
	}
	*crc = (uint32_t)c;
	return 0;
}

static int open_in_root(int root_fd, const char *path)
{
	if (root_fd < 0)
		return open(path, O_RDONLY | O_CLOEXEC);
	while (*path == '/')
		path++;
	return openat(root_fd, path, O_RDONLY | O_CLOEXEC);
}

static bool build_id_matches(int fd, const uint8_t *id, size_t len)
{
	const uint8_t *fid;
	size_t flen;
	bool ok = false;
	Elf *elf;

	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return false;
	if (!debuginfo__build_id(elf, &fid, &flen))
		ok = flen == len && !memcmp(fid, id, len);
	elf_end(elf);
	return ok;
}

static int open_by_build_id(int root_fd, const uint8_t *id, size_t len, const char *debug_dir)
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
			fd = open_in_root(pass ? -1 : root_fd, path);
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
			     const char *debug_dir)
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
		fd = open_in_root(root, cand);
		if (fd < 0)
			continue;
		if (!debuginfo__file_crc(fd, &fcrc) && fcrc == crc)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

int debuginfo__open(Elf *elf, int root_fd, const char *path, const char *debug_dir)
{
	const uint8_t *id;
	const char *name;
	uint32_t crc;
	size_t len;
	int fd = -ENOENT;

	if (!debuginfo__build_id(elf, &id, &len))
		fd = open_by_build_id(root_fd, id, len, debug_dir);
	if (fd < 0 && path && !debuginfo__debuglink(elf, &name, &crc))
		fd = open_by_debuglink(root_fd, path, name, crc, debug_dir);
	return fd;
}
