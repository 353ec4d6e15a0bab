// SPDX-License-Identifier: MIT
/*
 * libukcov-afl.a's main: an LLVMFuzzerTestOneInput harness, driven by
 * afl-fuzz (AFL++ 4) with ukcov's per-input coverage as the map.
 *
 * What AFL++ expects of a target, from its documentation and its
 * forkserver's behaviour (AFL++ 4.04c, Debian 12):
 *   - the map: shared memory whose id is in __AFL_SHM_ID, written by the
 *     target, cleared by afl-fuzz before each run, classified into
 *     hit-count buckets by afl-fuzz after it;
 *   - the forkserver: a 4-byte hello on fd 199 (here: options enabled,
 *     and the map's size), then per run a 4-byte word read from fd 198
 *     (nonzero: afl-fuzz killed the stopped child), the child's pid and
 *     its wait status written to fd 199;
 *   - persistent mode: afl-fuzz finds "##SIG_AFL_PERSISTENT##" in the
 *     binary and sets __AFL_PERSISTENT; the child stops itself (SIGSTOP)
 *     after each input and is continued (SIGCONT) for the next;
 *   - AFL_DUMP_MAP_SIZE: print the map's size and exit (afl-cmin).
 * The input comes on stdin, or from the file named by the first argument
 * (afl-fuzz's @@).  Without afl-fuzz (no __AFL_SHM_ID), each file argument
 * (or stdin) runs once: a reproducer.  LLVMFuzzerInitialize runs in the
 * forkserver's child, after the fork, so that the threads it starts run
 * where the inputs do (a fork keeps only the thread that called it).
 *
 * Knobs: UKCOV_AFL_MAP_SIZE (bytes, default 65536, at most 8 MiB; never
 * more than AFL_MAP_SIZE), UKCOV_AFL_LOOP (inputs per process in
 * persistent mode; default: no limit, as AFL++'s own driver), UKCOV_AFL_DEBUG (set: a line on stderr
 * per input, with its PCs and the counters it set).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "ukcov/fuzzer.h"

#define FORKSRV_FD 198
/* The forkserver's option bits (AFL++'s include/types.h, by value). */
#define FS_OPT_ENABLED 0x80000001u
#define FS_OPT_MAPSIZE 0x40000000u
#define FS_OPT_MAX_MAPSIZE ((0x00fffffeu >> 1) + 1)	/* 8 MiB */
#define FS_OPT_SET_MAPSIZE(x) (((uint32_t)(x) - 1) << 1)

#define MAP_DEFAULT 65536ul
#define MAX_INPUT (1ul << 20)	/* bytes: afl-fuzz's largest test case */

/* What afl-fuzz looks for in the binary: the variable's name (the binary
 * is instrumented) and the persistent-mode signature. */
__attribute__((used)) static const char shm_env[] = "__AFL_SHM_ID";
__attribute__((used)) static const char persistent_sig[] =
	"##SIG_AFL_PERSISTENT##";

static uint8_t *map;
static size_t map_size;

static void die(const char *what)
{
	fprintf(stderr, "ukcov-afl: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* The driver's knobs: a bad value is a one-line error and exit 2. */
static unsigned long env_ulong(const char *name, unsigned long def,
			       unsigned long min, unsigned long max)
{
	bool bad;
	unsigned long v = __ukcov_fuzzer_env(name, def, min, max, &bad);

	if (bad) {
		fprintf(stderr, "ukcov-afl: %s=%s: not a decimal number in "
			"[%lu, %lu]\n", name, getenv(name), min, max);
		exit(2);
	}
	return v;
}

/* ---- a crash's coverage ------------------------------------------------- */

/*
 * afl-fuzz keeps a crash when its map has bits no earlier crash had: the
 * coverage so far goes into the map before the process dies.  Installed
 * only under afl-fuzz; a handler that was there (a sanitizer's) runs
 * after, as it would have.
 */
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
static struct sigaction crash_old[sizeof(crash_signals) / sizeof(int)];
static volatile sig_atomic_t crash_folded;

static void on_crash(int sig, siginfo_t *si, void *uc)
{
	size_t i;

	if (!crash_folded) {
		crash_folded = 1;
		__ukcov_fuzzer_fold_now(map, map_size);
	}
	for (i = 0; i < sizeof(crash_signals) / sizeof(int); i++) {
		struct sigaction *o = &crash_old[i];

		if (crash_signals[i] != sig)
			continue;
		sigaction(sig, o, NULL);
		if (o->sa_flags & SA_SIGINFO) {
			if (o->sa_sigaction)
				o->sa_sigaction(sig, si, uc);
			return;
		}
		if (o->sa_handler != SIG_DFL && o->sa_handler != SIG_IGN) {
			o->sa_handler(sig);
			return;
		}
		/* The default action, now that it is back: a fault repeats
		 * when the handler returns; a raised signal is raised again. */
		if (si->si_code <= 0)
			raise(sig);
		return;
	}
}

/* exit() inside an input (any thread's): what ran is the input's map. */
static void on_exit_fold(void)
{
	if (!crash_folded) {
		crash_folded = 1;
		__ukcov_fuzzer_fold_now(map, map_size);
	}
}

static void catch_crashes(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_crash;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(crash_signals) / sizeof(int); i++)
		sigaction(crash_signals[i], &sa, &crash_old[i]);
	atexit(on_exit_fold);
}

/* ---- the forkserver ----------------------------------------------------- */

/* Returns in each child (true), or when no afl-fuzz listens (false). */
static bool forkserver(bool persistent)
{
	uint32_t hello = FS_OPT_ENABLED | FS_OPT_MAPSIZE |
			 FS_OPT_SET_MAPSIZE(map_size);
	bool stopped = false;
	pid_t child = -1;
	int status;

	if (write(FORKSRV_FD + 1, &hello, 4) != 4)
		return false;
	for (;;) {
		uint32_t was_killed;

		if (read(FORKSRV_FD, &was_killed, 4) != 4)
			_exit(0);	/* afl-fuzz is gone */
		if (stopped && was_killed) {
			/* afl-fuzz killed the stopped child (a timeout). */
			stopped = false;
			if (waitpid(child, &status, 0) < 0)
				_exit(1);
		}
		if (!stopped) {
			child = fork();
			if (child < 0)
				_exit(1);
			if (child == 0) {
				close(FORKSRV_FD);
				close(FORKSRV_FD + 1);
				return true;
			}
		} else {
			kill(child, SIGCONT);
			stopped = false;
		}
		if (write(FORKSRV_FD + 1, &child, 4) != 4)
			_exit(1);
		if (waitpid(child, &status, persistent ? WUNTRACED : 0) < 0)
			_exit(1);
		if (WIFSTOPPED(status))
			stopped = true;
		if (write(FORKSRV_FD + 1, &status, 4) != 4)
			_exit(1);
	}
}

/* ---- inputs ------------------------------------------------------------- */

static uint8_t *buf;
static size_t buf_size;

/*
 * An input, whole, from fd's current offset: at most MAX_INPUT bytes
 * under afl-fuzz (its own largest), any size as a reproducer.
 */
static size_t read_input(int fd, size_t limit)
{
	size_t n = 0;

	for (;;) {
		ssize_t r;

		if (n == buf_size) {
			size_t grow = buf_size ? buf_size * 2 : 1ul << 16;
			uint8_t *b;

			if (n == limit)
				return n;
			if (grow > limit)
				grow = limit;
			b = realloc(buf, grow);
			if (!b)
				die("realloc");
			buf = b;
			buf_size = grow;
		}
		r = read(fd, buf + n, buf_size - n);
		if (r > 0)
			n += (size_t)r;
		else if (r == 0)
			return n;
		else if (errno != EINTR)
			die("read");
	}
}

static bool debug;

static void run_one(size_t len)
{
	struct timespec t0, t1;
	long pcs;

	/* A copy the harness cannot read past unnoticed under ASan. */
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		die("malloc");
	memcpy(copy, buf, len);
	if (ukcov_fuzzer_begin())
		die("cannot collect coverage");
	LLVMFuzzerTestOneInput(copy, len);
	if (debug)
		clock_gettime(CLOCK_MONOTONIC, &t0);
	pcs = ukcov_fuzzer_end(map, map_size);
	if (debug)
		clock_gettime(CLOCK_MONOTONIC, &t1);
	free(copy);
	if (debug) {
		size_t i, set = 0;

		for (i = 0; i < map_size; i++)
			set += map[i] != 0;
		fprintf(stderr, "ukcov-afl: pid %d: %zu bytes, %ld PCs, %zu "
			"counters set; the wait and fold took %ld us\n",
			(int)getpid(), len, pcs, set,
			(long)((t1.tv_sec - t0.tv_sec) * 1000000 +
			       (t1.tv_nsec - t0.tv_nsec) / 1000));
	}
}

static size_t run_file(const char *path, size_t limit)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n;

	if (fd < 0)
		die(path);
	n = read_input(fd, limit);
	close(fd);
	run_one(n);
	return n;
}

int main(int argc, char **argv)
{
	const char *shm = getenv(shm_env);
	unsigned long loops;
	bool persistent, served;
	unsigned long i;

	map_size = env_ulong("UKCOV_AFL_MAP_SIZE", MAP_DEFAULT, 64,
			     FS_OPT_MAX_MAPSIZE);
	/* afl-fuzz's shared map is AFL_MAP_SIZE bytes when that is set. */
	if (getenv("AFL_MAP_SIZE")) {
		unsigned long m = env_ulong("AFL_MAP_SIZE", 0, 64, ~0ul);

		if (m < map_size)
			map_size = m;
	}
	if (getenv("AFL_DUMP_MAP_SIZE")) {
		printf("%zu\n", map_size);
		return 0;
	}
	debug = getenv("UKCOV_AFL_DEBUG") != NULL;
	loops = env_ulong("UKCOV_AFL_LOOP", ~0ul, 1, ~0ul);
	if (!shm) {
		/* A reproducer: each file once, or stdin. */
		map_size = MAP_DEFAULT;
		map = calloc(1, map_size);
		if (!map)
			die("calloc");
		if (LLVMFuzzerInitialize)
			LLVMFuzzerInitialize(&argc, &argv);
		if (argc < 2) {
			run_one(read_input(0, SIZE_MAX));
			return 0;
		}
		for (i = 1; i < (unsigned long)argc; i++) {
			size_t n = run_file(argv[i], SIZE_MAX);

			fprintf(stderr, "ukcov-afl: ran %s (%zu bytes)\n", argv[i], n);
		}
		return 0;
	}
	errno = 0;
	{
		char *end;
		long id = strtol(shm, &end, 10);

		if (*shm == '\0' || *end || id < 0 || id > INT32_MAX) {
			fprintf(stderr, "ukcov-afl: __AFL_SHM_ID=%s: not a "
				"shared memory id\n", shm);
			return 2;
		}
		struct shmid_ds ds;

		if (shmctl((int)id, IPC_STAT, &ds))
			die("shmctl(__AFL_SHM_ID)");
		/* Never write past the segment, whatever the sizes say. */
		if (ds.shm_segsz < map_size)
			map_size = ds.shm_segsz;
		if (map_size < 64) {
			fprintf(stderr, "ukcov-afl: __AFL_SHM_ID=%s: a segment of "
				"%zu bytes is too small for a map\n", shm,
				(size_t)ds.shm_segsz);
			return 2;
		}
		map = shmat((int)id, NULL, 0);
		if (map == (void *)-1)
			die("shmat(__AFL_SHM_ID)");
	}
	persistent = getenv("__AFL_PERSISTENT") != NULL;
	served = forkserver(persistent);
	/* In the child: threads the harness starts (a pool) must exist in
	 * the process that runs the inputs, and a fork keeps only the thread
	 * that forked. */
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	catch_crashes();
	if (!served || !persistent)
		loops = 1;
	for (i = 0; i < loops; i++) {
		if (i > 0) {
			/* The last input is in the map: tell the forkserver
			 * (it sees us stop), wait for the next. */
			raise(SIGSTOP);
		}
		crash_folded = 0;
		if (argc > 1) {
			run_file(argv[1], MAX_INPUT);
		} else {
			/* afl-fuzz rewrites the file behind stdin and seeks it
			 * back to 0 before each run. */
			run_one(read_input(0, MAX_INPUT));
		}
	}
	return 0;
}
