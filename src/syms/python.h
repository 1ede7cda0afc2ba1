/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CPython frames: which processes run a supported CPython and where its structures are (for
 * BPF), the frames BPF captured joined into the native stack as tagged words, and those words
 * named (function, file, line) from the target's memory while it runs.
 */
#ifndef __PYTHON_H
#define __PYTHON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "leaktrace.h"
#include "syms.h"

/* A stack word that is a Python frame (an index in its process's table), never an address. */
#define PYTHON_FRAME_TAG  0xfa11000000000000ULL
#define PYTHON_FRAME_MASK 0xffff000000000000ULL

struct python;

static inline bool python__is_frame(uint64_t word)
{
	return (word & PYTHON_FRAME_MASK) == PYTHON_FRAME_TAG;
}

/*
 * A command about to be launched whose objects (paths) include CPython: set PYTHONMALLOC=malloc
 * in this process's environment, which the command inherits, unless the user set it. pymalloc
 * serves objects of up to 512 bytes from its pools, inlined at ~160 sites of Debian's
 * python3.11: they would never reach a probe.
 */
void python__launch_env(char *const *objs, int n);
/*
 * Whether the CPython at path (as leaktrace opens it) that pid runs is a supported version
 * whose objects go through pymalloc, which no probe reaches in Debian's LTO build: its object
 * constructors are probed instead (bpf/python.bpf.h). False under PYTHONMALLOC=malloc or
 * malloc_debug (in pid's environment; a launched command's is leaktrace's).
 */
bool python__objects_wanted(const char *path, pid_t pid, bool launched);
/*
 * pid's CPython, if it maps one: *cfg for BPF, 0; -ENOENT no CPython; -ENOTSUP a version without
 * offsets (a one-line note printed). *out is set in every case (frames of earlier images stay
 * named); NULL only on -ENOMEM.
 */
int python__open(struct python **out, pid_t pid, struct lt_py_proc *cfg, bool verbose);
/* Keep an LT_EV_PYFRAMES record until its thread's allocation arrives. */
void python__pending(struct python *py, const struct lt_pyframes *e);
/*
 * The stack of allocation e: native[0..nr-1] with the Python frames BPF sent for it, each C
 * _PyEval_EvalFrameDefault frame replaced by the Python frames it was running, the rest after
 * the native ones. Returns the number of words in out (at most max).
 */
uint32_t python__join(struct python *py, const struct lt_alloc *e, const uint64_t *native,
		      uint32_t nr, uint64_t *out, uint32_t max);
/*
 * The kind to intern allocation e's stack with: a CPython object's is a label of its type
 * ("pyobject:dict", LT_K_MAX + its index in python__labels), any other e->h.kind.
 */
uint32_t python__kind(struct python *py, const struct lt_alloc *e);
/* The type labels by kind - LT_K_MAX, for struct report. */
const char *const *python__labels(const struct python *py, uint32_t *nr);
/* Name a tagged word: one frame. */
int python__resolve(struct python *py, uint64_t word, struct sym_frame *out);
void python__free(struct python *py);

#endif /* __PYTHON_H */
