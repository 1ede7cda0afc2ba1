/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Just enough protobuf wire encoding to write a message by hand: varints and length-delimited
 * fields into a growable buffer. */
#ifndef __PROTOBUF_H
#define __PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

struct pb {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err; /* sticky: the first failure (-ENOMEM); later calls do nothing */
};

void pb__varint(struct pb *b, uint64_t v);
/* A varint field; skipped when v is 0 (proto3 default). */
void pb__uint(struct pb *b, uint32_t field, uint64_t v);
/* A varint field written even when v is 0 (an element of a repeated field). */
void pb__uint_always(struct pb *b, uint32_t field, uint64_t v);
void pb__bytes(struct pb *b, uint32_t field, const void *data, size_t len);
/* A nested message: its encoded form in sub (which is then emptied for reuse). */
void pb__message(struct pb *b, uint32_t field, struct pb *sub);
/* A packed repeated varint field. */
void pb__packed(struct pb *b, uint32_t field, const uint64_t *v, size_t n);
void pb__reset(struct pb *b);
void pb__free(struct pb *b);

#endif /* __PROTOBUF_H */
