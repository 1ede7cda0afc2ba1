/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "debuginfod.h"

/* From elfutils' debuginfod.h (0.179 on), declared here: only libdebuginfod1 is needed. */
typedef struct debuginfod_client debuginfod_client;
typedef int (*debuginfod_progressfn_t)(debuginfod_client *c, long a, long b);

struct debuginfod {
	void *lib;
	debuginfod_client *client;
	debuginfod_client *(*begin)(void);
	void (*end)(debuginfod_client *c);
	int (*find_debuginfo)(debuginfod_client *c, const unsigned char *id, int len, char **path);
	void (*set_progressfn)(debuginfod_client *c, debuginfod_progressfn_t fn);
	void (*set_user_data)(debuginfod_client *c, void *data);
	unsigned int timeout_s;
	struct timespec deadline;
	bool timed_out;
};

static bool past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* Called about once a second while a query runs, data or not: returning 1 cancels it. */
static int on_progress(debuginfod_client *c, long a, long b)
{
	void *(*get_user_data)(debuginfod_client * c);
	struct debuginfod *d = NULL;
	void *lib;

	(void)a;
	(void)b;
	/* No context argument but the client's user data; the library is loaded already. */
	lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	if (!lib)
		return 0;
	get_user_data = dlsym(lib, "debuginfod_get_user_data");
	if (get_user_data)
		d = get_user_data(c);
	dlclose(lib);
	if (!d || !past(&d->deadline))
		return 0;
	d->timed_out = true;
	return 1;
}

struct debuginfod *debuginfod__new(unsigned int timeout_s)
{
	struct debuginfod *d = calloc(1, sizeof(*d));
	char secs[16];

	if (!d)
		return NULL;
	d->timeout_s = timeout_s;
	d->lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!d->lib) {
		free(d);
		errno = ENOENT;
		return NULL;
	}
	d->begin = dlsym(d->lib, "debuginfod_begin");
	d->end = dlsym(d->lib, "debuginfod_end");
	d->find_debuginfo = dlsym(d->lib, "debuginfod_find_debuginfo");
	d->set_progressfn = dlsym(d->lib, "debuginfod_set_progressfn");
	d->set_user_data = dlsym(d->lib, "debuginfod_set_user_data");
	if (!d->begin || !d->end || !d->find_debuginfo || !d->set_progressfn || !d->set_user_data)
		goto err;
	/* The library's own limits, in case a transfer stalls between progress calls. */
	snprintf(secs, sizeof(secs), "%u", timeout_s);
	setenv("DEBUGINFOD_TIMEOUT", secs, 0);
	setenv("DEBUGINFOD_MAXTIME", secs, 0);
	d->client = d->begin();
	if (!d->client)
		goto err;
	d->set_user_data(d->client, d);
	d->set_progressfn(d->client, on_progress);
	return d;
err:
	dlclose(d->lib);
	free(d);
	errno = ENOSYS;
	return NULL;
}

int debuginfod__find(struct debuginfod *d, const uint8_t *id, size_t len)
{
	char *path = NULL;
	int fd;

	if (d->timed_out)
		return -ETIMEDOUT;
	clock_gettime(CLOCK_MONOTONIC, &d->deadline);
	d->deadline.tv_sec += d->timeout_s;
	fd = d->find_debuginfo(d->client, id, (int)len, &path);
	free(path);
	if (fd >= 0)
		return fd;
	if (d->timed_out || past(&d->deadline)) {
		d->timed_out = true;
		fprintf(stderr,
			"leaktrace: debuginfod: no answer within %u s; no more queries this run\n",
			d->timeout_s);
		return -ETIMEDOUT;
	}
	return fd;
}

void debuginfod__free(struct debuginfod *d)
{
	if (!d)
		return;
	if (d->client)
		d->end(d->client);
	dlclose(d->lib);
	free(d);
}
