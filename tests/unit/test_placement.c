// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Probe placement on the instruction sequences glibc and libstdc++ start functions with. */
#include "placement.h"
#include "unit.h"

#define N(a) a, sizeof(a)

int main(void)
{
	/* glibc free: test %rdi,%rdi; je ... */
	const uint8_t free_[] = {0x48, 0x85, 0xff, 0x0f, 0x84, 0xbf, 0x00, 0x00, 0x00, 0x55};
	/* glibc malloc: push %r12 */
	const uint8_t malloc_[] = {0x41, 0x54, 0x55, 0x53};
	/* glibc posix_memalign: cmpb $0,rip+x; push %r12 */
	const uint8_t pm[] = {0x80, 0x3d, 0x01, 0x02, 0x14, 0x00, 0x00, 0x41, 0x54};
	/* glibc mmap: mov %ecx,%r10d; test ...: nothing to gain */
	const uint8_t mmap_[] = {0x41, 0x89, 0xca, 0x41, 0xf7, 0xc1, 0xff, 0x0f, 0x00, 0x00};
	/* libstdc++ operator new: endbr64; test %rdi,%rdi; mov $1,%eax */
	const uint8_t new_[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x85, 0xff, 0xb8, 0x01, 0, 0, 0};
	/* endbr64; push %rbp */
	const uint8_t endbr_push[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x55};
	/* test; mov: the mov would be single-stepped anyway */
	const uint8_t test_mov[] = {0x48, 0x85, 0xff, 0x48, 0x89, 0xfb};
	/* truncated input never reads past the end */
	const uint8_t trunc[] = {0x80, 0x3d, 0x01};

	CHECK(placement__offset(N(free_)) == 3, "free: probe the je after test");
	CHECK(placement__offset(N(malloc_)) == 0, "malloc: push at entry is emulated");
	CHECK(placement__offset(N(pm)) == 7, "posix_memalign: past the rip-relative cmpb");
	CHECK(placement__offset(N(mmap_)) == 0, "mmap: entry (nothing emulated nearby)");
	CHECK(placement__offset(N(new_)) == 0, "operator new: entry (mov follows test)");
	CHECK(placement__offset(N(endbr_push)) == 4, "endbr64 then push: the push");
	CHECK(placement__offset(N(test_mov)) == 0, "test then mov: entry");
	CHECK(placement__offset(N(trunc)) == 0, "truncated code: entry");
	CHECK(placement__offset(free_, 0) == 0, "empty code: entry");
	CHECK(placement__emulated(free_ + 3, sizeof(free_) - 3), "jcc rel32 is emulated");
	CHECK(!placement__emulated(N(mmap_)), "mov is not");
	return unit_summary();
}
