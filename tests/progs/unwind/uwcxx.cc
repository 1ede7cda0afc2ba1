// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for C++ through libstdc++, built -O2 without frame pointers. Outstanding after
 * "done", 50 times each:
 *   app::Store::keep_name     std::string::reserve(200) in libstdc++: 201 B (+ the 32 B string)
 *   app::Store::keep_list     std::vector<int>::reserve(100): 400 B (+ the 24 B vector)
 *   app::Record::Record(int)  new char[64] in a constructor: 64 B (+ the 8 B Record, in
 *                             app::Store::keep_record)
 */
#include <string>
#include <vector>
#include "../progs.h"

namespace app
{

struct Record {
	char *buf;
	NOINLINE explicit Record(int n);
};

Record::Record(int n)
{
	buf = new char[n];
	buf[0] = (char)n;
	hold(buf);
}

class Store
{
      public:
	NOINLINE void keep_name(int n);
	NOINLINE void keep_list(int n);
	NOINLINE void keep_record(int n);
};

void Store::keep_name(int n)
{
	std::string *s = new std::string;

	s->reserve(n);
	s->push_back('x');
	hold(s);
}

void Store::keep_list(int n)
{
	std::vector<int> *v = new std::vector<int>;

	v->reserve(n);
	v->push_back(n);
	hold(v);
}

void Store::keep_record(int n)
{
	Record *r = new Record(n);

	hold(r);
}

} // namespace app

int main()
{
	app::Store st;

	wait_for_go();
	for (int i = 0; i < 50; i++) {
		st.keep_name(200);
		st.keep_list(100);
		st.keep_record(64);
	}
	done_and_wait();
	return 0;
}
