// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for C++. Outstanding after "done":
 *   leak_new             8 x new Node (48 B)           = 384
 *   leak_new_array       3 x new char[1000]            = 3000
 *   leak_new_aligned     2 x new Aligned (128 B, 64)   = 256
 *   leak_new_nothrow     4 x new (nothrow) char[250]   = 1000
 * churn (new/delete of every kind, 5000 times) leaves nothing: with an allocator whose delete
 * does not call free (jemalloc, tcmalloc), every delete must be seen.
 */
#include <new>
#include "progs.h"

struct Node {
	long v[6];
};

struct alignas(64) Aligned {
	char b[128];
};

NOINLINE void leak_new(void)
{
	for (int i = 0; i < 8; i++)
		hold(new Node());
}

NOINLINE void leak_new_array(void)
{
	for (int i = 0; i < 3; i++)
		hold(new char[1000]);
}

NOINLINE void leak_new_aligned(void)
{
	for (int i = 0; i < 2; i++)
		hold(new Aligned());
}

NOINLINE void leak_new_nothrow(void)
{
	for (int i = 0; i < 4; i++)
		hold(new (std::nothrow) char[250]);
}

NOINLINE void churn(void)
{
	for (int i = 0; i < 5000; i++) {
		Node *n = new Node();
		char *a = new char[16 + i % 300];
		Aligned *al = new Aligned();
		char *nt = new (std::nothrow) char[40];

		hold(n);
		delete n; /* sized delete */
		delete[] a;
		delete al; /* aligned sized delete */
		operator delete[](nt, std::nothrow);
	}
}

int main(void)
{
	wait_for_go();
	leak_new();
	leak_new_array();
	leak_new_aligned();
	leak_new_nothrow();
	churn();
	done_and_wait();
	return 0;
}
