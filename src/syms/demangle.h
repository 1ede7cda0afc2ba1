/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* C++ (Itanium ABI) symbol demangling. */
#ifndef __DEMANGLE_H
#define __DEMANGLE_H

/* Demangled copy of name (free() it), or NULL when name is not a mangled C++ name. */
char *demangle__name(const char *name);

#endif /* __DEMANGLE_H */
