// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "output.h"

#define MAX_LINKS 40 /* as the kernel's path walk */

/* What -w names, once its symlinks are followed. */
enum out_kind {
	OUT_REGULAR, /* a regular file, or nothing yet: created */
	OUT_STREAM,  /* a character device, a FIFO, our stdout through /proc: written in place */
};

static void dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, size, ".");
	else if (slash == path)
		snprintf(dir, size, "/");
	else
		snprintf(dir, size, "%.*s", (int)(slash - path), path);
}

/*
 * The kernel's protected_symlinks rule, applied even when the sysctl is off: a symlink in a
 * sticky world-writable directory (/tmp) is followed only when it is ours or the directory
 * owner's, so no other user can point our output at a file of their choice.
 */
static int check_link(const char *link, const struct stat *lst, const char *dir, char *why,
		      size_t size)
{
	struct stat dst;

	if (stat(dir, &dst))
		return -errno;
	if ((dst.st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH) ||
	    lst->st_uid == geteuid() || lst->st_uid == dst.st_uid)
		return 0;
	snprintf(why, size,
		 "symlink %s of uid %u in the sticky world-writable directory %s: not followed",
		 link, (unsigned int)lst->st_uid, dir);
	return -EPERM;
}

/*
 * Follow the symlinks at path (its last component, as often as it names one) into resolved,
 * each checked by check_link. A link in /proc (/dev/stdout, /dev/fd/N) names an open file,
 * not a path: it is kept as it is and the file is a stream. 0 or a negative errno; why says it
 * in words when errno would not.
 */
static int resolve(const char *path, char *resolved, size_t size, enum out_kind *kind, mode_t *mode,
		   char *why, size_t why_size)
{
	char dir[PATH_MAX], target[PATH_MAX];
	struct statfs sfs;
	bool magic = false;
	struct stat st;
	ssize_t n;
	int i, err;

	*kind = OUT_REGULAR;
	if (snprintf(resolved, size, "%s", path) >= (int)size)
		return -ENAMETOOLONG;
	for (i = 0; i < MAX_LINKS; i++) {
		if (lstat(resolved, &st))
			return errno == ENOENT ? 0 : -errno;
		if (!S_ISLNK(st.st_mode))
			break;
		dir_of(resolved, dir, sizeof(dir));
		err = check_link(resolved, &st, dir, why, why_size);
		if (err)
			return err;
		if (!statfs(dir, &sfs) && sfs.f_type == PROC_SUPER_MAGIC) {
			if (stat(resolved, &st))
				return -errno;
			magic = true;
			break;
		}
		n = readlink(resolved, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (target[0] == '/')
			n = snprintf(resolved, size, "%s", target);
		else
			n = snprintf(resolved, size, "%s/%s", dir, target);
		if (n >= (ssize_t)size)
			return -ENAMETOOLONG;
	}
	if (i == MAX_LINKS)
		return -ELOOP;
	*mode = st.st_mode;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || (magic && S_ISREG(st.st_mode))) {
		*kind = OUT_STREAM;
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		*kind = OUT_REGULAR;
		return 0;
	}
	snprintf(why, why_size, "%s, not a file for reports",
		 S_ISSOCK(st.st_mode)  ? "a socket"
		 : S_ISBLK(st.st_mode) ? "a block device"
				       : "not a regular file");
	return -EINVAL;
}

/*
 * Open a device, FIFO or stdout in place: never created, truncated or replaced. Non-blocking,
 * so a FIFO with no reader is an error now rather than a hang; blocking again for the writes.
 * A regular file reached through /proc (stdout redirected to a file) is appended to.
 */
static int open_stream(struct output *o, const char *path, mode_t mode, char *why, size_t why_size)
{
	struct stat st;
	int fd, flags, err;

	fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENXIO && S_ISFIFO(mode))
			snprintf(why, why_size, "a FIFO with no reader (start the reader first)");
		return err;
	}
	if (fstat(fd, &st) || (flags = fcntl(fd, F_GETFL)) < 0)
		goto err_errno;
	if (S_ISREG(st.st_mode))
		flags |= O_APPEND;
	if (fcntl(fd, F_SETFL, flags & ~O_NONBLOCK))
		goto err_errno;
	if (o->fmt->binary && isatty(fd)) {
		snprintf(why, why_size, "a terminal, not for --format %s", o->fmt->name);
		close(fd);
		return -EINVAL;
	}
	o->stream = fdopen(fd, "w");
	if (!o->stream)
		goto err_errno;
	o->last_only = o->fmt->snapshot;
	return 0;
err_errno:
	err = -errno;
	close(fd);
	return err;
}

/* A regular file for a stream format: created or truncated, never through a symlink. */
static int open_regular(struct output *o, char *why, size_t why_size)
{
	struct stat st;
	int fd, err;

	fd = open(o->path,
		  O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
		  0666);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || fcntl(fd, F_SETFL, 0))
		goto err_errno;
	if (!S_ISREG(st.st_mode)) { /* swapped in since resolve() looked */
		snprintf(why, why_size, "not a regular file any more");
		close(fd);
		return -EINVAL;
	}
	o->stream = fdopen(fd, "w");
	if (!o->stream)
		goto err_errno;
	return 0;
err_errno:
	err = -errno;
	close(fd);
	return err;
}

/* A temporary file next to path, so that rename() replaces path atomically. */
static int open_temp(const struct output *o, const char *path, char *tmp, size_t size, FILE **f)
{
	int fd;

	if (snprintf(tmp, size, "%s.XXXXXX", path) >= (int)size)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
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
	char tmp[PATH_MAX], why[2 * PATH_MAX + 128] = "";
	enum out_kind kind;
	mode_t mask, mode = 0;
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
	o->resolved = malloc(PATH_MAX);
	if (!o->resolved) {
		err = -ENOMEM;
		goto err;
	}
	err = resolve(path, o->resolved, PATH_MAX, &kind, &mode, why, sizeof(why));
	if (err)
		goto err;
	if (kind == OUT_STREAM) {
		err = open_stream(o, path, mode, why, sizeof(why));
		goto out;
	}
	o->path = o->resolved;
	if (!fmt->snapshot) {
		err = open_regular(o, why, sizeof(why));
		goto out;
	}
	err = open_temp(o, o->path, tmp, sizeof(tmp), &f);
	if (err)
		goto err;
	fclose(f);
	unlink(tmp);
out:
	if (!err) {
		if (o->stream)
			setvbuf(o->stream, NULL, _IOLBF, 0);
		return 0;
	}
err:
	fprintf(stderr, "leaktrace: cannot write %s: %s\n", path, why[0] ? why : strerror(-err));
	free(o->resolved);
	o->resolved = NULL;
	return err;
}

bool output__wants(const struct output *o, bool last)
{
	return last || !o->fmt->snapshot || (o->path && !o->last_only);
}

/* Only a regular file is replaced, and only by a rename, which never follows a symlink. */
static int replace(const struct output *o, const char *tmp)
{
	struct stat st;

	if (!lstat(o->path, &st) && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "leaktrace: cannot write %s: not a regular file, not replaced\n",
			o->path);
		return -EEXIST;
	}
	if (rename(tmp, o->path)) {
		int err = -errno;

		fprintf(stderr, "leaktrace: cannot write %s: %s\n", o->path, strerror(-err));
		return err;
	}
	return 0;
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
	err = open_temp(o, o->path, tmp, sizeof(tmp), &f);
	if (err) {
		fprintf(stderr, "leaktrace: cannot write %s: %s\n", o->path, strerror(-err));
		return err;
	}
	err = o->fmt->write(r, f, ro);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		fprintf(stderr, "leaktrace: cannot write %s: %s\n", o->path, strerror(-err));
	else
		err = replace(o, tmp);
	if (err)
		unlink(tmp);
	return err;
}

void output__close(struct output *o)
{
	if (o->stream && o->stream != stdout)
		fclose(o->stream);
	o->stream = NULL;
	free(o->resolved);
	o->resolved = NULL;
}
