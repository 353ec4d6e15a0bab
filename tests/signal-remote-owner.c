// SPDX-License-Identifier: MIT
/*
 * The remote owner interrupted (Linux's 2024 "lost remote reference during
 * softirqs" bug): the thread that did KCOV_REMOTE_ENABLE is itself hit by
 * signal handlers that run sections, for one of its own handles and for
 * another owner's.  Its binding must survive: afterwards KCOV_DISABLE
 * succeeds, the descriptor is closed, and a fresh descriptor re-registers
 * the same handles (no EEXIST).  A second owner thread, hit the same way
 * (by raise and by pthread_kill while it sleeps), simply exits: its exit
 * must unregister its handles, so a new REMOTE_ENABLE of them succeeds.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 65536

static const uint64_t H_OWN1 = UKCOV_SUBSYSTEM_APP(21) | 1;
static const uint64_t H_OWN2 = UKCOV_SUBSYSTEM_APP(21) | 2;
static const uint64_t H_OTHER = UKCOV_SUBSYSTEM_APP(21) | 3;
static const uint64_t H_EXIT1 = UKCOV_SUBSYSTEM_APP(21) | 4;
static const uint64_t H_EXIT2 = UKCOV_SUBSYSTEM_APP(21) | 5;
#define COMMON1 0x5151ull
#define COMMON2 0x5152ull

/* Per thread: handlers run on two threads. */
static __thread volatile long sink;
/* Counted by the handlers, polled by the main thread: atomic. */
static int handled;
/* Which handle the handler uses for "its own" section. */
static volatile uint64_t own_handle;

__attribute__((noinline)) void own_work(int n);
__attribute__((noinline)) void own_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i : -i;
}

__attribute__((noinline)) void other_work(int n);
__attribute__((noinline)) void other_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink ^= (i & 2) ? i * 3 : i;
}

__attribute__((noinline)) void owner_handler(int sig);
__attribute__((noinline)) void owner_handler(int sig)
{
	ukcov_remote_start(own_handle);
	own_work(10 + sig % 3);
	ukcov_remote_stop();
	ukcov_remote_start(H_OTHER);
	other_work(10);
	ukcov_remote_stop();
	__atomic_add_fetch(&handled, 1, __ATOMIC_RELEASE);
}

static struct t_range r_own, r_other;
/* PCs of one own_work / other_work call of the handler (measured). */
static unsigned long own_pcs, other_pcs;

static int handled_now(void)
{
	return __atomic_load_n(&handled, __ATOMIC_ACQUIRE);
}

/* Phase 1: the main thread is the owner. */
static void owner_main_thread(struct t_kcov *other)
{
	const uint64_t hs[2] = { H_OWN1, H_OWN2 };
	struct t_kcov k, k2;
	int i;

	t_kcov_open(&k, WORDS);
	t_expect_ok(t_remote_enable(k.fd, KCOV_TRACE_PC, 4096, COMMON1, 2, hs));
	t_assert(ukcov_common_handle() ==
		 kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, COMMON1));
	own_handle = H_OWN1;
	__atomic_store_n(&handled, 0, __ATOMIC_RELAXED);
	for (i = 0; i < 10; i++)
		raise(SIGUSR1);
	t_assert(handled_now() == 10);
	/* The sections went where they belong, each one whole. */
	t_assert(t_count_in(&k, r_own) == 10 * own_pcs);
	t_assert(t_count_in(&k, r_other) == 0);
	t_assert(t_count_in(other, r_other) == 10 * other_pcs);
	t_assert(t_count_in(other, r_own) == 0);
	/* Still the owner, with its common handle. */
	t_assert(ukcov_common_handle() ==
		 kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, COMMON1));
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k);

	/* The same handles again, on a fresh descriptor. */
	t_kcov_open(&k2, WORDS);
	t_expect_ok(t_remote_enable(k2.fd, KCOV_TRACE_PC, 4096, COMMON1, 2,
				    hs));
	/* And the owner still works after another round of signals. */
	own_handle = H_OWN2;
	raise(SIGUSR1);
	t_assert(t_count_in(&k2, r_own) == own_pcs);
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k2);
}

/* Phase 2: an owner thread that exits after being interrupted. */
struct exiter {
	int fd;
	sem_t ready, go;
};

__attribute__((noinline)) void *exiter_main(void *p);
__attribute__((noinline)) void *exiter_main(void *p)
{
	const uint64_t hs[2] = { H_EXIT1, H_EXIT2 };
	struct exiter *e = p;
	int i;

	if (t_remote_enable(e->fd, KCOV_TRACE_PC, 4096, COMMON2, 2, hs))
		t_fail("exiter REMOTE_ENABLE: %s", strerror(errno));
	for (i = 0; i < 5; i++)
		raise(SIGUSR1);
	sem_post(&e->ready);
	/* Now the main thread signals us while we wait. */
	while (sem_wait(&e->go) && errno == EINTR)
		;
	return NULL;
}

int main(void)
{
	const uint64_t hs[2] = { H_EXIT1, H_EXIT2 };
	struct t_actor oo;
	struct t_kcov other, k, k3;
	struct sigaction sa;
	struct exiter e;
	pthread_t t;
	int i, before;

	r_own = t_range_of(own_work);
	r_other = t_range_of(other_work);
	own_pcs = t_sig_pcs_of(own_work, 10 + SIGUSR1 % 3);
	other_pcs = t_sig_pcs_of(other_work, 10);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = owner_handler;
	sigemptyset(&sa.sa_mask);
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));

	/* The other owner lives on its own thread for the whole test. */
	t_actor_start(&oo);
	t_kcov_open(&other, WORDS);
	t_expect_ok(t_actor_remote_enable(&oo, other.fd, KCOV_TRACE_PC, 4096, 0,
					  1, &H_OTHER));

	owner_main_thread(&other);

	/* Phase 2. */
	t_kcov_open(&k, WORDS);
	e.fd = k.fd;
	sem_init(&e.ready, 0, 0);
	sem_init(&e.go, 0, 0);
	own_handle = H_EXIT1;
	t_assert(pthread_create(&t, NULL, exiter_main, &e) == 0);
	while (sem_wait(&e.ready) && errno == EINTR)
		;
	before = handled_now();
	for (i = 0; i < 5; i++) {
		t_assert(pthread_kill(t, SIGUSR1) == 0);
		while (handled_now() < before + i + 1)
			usleep(100);
	}
	sem_post(&e.go);
	t_assert(pthread_join(t, NULL) == 0);
	/* 5 raised + 5 sent: each section reached the exited owner. */
	t_assert(t_count_in(&k, r_own) == 10 * own_pcs);
	t_assert(t_count_in(&k, r_other) == 0);
	/* The exited owner's handles are free again, even before close. */
	t_kcov_open(&k3, WORDS);
	t_expect_ok(t_remote_enable(k3.fd, KCOV_TRACE_PC, 4096, COMMON2, 2, hs));
	t_expect_ok(ukcov_ioctl(k3.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k3);
	t_kcov_close(&k);

	t_expect_ok(t_actor_ioctl(&oo, other.fd, KCOV_DISABLE, 0));
	t_actor_stop(&oo);
	t_kcov_close(&other);
	t_assert(ukcov_irq_sections_skipped() == 0);
	return T_EXIT_PASS;
}
