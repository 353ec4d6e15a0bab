// SPDX-License-Identifier: MIT
/*
 * fork under load (issue 7; t_stress_seconds, default 2 s, per phase).
 *
 * Phase 1: three worker threads collect locally (PC or CMP), reset their
 * areas, and run remote sections for a handle the main thread owns,
 * nonstop.  Meanwhile the main thread forks children, Linux's fork-server
 * pattern: it did INIT_TRACE and mapped a shared area once; each child
 * enables the inherited descriptor, runs child_work, checks its own trace,
 * sometimes DISABLEs, sometimes opens and closes a section, and exits
 * (exit or _exit).  The parent checks after each child that child_work's
 * PCs arrived in the shared area, and resets it.  No deadlock in a child
 * (a worker may hold any ukcov lock at the fork), no crash, no
 * misattribution in the workers' traces, every child exits 0.
 *
 * Phase 2 (issue 10), heavier: the handle's owner is a thread that
 * DISABLEs and registers it again all the time; two threads fork children
 * (each its own fork server); a sixth thread sends SIGUSR1 to the workers
 * and the forking threads, whose handler runs a section for the handle.
 * A section for a handle that is not registered is a no-op frame by
 * design: its code goes on to the outer feed, which in a child is the
 * child's local trace.  A child forked while the handle was unregistered
 * therefore records its section's code locally: that is what a phase-1
 * child's check 13 would call misattribution, and what the first session
 * saw once under load.  In phase 1 the handle is registered from before
 * the first fork to after the last child, so a child's copy of the
 * registry always has it and check 13 cannot fire; phase 2 makes the
 * expectation exact instead.  The child tells whether its start found an
 * owner from the owner's statistics (its own copy moves only through its
 * own section): found, the code is not in its local trace; not found, it
 * is (unless the owner was half way through DISABLE at the fork: the
 * frame is then muted, recorded nowhere); and an owner registered at the
 * fork (the child's copy of the owner's sequence count, odd while
 * registered) is always found.  The workers' traces follow the same rule:
 * a section's code is in the local trace only in an iteration during
 * which the owner did not stay registered.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define NWORKERS 3
#define NFORKERS 2
#define H (UKCOV_SUBSYSTEM_APP(34) | 1)
#define H2 (UKCOV_SUBSYSTEM_APP(34) | 2)	/* phase 2's, unregistered at times */

/* tail: stored after each work function's last callback, so that no
 * callback is a tail call (whose recorded PC would be the caller's). */
__thread volatile long sink, tail;
static volatile int stop;
static struct t_range r_local, r_sec, r_child, r_sig;
/* Phase 2: churn set; seq odd while H2 is registered (seq_cst both sides:
 * made odd after REMOTE_ENABLE returns, even before DISABLE). */
static int churn;
static unsigned long seq;
static struct t_kcov owner2;
static unsigned long sigs_handled, no_owner_children;	/* atomic */

__attribute__((noinline)) void local_work(int n);
__attribute__((noinline)) void local_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i : 2;
	tail = n;
}

__attribute__((noinline)) void sec_work(int n);
__attribute__((noinline)) void sec_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink ^= (i & 1) ? i * 3 : 5;
	tail = n;
}

__attribute__((noinline)) void child_work(int n);
__attribute__((noinline)) void child_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink -= (i & 1) ? i : 7;
	tail = n;
}

/* SIGUSR1 (phase 2): a section for H2 in a handler. */
__attribute__((noinline)) void sig_work(int n);
__attribute__((noinline)) void sig_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i * 11 : 13;
	tail = n;
}

T_NOCOV static void on_usr1(int sig)
{
	(void)sig;
	ukcov_remote_start(H2);
	sig_work(3);
	ukcov_remote_stop();
	__atomic_add_fetch(&sigs_handled, 1, __ATOMIC_RELAXED);
}

/* Nothing but sec_work runs inside the section. */
T_NOCOV static void section(uint64_t h, int n)
{
	ukcov_remote_start(h);
	sec_work(n);
	ukcov_remote_stop();
}

struct worker {
	int idx;
	unsigned long iters;
	int err;
	pthread_t tid;
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
		unsigned long s1 = __atomic_load_n(&seq, __ATOMIC_SEQ_CST);
		bool stable;

		__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
		local_work(10);
		section(churn ? H2 : H, 10);
		local_work(3);
		/* Phase 1: the owner never changes.  Phase 2: only while it
		 * stayed registered. */
		stable = !churn ||
			 (s1 & 1 && s1 == __atomic_load_n(&seq, __ATOMIC_SEQ_CST));
		if (mode == KCOV_TRACE_PC) {
			/* The section's code is not in the local trace, a
			 * handler's never is. */
			if ((stable && t_count_in(&k, r_sec)) ||
			    t_count_in(&k, r_sig) || !t_count_in(&k, r_local)) {
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

/*
 * LeakSanitizer: a forked child's exit would report what other threads of
 * the parent had allocated (their stacks did not follow): not a leak.
 */
static int in_child;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return in_child;
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
	if (churn) {
		/* Did the start find an owner?  Only this section moves the
		 * child's copy of the owner's statistics. */
		bool registered = __atomic_load_n(&seq, __ATOMIC_RELAXED) & 1;
		struct ukcov_stats a, b;
		unsigned long in_local;
		bool found;

		if (ukcov_get_stats(owner2.fd, &a))
			return 16;
		section(H2, 3);
		if (ukcov_get_stats(owner2.fd, &b))
			return 16;
		/* Discarded counts as found: the owner's DISABLE since the
		 * fork ends the session the child's copy knew. */
		found = a.sections_appended + a.sections_skipped +
				a.sections_discarded !=
			b.sections_appended + b.sections_skipped +
				b.sections_discarded;
		in_local = t_count_in(&k, r_sec);
		if (registered && !found)
			return 17; /* registered at the fork, yet not found */
		if (found && in_local)
			return 13; /* found, yet recorded locally */
		if (!found && !in_local && registered)
			return 18;
		if (!found)
			return 100; /* a no-op (or muted) frame, as designed */
	} else if (n % 3 == 1) {
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

/* Fork one fork-server child and check what it left; n numbers it. */
T_NOCOV static void fork_one(struct t_kcov *fs, unsigned long n)
{
	int status, r;
	pid_t pid = fork(), w;

	t_assert(pid >= 0);
	if (pid == 0) {
		in_child = 1;
		r = child(fs->fd, fs->area, n);
		if (n & 4)
			exit(r);
		_exit(r);
	}
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	t_assert(w == pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 100 && churn) {
		__atomic_add_fetch(&no_owner_children, 1, __ATOMIC_RELAXED);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		t_fail("child %lu: status %#x (exit %d)", n, status,
		       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	/* The fork server reads its child's coverage. */
	if (!t_count_in(fs, r_child))
		t_fail("child %lu: no child_work PC in the shared area", n);
	t_set_count(fs, 0);
}

/* Only the section's and the handler's code reach phase 2's owner. */
T_NOCOV static void owner2_check(void)
{
	const struct t_range ok[2] = { r_sec, r_sig };
	unsigned long i, n = t_count(&owner2);
	unsigned int j;

	for (i = 0; i < n && i + 1 < owner2.words; i++) {
		for (j = 0; j < 2; j++)
			if (t_in(ok[j], owner2.area[i + 1]))
				break;
		if (j == 2)
			t_fail("phase 2: entry %lu of %lu of the owner's area, "
			       "%#lx (sec_work%+ld), did not run for it",
			       i, n, owner2.area[i + 1],
			       (long)(owner2.area[i + 1] - r_sec.lo));
	}
}

/* Phase 2's owner: registers H2, lets it be, DISABLEs, and again. */
static void *owner2_main(void *p)
{
	uint64_t h = H2;
	unsigned int seed = 99;
	struct timespec ts;

	(void)p;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		t_set_count(&owner2, 0);
		t_expect_ok(t_remote_enable(owner2.fd, KCOV_TRACE_PC, 1024, 0,
					    1, &h));
		__atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST);
		seed = seed * 1103515245u + 12345u;
		ts.tv_sec = 0;
		ts.tv_nsec = 100000 + (long)((seed >> 8) % 2000) * 1000;
		nanosleep(&ts, NULL);
		__atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST);
		t_expect_ok(ukcov_ioctl(owner2.fd, KCOV_DISABLE, 0));
		owner2_check();
		ts.tv_nsec = (long)((seed >> 12) % 500) * 1000;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

struct forker {
	struct t_kcov fs;
	unsigned long n, base;
	pthread_t tid;
};

static void *forker_main(void *p)
{
	struct forker *f = p;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		fork_one(&f->fs, f->base + f->n++);
	return NULL;
}

/* Phase 2's signals: to the workers and the forking threads. */
static void *signaller(void *p)
{
	pthread_t *targets = p;
	unsigned int seed = 7;
	struct timespec ts = { 0, 50000 };

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		seed = seed * 1103515245u + 12345u;
		pthread_kill(targets[(seed >> 8) % (NWORKERS + NFORKERS)],
			     SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

T_NOCOV static void start_workers(struct worker *w)
{
	int i;

	memset(w, 0, NWORKERS * sizeof(*w));
	__atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
	for (i = 0; i < NWORKERS; i++) {
		w[i].idx = i;
		t_assert(pthread_create(&w[i].tid, NULL, worker, &w[i]) == 0);
	}
}

T_NOCOV static void join_workers(struct worker *w, const char *phase)
{
	int i;

	for (i = 0; i < NWORKERS; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].err)
			t_fail("%s: worker %d: error %d after %lu iterations",
			       phase, i, w[i].err, w[i].iters);
	}
}

/* Phase 2: see the comment at the top. */
T_NOCOV static void phase2(double secs)
{
	pthread_t targets[NWORKERS + NFORKERS], otid, stid;
	struct forker f[NFORKERS];
	struct worker w[NWORKERS];
	struct sigaction sa;
	struct ukcov_stats st;
	double t0 = t_now();
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	t_kcov_open(&owner2, 1 << 16);
	churn = 1;
	start_workers(w);
	t_assert(pthread_create(&otid, NULL, owner2_main, NULL) == 0);
	for (i = 0; i < NFORKERS; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		t_kcov_open(&f[i].fs, 4096);
		f[i].base = (unsigned long)i << 40;
		t_assert(pthread_create(&f[i].tid, NULL, forker_main, &f[i]) ==
			 0);
		targets[NWORKERS + i] = f[i].tid;
	}
	for (i = 0; i < NWORKERS; i++)
		targets[i] = w[i].tid;
	t_assert(pthread_create(&stid, NULL, signaller, targets) == 0);
	while (t_now() - t0 < secs)
		usleep(10000);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(stid, NULL);
	for (i = 0; i < NFORKERS; i++)
		pthread_join(f[i].tid, NULL);
	pthread_join(otid, NULL);
	join_workers(w, "phase 2");
	t_expect_ok(ukcov_get_stats(owner2.fd, &st));
	printf("fork-stress phase 2: %lu + %lu children in %.1f s (%lu found "
	       "the handle unregistered: their section's code went to their "
	       "own trace, as designed); %lu registration periods; workers "
	       "%lu %lu %lu iterations; %lu handler sections; %llu sections "
	       "appended, %llu discarded, %llu skipped\n",
	       f[0].n, f[1].n, t_now() - t0,
	       __atomic_load_n(&no_owner_children, __ATOMIC_RELAXED),
	       (seq + 1) / 2, w[0].iters, w[1].iters, w[2].iters,
	       __atomic_load_n(&sigs_handled, __ATOMIC_RELAXED),
	       (unsigned long long)st.sections_appended,
	       (unsigned long long)st.sections_discarded,
	       (unsigned long long)st.sections_skipped);
	t_assert(f[0].n > 0 && f[1].n > 0 && st.sections_appended > 0);
	for (i = 0; i < NFORKERS; i++) {
		/* Each fork server's kcov is still READY: it can enable. */
		t_expect_ok(ukcov_ioctl(f[i].fs.fd, KCOV_ENABLE,
					KCOV_TRACE_PC));
		t_expect_ok(ukcov_ioctl(f[i].fs.fd, KCOV_DISABLE, 0));
		t_kcov_close(&f[i].fs);
	}
	t_kcov_close(&owner2);
	signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
	double secs = t_stress_seconds(2.0), t0;
	struct worker w[NWORKERS];
	struct ukcov_stats st;
	struct t_kcov owner, fs;
	uint64_t h = H;
	unsigned long n = 0;

	r_local = t_range_of(local_work);
	r_sec = t_range_of(sec_work);
	r_child = t_range_of(child_work);
	r_sig = t_range_of(sig_work);
	t_kcov_open(&owner, 1 << 16);
	t_expect_ok(t_remote_enable(owner.fd, KCOV_TRACE_PC, 1024, 0, 1, &h));
	t_kcov_open(&fs, 4096);

	start_workers(w);
	t0 = t_now();
	while (t_now() - t0 < secs) {
		fork_one(&fs, n);
		t_expect_ok(ukcov_ioctl(owner.fd, KCOV_RESET_TRACE, 0));
		n++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	join_workers(w, "phase 1");
	t_expect_ok(ukcov_get_stats(owner.fd, &st));
	printf("fork-stress: %lu children in %.1f s; workers %lu %lu %lu "
	       "iterations; %llu sections appended\n",
	       n, t_now() - t0, w[0].iters, w[1].iters, w[2].iters,
	       (unsigned long long)st.sections_appended);
	fflush(stdout); /* not again from the children's exit */
	t_assert(n > 0 && st.sections_appended > 0);
	t_expect_ok(ukcov_ioctl(owner.fd, KCOV_DISABLE, 0));
	/* The parent's fork-server kcov is still READY: it can enable. */
	t_expect_ok(ukcov_ioctl(fs.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(fs.fd, KCOV_DISABLE, 0));
	t_kcov_close(&fs);
	t_kcov_close(&owner);
	phase2(secs);
	return T_EXIT_PASS;
}
