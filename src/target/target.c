// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gelf.h>
#include <libelf.h>
#include "python.h"
#include "procstat.h"
#include "target.h"

#define PF_KTHREAD 0x00200000

int target__open_pid(struct target *t, pid_t pid)
{
	char path[64];
	unsigned long flags = 0;
	char state = 0;
	ssize_t n;
	int err;

	memset(t, 0, sizeof(*t));
	t->hold_fd = -1;
	t->pid = pid;
	err = procstat__stat(pid, t->comm, sizeof(t->comm), &state, &flags);
	if (err)
		return err;
	if (flags & PF_KTHREAD)
		return -EPERM;
	if (state == 'Z')
		return -ECHILD;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, t->exe, sizeof(t->exe) - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	t->exe[n] = '\0';
	return target__scan_objs(t);
}

struct obj_at {
	unsigned long start;
	char *path;
};

/* The executable first, then libraries by falling address: ld.so maps each new library below
 * the last, so this is load order, which is symbol resolution order. */
static int obj_at_cmp(const void *a, const void *b)
{
	const struct obj_at *x = a, *y = b;

	return x->start < y->start ? 1 : x->start > y->start ? -1 : 0;
}

int target__scan_objs(struct target *t)
{
	char path[64], line[4608], perms[8], file[4096];
	struct obj_at at[TARGET_MAX_OBJS];
	unsigned long start;
	FILE *f;
	int i, n = 0, k = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	for (i = 0; i < t->nr_objs; i++)
		free(t->objs[i]);
	t->nr_objs = 0;
	while (fgets(line, sizeof(line), f)) {
		file[0] = '\0';
		if (sscanf(line, "%lx-%*x %7s %*x %*x:%*x %*u %4095[^\n]", &start, perms, file) < 2)
			continue;
		if (perms[2] != 'x' || file[0] != '/')
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(at[i].path, file))
				break;
		if (i < n || n == TARGET_MAX_OBJS)
			continue;
		at[n].start = strcmp(file, t->exe) ? start : ~0UL;
		at[n].path = strdup(file);
		if (!at[n].path) {
			fclose(f);
			while (n)
				free(at[--n].path);
			return -ENOMEM;
		}
		n++;
	}
	fclose(f);
	qsort(at, n, sizeof(at[0]), obj_at_cmp);
	for (i = 0; i < n; i++)
		t->objs[k++] = at[i].path;
	t->nr_objs = k;
	return 0;
}

/*
 * /proc/PID/maps names files from the reader's root: for a process in another mount
 * namespace that is its own view, found under /proc/PID/root; for one in a chroot it is
 * already the path from here.
 */
void target__path(const struct target *t, const char *path, char *buf, size_t sz)
{
	snprintf(buf, sz, "/proc/%d/root%s", t->pid, path);
	if (access(buf, F_OK) && !access(path, F_OK))
		snprintf(buf, sz, "%s", path);
}

/* execvp's search: a name with a slash is a path, else each directory of PATH. */
static int find_command(const char *cmd, char *out, size_t sz)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;
	int err = -ENOENT;

	if (!*cmd)
		return -ENOENT;
	if (strchr(cmd, '/')) {
		snprintf(out, sz, "%s", cmd);
		if (stat(out, &st))
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		return access(out, X_OK) ? -EACCES : 0;
	}
	for (p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; p;
	     p = end ? end + 1 : NULL) {
		end = strchr(p, ':');
		snprintf(out, sz, "%.*s/%s", end ? (int)(end - p) : (int)strlen(p),
			 end == p || !*p ? "." : p, cmd);
		if (stat(out, &st) || S_ISDIR(st.st_mode))
			continue;
		if (!access(out, X_OK))
			return 0;
		err = -EACCES;
	}
	return err;
}

/* A script's interpreter ("#!/bin/sh -e" -> /bin/sh): the program whose allocator runs. */
static void script_interpreter(const char *path, char *out, size_t sz)
{
	char buf[512], *p, *e;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 3 || buf[0] != '#' || buf[1] != '!')
		return;
	buf[n] = '\0';
	for (p = buf + 2; *p == ' ' || *p == '\t'; p++)
		;
	for (e = p; *e && *e != ' ' && *e != '\t' && *e != '\n'; e++)
		;
	*e = '\0';
	if (*p == '/')
		snprintf(out, sz, "%s", p);
}

/* PT_INTERP of an ELF file: 1 and interp filled, 0 when it has none, negative errno. */
static int read_interp(const char *path, char *interp, size_t sz)
{
	GElf_Phdr ph;
	size_t i, n;
	int fd, ret = 0;
	Elf *elf;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &n)) {
		ret = -ENOEXEC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz == 0 || ph.p_filesz >= sz ||
		    pread(fd, interp, ph.p_filesz, ph.p_offset) != (ssize_t)ph.p_filesz) {
			ret = -ENOEXEC;
			goto out;
		}
		interp[ph.p_filesz] = '\0';
		ret = 1;
		break;
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

static int add_obj(struct target *t, const char *path)
{
	int i;

	for (i = 0; i < t->nr_objs; i++)
		if (!strcmp(t->objs[i], path))
			return 0;
	if (t->nr_objs == TARGET_MAX_OBJS)
		return 0;
	t->objs[t->nr_objs] = strdup(path);
	if (!t->objs[t->nr_objs])
		return -ENOMEM;
	t->nr_objs++;
	return 0;
}

/* A pipe (close-on-exec), then fork: 0 in both processes (*pid is 0 in the child), or
 * negative errno with nothing left open. */
static int pipe_fork(int pfd[2], pid_t *pid)
{
	int err;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(NULL); /* nothing buffered is written twice */
	*pid = fork();
	if (*pid >= 0)
		return 0;
	err = -errno;
	close(pfd[0]);
	close(pfd[1]);
	return err;
}

/*
 * "interp --list exe" prints the objects in load order, preloads first, as ldd does, without
 * running exe: "\tlibc.so.6 => /lib/.../libc.so.6 (0x...)", "\t/lib64/ld-linux... (0x...)".
 */
static int list_libs(struct target *t, const char *interp, char *const envp[])
{
	char line[4608], path[4096], *arrow;
	int pfd[2], status, err = 0;
	pid_t pid;
	FILE *f;

	err = pipe_fork(pfd, &pid);
	if (err)
		return err;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(pfd[1], STDOUT_FILENO);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execle(interp, interp, "--list", t->exe, (char *)NULL, envp);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "re");
	if (!f) {
		err = -errno;
		close(pfd[0]);
	}
	while (f && fgets(line, sizeof(line), f)) {
		arrow = strstr(line, "=> ");
		if (sscanf(arrow ? arrow + 3 : line, " %4095s", path) == 1 && path[0] == '/' &&
		    !err)
			err = add_obj(t, path);
	}
	if (f)
		fclose(f);
	if (waitpid(pid, &status, 0) < 0 && !err)
		err = -errno;
	return err;
}

/*
 * The objects exe will load: itself, then what its interpreter lists (with envp, whose
 * LD_PRELOAD and LD_LIBRARY_PATH count); a static one alone.
 */
static int list_objs(struct target *t, const char *cmd, char *const envp[])
{
	char interp[4096];
	int err;

	script_interpreter(t->exe, t->exe, sizeof(t->exe));
	err = read_interp(t->exe, interp, sizeof(interp));
	if (err < 0) {
		fprintf(stderr, "leaktrace: cannot run '%s': %s is not an ELF executable\n", cmd,
			t->exe);
		return err;
	}
	t->is_static = err == 0;
	err = add_obj(t, t->exe);
	if (!err && !t->is_static)
		err = list_libs(t, interp, envp);
	if (!err && !t->is_static)
		err = add_obj(t, interp);
	return err;
}

int target__launch(struct target *t, char **argv)
{
	char path[4096];
	int pfd[2], err;
	ssize_t n;
	char c;
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->hold_fd = -1;
	err = find_command(argv[0], path, sizeof(path));
	if (err) {
		fprintf(stderr, "leaktrace: cannot run '%s': %s\n", argv[0],
			err == -ENOENT && !strchr(argv[0], '/') ? "command not found"
								: strerror(-err));
		return err;
	}
	/* probes open it through /proc/PID/root: an absolute path */
	if (!realpath(path, t->exe))
		snprintf(t->exe, sizeof(t->exe), "%s", path);
	err = list_objs(t, argv[0], environ);
	if (err)
		return err;
	python__launch_env(t->objs, t->nr_objs);
	err = pipe_fork(pfd, &pid);
	if (err)
		return err;
	if (pid == 0) {
		close(pfd[1]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		/*
		 * Wait until every probe is attached. Any other byte: leaktrace gave up (and said
		 * why). EOF: it died (killed during attach); then the command does not run
		 * untraced, in the background of a shell that has moved on.
		 */
		n = read(pfd[0], &c, 1);
		if (n == 0)
			fprintf(stderr, "leaktrace: ended before '%s' started: not run\n", argv[0]);
		if (n != 1 || c != 'g')
			_exit(127);
		execv(path, argv);
		fprintf(stderr, "leaktrace: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[0]);
	t->pid = pid;
	t->launched = true;
	t->hold_fd = pfd[1];
	snprintf(t->comm, sizeof(t->comm), "%s",
		 strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
	return 0;
}

int target__ld_env(pid_t pid, char *buf, size_t size, char **envp)
{
	char path[64], *p;
	ssize_t n;
	int k = 0;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	n = procstat__read(path, buf, size);
	if (n == -ENODATA)
		n = 0;
	if (n < 0)
		return n;
	for (p = buf; p < buf + n && k < 16; p += strlen(p) + 1)
		if (!strncmp(p, "LD_", 3))
			envp[k++] = p;
	envp[k] = NULL;
	return 0;
}

int target__open_exec(struct target *t, pid_t pid)
{
	char *envp[17], *env_buf;
	int i, err;

	err = target__open_pid(t, pid);
	if (err)
		return err;
	env_buf = malloc(65536);
	if (!env_buf)
		return -ENOMEM;
	err = target__ld_env(pid, env_buf, 65536, envp);
	if (!err) {
		for (i = 0; i < t->nr_objs; i++)
			free(t->objs[i]);
		t->nr_objs = 0;
		err = list_objs(t, t->comm, envp);
	}
	free(env_buf);
	return err;
}

int target__release(struct target *t, bool run)
{
	char c = run ? 'g' : 'q';
	int err = 0;

	if (t->hold_fd < 0)
		return 0;
	if (write(t->hold_fd, &c, 1) != 1)
		err = -errno;
	close(t->hold_fd);
	t->hold_fd = -1;
	return err;
}

int target__reap(struct target *t, int *code)
{
	int status;
	pid_t r;

	if (!t->launched)
		return -ECHILD;
	r = waitpid(t->pid, &status, WNOHANG);
	if (r < 0)
		return -errno;
	if (r != t->pid)
		return 0;
	t->launched = false;
	*code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 1;
}

void target__free(struct target *t)
{
	int i;

	target__release(t, false);
	for (i = 0; i < t->nr_objs; i++)
		free(t->objs[i]);
	t->nr_objs = 0;
}
