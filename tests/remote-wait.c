// SPDX-License-Identifier: MIT
/*
 * UKCOV_REMOTE_WAIT and ukcov_remote_wait (issue 14, item 1): an owner
 * waits until every section for its handles that was open at the call has
 * landed, with a timeout; ukcov_in_flight counts them without a system
 * call.
 *
 *   - The zstd pattern: a pool job signals completion inside its section,
 *     then still runs (until a third thread lets it, 50 ms after the
 *     requester started waiting).  After the wait, every job's last
 *     function is in the area; before it, the counter showed every job in
 *     flight.
 *   - A section that never ends: ETIMEDOUT after the timeout (at least
 *     the timeout elapsed); then, ended, the wait returns 0.
 *   - A section in a signal handler (an interrupt area) and one in a
 *     forked child for the parent's handle: each makes the wait time out
 *     while open, and lands before the wait returns once let go.
 *   - Sections opened after the call are not waited for: a wait returns
 *     while a section started after it is still open.  Nor are the
 *     caller's own open sections, which cannot end while it waits.
 *   - Errors: not remote-enabled (EINVAL, both forms), a bad descriptor
 *     (EBADF), in_flight before INIT_TRACE (EINVAL).
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define HG (UKCOV_SUBSYSTEM_APP(14) | 1)
#define HC (KCOV_SUBSYSTEM_COMMON | 0x1414)
#define WORDS 8192
#define NJOBS 4

__thread volatile long sink;

__attribute__((noinline)) void job_body(long n);
__attribute__((noinline)) void job_body(long n)
{
	long i, s = 3;

	for (i = 0; i < n; i++)
		s = (i & 1) ? s * 5 : s - i;
	sink = s;
}

__attribute__((noinline)) void job_tail(long n);
__attribute__((noinline)) void job_tail(long n)
{
	long i, s = 4;

	for (i = 0; i < n; i++)
		s = (i & 2) ? s * 7 : s + i;
	sink = s;
}

__attribute__((noinline)) void late_work(long n);
__attribute__((noinline)) void late_work(long n)
{
	long i, s = 5;

	for (i = 0; i < n; i++)
		s = (i & 4) ? s * 3 : s + i;
	sink = s;
}

static sem_t done, go;
static volatile int released;

/* A pool job: its work, completion signalled inside, then more work. */
static void job(void *p)
{
	(void)p;
	job_body(3);
	sem_post(&done);
	while (sem_wait(&go) && errno == EINTR)
		;
	job_tail(3);
}

struct submit {
	uint64_t handle;	/* the requester's common handle, captured */
};

static void *pool_thread(void *p)
{
	struct submit *s = p;

	ukcov_run_captured(s->handle, job, NULL);
	return NULL;
}

/* Lets the jobs go 50 ms from now, on a thread of its own. */
static void *release_later(void *p)
{
	struct timespec ms50 = { 0, 50 * 1000 * 1000 };
	int i;

	(void)p;
	nanosleep(&ms50, NULL);
	__atomic_store_n(&released, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NJOBS; i++)
		sem_post(&go);
	return NULL;
}

T_NOCOV static uint64_t in_flight(const volatile uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_ACQUIRE);
}

T_NOCOV static void zstd_pattern(struct t_kcov *k)
{
	pthread_t pool[NJOBS], rel;
	struct submit s = { ukcov_capture() };
	const volatile uint64_t *c = ukcov_in_flight(k->fd);
	int i;

	t_assert(c != NULL);
	t_set_count(k, 0);
	for (i = 0; i < NJOBS; i++)
		t_assert(!pthread_create(&pool[i], NULL, pool_thread, &s));
	for (i = 0; i < NJOBS; i++)
		while (sem_wait(&done) && errno == EINTR)
			;
	/* Every job has said it is done, and is still in its section. */
	if (in_flight(c) != NJOBS)
		t_fail("in flight after the completions: %llu, want %d",
		       (unsigned long long)in_flight(c), NJOBS);
	t_assert(!pthread_create(&rel, NULL, release_later, NULL));
	t_expect_ok(ukcov_remote_wait(k->fd, 10ull * 1000000000));
	if (!__atomic_load_n(&released, __ATOMIC_ACQUIRE))
		t_fail("the wait returned before the jobs were let go");
	if (t_count_in(k, t_range_of((const void *)job_tail)) == 0)
		t_fail("after the wait, no job's last function in the area");
	{
		/* Each job ran job_tail once: as many entries of it per job. */
		unsigned long per = t_count_in(k, t_range_of((const void *)
							     job_tail));

		if (per % NJOBS)
			t_fail("job_tail entries %lu, not a multiple of %d jobs",
			       per, NJOBS);
	}
	t_assert(in_flight(c) == 0);
	for (i = 0; i < NJOBS; i++)
		pthread_join(pool[i], NULL);
	pthread_join(rel, NULL);
}

/* A section for HG that stays open until *stop. */
static volatile int stop_open, opened;

static void *open_section(void *p)
{
	struct timespec ms1 = { 0, 1000 * 1000 };

	(void)p;
	ukcov_remote_start(HG);
	job_body(2);
	__atomic_store_n(&opened, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop_open, __ATOMIC_ACQUIRE))
		nanosleep(&ms1, NULL);
	job_tail(2);
	ukcov_remote_stop();
	return NULL;
}

T_NOCOV static void wait_opened(void)
{
	struct timespec ms1 = { 0, 1000 * 1000 };

	while (!__atomic_load_n(&opened, __ATOMIC_ACQUIRE))
		nanosleep(&ms1, NULL);
}

T_NOCOV static void timeout_then_land(struct t_kcov *k, const char *what)
{
	double t0 = t_now(), dt;

	t_expect_err(ukcov_remote_wait(k->fd, 100ull * 1000000), ETIMEDOUT);
	dt = t_now() - t0;
	if (dt < 0.099)
		t_fail("%s: ETIMEDOUT after %.3f s, before the 0.1 s timeout",
		       what, dt);
	/* The request form, in milliseconds. */
	t_expect_err(ukcov_ioctl(k->fd, UKCOV_REMOTE_WAIT, 20ul), ETIMEDOUT);
	__atomic_store_n(&stop_open, 1, __ATOMIC_RELEASE);
	t_expect_ok(ukcov_ioctl(k->fd, UKCOV_REMOTE_WAIT, 10000ul));
	if (t_count_in(k, t_range_of((const void *)job_tail)) == 0)
		t_fail("%s: its last function is not in the area after the "
		       "wait", what);
}

T_NOCOV static void never_ending(struct t_kcov *k)
{
	pthread_t t;

	t_set_count(k, 0);
	stop_open = 0;
	opened = 0;
	t_assert(!pthread_create(&t, NULL, open_section, NULL));
	wait_opened();
	timeout_then_land(k, "a thread's section");
	pthread_join(t, NULL);
}

/* SIGUSR1 on the helper thread: a section for HG in the handler. */
static void on_usr1(int sig)
{
	(void)sig;
	open_section(NULL);
}

static void *signalled(void *p)
{
	sigset_t set;

	(void)p;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGUSR1);
	return NULL;
}

T_NOCOV static void in_handler(struct t_kcov *k)
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	t_set_count(k, 0);
	stop_open = 0;
	opened = 0;
	t_assert(!pthread_create(&t, NULL, signalled, NULL));
	wait_opened();
	timeout_then_land(k, "a handler's section");
	pthread_join(t, NULL);
}

T_NOCOV static void in_child(struct t_kcov *k)
{
	int up[2], down[2];	/* child to parent, parent to child */
	pid_t pid;
	char b;
	int st;

	t_set_count(k, 0);
	t_expect_ok(pipe(up));
	t_expect_ok(pipe(down));
	opened = 0;
	pid = fork();
	if (pid < 0)
		t_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		ukcov_remote_start(HG);
		job_body(2);
		if (write(up[1], "o", 1) != 1 || read(down[0], &b, 1) != 1)
			_exit(2);
		job_tail(2);
		ukcov_remote_stop();
		_exit(0);
	}
	if (read(up[0], &b, 1) != 1)
		t_fail("the child did not start its section");
	t_expect_err(ukcov_remote_wait(k->fd, 50ull * 1000000), ETIMEDOUT);
	t_assert(write(down[1], "g", 1) == 1);
	t_expect_ok(ukcov_remote_wait(k->fd, 10ull * 1000000000));
	if (t_count_in(k, t_range_of((const void *)job_tail)) == 0)
		t_fail("a forked child's section: not in the area after the "
		       "wait");
	t_assert(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		 WEXITSTATUS(st) == 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
}

/* A section opened after the wait began is not waited for. */
static void *late_section(void *p)
{
	struct timespec ms1 = { 0, 1000 * 1000 };

	(void)p;
	ukcov_remote_start(HG);
	late_work(2);
	__atomic_store_n(&opened, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop_open, __ATOMIC_ACQUIRE))
		nanosleep(&ms1, NULL);
	ukcov_remote_stop();
	return NULL;
}

static long late_delay_ms;

static void *release_first_later(void *p)
{
	struct timespec d = { late_delay_ms / 1000,
			      (late_delay_ms % 1000) * 1000 * 1000 };
	pthread_t *late = p;

	/* The first section is open; the wait has begun (given time). */
	nanosleep(&d, NULL);
	opened = 0;
	t_assert(!pthread_create(late, NULL, late_section, NULL));
	wait_opened();
	/* Let the first section go, not the late one. */
	sem_post(&go);
	return NULL;
}

static void first_section_job(void *p)
{
	(void)p;
	job_body(2);
	while (sem_wait(&go) && errno == EINTR)
		;
}

static void *first_section(void *p)
{
	(void)p;
	ukcov_run_captured(ukcov_capture(), first_section_job, NULL);
	return NULL;
}

/*
 * One try: 0 when the wait returned with the late section still open
 * (what must happen), 1 when it timed out, which a correct runtime does
 * only if the late section opened before the wait began (this thread was
 * slower than the delay): the caller tries again with a longer delay.
 */
T_NOCOV static int later_try(struct t_kcov *k, const volatile uint64_t *c)
{
	pthread_t first, late, rel;
	struct timespec ms1 = { 0, 1000 * 1000 };
	int r;

	stop_open = 0;
	t_assert(!pthread_create(&first, NULL, first_section, NULL));
	while (in_flight(c) == 0)
		nanosleep(&ms1, NULL);
	t_assert(!pthread_create(&rel, NULL, release_first_later, &late));
	r = ukcov_remote_wait(k->fd, 2ull * 1000000000);
	if (r && errno != ETIMEDOUT)
		t_fail("ukcov_remote_wait: %s", strerror(errno));
	pthread_join(rel, NULL);
	if (!r && in_flight(c) != 1)
		t_fail("after the wait: %llu sections in flight, want the "
		       "late one", (unsigned long long)in_flight(c));
	__atomic_store_n(&stop_open, 1, __ATOMIC_RELEASE);
	pthread_join(first, NULL);
	pthread_join(late, NULL);
	t_expect_ok(ukcov_remote_wait(k->fd, 10ull * 1000000000));
	t_assert(in_flight(c) == 0);
	return r ? 1 : 0;
}

T_NOCOV static void later_sections(struct t_kcov *k)
{
	const volatile uint64_t *c = ukcov_in_flight(k->fd);
	int i;

	for (i = 0, late_delay_ms = 30; i < 5; i++, late_delay_ms *= 3)
		if (!later_try(k, c))
			return;
	t_fail("the wait timed out 5 times (delays up to %ld ms) on a "
	       "section opened after it began", late_delay_ms / 3);
}

int main(void)
{
	struct t_kcov k, local;
	uint64_t h = HG;
	sigset_t set;
	int fd;

	/* SIGUSR1 only where the test raises it. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	t_assert(!sem_init(&done, 0, 0) && !sem_init(&go, 0, 0));

	/* Errors first. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	errno = 0;
	t_assert(ukcov_in_flight(fd) == NULL && errno == EINVAL);
	t_expect_err(ukcov_remote_wait(fd, 0), EINVAL);
	close(fd);
	t_expect_err(ukcov_remote_wait(-1, 0), EBADF);
	t_kcov_open(&local, WORDS);
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_err(ukcov_remote_wait(local.fd, 0), EINVAL);
	t_expect_err(ukcov_ioctl(local.fd, UKCOV_REMOTE_WAIT, 0ul), EINVAL);
	t_expect_ok(ukcov_ioctl(local.fd, KCOV_DISABLE, 0));
	t_kcov_close(&local);

	t_kcov_open(&k, WORDS);
	t_expect_ok(t_remote_enable(k.fd, KCOV_TRACE_PC, WORDS, HC, 1, &h));
	/* Nothing in flight: returns at once, even with no time. */
	t_expect_ok(ukcov_remote_wait(k.fd, 0));
	/* The caller's own section: not waited for (it could not end). */
	ukcov_remote_start(HG);
	late_work(1);
	t_expect_ok(ukcov_remote_wait(k.fd, 5ull * 1000000000));
	ukcov_remote_stop();
	t_expect_ok(ukcov_remote_wait(k.fd, 0));

	zstd_pattern(&k);
	never_ending(&k);
	in_handler(&k);
	in_child(&k);
	later_sections(&k);

	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
