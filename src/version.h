/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef __VERSION_H
#define __VERSION_H
#define LEAKTRACE_VERSION "0.1.0"
#endif
