/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where reports go: stdout, a file that receives every report, or a file replaced atomically
 * by the latest one. -w never replaces what is not a regular file: a device, a FIFO or our own
 * stdout named through /proc is written in place, and a symlink another user planted in a
 * sticky world-writable directory is not followed.
 */
#ifndef __OUTPUT_H
#define __OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "report.h"

struct output {
	const struct report_format *fmt;
	const char *path; /* NULL: stdout; a regular file: its path with symlinks followed */
	FILE *stream;	  /* stdout, a device or FIFO, or path opened once for a stream format */
	bool last_only;	  /* a snapshot format on a stream: the last report only, as on stdout */
	mode_t mode;	  /* of the files replaced atomically */
	char *resolved;	  /* owns path when symlinks were followed */
};

/*
 * Check that path (NULL: stdout) can be written in format fmt, before anything is attached:
 * a stream format, or any format on a device or FIFO, opens it (a regular file is truncated);
 * a snapshot format creates and removes a temporary file next to it. Prints a one-line error;
 * 0 or a negative errno.
 */
int output__open(struct output *o, const struct report_format *fmt, const char *path);
/* Whether a report is written at all (a snapshot on stdout: the last one only). */
bool output__wants(const struct output *o, bool last);
/* Write one report. 0 or a negative errno (a one-line error is printed). */
int output__write(struct output *o, const struct report *r, const struct report_opts *ro);
void output__close(struct output *o);

#endif /* __OUTPUT_H */
