// SPDX-License-Identifier: MIT
/*
 * A kcov's open file lives while any descriptor refers to it, as under
 * Linux: after close() of the descriptor ukcov_open returned, a dup() of it
 * still answers every request and maps the area; dup2() over a ukcov
 * descriptor closes that one (its object is freed when nothing else refers
 * to it) and leaves a dup'd one working.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

volatile int touched;

__attribute__((noinline)) int target(int x);
__attribute__((noinline)) int target(int x)
{
	touched++;
	return x > 2 ? x * 3 : x - 1;
}

static int ukcov_maps(void)
{
	return t_maps_count("memfd:ukcov");
}

int main(void)
{
	unsigned long *area;
	struct ukcov_stats st;
	int fd, dupfd, other, base;
	int pipefd[2];

	base = ukcov_maps();
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul));
	dupfd = dup(fd);
	t_assert(dupfd >= 0);
	t_expect_ok(close(fd));
	/* The dup carries the object: requests and mmap work through it. */
	t_expect_ok(ukcov_get_stats(dupfd, &st));
	area = ukcov_mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			  dupfd, 0);
	t_assert(area != MAP_FAILED);
	/* Still a ukcov descriptor to ukcov_mmap: never executable. */
	errno = 0;
	t_assert(ukcov_mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED,
			    dupfd, 0) == MAP_FAILED);
	t_assert(errno == EPERM);
	t_expect_ok(ukcov_ioctl(dupfd, KCOV_ENABLE, KCOV_TRACE_PC));
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	touched = target(5);
	t_assert(__atomic_load_n(&area[0], __ATOMIC_ACQUIRE) > 0);
	t_expect_ok(ukcov_ioctl(dupfd, KCOV_DISABLE, 0));
	t_expect_err(ukcov_ioctl(dupfd, KCOV_RESET_TRACE, 0), EINVAL);
	munmap(area, 4096);
	t_expect_ok(close(dupfd));
	t_expect_err(ukcov_ioctl(dupfd, KCOV_DISABLE, 0), EBADF);
	/* Both descriptors gone, no mapping: the object is freed. */
	t_assert(ukcov_maps() == base);

	/* dup2 over a ukcov descriptor: it is closed, the object freed. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul));
	t_assert(ukcov_maps() == base + 1);
	t_assert(pipe(pipefd) == 0);
	t_assert(dup2(pipefd[0], fd) == fd);
	t_assert(ukcov_maps() == base);
	t_expect_err(ukcov_ioctl(fd, KCOV_DISABLE, 0), ENOTTY);
	close(fd);

	/* dup2 over one of two descriptors of an object: the other lives. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul));
	other = dup(fd);
	t_assert(other >= 0);
	t_assert(dup3(pipefd[1], fd, 0) == fd);
	t_assert(ukcov_maps() == base + 1);
	t_expect_ok(ukcov_ioctl(other, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(other, KCOV_DISABLE, 0));
	close(other);
	t_assert(ukcov_maps() == base);
	close(fd);
	close(pipefd[0]);
	close(pipefd[1]);
	return T_EXIT_PASS;
}
