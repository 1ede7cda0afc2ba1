# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Ground truth for tests/integration/python.sh: Python functions that leak at known rates beside
# churn. Prints "ready", waits for SIGUSR1, runs MODE, prints "done", waits for SIGUSR1 again
# (so its objects are still outstanding when the tracer reports); with PROGS_NO_WAIT set, runs
# MODE and exits.
import ctypes
import gc
import logging
import os
import signal
import sys
import threading

log = logging.getLogger("sync")
requests = []


class JobHandler(logging.Handler):
    def __init__(self, job):
        super().__init__()
        self.buf = bytearray(4096)  # one object and one 4097-byte buffer per handler


def add_handler(job):
    log.addHandler(JobHandler(job))


def handle_request(i):
    requests.append({"id": i, "ok": True})  # a dict and its keys table per request


class Temp:
    pass


def churn(i):
    b = bytes(300 + i % 7)
    t = Temp()
    t.me = t  # a cycle: freed by the collector, which 3.11 runs inside an allocation
    t.buf = bytearray(100 + i % 3)
    t.ids = {i, i + 1}
    return len(b)


def native_leak(libc, n):
    for _ in range(n):
        libc.malloc(777)


def thread_leak(n, out):
    for _ in range(n):
        out.append(bytearray(2000))


def run(mode, n):
    if mode == "requests":
        for i in range(n):
            handle_request(i)
            churn(i)
    elif mode == "jobs":
        for i in range(n):
            add_handler(i)
            for j in range(10):
                churn(j)
    elif mode == "grow":
        stop = threading.Event()
        for i in range(n):
            add_handler(i)
            for j in range(50):
                churn(j)
            stop.wait(0.02)
    elif mode == "ctypes":
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc.restype = ctypes.c_void_p
        native_leak(libc, n)
    elif mode == "threads":
        outs = [[] for _ in range(4)]
        ts = [threading.Thread(target=thread_leak, args=(n, o)) for o in outs]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        requests.append(outs)


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    wait = not os.environ.get("PROGS_NO_WAIT")
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    # what CPython allocates for a handler and for a dict, pre-header included
    print("sizes handler %d dict %d" % (sys.getsizeof(object.__new__(JobHandler)),
                                        sys.getsizeof({})), flush=True)
    print("ready PYTHONMALLOC=%s" % os.environ.get("PYTHONMALLOC"), flush=True)
    if wait:
        signal.sigwait({signal.SIGUSR1})
    gc.collect()
    blocks, objects = sys.getallocatedblocks(), len(gc.get_objects())
    run(mode, n)
    gc.collect()  # the cycles churn made: none outstanding at the report
    # what the run left: pymalloc blocks, and objects the collector tracks
    print("left blocks %d gc_objects %d" % (sys.getallocatedblocks() - blocks,
                                             len(gc.get_objects()) - objects), flush=True)
    print("done", flush=True)
    if wait:
        signal.sigwait({signal.SIGUSR1})


main()
