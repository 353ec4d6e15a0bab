// SPDX-License-Identifier: MIT
/*
 * exec: nothing of the old image's coverage state remains in effect
 * (spec §3.5).  The test collects on its main thread (a local kcov) while
 * another thread owns a remote kcov with a global and a common handle, then
 * execs itself with --after-exec and the two descriptor numbers.  The new
 * image checks that:
 *   - both numbers are closed (the descriptors are close-on-exec: fcntl
 *     F_GETFD gives EBADF) and ukcov_ioctl on them gives EBADF;
 *   - no "memfd:ukcov" mapping exists;
 *   - its thread is bound to nothing (a new kcov's ENABLE works and
 *     collects), has no common handle, and the old handles are free again
 *     (REMOTE_ENABLE of the same handles succeeds rather than EEXIST).
 * The exit status of the new image is the test's result.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 4096
#define MEMFD "memfd:ukcov"

volatile int sink;

__attribute__((noinline)) int fn_before(int x);
__attribute__((noinline)) int fn_before(int x)
{
	if (x > 8)
		return x * 19;
	return x + 4;
}

__attribute__((noinline)) int fn_after(int x);
__attribute__((noinline)) int fn_after(int x)
{
	if (x > 3)
		return x * 23 + 1;
	return x ^ 5;
}

static uint64_t global_handle(void)
{
	return ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(5), 4242);
}

static uint64_t common_handle(void)
{
	return ukcov_remote_handle(UKCOV_SUBSYSTEM_COMMON, 0x5eed);
}

/* KCOV_REMOTE_ENABLE with one global handle and a common handle. */
static int remote_enable(int fd)
{
	uint64_t buf[4] = { 0 };	/* 24-byte header + one handle */
	struct kcov_remote_arg *a = (struct kcov_remote_arg *)buf;

	a->trace_mode = KCOV_TRACE_PC;
	a->area_size = 1024;
	a->num_handles = 1;
	a->common_handle = common_handle();
	a->handles[0] = global_handle();
	return ukcov_ioctl(fd, KCOV_REMOTE_ENABLE, a);
}

static int fd_closed(int fd)
{
	errno = 0;
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

static int after_exec(char **argv)
{
	int old[2] = { atoi(argv[2]), atoi(argv[3]) };
	uintptr_t lo = (uintptr_t)fn_after;
	size_t sz = t_func_size(fn_after);
	struct t_kcov k, r;
	int i;

	t_assert(sz > 0);
	/* Checked before this image opens anything of its own. */
	for (i = 0; i < 2; i++) {
		if (!fd_closed(old[i]))
			t_fail("fd %d survived exec (not close-on-exec)",
			       old[i]);
		t_expect_err(ukcov_ioctl(old[i], KCOV_DISABLE, 0), EBADF);
		t_expect_err(ukcov_ioctl(old[i], KCOV_ENABLE, KCOV_TRACE_PC),
			     EBADF);
	}
	t_assert(t_maps_count(MEMFD) == 0);
	t_assert(ukcov_common_handle() == 0);

	/* Instrumented code before any ENABLE: nothing to feed, no crash. */
	sink = fn_after(7);

	/* Not bound: a new kcov enables and collects. */
	t_kcov_open(&k, WORDS);
	t_assert(k.area[0] == 0);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	sink = fn_after(9);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(t_has_pc_in(&k, lo, lo + sz));

	/* The old image's handles are not registered any more. */
	t_kcov_open(&r, WORDS);
	t_expect_ok(remote_enable(r.fd));
	t_assert(ukcov_common_handle() == common_handle());
	t_expect_ok(ukcov_ioctl(r.fd, KCOV_DISABLE, 0));
	t_kcov_close(&r);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}

static struct t_kcov remote_k;
static int ready[2], hold[2];

/* Owns remote_k's handles until the exec ends it. */
static void *owner_thread(void *p)
{
	char c = 1;

	(void)p;
	if (remote_enable(remote_k.fd))
		c = 0;
	if (write(ready[1], &c, 1) != 1)
		abort();
	/* Blocks until exec: nobody writes to hold[1]. */
	while (read(hold[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

int main(int argc, char **argv)
{
	uintptr_t lo = (uintptr_t)fn_before;
	size_t sz = t_func_size(fn_before);
	char fd1[16], fd2[16];
	char *args[] = { argv[0], "--after-exec", fd1, fd2, NULL };
	extern char **environ;
	struct t_kcov k;
	pthread_t t;
	char c = 0;

	if (argc == 4 && !strcmp(argv[1], "--after-exec"))
		return after_exec(argv);
	t_assert(sz > 0);

	/* The remote owner, on its own thread. */
	t_kcov_open(&remote_k, WORDS);
	t_assert(pipe(ready) == 0 && pipe(hold) == 0);
	t_assert(pthread_create(&t, NULL, owner_thread, NULL) == 0);
	t_assert(read(ready[0], &c, 1) == 1);
	t_assert(c == 1);
	/* Registered: a second kcov cannot take the same handles. */
	{
		struct t_kcov other;

		t_kcov_open(&other, WORDS);
		t_expect_err(remote_enable(other.fd), EEXIST);
		t_kcov_close(&other);
	}

	/* The main thread collects, and execs while collecting. */
	t_kcov_open(&k, WORDS);
	t_assert(fcntl(k.fd, F_GETFD) & FD_CLOEXEC);
	t_assert(fcntl(remote_k.fd, F_GETFD) & FD_CLOEXEC);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
	sink = fn_before(10);
	t_assert(t_has_pc_in(&k, lo, lo + sz));

	snprintf(fd1, sizeof(fd1), "%d", k.fd);
	snprintf(fd2, sizeof(fd2), "%d", remote_k.fd);
	execve("/proc/self/exe", args, environ);
	t_fail("execve: %s", strerror(errno));
}
