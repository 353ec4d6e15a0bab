// SPDX-License-Identifier: MIT
/*
 * The program the tests of ukcov-run's collection run (tests/tools/run-*.sh,
 * built by run-lib.bash with the suite's compiler, instrumented, linked
 * with libukcov in the form under test).  One behaviour per mode, argv[1]:
 *
 *   return               a thread, then main returns
 *   exit-thread          a thread calls exit(0) while another one blocks
 *   fork-exit            a forked child (a thread still running) ends by _exit
 *   sigkill, segv        killed by SIGKILL, or a crash, with a thread running
 *   dtor-prog            a destructor of the program's joins a pool whose
 *                        threads run after main returned
 *   dtor-lib             the same, from run-late.c's library
 *   running              four threads still running at exit(0)
 *   threads N            N threads, each run and joined
 *   closed-fds FILE      closes descriptors 3..1023, writes FILE, threads
 *   touch FILE           creates FILE (did the program run at all?)
 *   handler READY        a handler of TERM INT HUP USR1 USR2 exits 3
 *   nohandler READY      waits to be killed
 *   ignore READY         ignores SIGTERM, waits to be killed
 *   daemon READY GO      forks a child that outlives the program
 *   labels               named threads creating pool threads, racing
 *   euid                 prints its effective user and group ids
 *   hostile entries|header  scribbles over the run's region
 *   loop N               main, a thread and a pool job each run a marker
 *                        N times (run-unique.sh)
 *
 * READY: the program writes its pid (or the child's) there once it is set
 * up.  Each m_* function is a marker a test looks for in an area; each ends
 * with a store, so that no coverage callback is a tail call.  Built with
 * -DRUN_PLAIN: a program that calls nothing of ukcov's and nothing ukcov
 * interposes (run-static-ctor.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RUN_PLAIN
#include <ukcov.h>
#include <ukcov/file.h>
#include <ukcov/region.h>
#endif

volatile int sink;
#define MARKER(name)                                                           \
	__attribute__((noinline)) void name(void);                             \
	__attribute__((noinline)) void name(void)                              \
	{                                                                      \
		__atomic_add_fetch(&sink, 1, __ATOMIC_RELAXED);               \
	}

#ifdef RUN_PLAIN
MARKER(m_plain)
int main(void)
{
	m_plain();
	return 0;
}
#else

MARKER(m_main)
MARKER(m_thread_return)
MARKER(m_blocker)
MARKER(m_exiter)
MARKER(m_child)
MARKER(m_child_thread)
MARKER(m_killed_thread)
MARKER(m_before_kill)
MARKER(m_pool_start)
MARKER(m_late_pool)
MARKER(m_dtor)
MARKER(m_running)
MARKER(m_many)
MARKER(m_closed_thread)
MARKER(m_captured_job)
MARKER(m_handler)
MARKER(m_daemon_child)
MARKER(m_lbl_pool)
MARKER(m_lbl_sub)
MARKER(m_named)
MARKER(m_hostile)
MARKER(m_loop_main)
MARKER(m_loop_thread)
MARKER(m_loop_job)

/*
 * LeakSanitizer cannot run in a set-group-ID process, which also cannot
 * read its own environment (/proc/self/environ) for ASAN_OPTIONS.
 */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

/* run-late.c's library (dtor-lib); weak: the other modes run without it. */
void late_pool_start(void) __attribute__((weak));

static int ready_count;

static void die(const char *what)
{
	fprintf(stderr, "run-target: %s: %s\n", what, strerror(errno));
	_exit(99);
}

static void wait_count(int *c, int n)
{
	while (__atomic_load_n(c, __ATOMIC_ACQUIRE) < n)
		usleep(1000);
}

static void bump(int *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELEASE);
}

static void block_forever(void)
{
	for (;;)
		pause();
}

static pthread_t start(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	errno = pthread_create(&t, NULL, fn, arg);
	if (errno)
		die("pthread_create");
	return t;
}

/* "<pid>\n" into path, whole when it appears (written, then renamed). */
static void write_ready(const char *path, pid_t pid)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", (int)pid) < 0 || fclose(f) ||
	    rename(tmp, path))
		die(path);
}

/* ---- return, exit-thread ------------------------------------------------ */

static void *thread_return(void *a)
{
	m_thread_return();
	return a;
}

static int mode_return(void)
{
	m_main();
	pthread_join(start(thread_return, NULL), NULL);
	return 0;
}

static void *blocker(void *a)
{
	(void)a;
	m_blocker();
	bump(&ready_count);
	block_forever();
	return NULL;
}

static void *exiter(void *a)
{
	(void)a;
	wait_count(&ready_count, 1);
	m_exiter();
	exit(0);
}

static int mode_exit_thread(void)
{
	m_main();
	start(blocker, NULL);
	pthread_join(start(exiter, NULL), NULL);
	return 1; /* never: exiter ends the process */
}

/* ---- fork-exit ------------------------------------------------------------ */

static void *child_thread(void *a)
{
	(void)a;
	m_child_thread();
	bump(&ready_count);
	block_forever();
	return NULL;
}

static int mode_fork_exit(void)
{
	int status;
	pid_t pid;

	m_main();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		m_child();
		start(child_thread, NULL);
		wait_count(&ready_count, 1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : 1;
}

/* ---- sigkill, segv ------------------------------------------------------- */

static void *killed_thread(void *a)
{
	(void)a;
	m_killed_thread();
	bump(&ready_count);
	block_forever();
	return NULL;
}

static int *volatile nowhere;

static int mode_killed(int segv)
{
	m_main();
	start(killed_thread, NULL);
	wait_count(&ready_count, 1);
	m_before_kill();
	if (segv)
		*nowhere = 1;
	else
		kill(getpid(), SIGKILL);
	return 1;
}

/* ---- dtor-prog: a pool joined by a destructor, after main returned ----- */

#define NPOOL 3
static pthread_t pool[NPOOL];
static int npool, pool_go;
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;

static void *pool_fn(void *a)
{
	m_pool_start();
	pthread_mutex_lock(&pool_mu);
	while (!pool_go)
		pthread_cond_wait(&pool_cv, &pool_mu);
	pthread_mutex_unlock(&pool_mu);
	m_late_pool();
	return a;
}

__attribute__((destructor)) static void pool_join(void)
{
	int i;

	if (!npool)
		return;
	pthread_mutex_lock(&pool_mu);
	pool_go = 1;
	pthread_cond_broadcast(&pool_cv);
	pthread_mutex_unlock(&pool_mu);
	for (i = 0; i < npool; i++)
		pthread_join(pool[i], NULL);
	m_dtor();
}

static int mode_dtor_prog(void)
{
	m_main();
	for (npool = 0; npool < NPOOL; npool++)
		pool[npool] = start(pool_fn, NULL);
	return 0;
}

static int mode_dtor_lib(void)
{
	m_main();
	if (!late_pool_start) {
		fprintf(stderr, "run-target: not linked with run-late.c\n");
		return 99;
	}
	late_pool_start();
	return 0;
}

/* ---- running: threads still running at exit ----------------------------- */

static void *running_fn(void *a)
{
	(void)a;
	m_running();
	bump(&ready_count);
	block_forever();
	return NULL;
}

static int mode_running(void)
{
	int i;

	for (i = 0; i < 4; i++)
		start(running_fn, NULL);
	wait_count(&ready_count, 4);
	m_main();
	exit(0);
}

/* ---- threads N ------------------------------------------------------------ */

static void *many_fn(void *a)
{
	m_many();
	return a;
}

static int mode_threads(const char *arg)
{
	int i, n = atoi(arg);
	pthread_t *t = calloc((size_t)n, sizeof(*t));

	if (!t || n <= 0)
		die("threads");
	m_main();
	for (i = 0; i < n; i++)
		t[i] = start(many_fn, NULL);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
	return 0;
}

/* ---- closed-fds: the program takes every descriptor number -------------- */

static void captured_job(void *a)
{
	(void)a;
	m_captured_job();
}

static void *closed_fn(void *a)
{
	m_closed_thread();
	ukcov_run_captured(ukcov_capture(), captured_job, NULL);
	return a;
}

/* ---- loop N: the same sites again and again, in every kind of area ----- */

static long loop_n;

static void loop_job(void *a)
{
	long i;

	(void)a;
	for (i = 0; i < loop_n; i++)
		m_loop_job();
}

static void *loop_fn(void *a)
{
	long i;

	for (i = 0; i < loop_n; i++)
		m_loop_thread();
	ukcov_run_captured(ukcov_capture(), loop_job, NULL);
	return a;
}

static int mode_loop(const char *arg)
{
	long i;

	loop_n = atol(arg);
	if (loop_n <= 0)
		die("loop");
	for (i = 0; i < loop_n; i++)
		m_loop_main();
	pthread_join(start(loop_fn, NULL), NULL);
	return 0;
}

/* The data the program writes: run-closed-fds.sh expects exactly this. */
static void write_all(int fd, const char *s)
{
	size_t n = strlen(s);

	if (write(fd, s, n) != (ssize_t)n)
		die("write");
}

static int mode_closed_fds(const char *path)
{
	int memfds[16], nmem = 0, fd, i;
	pthread_t t[4];
	char buf[64];

	/* The region's numbers (ukcov-run's and libukcov's own) as they are
	 * now: after the close they will be the program's data file. */
	for (fd = 3; fd < 1024 && nmem < 16; fd++) {
		char link[64], target[256];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			if (strstr(target, "memfd:ukcov-run"))
				memfds[nmem++] = fd;
		}
	}
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	for (i = 0; i < nmem; i++)
		if (memfds[i] != fd && dup2(fd, memfds[i]) < 0)
			die("dup2");
	for (i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "block-%d\n", i);
		write_all(fd, buf);
	}
	m_main();
	for (i = 0; i < 4; i++)
		t[i] = start(closed_fn, NULL);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	snprintf(buf, sizeof(buf), "memfds %d\n", nmem);
	write_all(fd, buf);
	exit(0);
}

static int mode_touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		die(path);
	close(fd);
	m_main();
	return 0;
}

/* ---- signals ---------------------------------------------------------- */

static volatile sig_atomic_t got;

static void handler(int sig)
{
	m_handler();
	got = sig;
}

static int mode_handler(const char *ready)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2 };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			die("sigaction");
	m_main();
	write_ready(ready, getpid());
	while (!got)
		usleep(1000);
	exit(3);
}

static int mode_nohandler(const char *ready, int ignore)
{
	if (ignore)
		signal(SIGTERM, SIG_IGN);
	m_main();
	write_ready(ready, getpid());
	block_forever();
	return 1;
}

/* The child outlives the program; it ends once GO exists (or after 30 s). */
static int mode_daemon(const char *ready, const char *go)
{
	pid_t pid;
	int i;

	m_main();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		setsid();
		write_ready(ready, getpid());
		for (i = 0; i < 30000 && access(go, F_OK); i++)
			usleep(1000);
		m_daemon_child();
		exit(0);
	}
	return 0;
}

/* ---- labels ---------------------------------------------------------- */

static void *lbl_pool(void *a)
{
	m_lbl_pool();
	return a;
}

static void *lbl_sub(void *a)
{
	pthread_t t[4];
	int i;

	pthread_setname_np(pthread_self(), a);
	m_lbl_sub();
	for (i = 0; i < 4; i++) {
		/* Racing with the other sub: either may create first. */
		usleep((useconds_t)(rand() % 500));
		t[i] = start(lbl_pool, NULL);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return NULL;
}

static void *named_ps(void *a)
{
	pthread_setname_np(pthread_self(), "named-ps");
	m_named();
	return a;
}

static void *named_prctl(void *a)
{
	prctl(PR_SET_NAME, "named-prctl");
	m_named();
	return a;
}

static int mode_labels(void)
{
	pthread_t t[4];
	int i;

	srand((unsigned int)(getpid() ^ time(NULL)));
	m_main();
	t[0] = start(lbl_sub, "sub-a");
	t[1] = start(lbl_sub, "sub-b");
	t[2] = start(named_ps, NULL);
	t[3] = start(named_prctl, NULL);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 0;
}

static int mode_euid(void)
{
	m_main();
	printf("euid=%d egid=%d\n", (int)geteuid(), (int)getegid());
	return 0;
}

/* ---- hostile: the program writes garbage into the run's region ------- */

static struct ukcov_region_header *rgn;
static struct ukcov_region_entry *rgn_ent;
static int rgn_fd;
static uint32_t rgn_image;	/* this process's image number in the run */

static void region_map(void)
{
	const char *s = getenv(UKCOV_REGION_ENV);
	char path[64];
	int pid, fd;

	if (!s || sscanf(s, "%d:%d", &pid, &fd) != 2)
		die("UKCOV_RUN");
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	rgn_fd = open(path, O_RDWR | O_CLOEXEC);
	if (rgn_fd < 0)
		die(path);
	rgn = mmap(NULL, UKCOV_REGION_DATA_OFF, PROT_READ | PROT_WRITE,
		   MAP_SHARED, rgn_fd, 0);
	if (rgn == MAP_FAILED)
		die("mmap");
	rgn_ent = (struct ukcov_region_entry *)((char *)rgn +
						UKCOV_REGION_INDEX_OFF);
	/* The collector's entries of this process say its image number:
	 * the forged ones are this process's too. */
	for (uint64_t i = 0; i < rgn->next_entry; i++)
		if (rgn_ent[i].state && rgn_ent[i].pid == (uint32_t)getpid())
			rgn_image = rgn_ent[i].image;
}

/* A new entry, filled as a valid finished thread area with no data. */
static struct ukcov_region_entry *forge(void)
{
	uint64_t i = __atomic_fetch_add(&rgn->next_entry, 1, __ATOMIC_RELAXED);
	struct ukcov_region_entry *e = &rgn_ent[i];

	memset(e, 0, sizeof(*e));
	e->type = UKCOV_REGION_AREA;
	e->image = rgn_image;
	e->pid = (uint32_t)getpid();
	e->area.kind = UKCOV_AREA_THREAD;
	e->area.mode = UKCOV_FILE_MODE_PC;
	e->area.tid = 900000 + i;
	e->area.words = 512;
	strcpy(e->area.name, "forged");
	return e;
}

/* Data for an entry: len bytes handed out as the collector does. */
static char *forge_data(struct ukcov_region_entry *e, size_t len)
{
	uint64_t off = __atomic_fetch_add(&rgn->next_data, len, __ATOMIC_RELAXED);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rgn_fd,
		       (off_t)(UKCOV_REGION_DATA_OFF + off));

	if (p == MAP_FAILED)
		die("mmap data");
	e->data = off;
	e->bytes = len;
	return p;
}

static void publish(struct ukcov_region_entry *e, uint32_t state)
{
	__atomic_store_n(&e->state, state, __ATOMIC_RELEASE);
}

/*
 * Entries ukcov-run must refuse, each counted as one lost area; prints
 * how many.  Then one area whose count word is past its capacity (written
 * as full: 511 entries of m_hostile), and modules it must refuse.
 */
static int mode_hostile_entries(void)
{
	struct ukcov_region_entry *e;
	uint64_t *w;
	char *p;
	int refused = 0, i;

	m_main();
	region_map();
	m_hostile();

	e = forge(); /* data past the end of the region */
	e->data = rgn->size;
	e->bytes = 4096;
	publish(e, UKCOV_REGION_DONE), refused++;
	e = forge(); /* bytes past the end */
	e->bytes = ~0ull - 4095;
	publish(e, UKCOV_REGION_DONE), refused++;
	e = forge(); /* data not page-aligned */
	forge_data(e, 8192);
	e->data += 8;
	publish(e, UKCOV_REGION_DONE), refused++;
	e = forge(); /* unknown type */
	forge_data(e, 8192);
	e->type = 7;
	publish(e, UKCOV_REGION_DONE), refused++;
	e = forge(); /* unknown kind */
	forge_data(e, 8192);
	e->area.kind = 9;
	publish(e, UKCOV_REGION_DONE), refused++;
	e = forge(); /* unknown mode */
	forge_data(e, 8192);
	e->area.mode = 5;
	publish(e, UKCOV_REGION_DONE), refused++;
	e = forge(); /* unknown state */
	forge_data(e, 8192);
	publish(e, 9), refused++;
	e = forge(); /* words = 0 */
	forge_data(e, 8192);
	e->area.words = 0;
	publish(e, UKCOV_REGION_DONE), refused++;
	e = forge(); /* words huge */
	forge_data(e, 8192);
	e->area.words = 1ull << 62;
	publish(e, UKCOV_REGION_DONE), refused++;
	e = forge(); /* words past its data */
	forge_data(e, 8192);
	e->area.words = 8192 / 8 + 1;
	publish(e, UKCOV_REGION_DONE), refused++;
	e = forge(); /* the count word past the area */
	forge_data(e, 8192);
	e->area.count_at = 511;
	publish(e, UKCOV_REGION_DONE), refused++;

	/* Valid, with a count past its capacity: written full. */
	e = forge();
	w = (uint64_t *)forge_data(e, 8192);
	w[0] = ~0ull;
	for (i = 1; i < 512; i++)
		w[i] = (uint64_t)(uintptr_t)m_hostile + 4;
	e->area.tid = 4242;
	e->area.seq = 99;
	e->area.flags = UKCOV_AREA_NAMED;
	publish(e, UKCOV_REGION_DONE);

	/* Modules: a path with no NUL, a path longer than its data, a
	 * build id longer than its data.  Not areas: refused, not counted. */
	e = forge();
	e->type = UKCOV_REGION_MODULE;
	p = forge_data(e, 4096);
	memset(p, 'A', 4096);
	e->bytes = 64;
	e->module.base = 0x1000;
	e->module.start = 0x1000;
	e->module.end = 0x2000;
	e->module.path_len = 64;
	publish(e, UKCOV_REGION_LIVE);
	e = forge();
	e->type = UKCOV_REGION_MODULE;
	p = forge_data(e, 4096);
	strcpy(p, "/forged/path");
	e->bytes = 4096;
	e->module.path_len = 1u << 30;
	publish(e, UKCOV_REGION_LIVE);
	e = forge();
	e->type = UKCOV_REGION_MODULE;
	p = forge_data(e, 4096);
	strcpy(p + 16, "/forged/path");
	e->module.build_id_len = 0xfffffff0u;
	e->module.path_len = 13;
	publish(e, UKCOV_REGION_LIVE);

	printf("refused %d\n", refused);
	fflush(stdout);
	return 7;
}

/*
 * The header's counters and size: ukcov-run must rely on what it knows
 * itself.  An area whose data lies beyond the real region (which a
 * shrunken size would let through), then next_entry at 2^63.
 */
static int mode_hostile_header(void)
{
	struct ukcov_region_entry *e;

	m_main();
	region_map();
	m_hostile();
	e = forge();
	e->data = 2 * rgn->size;
	e->bytes = 4096;
	publish(e, UKCOV_REGION_DONE);
	rgn->size = 0;
	rgn->next_data = ~0ull;
	__atomic_store_n(&rgn->next_entry, 1ull << 63, __ATOMIC_RELAXED);
	return 7;
}

#endif /* RUN_PLAIN: the modes */

#ifndef RUN_PLAIN
int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	const char *a2 = argc > 2 ? argv[2] : NULL;
	const char *a3 = argc > 3 ? argv[3] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(m, "return"))
		return mode_return();
	if (!strcmp(m, "exit-thread"))
		return mode_exit_thread();
	if (!strcmp(m, "fork-exit"))
		return mode_fork_exit();
	if (!strcmp(m, "sigkill"))
		return mode_killed(0);
	if (!strcmp(m, "segv"))
		return mode_killed(1);
	if (!strcmp(m, "dtor-prog"))
		return mode_dtor_prog();
	if (!strcmp(m, "dtor-lib"))
		return mode_dtor_lib();
	if (!strcmp(m, "running"))
		return mode_running();
	if (!strcmp(m, "threads") && a2)
		return mode_threads(a2);
	if (!strcmp(m, "closed-fds") && a2)
		return mode_closed_fds(a2);
	if (!strcmp(m, "touch") && a2)
		return mode_touch(a2);
	if (!strcmp(m, "handler") && a2)
		return mode_handler(a2);
	if (!strcmp(m, "nohandler") && a2)
		return mode_nohandler(a2, 0);
	if (!strcmp(m, "ignore") && a2)
		return mode_nohandler(a2, 1);
	if (!strcmp(m, "daemon") && a2 && a3)
		return mode_daemon(a2, a3);
	if (!strcmp(m, "labels"))
		return mode_labels();
	if (!strcmp(m, "euid"))
		return mode_euid();
	if (!strcmp(m, "loop") && a2)
		return mode_loop(a2);
	if (!strcmp(m, "hostile") && a2 && !strcmp(a2, "entries"))
		return mode_hostile_entries();
	if (!strcmp(m, "hostile") && a2 && !strcmp(a2, "header"))
		return mode_hostile_header();
	fprintf(stderr, "run-target: unknown mode '%s'\n", m);
	return 99;
}
#endif
