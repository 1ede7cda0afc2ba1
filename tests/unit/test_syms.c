/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Unit tests for src/syms/syms.c. Builds a small PIE, a C shared library and a C++ shared library
 * in a temporary directory, runs them, and resolves addresses the program reports about itself.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "dso.h"
#include "syms.h"

static int passed, failed;

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (cond)
		passed++;
	else
		failed++;
}

static const char prog_src[] =
	"#include <fcntl.h>\n"
	"#include <stdio.h>\n"
	"#include <stdlib.h>\n"
	"#include <sys/mman.h>\n"
	"#include <unistd.h>\n"
	"\n"
	"int lt_lib_func(int x);\n"
	"void *lt_cxx_addr(void);\n"
	"int lt_data = 42;\n"
	"\n"
	"static inline __attribute__((always_inline)) int lt_inl(int x)\n"
	"{\n"
	"	return x * 3 + lt_data; /* INL_LINE */\n"
	"}\n"
	"\n"
	"__attribute__((noinline)) int lt_outer(int x)\n"
	"{\n"
	"	int y = x + 1;\n"
	"\n"
	"	y = lt_inl(y); /* CALL_LINE */\n"
	"	return y + 2;\n"
	"}\n"
	"\n"
	"__attribute__((noinline)) int lt_main_func(int x)\n"
	"{ /* MAIN_LINE: gcc puts the entry address on the brace */\n"
	"	return lt_outer(x) + lt_lib_func(x);\n"
	"}\n"
	"\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	void *extra[8] = { 0 };\n"
	"	char buf[16];\n"
	"	int i;\n"
	"\n"
	"	for (i = 1; i < argc && i <= 8; i++) {\n"
	"		int fd = open(argv[i], O_RDONLY);\n"
	"		void *p = fd < 0 ? MAP_FAILED :\n"
	"			  mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);\n"
	"\n"
	"		extra[i - 1] = p == MAP_FAILED ? NULL : p;\n"
	"	}\n"
	"	printf(\"%d %p %p %p %p %p %p\", getpid(), (void *)lt_main_func, (void *)lt_outer,\n"
	"	       (void *)lt_lib_func, lt_cxx_addr(), (void *)&lt_data, (void *)malloc);\n"
	"	for (i = 0; i < 8; i++)\n"
	"		printf(\" %p\", extra[i]);\n"
	"	printf(\"\\n\");\n"
	"	fflush(stdout);\n"
	"	alarm(120);\n"
	"	while (read(0, buf, sizeof(buf)) > 0)\n"
	"		;\n"
	"	return lt_main_func(argc) == 12345;\n"
	"}\n";

static const char lib_src[] = "int lt_lib_func(int x)\n"
			      "{ /* LIB_LINE */\n"
			      "	return x * 7;\n"
			      "}\n";

static const char cxx_src[] = "namespace ns {\n"
			      "class Klass {\n"
			      "public:\n"
			      "	static int method(int x);\n"
			      "};\n"
			      "\n"
			      "int Klass::method(int x)\n"
			      "{ /* CXX_LINE */\n"
			      "	return x + 1;\n"
			      "}\n"
			      "} // namespace ns\n"
			      "\n"
			      "extern \"C\" void *lt_cxx_addr(void)\n"
			      "{\n"
			      "	return (void *)&ns::Klass::method;\n"
			      "}\n";

static char tmpdir[] = "/tmp/test_syms.XXXXXX";
static int main_line, inl_line, call_line, lib_line, cxx_line;

struct child {
	pid_t pid;
	int in_fd; /* closing it makes the child exit */
	uint64_t main_func, outer, lib_func, cxx, data, malloc_addr;
	uint64_t extra[8];
};

static int line_of(const char *src, const char *marker)
{
	const char *p = strstr(src, marker), *q;
	int line = 1;

	if (!p)
		return -1;
	for (q = src; q < p; q++)
		line += *q == '\n';
	return line;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	size_t n;

	if (!f)
		return -errno;
	n = fwrite(data, 1, len, f);
	if (fclose(f) || n != len)
		return -EIO;
	return 0;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0) {
		buf = malloc(sz);
		rewind(f);
		if (buf && fread(buf, 1, sz, f) != (size_t)sz) {
			free(buf);
			buf = NULL;
		}
		*len = sz;
	}
	fclose(f);
	return buf;
}

static int run(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

static int build(void)
{
	const char *cflags = "-g -O0 -fno-omit-frame-pointer";
	const char *d = tmpdir;
	char path[4096];

	snprintf(path, sizeof(path), "%s/prog.c", d);
	if (write_file(path, prog_src, strlen(prog_src)))
		return -1;
	snprintf(path, sizeof(path), "%s/lib.c", d);
	if (write_file(path, lib_src, strlen(lib_src)))
		return -1;
	snprintf(path, sizeof(path), "%s/cxx.cc", d);
	if (write_file(path, cxx_src, strlen(cxx_src)))
		return -1;

	if (run("cd %s && cc %s -fPIC -shared lib.c -o libltlib.so", d, cflags) ||
	    run("cd %s && c++ %s -fPIC -shared cxx.cc -o libltcxx.so", d, cflags) ||
	    run("cd %s && cc %s -fPIE -pie prog.c -o ltprog -L. -lltlib -lltcxx -Wl,-rpath,%s", d,
		cflags, d))
		return -1;
	/* s1: debug file beside the stripped binary; s2: in .debug/; s3: wrong CRC; s4: debug_dir
	 */
	if (run("cd %s && mkdir -p s1 s2/.debug s3 s4 dbgdir replaced", d) ||
	    run("cd %s && objcopy --only-keep-debug ltprog s1/ltprog_s.debug && "
		"objcopy --strip-all --add-gnu-debuglink=s1/ltprog_s.debug ltprog s1/ltprog_s",
		d) ||
	    run("cd %s && objcopy --only-keep-debug ltprog s2/.debug/ltprog_s.debug && "
		"objcopy --strip-all --add-gnu-debuglink=s2/.debug/ltprog_s.debug ltprog "
		"s2/ltprog_s",
		d) ||
	    run("cd %s && cp s1/ltprog_s s3/ltprog_s && "
		"objcopy --only-keep-debug libltlib.so s3/ltprog_s.debug",
		d) ||
	    run("cd %s && cp s1/ltprog_s s4/ltprog_s && cp s1/ltprog_s.debug dbgdir/", d) ||
	    run("cd %s && cp ltprog replaced/ltprog_r", d))
		return -1;
	return 0;
}

/* Corrupt inputs that the program maps executable: the symbolizer must survive them. */
static int make_corrupt_files(char names[][64], int max)
{
	char path[4096], *lib;
	size_t len = 0, cuts[3];
	unsigned char junk[8192];
	int i, n = 0;

	lib = read_file(strcat(strcpy(path, tmpdir), "/libltlib.so"), &len);
	if (!lib || len < 4096 || max < 6)
		goto out;
	srand(1);
	for (i = 0; i < (int)sizeof(junk); i++)
		junk[i] = rand();
	snprintf(names[n], 64, "junk.bin");
	snprintf(path, sizeof(path), "%s/%s", tmpdir, names[n]);
	if (!write_file(path, junk, sizeof(junk)))
		n++;

	cuts[0] = 64;
	cuts[1] = 2000;
	cuts[2] = len / 2;
	for (i = 0; i < 3; i++) {
		snprintf(names[n], 64, "trunc%d.so", i);
		snprintf(path, sizeof(path), "%s/%s", tmpdir, names[n]);
		if (!write_file(path, lib, cuts[i]))
			n++;
	}
	/* Section and program header tables pointing far beyond the end of the file. */
	memset(lib + 0x20, 0x7f, 8); /* e_phoff */
	memset(lib + 0x28, 0x7f, 8); /* e_shoff */
	snprintf(names[n], 64, "badhdr.so");
	snprintf(path, sizeof(path), "%s/%s", tmpdir, names[n]);
	if (!write_file(path, lib, len))
		n++;
	/* An ELF header promising huge section counts. */
	memset(lib + 0x20, 0, 16);
	lib[0x28] = 0x40;
	memset(lib + 0x3c, 0xff, 4); /* e_shnum, e_shstrndx */
	snprintf(names[n], 64, "badshnum.so");
	snprintf(path, sizeof(path), "%s/%s", tmpdir, names[n]);
	if (!write_file(path, lib, len))
		n++;
out:
	free(lib);
	return n;
}

static int start_child(const char *exe, char extra_args[][64], int nextra, struct child *c)
{
	int in[2], out[2], i;
	char line[1024];
	FILE *f;
	int n;

	memset(c, 0, sizeof(*c));
	/* close-on-exec: a second child must not hold the first's stdin open (it would never
	 * see EOF, and stop_child would wait for it forever) */
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (!c->pid) {
		char *argv[10] = {(char *)exe};

		for (i = 0; i < nextra && i < 8; i++)
			argv[i + 1] = extra_args[i];
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		if (chdir(tmpdir))
			_exit(126);
		execv(exe, argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in_fd = in[1];
	f = fdopen(out[0], "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		if (f)
			fclose(f);
		return -EIO;
	}
	fclose(f);
	n = sscanf(line,
		   "%*d %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64
		   " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64
		   " %" SCNx64 " %" SCNx64,
		   &c->main_func, &c->outer, &c->lib_func, &c->cxx, &c->data, &c->malloc_addr,
		   &c->extra[0], &c->extra[1], &c->extra[2], &c->extra[3], &c->extra[4],
		   &c->extra[5], &c->extra[6], &c->extra[7]);
	/* "(nil)" stops the scan early; those stay 0. */
	return n >= 6 ? 0 : -EINVAL;
}

static void stop_child(struct child *c)
{
	int status;

	if (c->pid <= 0)
		return;
	close(c->in_fd);
	waitpid(c->pid, &status, 0);
	c->pid = 0;
}

static bool str_eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n, m;

	if (!s)
		return false;
	n = strlen(s);
	m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

static const char *nz(const char *s)
{
	return s ? s : "(null)";
}

/* Resolve addr and check the containing (last) frame. */
static void check_func(struct syms *s, const char *what, uint64_t addr, bool ret, const char *name,
		       uint64_t offset, const char *module, const char *file, int line)
{
	struct sym_frame f[8];
	int n = syms__resolve(s, addr, ret, f, 8);
	struct sym_frame *l = &f[n - 1];
	bool ok = n >= 1 && str_eq(l->name, name) && l->offset == offset &&
		  str_eq(l->module, module) && l->addr == addr;

	if (file)
		ok = ok && ends_with(l->file, file) && l->line == line;
	else
		ok = ok && !l->file && !l->line;
	check(ok, "%s: %s+%#" PRIx64 " in %s at %s:%d (want %s+%#" PRIx64 " in %s at %s:%d)", what,
	      nz(l->name), l->offset, nz(l->module), nz(l->file), l->line, name, offset, module,
	      file ? file : "(null)", file ? line : 0);
}

static void test_main_process(void)
{
	struct syms_opts opts = {};
	struct sym_frame f[8];
	struct child c;
	struct syms *s;
	bool found;
	uint64_t off;
	int n, err;

	check(!start_child("./ltprog", NULL, 0, &c), "start ltprog");
	if (!c.pid)
		return;
	s = syms__new(c.pid, &opts);
	check(s != NULL, "syms__new(ltprog) (errno %d)", s ? 0 : errno);
	if (!s) {
		stop_child(&c);
		return;
	}
	check_func(s, "PIE function", c.main_func, false, "lt_main_func", 0, "ltprog", "/prog.c",
		   main_line);
	check_func(s, "PIE function + 4", c.main_func + 4, false, "lt_main_func", 4, "ltprog",
		   "/prog.c", main_line);
	check_func(s, "shared lib function", c.lib_func, false, "lt_lib_func", 0, "libltlib.so",
		   "/lib.c", lib_line);
	check_func(s, "C++ method demangled", c.cxx, false, "ns::Klass::method(int)", 0,
		   "libltcxx.so", "/cxx.cc", cxx_line);

	n = syms__resolve(s, c.main_func + 1, true, f, 8);
	check(n == 1 && str_eq(f[0].name, "lt_main_func") && f[0].offset == 1 &&
		      f[0].addr == c.main_func + 1,
	      "return address looked up at addr - 1, offset from addr");
	n = syms__resolve(s, c.main_func, false, f, 8);
	check(n == 1 && ends_with(f[0].path, "/ltprog") && !f[0].inlined, "frame path is %s",
	      nz(f[0].path));

	n = syms__resolve(s, c.data, false, f, 8);
	check(n == 1 && !f[0].name && str_eq(f[0].module, "ltprog"),
	      "data address: no function name, module ltprog (%s)", nz(f[0].name));
	n = syms__resolve(s, 0x1000, false, f, 8);
	check(n == 1 && !f[0].name && !f[0].module && !f[0].path && f[0].addr == 0x1000,
	      "unmapped address: name and module NULL");
	check(syms__resolve(s, c.main_func, false, f, 0) == 0, "max 0 fills nothing");

	check(syms__is_exec(s, c.main_func) && syms__is_exec(s, c.lib_func), "code is executable");
	check(!syms__is_exec(s, c.data) && !syms__is_exec(s, 0x1000), "data/unmapped not exec");
	check(ends_with(syms__module_path(s, c.lib_func), "/libltlib.so"), "module path of lib: %s",
	      nz(syms__module_path(s, c.lib_func)));
	check(syms__module_path(s, 0x1000) == NULL, "module path of unmapped is NULL");

	n = syms__resolve(s, c.malloc_addr, false, f, 8);
	check(n >= 1 && f[n - 1].name && f[n - 1].module && !strncmp(f[n - 1].module, "libc", 4),
	      "libc malloc: %s in %s", nz(f[n - 1].name), nz(f[n - 1].module));

	/* lt_inl is always_inline: somewhere in lt_outer an address expands into two frames. */
	found = false;
	for (off = 0; off < 256 && !found; off++) {
		n = syms__resolve(s, c.outer + off, false, f, 8);
		found = n == 2 && f[0].inlined && !f[1].inlined && str_eq(f[0].name, "lt_inl") &&
			ends_with(f[0].file, "/prog.c") && f[0].line == inl_line &&
			str_eq(f[1].name, "lt_outer") && f[1].line == call_line &&
			ends_with(f[1].file, "/prog.c") && f[1].offset == off;
	}
	check(found, "inlined lt_inl expanded into lt_outer at prog.c:%d", call_line);
	if (found) {
		n = syms__resolve(s, c.outer + off - 1, false, f, 1);
		check(n == 1 && str_eq(f[0].name, "lt_outer") && f[0].line == call_line,
		      "max 1 keeps only the containing function");
	}

	{
		struct timespec t0, t1;
		double secs;
		int i, named = 0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < 10000; i++) {
			uint64_t a = i < 8000 ? c.malloc_addr - 0x10000 + i * 16 : c.main_func + i;

			n = syms__resolve(s, a, true, f, 8);
			named += f[n - 1].name != NULL;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		check(named > 5000, "10k distinct addresses: %d named", named);
		check(secs < 1.0 || getenv("SYMS_TEST_NO_TIMING"), "10k lookups in %.3f s", secs);
	}

	stop_child(&c);
	err = syms__refresh(s);
	check(err == -ESRCH, "refresh after exit returns -ESRCH (%d)", err);
	check_func(s, "after exit", c.main_func + 2, false, "lt_main_func", 2, "ltprog", "/prog.c",
		   main_line);
	check_func(s, "lib after exit", c.lib_func, false, "lt_lib_func", 0, "libltlib.so",
		   "/lib.c", lib_line);
	syms__free(s);
}

/* Two processes of one binary, one cache: the second uses the first's tables (the very strings),
 * and keeps them once the first is freed. */
static void test_shared(void)
{
	struct syms_opts opts = {};
	struct sym_frame fa[8], fb[8];
	struct child a, b;
	struct syms *sa = NULL, *sb = NULL;
	int na, nb;

	opts.dsos = dso_cache__new(&opts);
	check(opts.dsos != NULL, "dso_cache__new");
	check(!start_child("./ltprog", NULL, 0, &a), "start ltprog (1)");
	check(!start_child("./ltprog", NULL, 0, &b), "start ltprog (2)");
	if (opts.dsos && a.pid && b.pid) {
		sa = syms__new(a.pid, &opts);
		sb = syms__new(b.pid, &opts);
	}
	check(sa && sb, "syms__new of both through one cache");
	if (sa && sb) {
		na = syms__resolve(sa, a.lib_func, false, fa, 8);
		nb = syms__resolve(sb, b.lib_func, false, fb, 8);
		check(na >= 1 && nb >= 1 && str_eq(fa[na - 1].name, "lt_lib_func") &&
			      fa[na - 1].name == fb[nb - 1].name &&
			      fa[na - 1].file == fb[nb - 1].file,
		      "both name lt_lib_func with the same strings (%p, %p)",
		      (void *)fa[na - 1].name, (void *)fb[nb - 1].name);
		syms__free(sa);
		sa = NULL;
		check_func(sb, "the second after the first is freed", b.main_func, false,
			   "lt_main_func", 0, "ltprog", "/prog.c", main_line);
	}
	stop_child(&a);
	stop_child(&b);
	syms__free(sa);
	syms__free(sb);
	dso_cache__put(opts.dsos);
}

static void test_options(void)
{
	struct syms_opts opts = {.no_lines = true, .no_demangle = true};
	struct child c;
	struct syms *s;

	check(!start_child("./ltprog", NULL, 0, &c), "start ltprog for options");
	if (!c.pid)
		return;
	s = syms__new(c.pid, &opts);
	check(s != NULL, "syms__new with no_lines/no_demangle");
	if (s) {
		check_func(s, "no_demangle", c.cxx, false, "_ZN2ns5Klass6methodEi", 0,
			   "libltcxx.so", NULL, 0);
		check_func(s, "no_lines", c.main_func, false, "lt_main_func", 0, "ltprog", NULL, 0);
		check(syms__refresh(s) == 0, "refresh of a live process returns 0");
		check_func(s, "after refresh", c.main_func, false, "lt_main_func", 0, "ltprog",
			   NULL, 0);
	}
	stop_child(&c);
	syms__free(s);
}

static void test_stripped(const char *exe, const char *debug_dir, bool expect_debug,
			  const char *what)
{
	struct syms_opts opts = {.debug_dir = debug_dir};
	struct sym_frame f[8];
	struct child c;
	struct syms *s;
	int n;

	check(!start_child(exe, NULL, 0, &c), "start %s", exe);
	if (!c.pid)
		return;
	s = syms__new(c.pid, &opts);
	check(s != NULL, "syms__new(%s)", exe);
	if (s) {
		if (expect_debug) {
			check_func(s, what, c.main_func + 3, false, "lt_main_func", 3, "ltprog_s",
				   "/prog.c", main_line);
		} else {
			n = syms__resolve(s, c.main_func + 3, false, f, 8);
			check(n == 1 && !f[0].name && !f[0].file && str_eq(f[0].module, "ltprog_s"),
			      "%s: name %s, file %s", what, nz(f[0].name), nz(f[0].file));
		}
		/* The shared libraries are unstripped either way. */
		check_func(s, "lib next to stripped exe", c.lib_func, false, "lt_lib_func", 0,
			   "libltlib.so", "/lib.c", lib_line);
	}
	stop_child(&c);
	syms__free(s);
}

static void test_replaced(void)
{
	char path[4096], tmp[4096];
	struct sym_frame f[8];
	struct child c;
	struct syms *s;
	int n;

	check(!start_child("./replaced/ltprog_r", NULL, 0, &c), "start replaced/ltprog_r");
	if (!c.pid)
		return;
	/* Put another file at the binary's path: the mapped inode must still be the one read. */
	snprintf(path, sizeof(path), "%s/replaced/ltprog_r", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s/replaced/ltprog_r.new", tmpdir);
	check(!run("cp %s/libltlib.so %s && mv %s %s", tmpdir, tmp, tmp, path),
	      "replace the binary on disk");
	s = syms__new(c.pid, NULL);
	check(s != NULL, "syms__new(replaced)");
	if (s) {
		check_func(s, "replaced binary", c.main_func, false, "lt_main_func", 0, "ltprog_r",
			   "/prog.c", main_line);
		n = syms__resolve(s, c.main_func, false, f, 8);
		check(n >= 1 && ends_with(f[n - 1].path, "(deleted)"), "path marks deletion: %s",
		      nz(f[n - 1].path));
	}
	stop_child(&c);
	syms__free(s);
}

static void test_corrupt(void)
{
	char names[8][64];
	struct sym_frame f[8];
	struct child c;
	struct syms *s;
	int i, n, nfiles;

	nfiles = make_corrupt_files(names, 8);
	check(nfiles == 6, "wrote %d corrupt files", nfiles);
	check(!start_child("./ltprog", names, nfiles, &c), "start ltprog mapping corrupt files");
	if (!c.pid)
		return;
	s = syms__new(c.pid, NULL);
	check(s != NULL, "syms__new with corrupt mappings");
	for (i = 0; s && i < nfiles; i++) {
		if (!c.extra[i]) {
			check(true, "# skip %s: not mapped", names[i]);
			continue;
		}
		n = syms__resolve(s, c.extra[i] + 16, false, f, 8);
		check(n == 1 && !f[0].name && str_eq(f[0].module, names[i]) &&
			      syms__is_exec(s, c.extra[i]),
		      "corrupt %s: module %s, name %s", names[i], nz(f[0].module), nz(f[0].name));
		n = syms__resolve(s, c.extra[i] + 4095, true, f, 8);
		check(n >= 1 && str_eq(f[n - 1].module, names[i]), "corrupt %s: end of mapping",
		      names[i]);
	}
	if (s)
		check_func(s, "sane file beside corrupt ones", c.main_func, false, "lt_main_func",
			   0, "ltprog", "/prog.c", main_line);
	stop_child(&c);
	syms__free(s);
}

static void test_vdso(void)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR), a;
	struct sym_frame f[8];
	const char *name = NULL;
	struct syms *s;
	int n;

	if (!base) {
		check(true, "# skip vdso: no AT_SYSINFO_EHDR");
		return;
	}
	s = syms__new(getpid(), NULL);
	check(s != NULL, "syms__new(self)");
	if (!s)
		return;
	n = syms__resolve(s, base + 0x10, false, f, 8);
	check(n == 1 && str_eq(f[0].module, "[vdso]") && !f[0].path, "vdso module is [vdso]");
	for (a = base; a < base + 0x2000 && !name; a += 4) {
		if (!syms__is_exec(s, a))
			break;
		n = syms__resolve(s, a, false, f, 8);
		name = f[n - 1].name;
	}
	check(name != NULL, "vdso code has a symbol (%s)", nz(name));
	syms__free(s);
}

static void test_errors(void)
{
	struct syms *s;

	errno = 0;
	s = syms__new(0, NULL);
	check(!s && errno == EINVAL, "pid 0 -> EINVAL");
	errno = 0;
	s = syms__new(0x3ffffff0, NULL);
	check(!s && errno == ESRCH, "missing pid -> ESRCH (errno %d)", errno);
	syms__free(NULL);
	check(true, "syms__free(NULL)");
}

int main(void)
{
	char s1[4096], s2[4096], s3[4096], s4[4096], dbgdir[4096];

	signal(SIGPIPE, SIG_IGN);
	main_line = line_of(prog_src, "MAIN_LINE");
	inl_line = line_of(prog_src, "INL_LINE");
	call_line = line_of(prog_src, "CALL_LINE");
	lib_line = line_of(lib_src, "LIB_LINE");
	cxx_line = line_of(cxx_src, "CXX_LINE");

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	check(!build(), "build test programs in %s", tmpdir);
	if (failed)
		goto out;

	snprintf(s1, sizeof(s1), "%s/s1/ltprog_s", tmpdir);
	snprintf(s2, sizeof(s2), "%s/s2/ltprog_s", tmpdir);
	snprintf(s3, sizeof(s3), "%s/s3/ltprog_s", tmpdir);
	snprintf(s4, sizeof(s4), "%s/s4/ltprog_s", tmpdir);
	snprintf(dbgdir, sizeof(dbgdir), "%s/dbgdir", tmpdir);

	test_errors();
	test_vdso();
	test_main_process();
	test_shared();
	test_options();
	test_stripped(s1, NULL, true, "debuglink beside binary");
	test_stripped(s2, NULL, true, "debuglink in .debug/");
	test_stripped(s3, NULL, false, "debuglink with CRC mismatch ignored");
	test_stripped(s4, NULL, false, "debuglink not found without debug_dir");
	test_stripped(s4, dbgdir, true, "debuglink in opts->debug_dir");
	test_replaced();
	test_corrupt();
out:
	if (!getenv("SYMS_TEST_KEEP"))
		run("rm -rf %s", tmpdir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
