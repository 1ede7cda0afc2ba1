// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for C++ symbols. Built with -g, then stripped: its DWARF lives in cxxleak.debug
 * beside it, reached through .gnu_debuglink (see the Makefile). Outstanding after "done":
 *   shop::Basket::add(int)      4 x new Item (64 B)    = 256, at the line marked LEAK_ADD
 *   shop::Basket::refill(int)   3 x new char[100]      = 300, through the inlined
 *                               shop::make_buffer(int), at the line marked LEAK_INLINE
 * Everything else is deleted.
 */
#include "progs.h"

namespace shop {

struct Item {
	long id;
	char name[56];
};

static inline __attribute__((always_inline)) char *make_buffer(int n)
{
	return new char[n]; // LEAK_INLINE
}

class Basket {
public:
	NOINLINE void add(int id);
	NOINLINE void refill(int n);
	NOINLINE void churn(int n);
};

void Basket::add(int id)
{
	Item *it = new Item; // LEAK_ADD

	it->id = id;
	hold(it);
}

void Basket::refill(int n)
{
	hold(make_buffer(n));
}

void Basket::churn(int n)
{
	for (int i = 0; i < n; i++)
		delete new Item;
}

} // namespace shop

int main()
{
	shop::Basket b;

	wait_for_go();
	for (int i = 0; i < 4; i++)
		b.add(i);
	for (int i = 0; i < 3; i++)
		b.refill(100);
	b.churn(1000);
	done_and_wait();
	return 0;
}
