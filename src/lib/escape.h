/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Strings the target supplies (its comm, paths, symbol names), made safe for a terminal. */
#ifndef __ESCAPE_H
#define __ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Room for an escaped copy of n bytes: each byte may become \xHH. */
#define ESCAPE_SIZE(n) (4 * (n) + 1)

/*
 * s with the bytes a terminal would act on written as \xHH: C0 controls (tab and newline
 * too), DEL, C1 controls (U+0080..U+009F) and bytes that are not UTF-8; a backslash becomes
 * \\ so the escaped form is never ambiguous. Into buf, cut short (never inside an escape)
 * when it does not fit; returns buf. NULL gives "?".
 */
const char *escape__str(const char *s, char *buf, size_t size);
/* Length of the valid UTF-8 sequence at s (1 for ASCII), 0 when it is not one. */
int escape__utf8_len(const unsigned char *s);
/* The same, written to out. */
void escape__fputs(const char *s, FILE *out);

#endif /* __ESCAPE_H */
