# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# scripts/bench-python.sh: a CPython allocation loop (one bytes object made and freed per
# iteration: one malloc and one free under PYTHONMALLOC=malloc; with KIND "object", an
# instance of a class: one PyType_GenericAlloc and one PyObject_GC_Del under pymalloc) at a
# Python stack depth of DEPTH. Prints "ready", waits for SIGUSR1, runs, prints its thread CPU
# time per iteration.
import signal
import sys
import time


class Obj:
    pass


def loop(n, kind):
    t0 = time.thread_time_ns()
    if kind == "object":
        for i in range(n):
            x = Obj()
    else:
        for i in range(n):
            x = bytes(100)
    return time.thread_time_ns() - t0


def nest(depth, n, kind):
    return nest(depth - 1, n, kind) if depth > 1 else loop(n, kind)


def main():
    n, depth = int(sys.argv[1]), int(sys.argv[2])
    kind = sys.argv[3] if len(sys.argv) > 3 else "bytes"
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    print("ready", flush=True)
    signal.sigwait({signal.SIGUSR1})
    ns = nest(depth, n, kind)
    print("cpu_ns_per_iter %.1f" % (ns / n), flush=True)
    print("done", flush=True)


main()
