/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Locating separate debug files: build ID and .gnu_debuglink. */
#ifndef __DEBUGINFO_H
#define __DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>
#include <libelf.h>

struct guard;

/* Point *id at the NT_GNU_BUILD_ID descriptor of elf. Returns 0 or -ENOENT. */
int debuginfo__build_id(Elf *elf, const uint8_t **id, size_t *len);
/* Name and CRC from the .gnu_debuglink section. Returns 0, -ENOENT or -EINVAL. */
int debuginfo__debuglink(Elf *elf, const char **name, uint32_t *crc);
/* zlib CRC32 of the file behind fd, up to its size at the call. Returns 0, -ETIME when g (may
 * be NULL) tripped, or a negative errno. */
int debuginfo__file_crc(int fd, uint32_t *crc, struct guard *g);
/*
 * Open the separate debug file of elf, mapped from path (as seen inside the root directory
 * root_fd of the target; root_fd < 0 means the host root). Searched: the build ID tree under
 * /usr/lib/debug and debug_dir, then the debuglink name next to the file, in its .debug/
 * subdirectory, under /usr/lib/debug/<dir>/ and in debug_dir (CRC checked). Only regular files
 * within GUARD_ELF_MAX are opened, without blocking; g (may be NULL) bounds the time. Returns an
 * fd, or a negative errno.
 */
int debuginfo__open(Elf *elf, int root_fd, const char *path, const char *debug_dir,
		    struct guard *g);
/*
 * Open the DWARF supplement (dwz) a .gnu_debugaltlink names: by build ID as debuginfo__open()
 * does, then at name when it is absolute, its build ID checked. Relative names are not
 * followed. An fd, or a negative errno.
 */
int debuginfo__open_alt(int root_fd, const char *name, const uint8_t *id, size_t len,
			const char *debug_dir, struct guard *g);
/*
 * Bytes the .debug_* and .zdebug_* sections of elf take once libdw has read and expanded them,
 * from their compression headers: nothing is expanded here. 0, -EINVAL or -E2BIG.
 */
int debuginfo__dwarf_size(Elf *elf, uint64_t *size);

#endif /* __DEBUGINFO_H */
