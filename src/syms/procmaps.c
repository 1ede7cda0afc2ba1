/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"

int procmaps__parse_line(char *line, struct procmaps_entry *e)
{
	static const char deleted[] = " (deleted)";
	size_t len, dlen = sizeof(deleted) - 1;
	int n = -1;

	memset(e, 0, sizeof(*e));
	len = strlen(line);
	if (len && line[len - 1] == '\n')
		line[--len] = '\0';

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 "%n", &e->start,
		   &e->end, e->perms, &e->pgoff, &e->dev_major, &e->dev_minor, &e->inode,
		   &n) != 7 ||
	    n < 0)
		return -EINVAL;
	if (e->end <= e->start || strlen(e->perms) != 4)
		return -EINVAL;

	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line)
		return 0;

	e->path = line;
	len = strlen(line);
	if (len > dlen && !strcmp(line + len - dlen, deleted))
		e->deleted = true;
	return 0;
}

int procmaps__for_each(pid_t pid, int (*fn)(const struct procmaps_entry *e, void *ctx), void *ctx)
{
	struct procmaps_entry e;
	char path[64], *line = NULL;
	size_t size = 0;
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!ret && getline(&line, &size, f) > 0)
		if (!procmaps__parse_line(line, &e))
			ret = fn(&e, ctx);
	free(line);
	fclose(f);
	return ret;
}
