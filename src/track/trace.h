/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* -t (memleak's --trace): one line per allocation and free, as each event is applied. */
#ifndef __TRACE_H
#define __TRACE_H

#include <stdio.h>
#include "leaktrace.h"

/* The line of a record (its size checked by the caller), if it is an allocation or a free. */
void trace__record(FILE *out, const struct lt_rec_hdr *h);

#endif /* __TRACE_H */
