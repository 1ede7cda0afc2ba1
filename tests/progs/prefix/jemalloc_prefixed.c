// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A jemalloc built with --with-jemalloc-prefix=je_, in miniature, as Redis or a Rust program
 * links one: its own heap behind je_malloc ... je_free and the mallocx family, while malloc
 * stays glibc's. Blocks come in power-of-two classes carved from mmap'd chunks; freed blocks
 * go on per-class lists and are handed out again, so addresses are reused as in a real heap.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK	   (1UL << 20)
#define MIN_SHIFT  4
#define NR_CLASSES 48

#define MALLOCX_LG_ALIGN_MASK 0x3f
#define MALLOCX_ZERO	      0x40

/* before every block handed out: its class and its distance from the class block's start */
struct hdr {
	uint32_t cls;
	uint32_t off;
	uint64_t unused;
};

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static void *free_list[NR_CLASSES];
static char *bump, *bump_end;

static void *carve(unsigned int cls)
{
	size_t sz = 1UL << cls;
	void *p;

	if (sz > CHUNK / 4) {
		p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	if (!bump || bump + sz > bump_end) {
		p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		bump = p;
		bump_end = bump + CHUNK;
	}
	p = bump;
	bump += sz;
	return p;
}

static void *heap_alloc(size_t size, size_t align)
{
	size_t need = size + sizeof(struct hdr) + (align > 16 ? align : 0);
	unsigned int cls = MIN_SHIFT;
	uintptr_t user;
	struct hdr *h;
	char *base;

	if (need < size || need > (1UL << (NR_CLASSES - 1)))
		return NULL;
	while ((1UL << cls) < need)
		cls++;
	pthread_mutex_lock(&heap_lock);
	base = free_list[cls];
	if (base)
		free_list[cls] = *(void **)base;
	else
		base = carve(cls);
	pthread_mutex_unlock(&heap_lock);
	if (!base)
		return NULL;
	user = (uintptr_t)base + sizeof(*h);
	if (align > 16)
		user = (user + align - 1) & ~(uintptr_t)(align - 1);
	h = (struct hdr *)user - 1;
	h->cls = cls;
	h->off = user - (uintptr_t)base;
	return (void *)user;
}

static void heap_free(void *p)
{
	struct hdr *h = (struct hdr *)p - 1;
	char *base;

	if (!p)
		return;
	base = (char *)p - h->off;
	pthread_mutex_lock(&heap_lock);
	*(void **)base = free_list[h->cls];
	free_list[h->cls] = base;
	pthread_mutex_unlock(&heap_lock);
}

static size_t heap_usable(void *p)
{
	struct hdr *h = (struct hdr *)p - 1;

	return (1UL << h->cls) - h->off;
}

static void *heap_realloc(void *p, size_t size, size_t align)
{
	void *q;

	if (!p)
		return heap_alloc(size, align);
	if (size <= heap_usable(p) && !((uintptr_t)p & (align - 1)))
		return p;
	q = heap_alloc(size, align);
	if (!q)
		return NULL;
	memcpy(q, p, heap_usable(p));
	heap_free(p);
	return q;
}

static size_t flags_align(int flags)
{
	return flags & MALLOCX_LG_ALIGN_MASK ? 1UL << (flags & MALLOCX_LG_ALIGN_MASK) : 1;
}

void *je_malloc(size_t size)
{
	return heap_alloc(size, 1);
}

void *je_calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	p = heap_alloc(nmemb * size, 1);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

void *je_realloc(void *p, size_t size)
{
	return heap_realloc(p, size, 1);
}

void je_free(void *p)
{
	heap_free(p);
}

int je_posix_memalign(void **memptr, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = heap_alloc(size, align);
	if (!p)
		return ENOMEM;
	*memptr = p;
	return 0;
}

void *je_aligned_alloc(size_t align, size_t size)
{
	return heap_alloc(size, align);
}

void *je_mallocx(size_t size, int flags)
{
	void *p = heap_alloc(size, flags_align(flags));

	if (p && (flags & MALLOCX_ZERO))
		memset(p, 0, size);
	return p;
}

void *je_rallocx(void *p, size_t size, int flags)
{
	return heap_realloc(p, size, flags_align(flags));
}

void je_dallocx(void *p, int flags)
{
	(void)flags;
	heap_free(p);
}

void je_sdallocx(void *p, size_t size, int flags)
{
	(void)size;
	(void)flags;
	heap_free(p);
}
