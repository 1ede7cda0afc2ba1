// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include "escape.h"
#include "follow.h"
#include "hash.h"
#include "probes.h"
#include "target.h"
#include "uprobe_inherit.h"

struct image {
	struct probes probes;
	struct uprobe_inherit ui;
};

/* A program whose malloc the inherited probes serve: its executable and its LD_ variables. */
struct image_key {
	uint64_t dev, ino, env_hash;
};

#define COVERED_CACHE 64

struct follow {
	struct ualloc_bpf *skel;
	struct image_key covered_cache[COVERED_CACHE]; /* most exec'ed programs: no look needed */
	unsigned int nr_cached;
	const struct probes *covered;
	bool verbose;
	struct image *images[FOLLOW_MAX_IMAGES];
	unsigned int nr_images;
};

struct follow *follow__new(struct ualloc_bpf *skel, const struct probes *covered, bool verbose)
{
	struct follow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->skel = skel;
	f->covered = covered;
	f->verbose = verbose;
	return f;
}

static void image__free(struct image *im)
{
	probes__detach(&im->probes); /* closes the inherited events too */
	free(im);
}

/* The set that probes the file obj (as t sees it) already, or NULL. */
static struct image *image_of(struct follow *f, const struct target *t, const char *obj)
{
	char path[4200];
	unsigned int i;

	target__path(t, obj, path, sizeof(path));
	for (i = 0; i < f->nr_images; i++)
		if (probes__covers(&f->images[i]->probes, path) == 1)
			return f->images[i];
	return NULL;
}

/* 1 probes added, 0 none needed (covered), negative errno (-ENOSPC: no room, said) */
static int probe_image(struct follow *f, struct target *t, bool held)
{
	struct probes_opts po = {
		.hold_exit = true,
		.verbose = f->verbose,
		.covered = f->covered,
	};
	const char *when = held ? "" : " (late: not held, what it allocated first is not traced)";
	struct image *im;
	char obj[4096], comm[ESCAPE_SIZE(sizeof(t->comm))], eobj[ESCAPE_SIZE(sizeof(obj))];
	int err;

	err = probes__serve_objs(f->covered, t, obj, sizeof(obj));
	if (err)
		return err == 1 ? 0 : err; /* the common case: its malloc is probed already */
	/* a program on an allocator probed for another child: the same probes, its own filter
	 * entry (probes fire once per hit however many processes they filter for) */
	im = image_of(f, t, obj);
	if (im) {
		err = uprobe_inherit__add_task(&im->ui, t->pid);
		if (!err)
			fprintf(stderr,
				"leaktrace: pid %d (%s) exec'ed a program allocating through "
				"%s: probed%s\n",
				t->pid, escape__str(t->comm, comm, sizeof(comm)),
				escape__str(obj, eobj, sizeof(eobj)), when);
		return err ? err : 1;
	}
	if (f->nr_images == FOLLOW_MAX_IMAGES) {
		fprintf(stderr,
			"leaktrace: pid %d (%s) allocates through %s; %d allocators were probed, "
			"no more: its heap is not traced\n",
			t->pid, escape__str(t->comm, comm, sizeof(comm)),
			escape__str(obj, eobj, sizeof(eobj)), FOLLOW_MAX_IMAGES);
		return -ENOSPC;
	}
	im = calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	im->probes.inherit = &im->ui;
	err = uprobe_inherit__open(&im->ui, t->pid);
	if (!err)
		err = probes__attach(&im->probes, f->skel, t, &po);
	if (err) {
		image__free(im);
		return err;
	}
	f->images[f->nr_images++] = im;
	fprintf(stderr,
		"leaktrace: pid %d (%s) exec'ed a program allocating through %s: %d "
		"probes added%s\n",
		t->pid, escape__str(t->comm, comm, sizeof(comm)),
		escape__str(im->probes.alloc_obj, eobj, sizeof(eobj)), im->probes.nr_links, when);
	return 1;
}

static int image_key(pid_t pid, struct image_key *k)
{
	char path[64], *envp[17], *buf;
	struct stat st;
	uint64_t h = 0;
	int i, err;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st))
		return -errno;
	buf = malloc(65536);
	if (!buf)
		return -ENOMEM;
	err = target__ld_env(pid, buf, 65536, envp);
	for (i = 0; !err && envp[i]; i++)
		h = hash__mix(h, hash__str(envp[i]));
	free(buf);
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->env_hash = h;
	return err;
}

static bool known_covered(const struct follow *f, const struct image_key *k)
{
	unsigned int i;

	for (i = 0; i < f->nr_cached && i < COVERED_CACHE; i++)
		if (!memcmp(&f->covered_cache[i], k, sizeof(*k)))
			return true;
	return false;
}

int follow__exec(struct follow *f, pid_t pid, bool held)
{
	struct image_key k;
	struct target t;
	bool keyed;
	int err;

	/* a program seen before with the same LD_ variables: no loader run, no ELF read */
	keyed = image_key(pid, &k) == 0;
	if (keyed && known_covered(f, &k))
		return 0;
	err = target__open_exec(&t, pid);
	if (!err)
		err = probe_image(f, &t, held);
	if (err == 0 && keyed)
		f->covered_cache[f->nr_cached++ % COVERED_CACHE] = k;
	if (err < 0 && err != -ESRCH && err != -ENOSPC)
		fprintf(stderr, "leaktrace: cannot probe pid %d after its exec: %s\n", pid,
			strerror(-err));
	target__free(&t);
	return err;
}

void follow__free(struct follow *f)
{
	unsigned int i;

	if (!f)
		return;
	for (i = 0; i < f->nr_images; i++)
		image__free(f->images[i]);
	free(f);
}
