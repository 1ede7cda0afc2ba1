/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where reports go: stdout, a file that receives every report, or a file replaced atomically
 * by the latest one. */
#ifndef __OUTPUT_H
#define __OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "report.h"

struct output {
	const struct report_format *fmt;
	const char *path; /* NULL: stdout */
	FILE *stream;	  /* stdout, or path opened once for a stream format */
	mode_t mode;	  /* of the files replaced atomically */
};

/*
 * Check that path (NULL: stdout) can be written in format fmt, before anything is attached:
 * a stream format opens (and truncates) it, a snapshot format creates and removes a
 * temporary file next to it. Prints a one-line error; 0 or a negative errno.
 */
int output__open(struct output *o, const struct report_format *fmt, const char *path);
/* Whether a report is written at all (a snapshot on stdout: the last one only). */
bool output__wants(const struct output *o, bool last);
/* Write one report. 0 or a negative errno (a one-line error is printed). */
int output__write(struct output *o, const struct report *r, const struct report_opts *ro);
void output__close(struct output *o);

#endif /* __OUTPUT_H */
