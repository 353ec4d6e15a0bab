/* SPDX-License-Identifier: MIT */
/*
 * ukcov: Linux's kcov coverage model for user-space programs.
 *
 * A thread opens a descriptor, sizes its area with KCOV_INIT_TRACE, maps it
 * and enables collection; from then on the code it runs that was built with
 * -fsanitize-coverage=trace-pc (or trace-cmp) is recorded into the area:
 * word 0 is the count, then one word per PC or 4-word comparison records.
 * Request numbers, layouts and errno values are kcov's.  See ukcov(7).
 */
#ifndef UKCOV_H
#define UKCOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ukcov/kcov.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UKCOV_VERSION_MAJOR 0
#define UKCOV_VERSION_MINOR 1
/* True when the headers are at least version maj.min. */
#define UKCOV_VERSION_GEQ(maj, min)                                            \
	(UKCOV_VERSION_MAJOR > (maj) ||                                        \
	 (UKCOV_VERSION_MAJOR == (maj) && UKCOV_VERSION_MINOR >= (min)))

#ifndef UKCOV_API
#define UKCOV_API __attribute__((visibility("default")))
#endif

/*
 * ukcov's handle space.  Byte 7 of a handle is its subsystem:
 *   0x00        COMMON, as in Linux (instance != 0)
 *   0x01        USB, as in Linux: accepted as a global subsystem
 *   0x40        one handle per signal number (instance = signal)
 *   0x80..0xff  free for applications' own global workers
 * Every other subsystem id is rejected, as Linux rejects unknown ones.
 */
#define UKCOV_SUBSYSTEM_COMMON KCOV_SUBSYSTEM_COMMON
#define UKCOV_SUBSYSTEM_USB KCOV_SUBSYSTEM_USB
#define UKCOV_SUBSYSTEM_SIGNAL (0x40ull << 56)
#define UKCOV_SUBSYSTEM_APP_FIRST (0x80ull << 56)
#define UKCOV_SUBSYSTEM_APP_LAST (0xffull << 56)
/* The n-th application subsystem, n in 0..127. */
#define UKCOV_SUBSYSTEM_APP(n) ((0x80ull + (uint64_t)(n)) << 56)

/* Deepest nesting of remote sections on one thread (and in one handler). */
#define UKCOV_REMOTE_MAX_DEPTH 4

/* ukcov's own comparison type bit: a floating-point comparison (cmpf/cmpd). */
#define UKCOV_CMP_FLOAT (1 << 3)

/*
 * KCOV_REMOTE_ENABLE in unique mode (ukcov's; Linux's unique series has no
 * remote mode): the owner's area is laid out as KCOV_UNIQUE_ENABLE's, a
 * bitmap of bitmap_words words then the trace, and a PC its sections run
 * is appended once between two KCOV_RESET_TRACE of the owner, whichever
 * section, thread or signal handler ran it.  The argument is struct
 * kcov_remote_arg's layout with its padding word named: trace_mode must be
 * KCOV_TRACE_PC; bitmap_words as KCOV_UNIQUE_ENABLE's argument (EINVAL if
 * 0 or not at least 2 words short of the area); the rest, and every other
 * error, as KCOV_REMOTE_ENABLE's.
 */
struct ukcov_remote_unique_arg {
	__u32 trace_mode;	/* KCOV_TRACE_PC */
	__u32 area_size;	/* words in each task-context section buffer */
	__u32 num_handles;	/* entries in handles[], at most 256 */
	__u32 bitmap_words;	/* the bitmap's words at the area's start */
	__aligned_u64 common_handle;	/* 0, or a COMMON-subsystem handle */
	__aligned_u64 handles[];	/* global (non-common) handles */
};
#define UKCOV_REMOTE_UNIQUE_ENABLE _IOW('c', 0xa0, struct ukcov_remote_unique_arg)

/*
 * Wait until every remote section for this object's handles that was open
 * when the request was made (its ukcov_remote_start had returned) has been
 * appended to the area or discarded: sections of thread pools, signal
 * handlers and forked children alike.  The argument is the timeout in
 * milliseconds, by value (ULONG_MAX: none).  0; or -1 with errno EINVAL
 * (the object is not remote-enabled; in a signal handler or a vfork
 * child), ETIMEDOUT (sections still open at the timeout: one that never
 * ends, or one of a forked child that died or exec'd inside it, which
 * stays counted until the object is freed).  ukcov's own request (Linux
 * has none: syzkaller sleeps and polls instead).
 */
#define UKCOV_REMOTE_WAIT _IOW('c', 0xa1, unsigned long)

/*
 * Open a new kcov object.  Returns a close-on-exec file descriptor (a memfd
 * that will hold the area), or -1 with errno set (EMFILE, ENFILE, ENOMEM).
 */
UKCOV_API int ukcov_open(void);

/*
 * kcov's ioctl: KCOV_INIT_TRACE, KCOV_ENABLE, KCOV_DISABLE,
 * KCOV_REMOTE_ENABLE and KCOV_RESET_TRACE, with kcov's arguments.  Returns 0
 * or -1 with errno set exactly as Linux sets it (EOPNOTSUPP where Linux
 * answers its internal ENOTSUPP).  An fd that is not a ukcov descriptor
 * gives ENOTTY, a closed one EBADF.  Not async-signal-safe.
 */
UKCOV_API int ukcov_ioctl(int fd, unsigned long request, ...);

/*
 * mmap(2) of a ukcov descriptor with kcov's checks: EINVAL before
 * KCOV_INIT_TRACE, for a nonzero offset, or when len does not round up to
 * the area's size in bytes.  Returns the mapping or MAP_FAILED with errno.
 */
UKCOV_API void *ukcov_mmap(void *addr, size_t len, int prot, int flags, int fd,
			   off_t offset);

/* close(2) of a ukcov descriptor: drops the descriptor's reference. */
UKCOV_API int ukcov_close(int fd);

/*
 * Remote sections: code run between ukcov_remote_start(handle) and
 * ukcov_remote_stop() on any thread is appended to the area of the kcov that
 * registered handle with KCOV_REMOTE_ENABLE.  A handle of 0 or one nobody
 * registered costs almost nothing.  Sections nest up to
 * UKCOV_REMOTE_MAX_DEPTH; deeper pairs are no-ops.  Async-signal-safe.
 */
UKCOV_API void ukcov_remote_start(uint64_t handle);
UKCOV_API void ukcov_remote_start_common(uint64_t handle);
UKCOV_API void ukcov_remote_stop(void);

/*
 * The calling thread's common handle: the one it registered with
 * KCOV_REMOTE_ENABLE or inherited from the thread that created it (or the
 * process that forked it).  0 inside a signal handler.
 */
UKCOV_API uint64_t ukcov_common_handle(void);

/*
 * Thread-pool attribution.  Capture the submitter's common handle when work
 * is queued (ukcov_capture(), i.e. ukcov_common_handle()), and run the work
 * in the worker with ukcov_run_captured(): fn(arg) becomes a remote section
 * for that handle, so its coverage lands in the submitter's remote kcov.
 * A handle of 0 runs fn(arg) with no section.  Async-signal-safe.
 */
UKCOV_API uint64_t ukcov_capture(void);
UKCOV_API void ukcov_run_captured(uint64_t handle, void (*fn)(void *),
				  void *arg);

/*
 * Signal handlers.  Handlers installed with sigaction, signal, sigset,
 * bsd_signal or sysv_signal run through ukcov: their code is never recorded
 * into the interrupted thread's trace, ukcov_remote_start() inside them
 * collects into a preallocated interrupt area (UKCOV_IRQ_AREA_SIZE words),
 * and each invocation for signal s is a remote section for
 * ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, s) when a kcov registered it.
 *
 * A handler installed some other way (a raw rt_sigaction system call, a
 * fully static program) brackets its body with ukcov_signal_enter() and
 * ukcov_signal_exit(), ctx living on the handler's stack.  Async-signal-safe.
 */
struct ukcov_sigctx {
	unsigned long opaque[96];	/* 768 bytes (512 before 0.1.0) */
};
UKCOV_API void ukcov_signal_enter(struct ukcov_sigctx *ctx, int sig);
UKCOV_API void ukcov_signal_exit(struct ukcov_sigctx *ctx);

/*
 * Remote sections opened in signal handlers that were skipped because no
 * interrupt area was free, since the process started.
 */
UKCOV_API uint64_t ukcov_irq_sections_skipped(void);

/*
 * Unique mode's index space: the bits a bitmap (KCOV_UNIQUE_ENABLE's
 * argument times 64) needs so that every call site of the modules loaded
 * now has its bit, that is the highest index handed out plus one (an index
 * per guard of a trace-pc-guard module, per 2 bytes of executable code of
 * a trace-pc module).  Deduplication does not depend on it: a site past
 * the bitmap is deduplicated too, only not mirrored.  Not in a signal
 * handler (it reads the loader's module list).
 */
UKCOV_API uint64_t ukcov_unique_bits(void);

/* UKCOV_REMOTE_WAIT as a call, the timeout in nanoseconds (UINT64_MAX:
 * none).  0, or -1 with errno as the request's, or EBADF. */
UKCOV_API int ukcov_remote_wait(int fd, uint64_t timeout_ns);

/*
 * The number of remote sections in flight for the object behind fd
 * (opened, not yet appended or discarded, in this process and its forked
 * children), as a counter to read at any time without a system call
 * (__atomic_load_n with __ATOMIC_ACQUIRE: a 0 read so means every section
 * counted before has been appended).  Valid until the object is freed
 * (its descriptors closed and nothing bound to it).  NULL with errno
 * EINVAL before KCOV_INIT_TRACE or in a signal handler, EBADF, ENOTTY.
 */
UKCOV_API const volatile uint64_t *ukcov_in_flight(int fd);

/* What a kcov lost, and what its remote sections became. */
struct ukcov_stats {
	uint64_t entries_dropped;	/* entries that did not fit the area
					 * (or a section's buffer) */
	uint64_t sections_appended;	/* remote sections appended at stop */
	uint64_t sections_discarded;	/* ended after a DISABLE (sequence) */
	uint64_t sections_skipped;	/* no buffer or interrupt area free */
};

/* Fill *st for the kcov behind fd.  0, or -1 with errno (EBADF, ENOTTY). */
UKCOV_API int ukcov_get_stats(int fd, struct ukcov_stats *st);

/* kcov_remote_handle() for ukcov's handle space: 0 when out of range. */
UKCOV_API uint64_t ukcov_remote_handle(uint64_t subsystem, uint64_t instance);

/* Runtime version of the library. */
UKCOV_API int ukcov_version_major(void);
UKCOV_API int ukcov_version_minor(void);

#ifdef __cplusplus
}
#endif

#endif /* UKCOV_H */
