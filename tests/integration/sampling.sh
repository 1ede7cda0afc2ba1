# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# --sample-bytes against tests/progs/sampler.c, whose leak is known to the byte.

sampler_traced() {
	start_prog sampler
	start_tracer -p "$PROG_PID" 1 -T 1000 "$@"
	go
	stop_tracer
	expect_eq "exit status" "$LT_RC" 0
	grep -q ' final: ' "$TDIR/lt.out" || die "no final report"
}

# within GOT WANT PERCENT
within() {
	awk -v g="$1" -v w="$2" -v p="$3" 'BEGIN { d = (g - w) / w * 100; exit !(d <= p && d >= -p) }'
}

test_sampled_leak_estimate_within_tolerance() {
	# 11990000 B sampled every ~4096 B: about 2900 records, 1 sd of the estimate 1.9%
	sampler_traced --sample-bytes 4096
	local est
	est=$(site_stat leak_sampled bytes)
	within "$est" 11990000 8 || die "leak_sampled estimate $est, want 11990000 +-8%"
	# every free of a sampled allocation reached the tracker: the churn left nothing
	expect_eq "churn_sampled bytes" "$(site_stat churn_sampled bytes)" 0
	expect_eq "lost events" "$(header_stat lost_events)" 0
	expect_eq "missed frees" "$(header_stat missed_frees)" 0
	# frees of unsampled allocations are counted apart, not as unknown frees
	[ "$(header_stat unknown_frees)" -lt 200 ] || die "unknown frees: $(header_stat unknown_frees)"
	grep -qE 'sampling: .* [1-9][0-9]* frees of them not sent' "$TDIR/lt.out" ||
		die "no count of unsampled frees: $(grep sampling "$TDIR/lt.out")"
}

test_free_null_is_no_event_and_every_free_is_seen() {
	sampler_traced
	expect_eq "leak_sampled bytes" "$(site_stat leak_sampled bytes)" 11990000
	expect_eq "leak_sampled count" "$(site_stat leak_sampled count)" 20000
	expect_eq "churn_sampled bytes" "$(site_stat churn_sampled bytes)" 0
	expect_eq "missed frees" "$(header_stat missed_frees)" 0
	expect_eq "lost events" "$(header_stat lost_events)" 0
	# 100000 free(NULL): were they events, each would be an unknown free
	[ "$(header_stat unknown_frees)" -lt 200 ] || die "unknown frees: $(header_stat unknown_frees)"
}
