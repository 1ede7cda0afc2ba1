// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "protobuf.h"

enum { PB_VARINT = 0, PB_LEN = 2 };

static int pb__reserve(struct pb *b, size_t n)
{
	size_t cap;
	uint8_t *data;

	if (b->err)
		return b->err;
	if (b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	data = realloc(b->data, cap);
	if (!data)
		return b->err = -ENOMEM;
	b->data = data;
	b->cap = cap;
	return 0;
}

void pb__varint(struct pb *b, uint64_t v)
{
	if (pb__reserve(b, 10))
		return;
	while (v >= 0x80) {
		b->data[b->len++] = (uint8_t)v | 0x80;
		v >>= 7;
	}
	b->data[b->len++] = (uint8_t)v;
}

static void pb__key(struct pb *b, uint32_t field, int wire)
{
	pb__varint(b, (uint64_t)field << 3 | wire);
}

void pb__uint_always(struct pb *b, uint32_t field, uint64_t v)
{
	pb__key(b, field, PB_VARINT);
	pb__varint(b, v);
}

void pb__uint(struct pb *b, uint32_t field, uint64_t v)
{
	if (v)
		pb__uint_always(b, field, v);
}

void pb__bytes(struct pb *b, uint32_t field, const void *data, size_t len)
{
	pb__key(b, field, PB_LEN);
	pb__varint(b, len);
	if (pb__reserve(b, len))
		return;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
}

void pb__message(struct pb *b, uint32_t field, struct pb *sub)
{
	if (sub->err && !b->err)
		b->err = sub->err;
	pb__bytes(b, field, sub->data, sub->len);
	pb__reset(sub);
}

void pb__packed(struct pb *b, uint32_t field, const uint64_t *v, size_t n)
{
	size_t i, len = 0;
	uint64_t x;

	for (i = 0; i < n; i++)
		for (x = v[i], len++; x >= 0x80; x >>= 7)
			len++;
	pb__key(b, field, PB_LEN);
	pb__varint(b, len);
	for (i = 0; i < n; i++)
		pb__varint(b, v[i]);
}

void pb__reset(struct pb *b)
{
	b->len = 0;
	b->err = 0;
}

void pb__free(struct pb *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
