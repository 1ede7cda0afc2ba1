// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Ground truth for CFI from a separate debug file: main -> dbg_a -> dbg_b -> dbg_c -> dbg_d ->
 * dbg_e (libuwdbg.so: no .eh_frame FDE, its .debug_frame in libuwdbg.so.debug) -> malloc,
 * 3 x 144 B outstanding.
 */
#include "../progs.h"

void *dbg_a(size_t n);

int main(void)
{
	int i;

	wait_for_go();
	for (i = 0; i < 3; i++)
		hold(dbg_a(144));
	done_and_wait();
	return 0;
}
