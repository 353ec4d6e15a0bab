// SPDX-License-Identifier: MIT
/*
 * fork under load (issue 7; t_stress_seconds, default 2 s).  Three worker
 * threads collect locally (PC or CMP), reset their areas, and run remote
 * sections for a handle the main thread owns, nonstop.  Meanwhile the main
 * thread forks children, Linux's fork-server pattern: it did INIT_TRACE
 * and mapped a shared area once; each child enables the inherited
 * descriptor, runs child_work, checks its own trace, sometimes DISABLEs,
 * sometimes opens and closes a section, and exits (exit or _exit).  The
 * parent checks after each child that child_work's PCs arrived in the
 * shared area, and resets it.  No deadlock in a child (a worker may hold
 * any ukcov lock at the fork), no crash, no misattribution in the workers'
 * traces, every child exits 0.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define NWORKERS 3
#define H (UKCOV_SUBSYSTEM_APP(34) | 1)

__thread volatile long sink;
static volatile int stop;
static struct t_range r_local, r_sec, r_child;

__attribute__((noinline)) void local_work(int n);
__attribute__((noinline)) void local_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i : 2;
}

__attribute__((noinline)) void sec_work(int n);
__attribute__((noinline)) void sec_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink ^= (i & 1) ? i * 3 : 5;
}

__attribute__((noinline)) void child_work(int n);
__attribute__((noinline)) void child_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink -= (i & 1) ? i : 7;
}

struct worker {
	int idx;
	unsigned long iters;
	int err;
};

static void *worker(void *p)
{
	struct worker *w = p;
	unsigned long mode = w->idx == 2 ? KCOV_TRACE_CMP : KCOV_TRACE_PC;
	struct t_kcov k;

	t_kcov_open(&k, 8192);
	if (ukcov_ioctl(k.fd, KCOV_ENABLE, mode)) {
		w->err = errno;
		return NULL;
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
		local_work(10);
		ukcov_remote_start(H);
		sec_work(10);
		ukcov_remote_stop();
		local_work(3);
		if (mode == KCOV_TRACE_PC) {
			/* The section's code is never in the local trace. */
			if (t_count_in(&k, r_sec) || !t_count_in(&k, r_local)) {
				w->err = -1;
				break;
			}
		}
		w->iters++;
	}
	ukcov_ioctl(k.fd, KCOV_DISABLE, 0);
	t_kcov_close(&k);
	return NULL;
}

/* The child: the fork-server's side. */
static int child(int fd, unsigned long *area, unsigned long n)
{
	struct t_kcov k = {.fd = fd, .words = 4096, .area = area};

	if (ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC))
		return 10;
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	child_work(8);
	if (!t_count_in(&k, r_child))
		return 11;
	if (t_count_in(&k, r_sec) || t_count_in(&k, r_local))
		return 12;
	if (n % 3 == 1) {
		/* A section in the child: recorded nowhere near our trace. */
		unsigned long before = t_count_in(&k, r_sec);

		ukcov_remote_start(H);
		sec_work(3);
		ukcov_remote_stop();
		if (t_count_in(&k, r_sec) != before)
			return 13;
	}
	/* The child inherited no binding: only its own enable counts. */
	if (ukcov_common_handle() != 0)
		return 14;
	if (n % 2 && ukcov_ioctl(fd, KCOV_DISABLE, 0))
		return 15;
	return 0;
}

int main(void)
{
	double secs = t_stress_seconds(2.0), t0;
	struct worker w[NWORKERS];
	pthread_t tid[NWORKERS];
	struct ukcov_stats st;
	struct t_kcov owner, fs;
	uint64_t h = H;
	unsigned long n = 0;
	int i;

	r_local = t_range_of(local_work);
	r_sec = t_range_of(sec_work);
	r_child = t_range_of(child_work);
	t_kcov_open(&owner, 1 << 16);
	t_expect_ok(t_remote_enable(owner.fd, KCOV_TRACE_PC, 1024, 0, 1, &h));
	t_kcov_open(&fs, 4096);

	memset(w, 0, sizeof(w));
	for (i = 0; i < NWORKERS; i++) {
		w[i].idx = i;
		t_assert(pthread_create(&tid[i], NULL, worker, &w[i]) == 0);
	}
	t0 = t_now();
	while (t_now() - t0 < secs) {
		int status;
		pid_t pid = fork();

		t_assert(pid >= 0);
		if (pid == 0) {
			int r = child(fs.fd, fs.area, n);

			if (n & 4)
				exit(r);
			_exit(r);
		}
		t_assert(waitpid(pid, &status, 0) == pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			t_fail("child %lu: status %#x", n, status);
		/* The fork server reads its child's coverage. */
		if (!t_count_in(&fs, r_child))
			t_fail("child %lu: no child_work PC in the shared area",
			       n);
		t_set_count(&fs, 0);
		t_expect_ok(ukcov_ioctl(owner.fd, KCOV_RESET_TRACE, 0));
		n++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NWORKERS; i++) {
		pthread_join(tid[i], NULL);
		if (w[i].err)
			t_fail("worker %d: error %d after %lu iterations", i,
			       w[i].err, w[i].iters);
	}
	t_expect_ok(ukcov_get_stats(owner.fd, &st));
	printf("fork-stress: %lu children in %.1f s; workers %lu %lu %lu "
	       "iterations; %llu sections appended\n",
	       n, t_now() - t0, w[0].iters, w[1].iters, w[2].iters,
	       (unsigned long long)st.sections_appended);
	t_assert(n > 0 && st.sections_appended > 0);
	t_expect_ok(ukcov_ioctl(owner.fd, KCOV_DISABLE, 0));
	/* The parent's fork-server kcov is still READY: it can enable. */
	t_expect_ok(ukcov_ioctl(fs.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(fs.fd, KCOV_DISABLE, 0));
	t_kcov_close(&fs);
	t_kcov_close(&owner);
	return T_EXIT_PASS;
}
