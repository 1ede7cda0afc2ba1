/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Locating separate debug files: build ID and .gnu_debuglink. */
#ifndef __DEBUGINFO_H
#define __DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>
#include <libelf.h>

/* Point *id at the NT_GNU_BUILD_ID descriptor of elf. Returns 0 or -ENOENT. */
int debuginfo__build_id(Elf *elf, const uint8_t **id, size_t *len);
/* Name and CRC from the .gnu_debuglink section. Returns 0, -ENOENT or -EINVAL. */
int debuginfo__debuglink(Elf *elf, const char **name, uint32_t *crc);
/* zlib CRC32 of the whole file behind fd. Returns 0 or a negative errno. */
int debuginfo__file_crc(int fd, uint32_t *crc);
/*
 * Open the separate debug file of elf, mapped from path (as seen inside the root directory
 * root_fd of the target; root_fd < 0 means the host root). Searched: the build ID tree under
 * /usr/lib/debug and debug_dir, then the debuglink name next to the file, in its .debug/
 * subdirectory, under /usr/lib/debug/<dir>/ and in debug_dir (CRC checked). Returns an fd,
 * or a negative errno.
 */
int debuginfo__open(Elf *elf, int root_fd, const char *path, const char *debug_dir);

#endif /* __DEBUGINFO_H */
