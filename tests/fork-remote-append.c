// SPDX-License-Identifier: MIT
/*
 * A forked child inherits the registry, so its remote sections append to
 * the owner's area in the parent, as a Linux child's common handle does.
 * Appends from the parent's workers and the child's workers, at the same
 * time, must not lose or tear each other: the area ends up with exactly
 * (sections of both) x (PCs per section) entries, every one a PC of the
 * code inside the sections (the workers' and the function they call).  Without a lock shared between the processes, two
 * appenders read the same count and overwrite each other's entries.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS (1ul << 21)
#define WORKERS 2

static const uint64_t H = UKCOV_SUBSYSTEM_APP(20) | 7;
static __thread volatile long sink;
static double end;
static long per_worker; /* sections each worker runs at most */

__attribute__((noinline)) void section_work(int n);
__attribute__((noinline)) void section_work(int n)
{
	for (int i = 0; i < n; i++)
		sink += i;
}

void *worker(void *p);
__attribute__((noinline)) void *worker(void *p)
{
	long *done = p;

	while (*done < per_worker && t_now() < end) {
		ukcov_remote_start(H);
		section_work(8);
		ukcov_remote_stop();
		(*done)++;
	}
	return NULL;
}

/* Run WORKERS threads of sections; the number of sections run. */
static long run_workers(void)
{
	pthread_t t[WORKERS];
	long done[WORKERS] = { 0 }, total = 0;
	int i;

	for (i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, worker, &done[i]);
	for (i = 0; i < WORKERS; i++) {
		pthread_join(t[i], NULL);
		total += done[i];
	}
	return total;
}

int main(void)
{
	uintptr_t lo = (uintptr_t)section_work, wlo = (uintptr_t)worker;
	size_t sz = t_func_size(section_work), wsz = t_func_size(worker);
	long *child_sections, mine, pcs;
	struct t_actor owner;
	struct t_kcov k;
	unsigned long n, i;
	int status;
	pid_t pid;

	if (T_SIG_TSAN) {
		/* TSan cannot start threads in a multi-threaded fork's child. */
		printf("skipped under ThreadSanitizer: no threads after a "
		       "multi-threaded fork\n");
		return T_EXIT_SKIP;
	}
	t_assert(sz > 0 && wsz > 0);
	child_sections = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	t_assert(child_sections != MAP_FAILED);
	t_actor_start(&owner);
	t_kcov_open(&k, WORDS);
	t_expect_ok(t_actor_remote_enable(&owner, k.fd, KCOV_TRACE_PC, 1024, 0,
					  1, &H));
	/* PCs one section of a worker records: a worker with a quota of 1. */
	t_set_count(&k, 0);
	per_worker = 1;
	end = t_now() + 60;
	{
		long one = 0;

		worker(&one);
		t_assert(one == 1);
	}
	pcs = (long)t_count(&k);
	t_assert(pcs > 0);
	t_set_count(&k, 0);
	/* Both processes together never fill the area. */
	per_worker = (long)((WORDS - 1) / (unsigned long)pcs / (2 * WORKERS));
	end = t_now() + t_stress_seconds(2);

	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0) {
		*child_sections = run_workers();
		_exit(0);
	}
	mine = run_workers();
	t_assert(waitpid(pid, &status, 0) == pid);
	t_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	n = t_count(&k);
	printf("parent %ld + child %ld sections of %ld PCs: %lu entries\n",
	       mine, *child_sections, pcs, n);
	t_assert(*child_sections > 0 && mine > 0);
	t_assert(n == (unsigned long)((mine + *child_sections) * pcs));
	for (i = 1; i <= n; i++)
		if ((k.area[i] < lo || k.area[i] >= lo + sz) &&
		    (k.area[i] < wlo || k.area[i] >= wlo + wsz))
			t_fail("entry %lu: %#lx is not a section's", i,
			       k.area[i]);
	t_actor_stop(&owner);
	return T_EXIT_PASS;
}
