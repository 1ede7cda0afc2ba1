#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The README demo: start a small "server" that leaks one request buffer in ten, trace it
# with leaktrace -p for three 2-second intervals, print the reports; then its descriptors
# (--fds: one request in fifty keeps its log handle) for three.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=${1:-.output/tests/demo}
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (sudo make demo)" >&2; exit 1; }
"$demo" > /tmp/leaktrace-demo.out &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 0.2
echo "+ ./leaktrace -p $pid 2 3    # demo server: read_request() leaks 4 KiB one time in ten"
./leaktrace -p "$pid" 2 3
echo "+ ./leaktrace --fds -p $pid 2 3    # main() leaks a descriptor one request in fifty"
./leaktrace --fds -p "$pid" 2 3
