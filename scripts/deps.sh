#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Install the build and test dependencies that are missing (Debian 12 packages only).
# Tests read the formats back with go tool pprof (golang-go), jq and xmllint (libxml2-utils),
# name libc's own functions through libc6-dbg's build-ID debug files, fetch debug files
# from a local debuginfod server (libdebuginfod1, python3), and run the ground truth linked
# against jemalloc, tcmalloc (libgoogle-perftools-dev), mimalloc and musl (musl-tools), and
# compare the unwound stacks with heaptrack's; Debian's sqlite3 is an FP-less program to launch;
# btrfs-progs makes a btrfs subvolume (its st_dev is not the s_dev BPF sees) to launch from.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

for p in make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev libdw-dev zlib1g-dev \
	 g++ golang-go jq libxml2-utils libc6-dbg libdebuginfod1 python3 libjemalloc-dev \
	 libgoogle-perftools-dev libmimalloc-dev musl-tools libcapstone-dev redis-server \
	 redis-tools heaptrack sqlite3 btrfs-progs "$@"; do
	have_pkg "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${need[*]} (run as root to install them)" >&2
	exit 1
fi
echo "deps.sh: installing ${need[*]}" >&2
stamp=/var/lib/apt/periodic/leaktrace-updated
if [ ! -e "$stamp" ]; then
	apt-get update -qq >&2
	mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
