// SPDX-License-Identifier: MIT
/*
 * The fuzzing feed (issue 14, item 2; ukcov_fuzzer(3)): per input, the
 * map holds exactly that input's coverage, from the harness thread and
 * from the pool jobs run for it, and nothing from a thread that runs
 * unrelated instrumented code all the time.
 *
 *   - Reference maps: each input kind run once with the ticker parked and
 *     no signals.  Then, with the ticker running flat out and a timer
 *     signal (whose handler runs instrumented code) hitting every thread,
 *     every kind's map, 25 times over, equals its reference exactly.  The
 *     jobs say "done" from inside their sections and run their tails
 *     2 ms later: a feed that did not wait for them would lose the tails.
 *   - Thread churn: a kind whose job runs on a thread created for the
 *     input (it inherits the harness thread's common handle), detached,
 *     saying "done" before its section ends.
 *   - The kinds' maps differ from one another; each holds its job's tail.
 *   - Indices: the same in another process (an exec of this test, with
 *     its own load address), within [0, size) for odd and huge sizes.
 *   - UKCOV_FUZZER_COUNTS=0 (an exec of this test): the map of a kind has
 *     the counters of its reference set, each to 1.
 *   - Errors: ukcov_fuzzer_end without a begun input, a null map, size 0.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "ukcov/fuzzer.h"

#define MAP (1u << 16)
#define KINDS 5
#define REPS 25
#define WORKERS 3

static __thread volatile unsigned long sink;

/* ---- the jobs: a body, "done", then a tail 2 ms later ------------------- */

static sem_t done;

__attribute__((noinline)) void tail_a(void);
__attribute__((noinline)) void tail_a(void)
{
	for (long i = 0; i < 40; i++)
		sink = (i & 1) ? sink * 3 : sink + i;
	sink++;	/* after the last callback: no tail call to it (gcc) */
}

__attribute__((noinline)) void tail_b(void);
__attribute__((noinline)) void tail_b(void)
{
	for (long i = 0; i < 50; i++)
		sink = (i & 3) ? sink ^ i : sink - 1;
	sink++;
}

T_NOCOV static void pause_2ms(void)
{
	struct timespec ts = { 0, 2000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void job_a(void *arg)
{
	long n = (long)(intptr_t)arg;

	for (long i = 0; i < n; i++)
		sink += i;
	sem_post(&done);
	pause_2ms();
	tail_a();
}

static void job_b(void *arg)
{
	long n = (long)(intptr_t)arg;

	for (long i = 0; i < n; i++)
		if (i % 3 == 0)
			sink -= i;
	sem_post(&done);
	pause_2ms();
	tail_b();
}

/* ---- a pool created before any kcov: it captures at submission -------- */

struct job {
	void (*fn)(void *);
	void *arg;
	uint64_t handle;
	struct job *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static struct job *queue;

T_NOCOV static struct job *take(void)
{
	struct job *j;

	pthread_mutex_lock(&lock);
	while (!queue)
		pthread_cond_wait(&more, &lock);
	j = queue;
	queue = j->next;
	pthread_mutex_unlock(&lock);
	return j;
}

T_NOCOV static void *worker(void *unused)
{
	(void)unused;
	for (;;) {
		struct job *j = take();

		ukcov_run_captured(j->handle, j->fn, j->arg);
		free(j);
	}
	return NULL;
}

T_NOCOV static void submit(void (*fn)(void *), long n)
{
	struct job *j = malloc(sizeof(*j));

	if (!j)
		t_fail("malloc");
	j->fn = fn;
	j->arg = (void *)(intptr_t)n;
	j->handle = ukcov_capture();
	pthread_mutex_lock(&lock);
	j->next = queue;
	queue = j;
	pthread_cond_signal(&more);
	pthread_mutex_unlock(&lock);
}

/* A thread per input: it inherits the harness thread's common handle. */
static void *churn_thread(void *unused)
{
	(void)unused;
	ukcov_remote_start_common(ukcov_common_handle());
	for (long i = 0; i < 30; i++)
		sink ^= i;
	sem_post(&done);
	pause_2ms();
	tail_b();
	ukcov_remote_stop();
	return NULL;
}

/* ---- the noise: a ticker and a timer signal ----------------------------- */

static int parked = 1, stop_ticker;	/* atomics */
static unsigned long ticks;		/* the ticker's alone */
static int alarms;			/* set by any thread's handler */
static unsigned long ticks_seen;

__attribute__((noinline)) void tick(void);
__attribute__((noinline)) void tick(void)
{
	if (ticks % 3 == 0)
		ticks += 2;
	else
		ticks++;
	__atomic_store_n(&ticks_seen, ticks, __ATOMIC_RELAXED);
}

T_NOCOV static void *ticker(void *unused)
{
	(void)unused;
	while (!__atomic_load_n(&stop_ticker, __ATOMIC_RELAXED)) {
		if (__atomic_load_n(&parked, __ATOMIC_RELAXED))
			sched_yield();
		else
			tick();
	}
	return NULL;
}

static __thread volatile unsigned long handled;

static void on_alarm(int sig)
{
	(void)sig;
	if (handled % 2)
		handled += 3;
	else
		handled++;
	__atomic_store_n(&alarms, 1, __ATOMIC_RELAXED);
}

/* ---- inputs -------------------------------------------------------------- */

T_NOCOV static void wait_jobs(int n)
{
	for (int i = 0; i < n; i++)
		while (sem_wait(&done))
			;
}

/* The harness's code for one input (instrumented: the harness thread's
 * own coverage is part of the map). */
__attribute__((noinline)) static void input(int kind)
{
	pthread_t t;

	switch (kind) {
	case 0:
		submit(job_a, 10);
		wait_jobs(1);
		break;
	case 1:
		submit(job_b, 20);
		wait_jobs(1);
		break;
	case 2:
		submit(job_a, 5);
		submit(job_b, 5);
		submit(job_a, 7);
		wait_jobs(3);
		break;
	case 3:
		/* No job: the harness thread's code alone. */
		for (long i = 0; i < 9; i++)
			sink += i * 2;
		break;
	case 4:
		if (pthread_create(&t, NULL, churn_thread, NULL))
			t_fail("pthread_create");
		pthread_detach(t);
		wait_jobs(1);
		break;
	}
}

T_NOCOV static void run(int kind, uint8_t *map)
{
	memset(map, 0, MAP);
	t_expect_ok(ukcov_fuzzer_begin());
	input(kind);
	if (ukcov_fuzzer_end(map, MAP) <= 0)
		t_fail("kind %d: no PC folded", kind);
}

T_NOCOV static size_t count_set(const uint8_t *m)
{
	size_t n = 0;

	for (size_t i = 0; i < MAP; i++)
		n += m[i] != 0;
	return n;
}

/* The counters fn's own PCs set, learnt by running it alone on the harness
 * thread (from code that is not instrumented). */
T_NOCOV static void learn(void (*fn)(void), uint8_t *m)
{
	memset(m, 0, MAP);
	t_expect_ok(ukcov_fuzzer_begin());
	fn();
	if (ukcov_fuzzer_end(m, MAP) <= 0)
		t_fail("no PC learnt");
}

/* Whether m has every counter of fn's (several PCs: another PC's counter
 * cannot stand in for all of them). */
T_NOCOV static bool has_fn(const uint8_t *m, const uint8_t *fn)
{
	for (size_t i = 0; i < MAP; i++)
		if (fn[i] && !m[i])
			return false;
	return true;
}

/* A digest of which counters are set (not of their values). */
T_NOCOV static unsigned long set_digest(const uint8_t *m)
{
	unsigned long d = 0;

	for (size_t i = 0; i < MAP; i++)
		if (m[i])
			d = d * 31 + i + 1;
	return d;
}

/* This test again, with UKCOV_FUZZER_COUNTS=0: kind 2's set digest and
 * its highest counter. */
T_NOCOV static void check_presence_mode(const char *self, const uint8_t *ref2)
{
	unsigned long digest, top;
	int p[2];
	pid_t pid;
	FILE *f;

	if (pipe(p))
		t_fail("pipe");
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		setenv("UKCOV_FUZZER_COUNTS", "0", 1);
		execl(self, self, "--presence", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f || fscanf(f, "%lu %lu", &digest, &top) != 2)
		t_fail("no digest from the exec'd copy");
	fclose(f);
	waitpid(pid, NULL, 0);
	if (top != 1)
		t_fail("UKCOV_FUZZER_COUNTS=0: a counter at %lu", top);
	if (digest != set_digest(ref2))
		t_fail("UKCOV_FUZZER_COUNTS=0: not the reference's counters");
}

T_NOCOV static void check_index_other_process(const char *self)
{
	int p[2];
	pid_t pid;
	size_t mine = ukcov_fuzzer_index((uintptr_t)tail_a + 5, MAP), theirs;
	FILE *f;

	if (pipe(p))
		t_fail("pipe");
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl(self, self, "--index", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	if (!f || fscanf(f, "%zu", &theirs) != 1)
		t_fail("no index from the exec'd copy");
	fclose(f);
	waitpid(pid, NULL, 0);
	if (theirs != mine)
		t_fail("tail_a+5: index %zu here, %zu in another process",
		       mine, theirs);
}

int main(int argc, char **argv)
{
	static uint8_t ref[KINDS][MAP], m[MAP], ta[MAP], tb[MAP];
	pthread_t tk, w;
	struct itimerval it = { { 0, 500 }, { 0, 500 } };
	uint8_t small[3];
	double secs = t_stress_seconds(3);
	int kind, rep;

	if (argc > 1 && strcmp(argv[1], "--index") == 0) {
		printf("%zu\n", ukcov_fuzzer_index((uintptr_t)tail_a + 5, MAP));
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "--presence") == 0) {
		unsigned long top = 0;

		sem_init(&done, 0, 0);
		if (pthread_create(&w, NULL, worker, NULL))
			t_fail("pthread_create");
		run(2, m);
		for (size_t i = 0; i < MAP; i++)
			if (m[i] > top)
				top = m[i];
		printf("%lu %lu\n", set_digest(m), top);
		return 0;
	}

	/* Errors before any input. */
	t_expect_err(ukcov_fuzzer_end(m, MAP), EINVAL);
	t_assert(ukcov_fuzzer_handle() == 0);

	sem_init(&done, 0, 0);
	for (int i = 0; i < WORKERS; i++) {
		if (pthread_create(&w, NULL, worker, NULL))
			t_fail("pthread_create");
		pthread_detach(w);
	}
	if (pthread_create(&tk, NULL, ticker, NULL))
		t_fail("pthread_create");

	/* References: quiet. */
	for (kind = 0; kind < KINDS; kind++)
		run(kind, ref[kind]);
	t_assert(ukcov_fuzzer_handle() != 0);
	for (kind = 0; kind < KINDS; kind++)
		for (int other = kind + 1; other < KINDS; other++)
			if (!memcmp(ref[kind], ref[other], MAP))
				t_fail("kinds %d and %d: the same map", kind, other);
	learn(tail_a, ta);
	learn(tail_b, tb);
	t_assert(count_set(ta) >= 3 && count_set(tb) >= 3);
	t_assert(has_fn(ref[0], ta) && !has_fn(ref[0], tb));
	t_assert(has_fn(ref[1], tb) && !has_fn(ref[1], ta));
	t_assert(has_fn(ref[2], ta) && has_fn(ref[2], tb));
	t_assert(!has_fn(ref[3], ta) && !has_fn(ref[3], tb));
	t_assert(has_fn(ref[4], tb));

	/* Noise: the ticker flat out, a timer signal every 0.5 ms. */
	signal(SIGALRM, on_alarm);
	if (setitimer(ITIMER_REAL, &it, NULL))
		t_fail("setitimer");
	__atomic_store_n(&parked, 0, __ATOMIC_RELAXED);
	{
		double end = t_now() + secs;
		int inputs = 0;

		for (rep = 0; rep < REPS || t_now() < end; rep++) {
			for (kind = 0; kind < KINDS; kind++) {
				run(kind, m);
				inputs++;
				if (memcmp(m, ref[kind], MAP)) {
					size_t i;

					for (i = 0; i < MAP && m[i] == ref[kind][i]; i++)
						;
					t_fail("kind %d, input %d: map differs from "
					       "its reference at %zu (%u, want %u); "
					       "%zu counters set, want %zu", kind,
					       inputs, i, m[i], ref[kind][i],
					       count_set(m), count_set(ref[kind]));
				}
			}
			if (rep >= 4 * REPS)
				break;
		}
		t_assert(__atomic_load_n(&ticks_seen, __ATOMIC_RELAXED) > 0 &&
			 __atomic_load_n(&alarms, __ATOMIC_RELAXED));
		t_assert(ukcov_fuzzer_timeouts() == 0);
		t_assert(ukcov_fuzzer_dropped() == 0);
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	__atomic_store_n(&stop_ticker, 1, __ATOMIC_RELAXED);
	pthread_join(tk, NULL);

	/* Indices; sites without their counts. */
	check_index_other_process(argv[0]);
	check_presence_mode(argv[0], ref[2]);
	t_assert(ukcov_fuzzer_index((uintptr_t)tail_a, 1) == 0);
	t_assert(ukcov_fuzzer_index((uintptr_t)tail_a, 3) < 3);
	t_assert(ukcov_fuzzer_index((uintptr_t)tail_a, 1ull << 33) < (1ull << 33));
	t_assert(ukcov_fuzzer_index((uintptr_t)tail_a, MAP) ==
		 ukcov_fuzzer_index((uintptr_t)tail_a, MAP));

	/* Errors after inputs: nothing begun, null map, size 0. */
	t_expect_err(ukcov_fuzzer_end(m, MAP), EINVAL);
	t_expect_ok(ukcov_fuzzer_begin());
	t_expect_err(ukcov_fuzzer_end(NULL, MAP), EINVAL);
	t_expect_ok(ukcov_fuzzer_begin());
	t_expect_err(ukcov_fuzzer_end(small, 0), EINVAL);
	t_expect_ok(ukcov_fuzzer_begin());
	t_assert(ukcov_fuzzer_end(small, sizeof(small)) >= 0);
	return 0;
}
