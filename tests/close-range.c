// SPDX-License-Identifier: MIT
/*
 * close_range(2) and closefrom(3), the way daemons close every descriptor
 * above 2 at start (issue 10, issue 12 item 9): a kcov whose descriptors
 * all go that way drops its descriptor reference at once, as close() makes
 * it do, so an unbound kcov is freed (its memfd mappings go) and a bound
 * one lives on until its thread unbinds.  CLOSE_RANGE_CLOEXEC closes
 * nothing and changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 4096

T_NOCOV static int open_kcov(void)
{
	int fd = ukcov_open();

	if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, WORDS))
		t_fail("kcov: %s", strerror(errno));
	return fd;
}

int main(void)
{
	int base = t_maps_count("memfd:ukcov"), fd, fd2, high;

	t_assert(base >= 0);
	/* Unbound, two descriptors (one dup'd high): close_range frees it. */
	fd = open_kcov();
	fd2 = dup(fd);
	t_assert(fd2 >= 0);
	t_assert(t_maps_count("memfd:ukcov") == base + 1);
	t_expect_ok(close_range((unsigned)fd, (unsigned)fd, CLOSE_RANGE_CLOEXEC));
	t_assert(fcntl(fd, F_GETFD) == FD_CLOEXEC);
	t_assert(t_maps_count("memfd:ukcov") == base + 1);
	t_expect_ok(close_range((unsigned)(fd < fd2 ? fd : fd2), ~0u, 0));
	if (t_maps_count("memfd:ukcov") != base)
		t_fail("close_range left the kcov alive (%d mappings, %d before)",
		       t_maps_count("memfd:ukcov"), base);

	/* closefrom, the same. */
	fd = open_kcov();
	high = dup2(fd, 200);
	t_assert(high == 200);
	t_expect_ok(close(fd));
	t_assert(t_maps_count("memfd:ukcov") == base + 1);
	closefrom(100);
	if (t_maps_count("memfd:ukcov") != base)
		t_fail("closefrom left the kcov alive");

	/* Bound: the binding keeps it; DISABLE needs a descriptor, so the
	 * thread's exit unbinds it (t_run_thread). */
	fd = open_kcov();
	t_expect_ok(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(close_range((unsigned)fd, (unsigned)fd, 0));
	t_assert(t_maps_count("memfd:ukcov") == base + 1);
	printf("close_range and closefrom drop kcov descriptors as close does\n");
	return 0;
}
