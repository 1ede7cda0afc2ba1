/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A growable array: the one way the tracking tables make room. */
#ifndef __VEC_H
#define __VEC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Make *v (an array of elem_size elements, *cap of them allocated) hold at least need,
 * doubling its capacity from 16; what is added is zeroed. 0, or -ENOMEM with *v and *cap
 * unchanged.
 */
int vec__reserve(void *v, uint32_t *cap, uint32_t need, size_t elem_size);

#endif /* __VEC_H */
