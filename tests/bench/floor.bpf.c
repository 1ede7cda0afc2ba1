// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * make bench's trap floor: programs that do nothing, attached by tests/bench/floor.c where
 * leaktrace attaches its own, so the difference between the two is what leaktrace's programs,
 * ring buffer and reader cost on top of the traps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int empty_entry(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int empty_return(void *ctx)
{
	return 0;
}

/* session link (attach type set by the loader): 1 = this call's return is not wanted */
SEC("uprobe")
int empty_session_skip(void *ctx)
{
	return 1;
}

/* uprobe_multi links (attach type set by the loader), one entry and one return link */
SEC("uprobe")
int empty_multi_entry(void *ctx)
{
	return 0;
}

SEC("uprobe")
int empty_multi_return(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
