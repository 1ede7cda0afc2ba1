// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"

/* A temporary file next to path, so that rename() replaces path atomically. */
static int open_temp(const struct output *o, char *tmp, size_t size, FILE **f)
{
	int fd;

	if (snprintf(tmp, size, "%s.XXXXXX", o->path) >= (int)size)
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, o->mode) || !(*f = fdopen(fd, "w"))) {
		int err = -errno;

		close(fd);
		unlink(tmp);
		return err;
	}
	return 0;
}

int output__open(struct output *o, const struct report_format *fmt, const char *path)
{
	char tmp[PATH_MAX];
	struct stat st;
	mode_t mask;
	FILE *f;
	int err;

	memset(o, 0, sizeof(*o));
	o->fmt = fmt;
	o->path = path;
	mask = umask(0);
	umask(mask);
	o->mode = 0666 & ~mask;
	if (!path) {
		o->stream = stdout;
		return 0;
	}
	if (!fmt->snapshot) {
		o->stream = fopen(path, "we");
		if (!o->stream) {
			err = -errno;
			goto err;
		}
		setvbuf(o->stream, NULL, _IOLBF, 0);
		return 0;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto err;
	}
	err = open_temp(o, tmp, sizeof(tmp), &f);
	if (err)
		goto err;
	fclose(f);
	unlink(tmp);
	return 0;
err:
	fprintf(stderr, "leaktrace: cannot write %s: %s\n", path, strerror(-err));
	return err;
}

bool output__wants(const struct output *o, bool last)
{
	return last || !o->fmt->snapshot || o->path;
}

int output__write(struct output *o, const struct report *r, const struct report_opts *ro)
{
	char tmp[PATH_MAX];
	FILE *f;
	int err;

	if (o->stream) {
		errno = 0;
		err = o->fmt->write(r, o->stream, ro);
		/* A reader that went away (| head) is the end of the run, not an error. */
		if (err == -EIO && errno == EPIPE)
			return -EPIPE;
		if (err)
			fprintf(stderr, "leaktrace: cannot write %s: %s\n", o->path ?: "stdout",
				strerror(errno ?: -err));
		return err;
	}
	err = open_temp(o, tmp, sizeof(tmp), &f);
	if (err)
		goto err;
	err = o->fmt->write(r, f, ro);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, o->path))
		err = -errno;
	if (err)
		unlink(tmp);
err:
	if (err)
		fprintf(stderr, "leaktrace: cannot write %s: %s\n", o->path, strerror(-err));
	return err;
}

void output__close(struct output *o)
{
	if (o->stream && o->stream != stdout)
		fclose(o->stream);
	o->stream = NULL;
}
