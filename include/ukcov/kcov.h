/* SPDX-License-Identifier: MIT */
/*
 * Linux's kcov user-space ABI, for ukcov clients.
 *
 * The names, values and layouts below are those of <linux/kcov.h>, so a kcov
 * client ported to ukcov keeps its constants.  The header shares the kernel
 * header's include guard: whichever of the two is included first provides
 * the definitions and the other one becomes empty, so they never clash.
 * Names the kernel header lacks (KCOV_RESET_TRACE, KCOV_WORDS_PER_CMP) are
 * defined in either case.
 */
#ifndef _LINUX_KCOV_IOCTLS_H
#define _LINUX_KCOV_IOCTLS_H

#include <linux/types.h>
#include <sys/ioctl.h>

/* Argument of KCOV_REMOTE_ENABLE: 24 bytes, then num_handles handles. */
struct kcov_remote_arg {
	__u32 trace_mode;	/* KCOV_TRACE_PC or KCOV_TRACE_CMP */
	__u32 area_size;	/* words in each task-context section buffer */
	__u32 num_handles;	/* entries in handles[], at most 256 */
	__aligned_u64 common_handle;	/* 0, or a COMMON-subsystem handle */
	__aligned_u64 handles[];	/* global (non-common) handles */
};

#define KCOV_REMOTE_MAX_HANDLES 0x100

#define KCOV_INIT_TRACE _IOR('c', 1, unsigned long)
#define KCOV_ENABLE _IO('c', 100)
#define KCOV_DISABLE _IO('c', 101)
#define KCOV_REMOTE_ENABLE _IOW('c', 102, struct kcov_remote_arg)

enum {
	KCOV_TRACE_PC = 0,	/* one word per covered PC */
	KCOV_TRACE_CMP = 1,	/* 4-word comparison records */
};

/* Type word of a comparison record. */
#define KCOV_CMP_CONST (1 << 0)	/* arg1 is a compile-time constant */
#define KCOV_CMP_SIZE(n) ((n) << 1)	/* n = log2 of the operand size */
#define KCOV_CMP_MASK KCOV_CMP_SIZE(3)

/* Remote handles: subsystem in byte 7, bytes 4-6 zero, instance in 0-3. */
#define KCOV_SUBSYSTEM_COMMON (0x00ull << 56)
#define KCOV_SUBSYSTEM_USB (0x01ull << 56)

#define KCOV_SUBSYSTEM_MASK (0xffull << 56)
#define KCOV_INSTANCE_MASK (0xffffffffull)

static __inline__ __u64 kcov_remote_handle(__u64 subsys, __u64 inst)
{
	if (subsys & ~KCOV_SUBSYSTEM_MASK || inst & ~KCOV_INSTANCE_MASK)
		return 0;
	return subsys | inst;
}

#endif /* _LINUX_KCOV_IOCTLS_H */

/* Not in Linux's uapi header; defined whichever header came first. */
#ifndef KCOV_RESET_TRACE
#include <sys/ioctl.h>
/* Reset the count of the calling thread's kcov, and in unique mode its
 * bitmap (lets readers map the area read-only). */
#define KCOV_RESET_TRACE _IO('c', 104)
#endif
#ifndef KCOV_UNIQUE_ENABLE
#include <sys/ioctl.h>
/*
 * Enable unique coverage for the calling thread (the 2025 series' request):
 * the argument is the bitmap's size in words, at the start of the area;
 * the trace, count word first, follows it.  Each call site's PC is
 * appended the first time it runs after the last KCOV_RESET_TRACE.
 */
#define KCOV_UNIQUE_ENABLE _IOW('c', 103, unsigned long)
#endif
#ifndef KCOV_WORDS_PER_CMP
/* A comparison record is 4 u64 words: type, arg1, arg2, pc. */
#define KCOV_WORDS_PER_CMP 4
#endif
