// SPDX-License-Identifier: MIT
/*
 * Linux's sequence check: a section that outlives its owner's session is
 * discarded at stop.  Started, then the owner DISABLEs, then stopped: nothing
 * appended.  DISABLE and a new REMOTE_ENABLE of the same handle while the
 * section is open: nothing appended to the new session.  DISABLE and a
 * local KCOV_ENABLE of the same descriptor: nothing of the section in the
 * local trace.  The owner's descriptor closed during an open section: the
 * owner is still bound, so the section is appended; the owner exiting too
 * while the section is open: the section ends cleanly and the object is
 * freed by its stop (run under ASan by make check).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define H (UKCOV_SUBSYSTEM_APP(11) | 1)
#define WORDS 4096

volatile long sink;

__attribute__((noinline)) void section_work(long n);
__attribute__((noinline)) void section_work(long n)
{
	long i, s = 1;

	for (i = 0; i < n; i++)
		s = (i & 1) ? s * 3 : s + i;
	sink = s;
}

static const uint64_t h1[1] = { H };

static void enable_remote(struct t_actor *o, struct t_kcov *k)
{
	t_expect_ok(t_actor_remote_enable(o, k->fd, KCOV_TRACE_PC, 1024, 0, 1,
					  h1));
	t_set_count(k, 0);
}

/* A complete section: lands (the positive control of each case). */
static void expect_section_lands(struct t_kcov *k, struct t_range r)
{
	unsigned long n = t_count(k);

	ukcov_remote_start(H);
	section_work(5);
	ukcov_remote_stop();
	t_assert(t_count(k) > n);
	t_assert(t_count_in(k, r) > 0);
}

int main(void)
{
	struct t_range r = t_range_of(section_work);
	struct t_actor owner;
	struct t_kcov k;

	t_actor_start(&owner);
	t_kcov_open(&k, WORDS);

	/* 1. start, owner DISABLEs, stop: discarded. */
	enable_remote(&owner, &k);
	expect_section_lands(&k, r);
	t_set_count(&k, 0);
	ukcov_remote_start(H);
	section_work(5);
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));
	section_work(5);
	ukcov_remote_stop();
	t_assert(t_count(&k) == 0);

	/* 2. start, DISABLE, REMOTE_ENABLE again (same handle), stop. */
	enable_remote(&owner, &k);
	ukcov_remote_start(H);
	section_work(5);
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));
	enable_remote(&owner, &k);
	section_work(5);
	ukcov_remote_stop();
	t_assert(t_count(&k) == 0);
	/* The new session itself works. */
	expect_section_lands(&k, r);
	/* Also when the new session has another mode. */
	t_set_count(&k, 0);
	ukcov_remote_start(H);
	section_work(5);
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));
	t_expect_ok(t_actor_remote_enable(&owner, k.fd, KCOV_TRACE_CMP, 1024,
					  0, 1, h1));
	t_set_count(&k, 0);
	ukcov_remote_stop();
	t_assert(t_count(&k) == 0);
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));

	/* 3. start, DISABLE, local KCOV_ENABLE of the descriptor, stop:
	 * nothing of the section lands in the local trace (the owner thread
	 * runs only uninstrumented code meanwhile, so the count stays 0). */
	enable_remote(&owner, &k);
	ukcov_remote_start(H);
	section_work(5);
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_set_count(&k, 0);
	section_work(5);
	ukcov_remote_stop();
	section_work(5);
	t_assert(t_count(&k) == 0);
	t_assert(t_count_in(&k, r) == 0);
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));
	/* With the section started after the local enable, no handle is
	 * registered: nothing either. */
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_set_count(&k, 0);
	ukcov_remote_start(H);
	section_work(5);
	ukcov_remote_stop();
	t_assert(t_count(&k) == 0);
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));

	/* 4a. The owner's descriptor is closed during the section: the owner
	 * is still bound, so the section is appended (to the mapping, which
	 * outlives the descriptor). */
	enable_remote(&owner, &k);
	ukcov_remote_start(H);
	section_work(5);
	t_assert(!close(k.fd));
	section_work(5);
	ukcov_remote_stop();
	t_assert(t_count_in(&k, r) > 0);
	expect_section_lands(&k, r);
	/* Then the owner exits inside a section: unbound (handle gone), the
	 * section's stop drops the last reference and frees the object. */
	t_set_count(&k, 0);
	ukcov_remote_start(H);
	section_work(5);
	t_actor_stop(&owner);
	section_work(5);
	ukcov_remote_stop();
	t_assert(t_count(&k) == 0);
	ukcov_remote_start(H);
	section_work(5);
	ukcov_remote_stop();
	t_assert(t_count(&k) == 0);
	/* The old mapping is still readable and writable. */
	k.area[WORDS - 1] = 1;
	t_assert(k.area[WORDS - 1] == 1);
	munmap(k.area, WORDS * sizeof(long));

	/* 4b. The descriptor is closed and the owner exits, both during the
	 * section, and the mapping is gone before the stop. */
	t_actor_start(&owner);
	t_kcov_open(&k, WORDS);
	enable_remote(&owner, &k);
	ukcov_remote_start(H);
	section_work(5);
	t_assert(!close(k.fd));
	munmap(k.area, WORDS * sizeof(long));
	t_actor_stop(&owner);
	section_work(5);
	ukcov_remote_stop();

	/* The handle is free: a new kcov registers it and gets sections. */
	t_actor_start(&owner);
	t_kcov_open(&k, WORDS);
	enable_remote(&owner, &k);
	expect_section_lands(&k, r);
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));
	t_actor_stop(&owner);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
