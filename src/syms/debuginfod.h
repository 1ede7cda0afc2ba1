/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Debug files from debuginfod servers (DEBUGINFOD_URLS), only when the user asks for it
 * (--debuginfod). libdebuginfod is loaded at run time: without it leaktrace still runs.
 */
#ifndef __DEBUGINFOD_H
#define __DEBUGINFOD_H

#include <stddef.h>
#include <stdint.h>

struct debuginfod;

/* A client whose every query gives up after timeout_s seconds. NULL with errno set
 * (ENOENT: libdebuginfod.so.1 is not installed). */
struct debuginfod *debuginfod__new(unsigned int timeout_s);
/*
 * An fd of the debug file with this build ID, downloaded into (or found in) the client's cache.
 * A negative errno otherwise: -ETIMEDOUT once a query ran out of time, after which no more
 * queries are made (a dead server must not stall every report).
 */
int debuginfod__find(struct debuginfod *d, const uint8_t *id, size_t len);
void debuginfod__free(struct debuginfod *d);

#endif /* __DEBUGINFOD_H */
