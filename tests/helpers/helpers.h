/* SPDX-License-Identifier: MIT */
/*
 * Test helpers.  This file and helpers.c are built WITHOUT coverage
 * instrumentation, so calling them never adds entries to a trace; each
 * tests/NAME.c is built with -fsanitize-coverage=trace-pc,trace-cmp.
 */
#ifndef UKCOV_TEST_HELPERS_H
#define UKCOV_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ukcov.h>

#ifdef __cplusplus
extern "C" {
#endif

enum t_result {
	T_EXIT_PASS = 0,
	T_EXIT_FAIL = 1,
	T_EXIT_SKIP = 77,
};

/* Fail the test (exit 1) with file:line and a message. */
#define t_fail(...)                                                            \
	do {                                                                   \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(T_EXIT_FAIL);                                             \
	} while (0)

#define t_assert(cond)                                                         \
	do {                                                                   \
		if (!(cond))                                                   \
			t_fail("assertion failed: %s", #cond);                 \
	} while (0)

/* An ioctl/call that must fail with -1 and exactly errno e. */
#define t_expect_err(call, e)                                                  \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(call);                                        \
		int e_ = errno;                                                \
		if (r_ != -1 || e_ != (e))                                     \
			t_fail("%s: got %ld errno %d (%s), want -1 errno %d "  \
			       "(%s)",                                          \
			       #call, r_, e_, strerror(e_), (e), strerror(e)); \
	} while (0)

/* A call that must return 0. */
#define t_expect_ok(call)                                                      \
	do {                                                                   \
		errno = 0;                                                     \
		long r_ = (long)(call);                                        \
		if (r_ != 0)                                                   \
			t_fail("%s: got %ld errno %d (%s), want 0", #call, r_, \
			       errno, strerror(errno));                        \
	} while (0)

/* A kcov descriptor with an area of `words` words, mapped read-write. */
struct t_kcov {
	int fd;
	unsigned long words;
	unsigned long *area;
};

/* Open, INIT_TRACE and map; fails the test on any error. */
void t_kcov_open(struct t_kcov *k, unsigned long words);
void t_kcov_close(struct t_kcov *k);

/* The count word, loaded with acquire as ukcov(7) asks of readers. */
unsigned long t_count(const struct t_kcov *k);

/* True if pc was recorded (trace-pc mode) within [lo, hi). */
bool t_has_pc_in(const struct t_kcov *k, uintptr_t lo, uintptr_t hi);

/* Address range of a function: [fn, fn + its size).  Uses the symbol size
 * from the test's own ELF symbol table; 0 on failure. */
size_t t_func_size(const void *fn);

/* True if a comparison record (trace-cmp mode) has its pc within [lo, hi). */
bool t_has_cmp_pc_in(const struct t_kcov *k, uintptr_t lo, uintptr_t hi);

/* Entries of the area (PCs, or record pcs in CMP mode) within [lo, hi). */
unsigned long t_entries_in(const struct t_kcov *k, bool cmp, uintptr_t lo,
			   uintptr_t hi);

/* Lines of /proc/self/maps containing needle (e.g. "memfd:ukcov"); -1 on
 * error.  Thread-safe (reads with a private buffer). */
int t_maps_count(const char *needle);

/* Number of seconds a stress test runs: UKCOV_STRESS_SECONDS or dflt. */
double t_stress_seconds(double dflt);
double t_now(void);

/*
 * Run ukcov_ioctl(fd, req, arg) on a new thread (bound to nothing) and wait
 * for it.  Returns its result and stores its errno in *err.
 */
long t_thread_ioctl(int fd, unsigned long req, unsigned long arg, int *err);

/* Run fn(arg) on a new thread and join it; fails the test on error. */
void *t_run_thread(void *(*fn)(void *), void *arg);

/*
 * ukcov_mmap the first len bytes of fd with prot at a place whose previous
 * and next pages are reserved PROT_NONE, so that an access just outside the
 * mapping faults.  Fails the test on error; undo with t_unmap_guarded.
 */
void *t_map_guarded(int fd, size_t len, int prot);
void t_unmap_guarded(void *p, size_t len);

/*
 * For tests: a function of the (instrumented) test that gets no coverage
 * callbacks of its own, so it can call the callbacks directly and count
 * exactly what they record.
 */
#if defined(__clang__)
#define T_NOCOV __attribute__((no_sanitize("coverage"), noinline))
#else
#define T_NOCOV __attribute__((no_sanitize_coverage, noinline))
#endif

/* The compiler's coverage callbacks, as the compilers call them. */
void __sanitizer_cov_trace_pc(void);
void __sanitizer_cov_trace_cmp1(uint8_t a, uint8_t b);
void __sanitizer_cov_trace_cmp2(uint16_t a, uint16_t b);
void __sanitizer_cov_trace_cmp4(uint32_t a, uint32_t b);
void __sanitizer_cov_trace_cmp8(uint64_t a, uint64_t b);
void __sanitizer_cov_trace_const_cmp1(uint8_t a, uint8_t b);
void __sanitizer_cov_trace_const_cmp2(uint16_t a, uint16_t b);
void __sanitizer_cov_trace_const_cmp4(uint32_t a, uint32_t b);
void __sanitizer_cov_trace_const_cmp8(uint64_t a, uint64_t b);
void __sanitizer_cov_trace_cmpf(float a, float b);
void __sanitizer_cov_trace_cmpd(double a, double b);
void __sanitizer_cov_trace_switch(uint64_t val, void *cases);

/*
 * Remote-coverage tests (tests/remote-*.c).
 *
 * t_remote_enable: KCOV_REMOTE_ENABLE on fd with n global handles h[] and
 * the given common handle; returns ukcov_ioctl's result, errno preserved.
 */
int t_remote_enable(int fd, uint32_t mode, uint32_t area_size,
		    uint64_t common, unsigned int n, const uint64_t *h);

/*
 * An actor: a thread that runs the calls it is given, one at a time, and
 * stays alive (keeping whatever it is bound to) until t_actor_stop.  The
 * actor machinery is not instrumented; fn is whatever the caller passes.
 */
struct t_actor {
	void *priv;
};
void t_actor_start(struct t_actor *a);
/* Run fn(arg) on the actor; returns its result, errno set to its errno. */
long t_actor_call(struct t_actor *a, long (*fn)(void *), void *arg);
/* ukcov_ioctl(fd, req, arg) on the actor (nothing instrumented runs). */
long t_actor_ioctl(struct t_actor *a, int fd, unsigned long req,
		   unsigned long arg);
/* t_remote_enable on the actor. */
long t_actor_remote_enable(struct t_actor *a, int fd, uint32_t mode,
			   uint32_t area_size, uint64_t common, unsigned int n,
			   const uint64_t *h);
/* Let the actor thread return and join it. */
void t_actor_stop(struct t_actor *a);

/* A function's address range [lo, hi), from t_func_size (fails if 0). */
struct t_range {
	uintptr_t lo, hi;
};
struct t_range t_range_of(const void *fn);
static inline bool t_in(struct t_range r, uintptr_t pc)
{
	return pc >= r.lo && pc < r.hi;
}
/* Trace-pc entries of k (bounded by its size) that fall in r. */
unsigned long t_count_in(const struct t_kcov *k, struct t_range r);
/* Set the count word (release), as a reader resetting the area does. */
void t_set_count(struct t_kcov *k, unsigned long n);

/*
 * Signal-handler tests (tests/signal-*.c).
 *
 * t_sig_count_outside: trace-pc entries of k that fall in none of r[0..n).
 * t_sig_first_in / t_sig_last_in: index (0-based entry) of the first / last
 * entry of k within r, or -1.
 * t_sig_snapshot: copy k's entries (at most cap) to dst; returns how many.
 * t_sig_raise_if: raise(sig) if on; uninstrumented, so the caller's trace is
 * the same whether on or not.
 * t_sig_run_self: run /proc/self/exe with argv[1] = arg and the environment
 * variable name set to value (unset if value is NULL); its stderr goes to
 * err (NUL-terminated, at most errlen - 1 bytes).  Returns the exit status,
 * or -1 if it did not exit normally.
 */
/* T_SIG_TSAN: 1 when built with ThreadSanitizer (gcc or clang). */
#if defined(__SANITIZE_THREAD__)
#define T_SIG_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define T_SIG_TSAN 1
#endif
#endif
#ifndef T_SIG_TSAN
#define T_SIG_TSAN 0
#endif
unsigned long t_sig_count_outside(const struct t_kcov *k,
				  const struct t_range *r, unsigned int n);
long t_sig_first_in(const struct t_kcov *k, struct t_range r);
long t_sig_last_in(const struct t_kcov *k, struct t_range r);
unsigned long t_sig_snapshot(const struct t_kcov *k, unsigned long *dst,
			     unsigned long cap);
void t_sig_raise_if(bool on, int sig);
/*
 * t_sig_pcs_of: how many PCs one call fn(arg) records within fn's own
 * range, measured on a new thread collecting locally (fails the test if
 * none).  Compilers differ in how many PCs a loop records (clang
 * if-converts and unrolls where gcc does not): tests compare what a
 * handler recorded with this instead of assuming one PC per iteration.
 */
unsigned long t_sig_pcs_of(void (*fn)(int), int arg);
int t_sig_run_self(const char *arg, const char *name, const char *value,
		   char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
