// SPDX-License-Identifier: MIT
/*
 * The common handle (Linux's task->kcov_handle): a thread that registered
 * one with KCOV_REMOTE_ENABLE passes it to the threads it creates, and they
 * to theirs; a section opened with ukcov_remote_start_common() on
 * ukcov_common_handle() in a grandchild thread (and ukcov_run_captured()
 * of ukcov_capture()) lands in the owner's area.  A forked child sees the
 * same handle.  A thread created before the REMOTE_ENABLE has 0, and so do
 * threads created after the DISABLE of the remote kcov, which clears it; a
 * local DISABLE does not (v7.2).  ukcov_remote_handle() range checks.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define INST 0xabcd
#define HC (KCOV_SUBSYSTEM_COMMON | INST)
#define WORDS 8192

/* Per thread: workers and owners run these functions concurrently. */
__thread volatile long sink;

__attribute__((noinline)) void grandchild_work(long n);
__attribute__((noinline)) void grandchild_work(long n)
{
	long i, s = 11;

	for (i = 0; i < n; i++)
		s = (i & 1) ? s * 13 : s + i;
	sink = s;
}

__attribute__((noinline)) void captured_work(void *p);
__attribute__((noinline)) void captured_work(void *p)
{
	long i, n = (long)(uintptr_t)p, s = 17;

	for (i = 0; i < n; i++)
		s = (i & 2) ? s * 19 : s ^ i;
	sink = s;
}

static void *grandchild(void *p)
{
	uint64_t *seen = p;

	seen[1] = ukcov_common_handle();
	ukcov_remote_start_common(ukcov_common_handle() & KCOV_INSTANCE_MASK);
	grandchild_work(5);
	ukcov_remote_stop();
	ukcov_run_captured(ukcov_capture(), captured_work, (void *)5);
	return NULL;
}

static void *child(void *p)
{
	uint64_t *seen = p;
	pthread_t t;

	seen[0] = ukcov_common_handle();
	t_assert(!pthread_create(&t, NULL, grandchild, seen));
	t_assert(!pthread_join(t, NULL));
	return NULL;
}

static volatile int go;
static uint64_t early_seen = ~0ull;

/* Created before the REMOTE_ENABLE: reads its handle after it. */
static void *early(void *p)
{
	(void)p;
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		sched_yield();
	early_seen = ukcov_common_handle();
	return NULL;
}

static uint64_t handle_of_new_thread(void)
{
	uint64_t seen[2] = { ~0ull, ~0ull };
	pthread_t t;

	t_assert(!pthread_create(&t, NULL, child, seen));
	t_assert(!pthread_join(t, NULL));
	t_assert(seen[0] == seen[1]);
	return seen[0];
}

static void handles(void)
{
	uint64_t app = UKCOV_SUBSYSTEM_APP(0);

	t_assert(ukcov_remote_handle(KCOV_SUBSYSTEM_USB, 3) ==
		 (KCOV_SUBSYSTEM_USB | 3));
	t_assert(ukcov_remote_handle(KCOV_SUBSYSTEM_COMMON, INST) == HC);
	t_assert(ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, 17) ==
		 (UKCOV_SUBSYSTEM_SIGNAL | 17));
	t_assert(ukcov_remote_handle(app, 0xffffffff) == (app | 0xffffffff));
	t_assert(ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(127), 1) ==
		 (0xff00000000000001ull));
	t_assert(UKCOV_SUBSYSTEM_APP(127) == UKCOV_SUBSYSTEM_APP_LAST);
	t_assert(UKCOV_SUBSYSTEM_APP(0) == UKCOV_SUBSYSTEM_APP_FIRST);
	/* Instance wider than 32 bits. */
	t_assert(ukcov_remote_handle(KCOV_SUBSYSTEM_USB, 1ull << 32) == 0);
	t_assert(ukcov_remote_handle(app, ~0ull) == 0);
	/* Subsystem with bits outside byte 7 (e.g. unshifted). */
	t_assert(ukcov_remote_handle(1, 1) == 0);
	t_assert(ukcov_remote_handle(0x80, 1) == 0);
	t_assert(ukcov_remote_handle(KCOV_SUBSYSTEM_USB | (1ull << 40), 1) ==
		 0);
	/* Same answers as the uapi inline. */
	t_assert(kcov_remote_handle(KCOV_SUBSYSTEM_USB, 3) ==
		 ukcov_remote_handle(KCOV_SUBSYSTEM_USB, 3));
}

int main(void)
{
	struct t_range rg = t_range_of(grandchild_work);
	struct t_range rc = t_range_of(captured_work);
	struct t_kcov k, l;
	pthread_t t_early;
	int status;
	pid_t pid;

	handles();
	t_assert(ukcov_common_handle() == 0);
	t_assert(handle_of_new_thread() == 0);
	t_assert(!pthread_create(&t_early, NULL, early, NULL));

	t_kcov_open(&k, WORDS);
	t_kcov_open(&l, WORDS);
	t_expect_ok(t_remote_enable(k.fd, KCOV_TRACE_PC, 1024, HC, 0, NULL));
	t_assert(ukcov_common_handle() == HC);
	t_assert(ukcov_capture() == HC);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	t_assert(!pthread_join(t_early, NULL));
	t_assert(early_seen == 0);

	/* Two levels of threads; the grandchild's sections land here. */
	t_set_count(&k, 0);
	t_assert(handle_of_new_thread() == HC);
	t_assert(t_count_in(&k, rg) > 0);
	t_assert(t_count_in(&k, rc) > 0);

	/* A forked child sees the same handle. */
	fflush(NULL);
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0)
		_exit(ukcov_common_handle() == HC ? 0 : 1);
	t_assert(waitpid(pid, &status, 0) == pid);
	t_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* A local enable and DISABLE alongside leave the handle (v7.2). */
	t_expect_ok(ukcov_ioctl(l.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(l.fd, KCOV_DISABLE, 0));
	t_assert(ukcov_common_handle() == HC);
	t_assert(handle_of_new_thread() == HC);

	/* The remote DISABLE clears it, for new threads and forks too. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(ukcov_common_handle() == 0);
	t_assert(handle_of_new_thread() == 0);
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0)
		_exit(ukcov_common_handle() == 0 ? 0 : 1);
	t_assert(waitpid(pid, &status, 0) == pid);
	t_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	t_kcov_close(&l);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
