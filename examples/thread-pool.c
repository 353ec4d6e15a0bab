// SPDX-License-Identifier: MIT
/*
 * A thread pool that attributes its work to the threads that submit it.
 *
 * Two requester threads each own a remote kcov with a distinct common
 * handle.  The pool captures the submitter's common handle when a job is
 * queued (ukcov_capture) and runs the job as a remote section for that
 * handle (ukcov_run_captured), so each requester receives the coverage of
 * its own jobs and nothing of the other's, whichever worker ran them.
 *
 * Each requester's job code sits in its own ELF section, so that the
 * linker's __start_/__stop_ symbols bound it and the checks need no
 * symbolizer.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ukcov.h>

#define COVER_SIZE (16 << 10)	/* words */
#define NWORKERS 2
#define NJOBS 4			/* per requester */

struct job {
	void (*fn)(void *);
	void *arg;
	uint64_t handle;	/* the submitter's common handle */
	int *done;		/* bumped once the job's section stopped */
	struct job *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;	/* queue or done */
static struct job *queue;
static int finished[2];			/* jobs done, per requester */

/* Called by the submitting thread: the capture happens here. */
static void submit(struct job *j, void (*fn)(void *), void *arg, int *done)
{
	j->fn = fn;
	j->arg = arg;
	j->done = done;
	j->handle = ukcov_capture();
	pthread_mutex_lock(&lock);
	j->next = queue;
	queue = j;
	pthread_cond_broadcast(&more);
	pthread_mutex_unlock(&lock);
}

static void *worker(void *unused)
{
	(void)unused;
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&lock);
		while (!queue)
			pthread_cond_wait(&more, &lock);
		j = queue;
		queue = j->next;
		pthread_mutex_unlock(&lock);
		if (!j->fn)
			return NULL;	/* shutdown */
		/* fn(arg) as a remote section for the submitter's handle. */
		ukcov_run_captured(j->handle, j->fn, j->arg);
		/* After the stop: the coverage is in the submitter's area. */
		pthread_mutex_lock(&lock);
		(*j->done)++;
		pthread_cond_broadcast(&more);
		pthread_mutex_unlock(&lock);
	}
}

/* The requesters' work, one function each, in sections of their own. */
static volatile unsigned sink;
__attribute__((section("jobs_a"), noinline)) static void job_a(void *arg)
{
	unsigned v = (unsigned)(uintptr_t)arg;

	sink = v % 3 ? v * 7 : v + 7;
}
__attribute__((section("jobs_b"), noinline)) static void job_b(void *arg)
{
	unsigned v = (unsigned)(uintptr_t)arg;

	sink = v & 1 ? v << 2 : v - 1;
}
extern const char __start_jobs_a[], __stop_jobs_a[];
extern const char __start_jobs_b[], __stop_jobs_b[];

static void *requester(void *p)
{
	int me = (int)(uintptr_t)p;
	void (*mine)(void *) = me ? job_b : job_a;
	const char *lo[2] = { __start_jobs_a, __start_jobs_b };
	const char *hi[2] = { __stop_jobs_a, __stop_jobs_b };
	struct kcov_remote_arg arg = {
		.trace_mode = KCOV_TRACE_PC,
		.area_size = 4096,	/* words per section */
		.common_handle = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON,
						    0x100 + me),
	};
	struct job jobs[NJOBS];
	unsigned long *cover, n, i, own = 0, other = 0;
	int fd = ukcov_open();

	if (fd == -1 || ukcov_ioctl(fd, KCOV_INIT_TRACE, COVER_SIZE))
		return perror("ukcov"), (void *)1;
	cover = ukcov_mmap(NULL, COVER_SIZE * sizeof(unsigned long),
			   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED || ukcov_ioctl(fd, KCOV_REMOTE_ENABLE, &arg))
		return perror("ukcov"), (void *)1;
	__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);

	for (i = 0; i < NJOBS; i++)
		submit(&jobs[i], mine, (void *)(uintptr_t)(i + 1),
		       &finished[me]);
	pthread_mutex_lock(&lock);
	while (finished[me] < NJOBS)
		pthread_cond_wait(&more, &lock);
	pthread_mutex_unlock(&lock);

	/* Every section has stopped: its PCs were appended to our area. */
	n = __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		const char *pc = (const char *)cover[i + 1];

		own += pc >= lo[me] && pc < hi[me];
		other += pc >= lo[!me] && pc < hi[!me];
	}
	printf("requester %d: %lu PCs, %lu in its jobs, %lu in the other's\n",
	       me, n, own, other);
	ukcov_ioctl(fd, KCOV_DISABLE, 0);
	munmap(cover, COVER_SIZE * sizeof(unsigned long));
	close(fd);
	return (void *)(uintptr_t)(own == 0 || other != 0);
}

int main(void)
{
	pthread_t w[NWORKERS], r[2];
	struct job stop[NWORKERS] = { { 0 } };
	void *bad[2];
	int i;

	/* Created before any REMOTE_ENABLE: the workers carry no handle. */
	for (i = 0; i < NWORKERS; i++)
		pthread_create(&w[i], NULL, worker, NULL);
	for (i = 0; i < 2; i++)
		pthread_create(&r[i], NULL, requester, (void *)(uintptr_t)i);
	for (i = 0; i < 2; i++)
		pthread_join(r[i], &bad[i]);
	for (i = 0; i < NWORKERS; i++)
		submit(&stop[i], NULL, NULL, NULL);
	for (i = 0; i < NWORKERS; i++)
		pthread_join(w[i], NULL);
	return bad[0] || bad[1];
}
