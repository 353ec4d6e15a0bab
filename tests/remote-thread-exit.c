// SPDX-License-Identifier: MIT
/*
 * Thread exit and remote coverage (spec §3.5).  A worker thread that exits
 * inside a section, without the stop (by returning, by pthread_exit, and
 * with sections nested), has its sections ended cleanly: their entries are
 * appended to the owners' areas by the time the thread is joined.  An owner
 * thread that exits while registered has its handles (global and common)
 * unregistered: another kcov registers them right away and sections for
 * them no longer reach the old area.  A thread holding a local and a remote
 * kcov releases both.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "helpers.h"

#define H1 (UKCOV_SUBSYSTEM_APP(12) | 1)
#define H2 (UKCOV_SUBSYSTEM_APP(12) | 2)
#define HC (KCOV_SUBSYSTEM_COMMON | 0x1212)
#define WORDS 4096

/* Per thread: workers and owners run these functions concurrently. */
__thread volatile long sink;

__attribute__((noinline)) void exit_work(long n);
__attribute__((noinline)) void exit_work(long n)
{
	long i, s = 3;

	for (i = 0; i < n; i++)
		s = (i & 1) ? s * 5 : s - i;
	sink = s;
}

__attribute__((noinline)) void inner_work(long n);
__attribute__((noinline)) void inner_work(long n)
{
	long i, s = 4;

	for (i = 0; i < n; i++)
		s = (i & 2) ? s * 7 : s + i;
	sink = s;
}

static void *exit_by_return(void *p)
{
	(void)p;
	ukcov_remote_start(H1);
	exit_work(5);
	return NULL;
}

static void *exit_by_pthread_exit(void *p)
{
	(void)p;
	ukcov_remote_start(H1);
	exit_work(5);
	pthread_exit(NULL);
}

/* Outer section for H1, inner for H2, exit inside both. */
static void *exit_nested(void *p)
{
	(void)p;
	ukcov_remote_start(H1);
	exit_work(5);
	ukcov_remote_start(H2);
	inner_work(5);
	return NULL;
}

static void run(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	t_assert(!pthread_create(&t, NULL, fn, arg));
	t_assert(!pthread_join(t, NULL));
}

static void worker_exits(void)
{
	struct t_range rx = t_range_of(exit_work), ri = t_range_of(inner_work);
	const uint64_t h[2] = { H1, H2 };
	struct t_actor owner, owner2;
	struct t_kcov k, k2;

	t_kcov_open(&k, WORDS);
	t_kcov_open(&k2, WORDS);
	t_actor_start(&owner);
	t_actor_start(&owner2);
	t_expect_ok(t_actor_remote_enable(&owner, k.fd, KCOV_TRACE_PC, 1024, 0,
					  1, &h[0]));
	t_expect_ok(t_actor_remote_enable(&owner2, k2.fd, KCOV_TRACE_PC, 1024,
					  0, 1, &h[1]));

	t_set_count(&k, 0);
	run(exit_by_return, NULL);
	t_assert(t_count_in(&k, rx) > 0);

	t_set_count(&k, 0);
	run(exit_by_pthread_exit, NULL);
	t_assert(t_count_in(&k, rx) > 0);

	t_set_count(&k, 0);
	t_set_count(&k2, 0);
	run(exit_nested, NULL);
	t_assert(t_count_in(&k, rx) > 0);
	t_assert(t_count_in(&k, ri) == 0);
	t_assert(t_count_in(&k2, ri) > 0);
	t_assert(t_count_in(&k2, rx) == 0);

	/* The sections' references were dropped: DISABLE, close and the
	 * handles' re-registration all work. */
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));
	t_expect_ok(t_actor_ioctl(&owner2, k2.fd, KCOV_DISABLE, 0));
	t_expect_ok(t_remote_enable(k2.fd, KCOV_TRACE_PC, 1024, 0, 2, h));
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_DISABLE, 0));
	t_actor_stop(&owner2);
	t_actor_stop(&owner);
	t_kcov_close(&k2);
	t_kcov_close(&k);
}

struct owner_args {
	int fd, local_fd;
};

/* Registers H1, H2 and HC (and enables a local kcov), then exits. */
static void *owner_exits(void *p)
{
	struct owner_args *a = p;
	const uint64_t h[2] = { H1, H2 };

	if (a->local_fd >= 0)
		t_expect_ok(ukcov_ioctl(a->local_fd, KCOV_ENABLE,
					KCOV_TRACE_PC));
	t_expect_ok(t_remote_enable(a->fd, KCOV_TRACE_PC, 1024, HC, 2, h));
	t_assert(ukcov_common_handle() == HC);
	return NULL;
}

static void owner_exit(bool with_local)
{
	struct t_range rx = t_range_of(exit_work);
	const uint64_t h[2] = { H1, H2 };
	struct owner_args a;
	struct t_kcov k, k2, l;

	t_kcov_open(&k, WORDS);
	t_kcov_open(&k2, WORDS);
	t_kcov_open(&l, WORDS);
	a.fd = k.fd;
	a.local_fd = with_local ? l.fd : -1;
	t_set_count(&k, 0);
	run(owner_exits, &a);

	/* Nothing reaches the old area any more. */
	ukcov_remote_start(H1);
	exit_work(5);
	ukcov_remote_stop();
	ukcov_remote_start_common(HC & KCOV_INSTANCE_MASK);
	exit_work(5);
	ukcov_remote_stop();
	t_assert(t_count(&k) == 0);

	/* Every handle is free right away, the common one too. */
	t_expect_ok(t_remote_enable(k2.fd, KCOV_TRACE_PC, 1024, HC, 2, h));
	t_set_count(&k2, 0);
	ukcov_remote_start(H2);
	exit_work(5);
	ukcov_remote_stop();
	t_assert(t_count_in(&k2, rx) > 0);
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_DISABLE, 0));

	/* The exited owner's descriptor is READY again: usable here. */
	t_expect_ok(t_remote_enable(k.fd, KCOV_TRACE_PC, 1024, HC, 2, h));
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	/* And the local one too. */
	t_expect_ok(ukcov_ioctl(l.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(l.fd, KCOV_DISABLE, 0));
	t_kcov_close(&l);
	t_kcov_close(&k2);
	t_kcov_close(&k);
}

int main(void)
{
	worker_exits();
	owner_exit(false);
	owner_exit(true);
	return T_EXIT_PASS;
}
