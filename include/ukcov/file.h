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
 * Version 2 added the RUN record and the thread's creation order, start
 * routine and flags to the area record; version 1 files are refused.
 */
#ifndef UKCOV_FILE_H
#define UKCOV_FILE_H

#include <stdint.h>

#define UKCOV_FILE_MAGIC "UKCOVRUN" /* 8 bytes, no NUL */
#define UKCOV_FILE_VERSION 2

struct ukcov_file_header {
	char magic[8];
	uint32_t version;	/* UKCOV_FILE_VERSION */
	uint32_t word_size;	/* 8 */
	uint64_t reserved;	/* 0 */
};

enum ukcov_rec_type {
	UKCOV_REC_MODULE = 1,	/* an executable segment of a loaded object */
	UKCOV_REC_AREA = 2,	/* the contents of one kcov area */
	UKCOV_REC_RUN = 3,	/* how the run ended; written last by ukcov-run */
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

enum ukcov_file_mode {
	UKCOV_FILE_MODE_PC = 0,		/* one word per PC */
	UKCOV_FILE_MODE_CMP = 1,	/* four words per comparison record */
	UKCOV_FILE_MODE_UNIQUE = 2,	/* PCs, each at most once */
};

/* UKCOV_REC_AREA flags. */
#define UKCOV_AREA_UNFINISHED (1u << 0) /* the thread or process was still
					 * running when the run ended (killed,
					 * _exit, exec): whole, but partial */
#define UKCOV_AREA_NAMED (1u << 1)	/* name[] was set by the program
					 * (pthread_setname_np, prctl) */

/*
 * Body of UKCOV_REC_AREA (96 bytes): then `count` entries: one word per PC
 * (UKCOV_FILE_MODE_PC, UKCOV_FILE_MODE_UNIQUE), four words per comparison
 * record (UKCOV_FILE_MODE_CMP: type, arg1, arg2, PC, as kcov lays them out).
 */
struct ukcov_rec_area {
	uint64_t pid;
	uint64_t tid;		/* UKCOV_AREA_THREAD: the thread, else 0 */
	uint32_t kind;		/* enum ukcov_area_kind */
	uint32_t mode;		/* enum ukcov_file_mode */
	uint64_t handle;	/* the remote handle, else 0 */
	uint64_t count;		/* entries that follow */
	uint64_t capacity;	/* entries the area could hold */
	uint64_t dropped;	/* entries lost because the area was full */
	uint64_t seq;		/* creation order of the thread in its process:
				 * 0 main thread, then 1, 2, ... in
				 * pthread_create order; 0 for other kinds */
	uint64_t start_routine;	/* run-time address of the thread's start
				 * routine, 0 for the main thread, other
				 * kinds, or unknown */
	uint32_t flags;		/* UKCOV_AREA_* */
	uint32_t proc;		/* the process's number in the run: 0 the
				 * program ukcov-run started (or unknown),
				 * then 1, 2, ... in the order the others
				 * started collecting */
	char name[16];		/* the thread's name (comm), NUL-terminated */
};

/* UKCOV_REC_RUN how. */
#define UKCOV_RUN_EXITED 1	/* status is the exit code */
#define UKCOV_RUN_KILLED 2	/* status is the signal number */
/* UKCOV_REC_RUN flags. */
#define UKCOV_RUN_INCOMPLETE (1u << 0) /* something may be missing (killed,
					* areas lost, disk full) */

/* Body of UKCOV_REC_RUN (32 bytes). */
struct ukcov_rec_run {
	uint32_t how;		/* UKCOV_RUN_EXITED or UKCOV_RUN_KILLED */
	int32_t status;
	uint32_t flags;		/* UKCOV_RUN_* */
	uint32_t reserved;	/* 0 */
	uint64_t areas_lost;	/* areas the runtime could not create */
	uint64_t sections_lost;	/* remote sections in flight when a process
				 * ended */
};

#endif /* UKCOV_FILE_H */
