// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The README demo: a "server" that leaks one request buffer in ten and caches sessions. */
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "progs.h"

struct session {
	char name[120];
	struct session *next;
};

static struct session *cache[64];

NOINLINE char *read_request(unsigned int i)
{
	char *buf = malloc(4096);

	snprintf(buf, 4096, "request %u", i);
	return buf;
}

NOINLINE void handle_request(unsigned int i)
{
	char *buf = read_request(i);

	if (i % 10 == 7)
		return; /* the leak: an error path forgets the buffer */
	free(buf);
}

NOINLINE void cache_session(unsigned int i)
{
	struct session *s = calloc(1, sizeof(*s));

	snprintf(s->name, sizeof(s->name), "session %u", i);
	free(cache[i % 64]); /* a bounded cache: evict what the slot held */
	cache[i % 64] = s;
}

int main(void)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	unsigned int i;

	setenv("PROGS_NO_WAIT", "1", 0);
	wait_for_go();
	for (i = 0;; i++) {
		handle_request(i);
		cache_session(i);
		/* a log handle per request; below the lines the README's output names */
		int log = dup(STDOUT_FILENO);

		if (i % 50 != 23)
			close(log); /* one request in fifty never closes it: a descriptor leak */
		nanosleep(&ts, NULL);
	}
	return 0;
}
