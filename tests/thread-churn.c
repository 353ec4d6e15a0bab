// SPDX-License-Identifier: MIT
/*
 * Leak-free lifetimes under thread churn (issue 7).  Threads are created
 * and exit while collecting, in batches of 8: each opens a kcov, sizes and
 * maps it, enables it (PC or CMP), runs a little, and exits without
 * DISABLE, in one of four ways:
 *   0  leaves its descriptor open (the main thread closes it after join:
 *      the object outlives its descriptor's owner, then its bound thread);
 *   1  closes the descriptor first (the object lives while bound);
 *   2  exits inside a remote section for a handle of the main thread's
 *      remote kcov (the exit hook ends it, the owner gets it appended);
 *   3  exits inside two nested sections, one for an unregistered handle.
 * Between a warm-up point (a tenth of the threads or of the time limit)
 * and the end, nothing may
 * grow: open descriptors (/proc/self/fd), memfd:ukcov mappings
 * (/proc/self/maps) and, in the plain build, the resident set (statm) by
 * more than 16 MiB.  The figures are printed.
 *
 * UKCOV_CHURN_THREADS sets the number of threads (default 20000); the run
 * stops early after UKCOV_CHURN_SECONDS (default 55) either way.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define H (UKCOV_SUBSYSTEM_APP(33) | 1)
#define HUNREG (UKCOV_SUBSYSTEM_APP(33) | 2)
#define BATCH 8
#define WORDS 512

/* Per thread: the threads run work() concurrently. */
__thread volatile long sink;

__attribute__((noinline)) void work(int n);
__attribute__((noinline)) void work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 3) == 1 ? i : (long)i * 3;
}

struct job {
	unsigned long i;
	int fd; /* left open for the main thread (kind 0) */
	void *map;
	int err;
};

static void *churn(void *p)
{
	struct job *j = p;
	unsigned long mode = (j->i / 4) & 1 ? KCOV_TRACE_CMP : KCOV_TRACE_PC;
	unsigned long *area;
	int fd;

	j->fd = -1;
	j->map = NULL;
	fd = ukcov_open();
	if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, (unsigned long)WORDS)) {
		j->err = errno ? errno : -1;
		return NULL;
	}
	area = ukcov_mmap(NULL, WORDS * sizeof(long), PROT_READ | PROT_WRITE,
			  MAP_SHARED, fd, 0);
	if (area == MAP_FAILED || ukcov_ioctl(fd, KCOV_ENABLE, mode)) {
		j->err = errno ? errno : -1;
		return NULL;
	}
	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	work(20);
	if (__atomic_load_n(&area[0], __ATOMIC_ACQUIRE) == 0) {
		j->err = -2; /* collected nothing */
		return NULL;
	}
	switch (j->i % 4) {
	case 0:
		j->fd = fd;
		j->map = area;
		break;
	case 1:
		munmap(area, WORDS * sizeof(long));
		close(fd);
		work(5);
		break;
	case 2:
		munmap(area, WORDS * sizeof(long));
		close(fd);
		ukcov_remote_start(H);
		work(7);
		break;
	default:
		munmap(area, WORDS * sizeof(long));
		close(fd);
		ukcov_remote_start(H);
		work(3);
		ukcov_remote_start(HUNREG);
		work(3);
		break;
	}
	return NULL; /* no DISABLE, no stop */
}

static long count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size, res = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

struct figures {
	long fds, maps, rss;
};

static struct figures sample(void)
{
	struct figures f = {count_fds(), t_maps_count("memfd:ukcov"),
			    rss_kib()};

	return f;
}

int main(void)
{
	const char *s = getenv("UKCOV_CHURN_THREADS");
	const char *secs_s = getenv("UKCOV_CHURN_SECONDS");
	unsigned long n = s ? strtoul(s, NULL, 0) : 20000, warm, done = 0;
	double limit = secs_s ? strtod(secs_s, NULL) : 55.0, t0 = t_now();
	uint64_t h = H;
	struct figures w = {0, 0, 0}, e;
	struct ukcov_stats st;
	struct t_kcov owner;
	bool warmed = false;
	long rss_slack = 16 * 1024;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	rss_slack = -1; /* quarantines and shadow memory: figures only */
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
	rss_slack = -1;
#endif
#endif
	if (n < 100)
		n = 100;
	warm = n / 10;
	t_kcov_open(&owner, 1 << 16);
	t_expect_ok(t_remote_enable(owner.fd, KCOV_TRACE_PC, 4096, 0, 1, &h));

	while (done < n) {
		pthread_t tid[BATCH];
		struct job jobs[BATCH];
		unsigned int b, nb = n - done < BATCH ? n - done : BATCH;

		memset(jobs, 0, sizeof(jobs));
		for (b = 0; b < nb; b++) {
			int r;

			jobs[b].i = done + b;
			r = pthread_create(&tid[b], NULL, churn, &jobs[b]);
			if (r)
				t_fail("pthread_create: %s", strerror(r));
		}
		for (b = 0; b < nb; b++) {
			pthread_join(tid[b], NULL);
			if (jobs[b].err)
				t_fail("thread %lu: error %d", jobs[b].i,
				       jobs[b].err);
			if (jobs[b].fd >= 0) {
				munmap(jobs[b].map, WORDS * sizeof(long));
				t_expect_ok(close(jobs[b].fd));
			}
		}
		done += nb;
		/* The owner keeps its area from filling up. */
		t_expect_ok(ukcov_ioctl(owner.fd, KCOV_RESET_TRACE, 0));
		/* The warm-up point: a tenth of the threads, or of the time. */
		if (!warmed && (done >= warm || t_now() - t0 > limit / 10)) {
			warm = done;
			w = sample();
			warmed = true;
		}
		if (t_now() - t0 > limit)
			break;
	}
	e = sample();
	t_expect_ok(ukcov_get_stats(owner.fd, &st));
	printf("thread-churn: %lu threads in %.1f s (%lu per s)\n", done,
	       t_now() - t0, (unsigned long)(done / (t_now() - t0 + 1e-9)));
	printf("thread-churn: after %lu threads: fds %ld, memfd:ukcov maps "
	       "%ld, rss %ld KiB\n",
	       warm, w.fds, w.maps, w.rss);
	printf("thread-churn: after %lu threads: fds %ld, memfd:ukcov maps "
	       "%ld, rss %ld KiB (%+ld KiB)\n",
	       done, e.fds, e.maps, e.rss, e.rss - w.rss);
	printf("thread-churn: owner: %llu sections appended, %llu discarded, "
	       "%llu skipped\n",
	       (unsigned long long)st.sections_appended,
	       (unsigned long long)st.sections_discarded,
	       (unsigned long long)st.sections_skipped);
	t_assert(warmed);
	t_assert(e.fds == w.fds);
	t_assert(e.maps == w.maps);
	/* One appended section per thread of kinds 2 and 3. */
	t_assert(st.sections_appended == done / 4 * 2 + (done % 4 > 2 ? 1 : 0));
	t_assert(st.sections_discarded == 0 && st.sections_skipped == 0);
	if (rss_slack >= 0 && e.rss - w.rss > rss_slack)
		t_fail("resident set grew by %ld KiB", e.rss - w.rss);
	t_expect_ok(ukcov_ioctl(owner.fd, KCOV_DISABLE, 0));
	t_kcov_close(&owner);
	/* Everything released: only the process's own descriptors remain. */
	t_assert(t_maps_count("memfd:ukcov") == 0);
	return T_EXIT_PASS;
}
