/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <stddef.h>
#include <stdlib.h>

#include "demangle.h"

/* libstdc++ (libsupc++) demangler; declared here so that this file stays plain C. */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

char *demangle__name(const char *name)
{
	char *res;
	int status = 0;

	if (!name || name[0] != '_' || name[1] != 'Z')
		return NULL;
	res = __cxa_demangle(name, NULL, NULL, &status);
	if (status) {
		free(res);
		return NULL;
	}
	return res;
}
