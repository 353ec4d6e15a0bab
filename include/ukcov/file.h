/* SPDX-License-Identifier: MIT */
/*
 * The coverage file ukcov-run makes and ukcov-report reads (ukcov-file(5)).
 *
 * A file header, then records.  Every record is a struct ukcov_rec followed
 * by `size` bytes of body (a multiple of 8).  Records from every process of
 * a run (forked children, exec'd programs) are appended to the same file,
 * each with one write, so they never interleave.  Integers are the native
 * byte order of the machine that wrote the file, and words are 64 bits; a
 * reader rejects a file whose magic, version or word size it does not know.
 */
#ifndef UKCOV_FILE_H
#define UKCOV_FILE_H

#include <stdint.h>

#define UKCOV_FILE_MAGIC "UKCOVRUN" /* 8 bytes, no NUL */
#define UKCOV_FILE_VERSION 1

struct ukcov_file_header {
	char magic[8];
	uint32_t version;	/* UKCOV_FILE_VERSION */
	uint32_t word_size;	/* 8 */
	uint64_t reserved;	/* 0 */
};

enum ukcov_rec_type {
	UKCOV_REC_MODULE = 1,	/* an executable segment of a loaded object */
	UKCOV_REC_AREA = 2,	/* the contents of one kcov area */
};

struct ukcov_rec {
	uint32_t type;		/* enum ukcov_rec_type */
	uint32_t reserved;	/* 0 */
	uint64_t size;		/* bytes of body that follow */
};

/*
 * Body of UKCOV_REC_MODULE: then build_id_len bytes of GNU build id, then
 * path_len bytes of path (NUL included), zero-padded to 8 bytes.  A PC of
 * process pid in [start, end) belongs to this object; its offset in the
 * object's file is pc - base (base is the load bias).
 */
struct ukcov_rec_module {
	uint64_t pid;
	uint64_t base;
	uint64_t start;
	uint64_t end;
	uint32_t build_id_len;
	uint32_t path_len;
};

enum ukcov_area_kind {
	UKCOV_AREA_THREAD = 1,	/* one thread's own coverage */
	UKCOV_AREA_COMMON = 2,	/* remote sections under the common handle */
	UKCOV_AREA_HANDLE = 3,	/* remote sections under a global handle */
	UKCOV_AREA_SIGNAL = 4,	/* handlers of one signal (per-signal handle) */
};

/*
 * Body of UKCOV_REC_AREA: then `count` entries: one word per PC in PC mode
 * (mode 0), four words per comparison record in CMP mode (mode 1).
 */
struct ukcov_rec_area {
	uint64_t pid;
	uint64_t tid;		/* the thread (UKCOV_AREA_THREAD), else 0 */
	uint32_t kind;		/* enum ukcov_area_kind */
	uint32_t mode;		/* KCOV_TRACE_PC or KCOV_TRACE_CMP */
	uint64_t handle;	/* the remote handle, else 0 */
	uint64_t count;		/* entries that follow */
	uint64_t capacity;	/* entries the area could hold */
	uint64_t dropped;	/* entries lost because the area was full */
	char name[16];		/* the thread's name, NUL-terminated */
};

#endif /* UKCOV_FILE_H */
