/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* -t (memleak's --trace): one line per allocation and free, as each event is applied. */
#ifndef __TRACE_H
#define __TRACE_H

#include <stdio.h>
#include "leaktrace.h"

void trace__event(FILE *out, const struct lt_event *e);

#endif /* __TRACE_H */
