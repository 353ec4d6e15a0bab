// SPDX-License-Identifier: MIT
/*
 * The area the program maps with ukcov_mmap sits between two inaccessible
 * pages: a stray write just past its end, or just before its start, faults
 * (checked in forked children) instead of landing in whatever is next.
 * The guards go away with the object, so descriptors that come and go
 * leave no mappings behind; a mapping at an address the program asked for
 * gets no guards.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 1024ul

/* Does writing *p kill a child with SIGSEGV? */
static bool write_faults(volatile unsigned long *p)
{
	int status;
	pid_t pid = fork();

	t_assert(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		*p = 0x5a5a;
		_exit(0);
	}
	t_assert(waitpid(pid, &status, 0) == pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* Is the page at p mapped at all (even PROT_NONE)? */
static bool mapped(const void *p)
{
	long pg = sysconf(_SC_PAGESIZE);

	return msync((void *)((unsigned long)p & ~(pg - 1)), (size_t)pg,
		     MS_ASYNC) == 0;
}

int main(void)
{
	size_t len = WORDS * sizeof(unsigned long);
	long pg = sysconf(_SC_PAGESIZE);
	unsigned long *area;
	char *before, *after;
	int fd, i, maps0 = t_maps_count("---p");

	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, WORDS));
	area = ukcov_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	t_assert(area != MAP_FAILED);
	before = (char *)area - pg;
	after = (char *)area + len;
	/* The area itself is writable; its neighbours fault. */
	t_assert(!write_faults(&area[WORDS - 1]));
	t_assert(write_faults((unsigned long *)after));
	t_assert(write_faults((unsigned long *)before + pg / 8 - 1));
	t_assert(mapped(before) && mapped(after));

	/* Unmapped and closed: the object goes, and its guards with it. */
	t_assert(munmap(area, len) == 0);
	t_assert(close(fd) == 0);
	t_assert(!mapped(before) && !mapped(after));

	/* Many descriptors come and go: no PROT_NONE mapping stays behind. */
	for (i = 0; i < 200; i++) {
		fd = ukcov_open();
		t_assert(fd >= 0);
		t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, WORDS));
		area = ukcov_mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
		t_assert(area != MAP_FAILED);
		t_assert(munmap(area, len) == 0);
		t_assert(close(fd) == 0);
	}
	t_assert(t_maps_count("---p") <= maps0);

	/* At an address the program chose: exactly there, no guards. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_ok(ukcov_ioctl(fd, KCOV_INIT_TRACE, WORDS));
	before = mmap(NULL, len + 2 * (size_t)pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t_assert(before != MAP_FAILED);
	area = ukcov_mmap(before + pg, len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_FIXED, fd, 0);
	t_assert(area == (unsigned long *)(before + pg));
	t_assert(!write_faults((unsigned long *)before));
	munmap(before, len + 2 * (size_t)pg);
	close(fd);
	return T_EXIT_PASS;
}
