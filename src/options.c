// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wordexp.h>
#include "leaktrace.h"
#include "options.h"
#include "report.h"
#include "suppress.h"
#include "version.h"

struct options env = {
	.interval_s = 5,
	.top = 10,
	.max_size = UINT64_MAX,
	.ringbuf_mb = 32,
	.sort = SORT_SIZE,
	.max_frames = LT_MAX_FRAMES,
};

enum {
	OPT_NO_LINES = 0x100,
	OPT_NO_DEMANGLE,
	OPT_DEBUG_DIR,
	OPT_DEBUGINFOD,
	OPT_SAMPLE_BYTES,
	OPT_RINGBUF,
	OPT_SORT,
	OPT_BASELINE,
	OPT_FORMAT,
	OPT_REACHABLE,
	OPT_KSTACK_EXACT,
	OPT_FDS,
	OPT_THREADS,
	OPT_MEMORY,
	OPT_UNWIND = 0x180,
	/* memleak's long-only options */
	OPT_STACK_STORAGE,
	OPT_PERF_DEPTH,
	OPT_EBPF,
	/* suppressions */
	OPT_SUPPRESS,
};

static const struct option long_opts[] = {
	{"pid", required_argument, NULL, 'p'},
	{"kernel", no_argument, NULL, 'k'},
	{"follow", no_argument, NULL, 'f'},
	{"top", required_argument, NULL, 'T'},
	{"older", required_argument, NULL, 'o'},
	{"min-size", required_argument, NULL, 'z'},
	{"max-size", required_argument, NULL, 'Z'},
	{"show-allocs", no_argument, NULL, 'a'},
	{"obj", required_argument, NULL, 'O'},
	{"symbols-prefix", required_argument, NULL, 'S'},
	{"command", required_argument, NULL, 'c'},
	{"sample-rate", required_argument, NULL, 's'},
	{"sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES},
	{"sort", required_argument, NULL, OPT_SORT},
	{"baseline", required_argument, NULL, OPT_BASELINE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'w'},
	{"no-lines", no_argument, NULL, OPT_NO_LINES},
	{"no-demangle", no_argument, NULL, OPT_NO_DEMANGLE},
	{"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
	{"debuginfod", optional_argument, NULL, OPT_DEBUGINFOD},
	{"ringbuf-mb", required_argument, NULL, OPT_RINGBUF},
	{"unwind", required_argument, NULL, OPT_UNWIND},
	{"verbose", no_argument, NULL, 'v'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, 'h'},
	{"reachable", no_argument, NULL, OPT_REACHABLE},
	{"kstack-exact", no_argument, NULL, OPT_KSTACK_EXACT},
	{"fds", no_argument, NULL, OPT_FDS},
	{"threads", no_argument, NULL, OPT_THREADS},
	{"memory", no_argument, NULL, OPT_MEMORY},
	/* memleak's, with its meaning (README, "memleak's flags") */
	{"trace", no_argument, NULL, 't'},
	{"combined-only", no_argument, NULL, 'C'},
	{"wa-missing-free", no_argument, NULL, 'F'},
	{"percpu", no_argument, NULL, 'P'},
	{"stack-storage-size", required_argument, NULL, OPT_STACK_STORAGE},
	{"perf-max-stack-depth", required_argument, NULL, OPT_PERF_DEPTH},
	{"ebpf", no_argument, NULL, OPT_EBPF},
	{"suppress", required_argument, NULL, OPT_SUPPRESS},
	{},
};

static const char usage[] =
	"Usage: leaktrace [OPTIONS] [-k] [-p PID] [INTERVAL [COUNT]]\n"
	"       leaktrace [OPTIONS] [INTERVAL [COUNT]] -- COMMAND [ARGS...]\n"
	"Trace outstanding (allocated, not freed) memory by stack.\n"
	"\n"
	"  -p, --pid PID          trace the process PID\n"
	"  -- COMMAND [ARGS...]   run COMMAND, traced from its first instruction; the final\n"
	"                         report is printed when it exits, with its exit status\n"
	"  -c, --command \"CMD\"   the same, memleak's form: CMD split into words as a shell would\n"
	"  -f, --follow           also trace the processes it forks (and what they exec), each\n"
	"                         reported on its own\n"
	"  -k, --kernel           kernel allocations (kmalloc, slab, pages, percpu): system-wide,\n"
	"                         or made in the context of -p PID; the default without -p\n"
	"      --kstack-exact     -k: walk every allocation's kernel stack (bpftrace's cost)\n"
	"                         instead of reusing the stack cached for its call site\n"
	"  -T, --top N            stacks per report (default 10)\n"
	"  -o, --older MS         only allocations older than MS milliseconds (default 0: all;\n"
	"                         memleak.py's default is 500)\n"
	"  -z, --min-size BYTES   only allocations of at least BYTES\n"
	"  -Z, --max-size BYTES   only allocations of at most BYTES\n"
	"  -a, --show-allocs      list each outstanding address and size under its stack\n"
	"      --sort KEY         rank stacks by size (default), count, growth, age or unreachable\n"
	"      --baseline SECONDS treat the first SECONDS as warm-up: hide what they allocated\n"
	"      --format FMT       text (default), json (one object per line), folded, pprof or svg\n"
	"  -w, --output FILE      write reports to FILE; folded, pprof and svg keep the latest\n"
	"                         report in it, replaced at each interval (a device or FIFO is\n"
	"                         written in place, never replaced)\n"
	"  -O, --obj PATH         allocator library or binary to probe (default: the object that\n"
	"                         serves malloc: jemalloc, tcmalloc, mimalloc, libc, the binary)\n"
	"  -S, --symbols-prefix P the allocator's functions are named Pmalloc, Pfree... (je_)\n"
	"      --sample-bytes N   sample about one allocation every N bytes, scaled back (0: all)\n"
	"  -s, --sample-rate N    memleak's form: record one allocation in N, whatever its size,\n"
	"                         scaled back (not with --sample-bytes)\n"
	"      --no-lines         do not look up source lines\n"
	"      --no-demangle      print C++ names mangled\n"
	"      --debug-dir DIR    extra root to search for separate debug files\n"
	"      --debuginfod[=SECS] fetch debug files not found locally from DEBUGINFOD_URLS,\n"
	"                         each query at most SECS seconds (default 10); off by default\n"
	"      --ringbuf-mb N     ring buffer size in MiB, a power of two up to 2048 (default 32)\n"
	"      --reachable        at each report, stop the process briefly and scan its memory:\n"
	"                         each stack's bytes split into unreachable (nothing points at\n"
	"                         them: lost) and reachable (a cache, a table)\n"
	"      --fds              open file descriptors by the stack that created them\n"
	"      --threads          live and exited-but-not-joined threads by creating stack\n"
	"      --memory           memory too, beside --fds or --threads (alone: memory only)\n"
	"      --unwind MODE      user stacks: auto (CFI tables, frame pointers where an object\n"
	"                         has none; default), cfi (CFI tables only), fp (frame pointers)\n"
	"      --suppress FILE    stacks not to rank as leaks, LeakSanitizer's leak:PATTERN lines\n"
	"                         (function, file or library, * wildcards); shown apart, counted,\n"
	"                         as glibc's one-time allocations (NSS, locale, dlopen) always are\n"
	"  -v, --verbose          more messages, libbpf's included\n"
	"  -V, --version          print the version and exit\n"
	"  -h, --help             print this help and exit\n"
	"memleak's flags, with its meaning:\n"
	"  -t, --trace            one line per allocation and free (stderr)\n"
	"  -C, --combined-only    accepted: reports are always combined by stack\n"
	"  -F, --wa-missing-free  accepted: an address allocated again drops its stale record\n"
	"                         (counted as a missed free)\n"
	"  -P, --percpu           accepted: -k always traces percpu allocations\n"
	"      --stack-storage-size N  accepted: stacks are kept in userspace, no limit\n"
	"      --perf-max-stack-depth N  frames kept per stack (default and most: 64)\n"
	"\n"
	"INTERVAL seconds between reports (default 5); COUNT reports, then exit (default: until\n"
	"Ctrl-C or the target exits). A final report is printed at exit.\n"
	"\n"
	"Examples:\n"
	"  leaktrace -p $(pidof server)            every 5 s, the 10 stacks holding the most\n"
	"  leaktrace -p 1234 10 6 --sort growth    six reports 10 s apart, growing stacks first\n"
	"  leaktrace -- ./a.out arg                run a.out; its leaks when it exits\n"
	"  leaktrace -p 1234 --format pprof -w heap.pb.gz 30 1; go tool pprof -top heap.pb.gz\n"
	"  leaktrace -k 5 1                        kernel allocations, one report after 5 s\n"
	"\n"
	"Exit status:\n"
	"  0    done (COUNT reports, Ctrl-C, SIGTERM or the traced process exited)\n"
	"  1    a run-time error (not root, no BTF, cannot attach, cannot write the output)\n"
	"  2    a usage error (unknown option, bad value, conflicting options)\n"
	"  N    with -- COMMAND or -c: the command's exit status, 128+SIG if a signal killed it\n"
	"  130  a second Ctrl-C: killed by SIGINT, no final report (143 for a second SIGTERM)\n"
	"See leaktrace(8).\n";

static wordexp_t command_words;

/* -c "CMD ARGS": words as a shell splits them (quotes, $VAR), never running a command. */
static int split_command(const char *cmd)
{
	int err;

	if (env.command) {
		fprintf(stderr, "leaktrace: give the command once (-c or -- COMMAND)\n");
		return -EINVAL;
	}
	err = wordexp(cmd, &command_words, WRDE_NOCMD);
	if (err || !command_words.we_wordc) {
		fprintf(stderr, "leaktrace: invalid --command '%s'%s\n", cmd,
			err == WRDE_CMDSUB ? " (no $(...) or `...`)" : "");
		return -EINVAL;
	}
	env.command = command_words.we_wordv;
	return 0;
}

static int parse_u64(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	/* strtoull would also take leading spaces and a sign */
	if (!s || *s < '0' || *s > '9')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	fprintf(stderr, "leaktrace: invalid %s '%s' (expected an integer from %llu to %llu)\n",
		what, s ? s : "", (unsigned long long)min, (unsigned long long)max);
	return -EINVAL;
}

static int parse_uint(const char *what, const char *s, unsigned int min, unsigned int max,
		      unsigned int *out)
{
	uint64_t v = 0;
	int err;

	err = parse_u64(what, s, min, max, &v);
	if (!err)
		*out = v;
	return err;
}

static int check_dir(const char *what, const char *path)
{
	struct stat st;
	int err;

	if (stat(path, &st)) {
		err = -errno;
		fprintf(stderr, "leaktrace: %s %s: %s\n", what, path, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "leaktrace: %s %s: not a directory\n", what, path);
		return -ENOTDIR;
	}
	return 0;
}

int options__parse(int argc, char **argv)
{
	uint64_t v = 0;
	unsigned int v32;
	int opt, err;

	/* everything after "--" is the command, untouched by option parsing */
	for (opt = 1; opt < argc; opt++) {
		if (strcmp(argv[opt], "--"))
			continue;
		if (opt + 1 == argc) {
			fprintf(stderr, "leaktrace: no command after '--'\n");
			return -EINVAL;
		}
		env.command = &argv[opt + 1];
		argc = opt;
		break;
	}
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:kfT:o:z:Z:aO:S:c:s:w:vVhtCFP", long_opts,
				  NULL)) != -1) {
		err = 0;
		switch (opt) {
		case 'p':
			err = parse_u64("PID", optarg, 1, INT_MAX, &v);
			env.pid = v;
			break;
		case 'k':
			env.kernel = true;
			break;
		case 'f':
			env.follow = true;
			break;
		case 'T':
			err = parse_uint("--top", optarg, 1, 100000, &env.top);
			break;
		case 'o':
			err = parse_u64("--older", optarg, 0, UINT32_MAX, &env.older_ms);
			break;
		case 'z':
			err = parse_u64("--min-size", optarg, 0, UINT64_MAX, &env.min_size);
			break;
		case 'Z':
			err = parse_u64("--max-size", optarg, 0, UINT64_MAX, &env.max_size);
			break;
		case 'a':
			env.show_allocs = true;
			break;
		case 'O':
			env.obj_path = optarg;
			break;
		case 'S':
			env.sym_prefix = optarg;
			break;
		case 'c':
			err = split_command(optarg);
			break;
		case 's':
			/* memleak's rate: one allocation in N, whatever its size */
			err = parse_uint("--sample-rate", optarg, 1, 1 << 20, &env.sample_every);
			break;
		case OPT_SAMPLE_BYTES:
			err = parse_u64("--sample-bytes", optarg, 0, 1ULL << 28, &env.sample_bytes);
			break;
		case OPT_SORT:
			if (!strcmp(optarg, "size"))
				env.sort = SORT_SIZE;
			else if (!strcmp(optarg, "count"))
				env.sort = SORT_COUNT;
			else if (!strcmp(optarg, "growth"))
				env.sort = SORT_GROWTH;
			else if (!strcmp(optarg, "age"))
				env.sort = SORT_AGE;
			else if (!strcmp(optarg, "unreachable"))
				env.sort = SORT_UNREACHABLE;
			else {
				fprintf(stderr,
					"leaktrace: invalid --sort '%s' (size, count, growth, age or "
					"unreachable)\n",
					optarg);
				err = -EINVAL;
			}
			break;
		case OPT_BASELINE:
			err = parse_uint("--baseline", optarg, 0, 86400 * 365, &env.baseline_s);
			break;
		case OPT_FORMAT:
			env.format = report__format(optarg);
			if (!env.format) {
				fprintf(stderr, "leaktrace: invalid --format '%s' (%s)\n", optarg,
					report__format_names());
				err = -EINVAL;
			}
			break;
		case 'w':
			if (!*optarg) {
				fprintf(stderr, "leaktrace: empty --output file name\n");
				err = -EINVAL;
			}
			env.output_path = !strcmp(optarg, "-") ? NULL : optarg;
			break;
		case OPT_NO_LINES:
			env.no_lines = true;
			break;
		case OPT_NO_DEMANGLE:
			env.no_demangle = true;
			break;
		case OPT_DEBUG_DIR:
			env.debug_dir = optarg;
			break;
		case OPT_DEBUGINFOD:
			env.debuginfod_timeout_s = 10;
			if (optarg)
				err = parse_uint("--debuginfod timeout", optarg, 1, 3600,
						 &env.debuginfod_timeout_s);
			break;
		case OPT_RINGBUF:
			/* the map's size is a u32 of bytes: 2 GiB at most */
			err = parse_uint("--ringbuf-mb", optarg, 1, 2048, &env.ringbuf_mb);
			if (!err && (env.ringbuf_mb & (env.ringbuf_mb - 1))) {
				fprintf(stderr, "leaktrace: --ringbuf-mb must be a power of two\n");
				err = -EINVAL;
			}
			break;
		case OPT_UNWIND:
			if (!strcmp(optarg, "auto"))
				env.unwind = UNWIND_AUTO;
			else if (!strcmp(optarg, "cfi"))
				env.unwind = UNWIND_CFI;
			else if (!strcmp(optarg, "fp"))
				env.unwind = UNWIND_FP;
			else {
				fprintf(stderr,
					"leaktrace: --unwind must be auto, cfi or fp, not '%s'\n",
					optarg);
				err = -EINVAL;
			}
			break;
		case 'v':
			env.verbose = true;
			break;
		case OPT_REACHABLE:
			env.reachable = true;
			break;
		case OPT_KSTACK_EXACT:
			env.kstack_exact = true;
			break;
		case 'V':
			printf("leaktrace %s\n", LEAKTRACE_VERSION);
			return 1;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case OPT_FDS:
			env.fds = true;
			break;
		case OPT_THREADS:
			env.threads = true;
			break;
		case OPT_MEMORY:
			env.memory = true;
			break;
		case 't':
			env.trace = true;
			break;
		case 'C': /* memleak's in-kernel aggregation: leaktrace's reports always are */
		case 'F': /* tracker__alloc drops a stale record at a reused address */
		case 'P': /* -k traces percpu allocations; memleak -p ignores -P too */
			break;
		case OPT_STACK_STORAGE:
			/* memleak's stack map; leaktrace interns stacks in userspace */
			err = parse_uint("--stack-storage-size", optarg, 1, INT_MAX, &v32);
			break;
		case OPT_PERF_DEPTH:
			/* memleak's default is 127: taken, walked to leaktrace's limit */
			err = parse_uint("--perf-max-stack-depth", optarg, 1, INT_MAX,
					 &env.max_frames);
			if (!err && env.max_frames > LT_MAX_FRAMES) {
				fprintf(stderr,
					"leaktrace: --perf-max-stack-depth %u: stacks are walked "
					"to %d frames at most\n",
					env.max_frames, LT_MAX_FRAMES);
				env.max_frames = LT_MAX_FRAMES;
			}
			break;
		case OPT_SUPPRESS:
			env.suppress_path = optarg;
			break;
		case OPT_EBPF:
			fprintf(stderr,
				"leaktrace: --ebpf: the BPF programs are compiled in (bpf/ in the "
				"source; bpftool prog dump xlated while tracing)\n");
			return -EINVAL;
		case ':':
			fprintf(stderr, "leaktrace: option '%s' needs a value (see --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "leaktrace: unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
		if (err)
			return err;
	}

	if (optind < argc) {
		err = parse_uint("INTERVAL", argv[optind++], 1, 86400, &env.interval_s);
		if (err)
			return err;
	}
	if (optind < argc) {
		err = parse_uint("COUNT", argv[optind++], 1, UINT32_MAX, &env.count);
		if (err)
			return err;
	}
	if (optind < argc) {
		fprintf(stderr, "leaktrace: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	env.probe_at_entry = getenv("LEAKTRACE_PROBE_AT_ENTRY") != NULL;
	env.no_session = getenv("LEAKTRACE_NO_SESSION") != NULL;
	env.no_multi = getenv("LEAKTRACE_NO_MULTI") != NULL;
	if ((env.fds || env.threads) && (env.kernel || !(env.pid || env.command))) {
		fprintf(stderr, "leaktrace: %s traces a process (-p PID or -- COMMAND), not -k\n",
			env.fds ? "--fds" : "--threads");
		return -EINVAL;
	}
	if (env.memory && !env.fds && !env.threads) {
		fprintf(stderr, "leaktrace: --memory is for use beside --fds or --threads\n");
		return -EINVAL;
	}
	env.memory = env.memory || !(env.fds || env.threads);
	env.no_python = getenv("LEAKTRACE_NO_PYTHON") != NULL;
	/* memleak's default: no process given means the kernel */
	if (!env.pid && !env.command)
		env.kernel = true;
	if (env.pid && env.command) {
		fprintf(stderr, "leaktrace: give -p PID or a command, not both\n");
		return -EINVAL;
	}
	if (env.kernel && env.command) {
		fprintf(stderr,
			"leaktrace: -k traces a running process or the system, not a command\n");
		return -EINVAL;
	}
	if (env.sample_bytes && env.sample_every > 1) {
		fprintf(stderr, "leaktrace: give -s N (one allocation in N) or --sample-bytes N, "
				"not both\n");
		return -EINVAL;
	}
	if (env.kstack_exact && !env.kernel) {
		fprintf(stderr, "leaktrace: --kstack-exact is for kernel tracing (-k)\n");
		return -EINVAL;
	}
	if (env.kernel && env.sample_every > 1) {
		fprintf(stderr,
			"leaktrace: -s N: sampling is for user-space tracing, not -k (there: --sample-bytes)\n");
		return -EINVAL;
	}
	if (env.kernel && env.trace) {
		fprintf(stderr, "leaktrace: -t traces user-space allocations, not -k\n");
		return -EINVAL;
	}
	if (env.kernel && (env.obj_path || env.sym_prefix)) {
		fprintf(stderr, "leaktrace: %s is for user-space tracing, not -k\n",
			env.obj_path ? "-O" : "-S");
		return -EINVAL;
	}
	if (env.reachable && env.kernel) {
		fprintf(stderr, "leaktrace: --reachable scans a process's memory, not with -k\n");
		return -EINVAL;
	}
	if (env.sort == SORT_UNREACHABLE && !env.reachable) {
		fprintf(stderr, "leaktrace: --sort unreachable needs --reachable\n");
		return -EINVAL;
	}
	if (env.follow && (env.kernel || !(env.pid || env.command))) {
		fprintf(stderr, "leaktrace: -f follows the children of -p PID or of a command, "
				"not with -k\n");
		return -EINVAL;
	}
	if (env.debuginfod_timeout_s && !(getenv("DEBUGINFOD_URLS") ?: "")[0])
		fprintf(stderr, "leaktrace: --debuginfod: DEBUGINFOD_URLS is not set, no server to "
				"ask\n");
	if (!env.format)
		env.format = report__format("text");
	if (env.format->binary && !env.output_path && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "leaktrace: --format %s is not for a terminal: give -w FILE\n",
			env.format->name);
		return -EINVAL;
	}
	if (env.follow && env.format->snapshot && !env.output_path) {
		fprintf(stderr,
			"leaktrace: -f with --format %s writes a file per process: give -w FILE\n",
			env.format->name);
		return -EINVAL;
	}
	if (env.pid && env.pid == getpid()) {
		fprintf(stderr, "leaktrace: pid %d is leaktrace itself\n", env.pid);
		return -EINVAL;
	}
	if (env.debug_dir && check_dir("--debug-dir", env.debug_dir))
		return -EINVAL;
	if (env.min_size > env.max_size) {
		fprintf(stderr, "leaktrace: --min-size is larger than --max-size\n");
		return -EINVAL;
	}
	if (suppress__load(&env.suppressions, env.suppress_path))
		return -EINVAL;
	return 0;
}
