/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * -f: a followed child that execs a program whose allocator lives in a file the inherited
 * probes do not cover (a glibc shell starting a jemalloc server) gets probes of its own,
 * attached while BPF holds it stopped at the exec (a launched command's children) or as soon
 * as leaktrace sees the exec (-p: nothing is stopped); its own children inherit them.
 */
#ifndef __FOLLOW_H
#define __FOLLOW_H

#include <stdbool.h>
#include <sys/types.h>

struct ualloc_bpf;
struct probes;

#define FOLLOW_MAX_IMAGES 32 /* probe sets made for exec'ed children; past that, said once each */

struct follow;

/* covered: the target's probes (inherited by every child). NULL with errno on failure. */
struct follow *follow__new(struct ualloc_bpf *skel, const struct probes *covered, bool verbose);
/*
 * pid has just exec'ed: probe what its new image allocates through unless the inherited
 * probes cover it; held: stopped by BPF (the caller continues it), else said late. 1 when
 * probes were added, 0 when none were needed, negative errno (a one-line message says which
 * process).
 * Programs found covered are remembered by executable and LD_ variables, so a shell's next
 * /bin/true costs no loader run and no ELF read.
 */
int follow__exec(struct follow *f, pid_t pid, bool held);
void follow__free(struct follow *f);

#endif /* __FOLLOW_H */
