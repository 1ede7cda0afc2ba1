/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one hash table: open addressing with linear probing, backward-shift deletion (no
 * tombstones: a probe stops at the first empty slot however many deletes came before), grown
 * to twice its slots past a load of 7/10.
 *
 * It holds entries of a fixed size in place, each starting with its key (the tracker's entry
 * is its allocation record, address first); a key of all zero bytes marks an empty slot, so it
 * cannot be stored. A key kept outside the entry (a string, a stack's frames) is looked up with
 * the _by calls: the caller hashes it and says which entry is it, the entry holds a handle (an
 * index + 1) and the table's hash function gives the hash of the key an entry stands for.
 *
 * Entry pointers stay valid until the next insert or remove.
 */
#ifndef __HTAB_H
#define __HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t (*htab_hash_fn)(const void *entry, void *ctx);
typedef bool (*htab_eq_fn)(const void *entry, const void *arg);

struct htab {
	char *slots;
	size_t nr_slots; /* a power of two; 0 until the first insert */
	size_t nr;
	uint32_t entry_size, key_size;
	htab_hash_fn hash; /* NULL: hash__bytes of the key (hash__u64 of an 8-byte one) */
	void *ctx;
};

/* A table of entry_size-byte entries whose first key_size bytes are the key. */
void htab__init(struct htab *t, uint32_t entry_size, uint32_t key_size);
/* The same, for keys kept outside: hash(entry, ctx) is the hash _by calls were given for it. */
void htab__init_by(struct htab *t, uint32_t entry_size, uint32_t key_size, htab_hash_fn hash,
		   void *ctx);
void htab__fini(struct htab *t);
/* Remove every entry, keeping the slots. */
void htab__clear(struct htab *t);

/* The entry with this key, or NULL. */
void *htab__find(const struct htab *t, const void *key);
/* The entry with this key; when *found is false it is new: the key copied, the rest zero.
 * NULL when the table cannot grow. */
void *htab__insert(struct htab *t, const void *key, bool *found);
/* Remove the entry with this key; false when there was none. */
bool htab__delete(struct htab *t, const void *key);
/* Remove an entry that find or insert returned. */
void htab__remove(struct htab *t, void *entry);

/* The entry eq(entry, arg) holds for, among those whose key hashes to hash; or NULL. */
void *htab__find_by(const struct htab *t, uint64_t hash, htab_eq_fn eq, const void *arg);
/* The same, or a new zeroed entry whose key the caller sets (not all zero) before any other
 * call on the table; NULL when the table cannot grow. */
void *htab__insert_by(struct htab *t, uint64_t hash, htab_eq_fn eq, const void *arg, bool *found);

/* Every entry, in no order: for (pos = 0; (e = htab__next(t, &pos));) */
void *htab__next(const struct htab *t, size_t *pos);
size_t htab__count(const struct htab *t);
/* Bytes held by the slots. */
size_t htab__mem(const struct htab *t);

#endif /* __HTAB_H */
