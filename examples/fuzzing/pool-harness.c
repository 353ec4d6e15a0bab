// SPDX-License-Identifier: MIT
/*
 * A libFuzzer-style harness for a multi-threaded target: the "library"
 * parses a record, hands the work to a pool of 4 threads (created once,
 * before the first input, and kept, as a real program's pool is), and waits for the pool
 * to say "done", which its jobs say from inside themselves, as zstd's do.
 * A ticker thread runs unrelated instrumented code all the time.
 *
 * The harness is an ordinary LLVMFuzzerTestOneInput.  Linked with
 * libukcov-libfuzzer.a it runs under libFuzzer, with libukcov-afl.a under
 * afl-fuzz; either way each input's coverage is the harness thread's and
 * its jobs', and none of the ticker's (ukcov_fuzzer(3)).
 *
 * The one change ukcov asks of the pool: capture the submitter's handle
 * when queuing (ukcov_capture) and run the job as a section for it
 * (ukcov_run_captured).
 *
 * A record: byte 0 picks the job kind (0-3), byte 1 the number of jobs
 * (1-8), the rest is the job's data.  "CRASH!" crashes the harness.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HARNESS_WITHOUT_UKCOV
/* Built for an engine's own instrumentation, to compare: no ukcov. */
static uint64_t ukcov_capture(void)
{
	return 0;
}

static void ukcov_run_captured(uint64_t handle, void (*fn)(void *), void *arg)
{
	(void)handle;
	fn(arg);
}
#else
#include <ukcov.h>
#endif

/* libFuzzer's interface. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WORKERS 4
#define MAX_JOBS 8

struct job {
	void (*fn)(void *);
	void *arg;
	uint64_t handle;	/* the submitter's, captured at submission */
	struct job *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static struct job *queue;
static sem_t finished;	/* one post per job done */

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
		ukcov_run_captured(j->handle, j->fn, j->arg);
	}
	return NULL;
}

static void submit(struct job *j)
{
	j->handle = ukcov_capture();
	pthread_mutex_lock(&lock);
	j->next = queue;
	queue = j;
	pthread_cond_signal(&more);
	pthread_mutex_unlock(&lock);
}

/* Called by a job, from inside its section: the submitter may go on. */
static void job_done(void)
{
	sem_post(&finished);
}

/* One wait per job: the harness's own code runs the same way whatever the
 * order in which the jobs end (a loop around a condition variable would
 * run a number of times that depends on the scheduler, and an engine
 * would see its count change from run to run). */
static void wait_all(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		while (sem_wait(&finished) != 0)
			;
}

/* ---- the jobs: each kind its own code, and an epilogue after "done" ---- */

struct work {
	const uint8_t *data;
	size_t size;
	unsigned long out;
};

static volatile unsigned long sink;

/* Runs after job_done(): still the job's, still in its section; it no
 * longer touches the request, which may be gone. */
static void epilogue(unsigned long acc)
{
	for (int i = 0; i < 64; i++)
		acc = acc * 31 + (unsigned long)i;
	sink = acc;
}

static void job_sum(void *arg)
{
	struct work *w = arg;
	unsigned long acc = 0;

	for (size_t i = 0; i < w->size; i++)
		acc += w->data[i];
	w->out = acc;
	job_done();
	epilogue(acc);
}

static void job_xor(void *arg)
{
	struct work *w = arg;
	unsigned long acc = 0;

	for (size_t i = 0; i < w->size; i++)
		acc ^= (unsigned long)w->data[i] << (i % 8);
	w->out = acc;
	job_done();
	epilogue(acc);
}

static void job_count(void *arg)
{
	struct work *w = arg;
	unsigned long acc = 0;

	for (size_t i = 0; i < w->size; i++) {
		if (w->data[i] == 'a')
			acc++;
		else if (w->data[i] == 'b')
			acc += 2;
	}
	w->out = acc;
	job_done();
	epilogue(acc);
}

static void job_max(void *arg)
{
	struct work *w = arg;
	unsigned long acc = 0;

	for (size_t i = 0; i < w->size; i++)
		if (w->data[i] > acc)
			acc = w->data[i];
	w->out = acc;
	job_done();
	epilogue(acc);
}

static void (*const kinds[4])(void *) = { job_sum, job_xor, job_count, job_max };

/* ---- the ticker: unrelated instrumented code, all the time ------------- */

static volatile unsigned long ticks;

static void tick(void)
{
	if (ticks % 3 == 0)
		ticks += 2;
	else
		ticks++;
}

static void *ticker(void *unused)
{
	(void)unused;
	for (;;) {
		tick();
		usleep(100);
	}
	return NULL;
}

/*
 * The threads start in LLVMFuzzerInitialize: before the first input, so
 * that no input runs the code that starts them.  libukcov-afl.a calls it
 * in the forkserver's child, where the inputs run.  AFL++'s own driver
 * calls it before its fork, which keeps only the forking thread: built
 * with -DHARNESS_LAZY_THREADS the threads start with the first input
 * instead (and that input runs more code than the next ones).
 */
static void start_threads(void)
{
	pthread_t t;

	sem_init(&finished, 0, 0);
	for (int i = 0; i < WORKERS; i++)
		if (pthread_create(&t, NULL, worker, NULL) == 0)
			pthread_detach(t);
	if (pthread_create(&t, NULL, ticker, NULL) == 0)
		pthread_detach(t);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
#ifndef HARNESS_LAZY_THREADS
	start_threads();
#endif
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job jobs[MAX_JOBS];
	struct work works[MAX_JOBS];
	unsigned int kind, n;

#ifdef HARNESS_LAZY_THREADS
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, start_threads);
#endif
	if (size >= 6 && memcmp(data, "CRASH!", 6) == 0)
		abort();
	if (size < 2)
		return 0;
	kind = data[0] % 4;
	n = 1 + data[1] % MAX_JOBS;
	for (unsigned int i = 0; i < n; i++) {
		works[i] = (struct work){ .data = data + 2, .size = size - 2 };
		jobs[i] = (struct job){ .fn = kinds[kind], .arg = &works[i] };
		submit(&jobs[i]);
	}
	wait_all(n);
	return 0;
}
