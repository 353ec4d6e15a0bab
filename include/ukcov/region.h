/* SPDX-License-Identifier: MIT */
/*
 * The run's region: the protocol between ukcov-run and libukcov's collector
 * (ukcov-run(1), docs/design.md).  Not an API for programs: both sides come
 * from one build of ukcov.
 *
 * ukcov-run creates a memfd, sparse (only the pages written take memory),
 * fills its header with what to collect, and starts the program with the
 * descriptor inherited and UKCOV_RUN="<ukcov-run's pid>:<descriptor>" in
 * its environment.  Every process of the run (the program, its forked
 * children, the programs they exec) allocates its areas and writes its
 * module map in the region itself; it never writes a file.  When the
 * program and every process it started are gone, ukcov-run writes the
 * coverage file (include/ukcov/file.h) from the region: nothing in a
 * process's exit has to run for its coverage to survive, and every area is
 * written once.
 *
 * A process reaches the region through its inherited descriptor, or, when
 * the program closed that, through /proc/<ukcov-run's pid>/fd/<descriptor>.
 *
 * Layout (bytes):
 *   0                       struct ukcov_region_header
 *   UKCOV_REGION_HANDLES_OFF   the global handles to collect (uint64_t each)
 *   UKCOV_REGION_INDEX_OFF     UKCOV_REGION_MAX_ENTRIES struct ukcov_region_entry
 *   UKCOV_REGION_DATA_OFF      the data of the entries, handed out upward
 *
 * Entries and data are handed out with atomic adds on the header's
 * counters, by any process; an entry's fields are written before its state
 * (release), and ukcov-run reads an entry only if its state is set.
 */
#ifndef UKCOV_REGION_H
#define UKCOV_REGION_H

#include <stdint.h>

#define UKCOV_REGION_MAGIC "UKCOVRGN" /* 8 bytes, no NUL */
#define UKCOV_REGION_VERSION 1
#define UKCOV_REGION_ENV "UKCOV_RUN"
#define UKCOV_REGION_PAGE 4096ul
#define UKCOV_REGION_MAX_HANDLES 4096u
#define UKCOV_REGION_HANDLES_OFF UKCOV_REGION_PAGE
#define UKCOV_REGION_INDEX_OFF                                                    \
	(UKCOV_REGION_HANDLES_OFF + UKCOV_REGION_MAX_HANDLES * sizeof(uint64_t))
#define UKCOV_REGION_MAX_ENTRIES (1u << 20)
#define UKCOV_REGION_ENTRY_SIZE 128u
#define UKCOV_REGION_DATA_OFF                                                     \
	(UKCOV_REGION_INDEX_OFF +                                                 \
	 (uint64_t)UKCOV_REGION_MAX_ENTRIES * UKCOV_REGION_ENTRY_SIZE)
/* Words per area: as KCOV_INIT_TRACE allows (INT_MAX / 8). */
#define UKCOV_REGION_MIN_WORDS 512u
#define UKCOV_REGION_MAX_WORDS 0x0fffffffu

/* Header flags, set by ukcov-run. */
#define UKCOV_REGION_COMMON (1u << 0) /* collect the common handle */

struct ukcov_region_header {
	char magic[8];		/* UKCOV_REGION_MAGIC */
	uint32_t version;	/* UKCOV_REGION_VERSION */
	uint32_t flags;		/* UKCOV_REGION_* above */
	uint64_t size;		/* the region's size in bytes */
	/* Set by ukcov-run before the program starts; read-only after. */
	uint32_t mode;		/* UKCOV_FILE_MODE_* to collect */
	uint32_t nhandles;	/* handles at UKCOV_REGION_HANDLES_OFF */
	uint64_t area_words;	/* words of each area */
	uint64_t signals[2];	/* bit s of word s / 64: collect signal s */
	/* Atomic, updated by every process of the run. */
	uint64_t next_entry;	/* entries handed out */
	uint64_t next_data;	/* bytes of data handed out */
	uint64_t areas_lost;	/* areas that could not be created */
	uint64_t images;	/* program images started (with exec) */
};

/* An entry's state: written last, with release. */
enum ukcov_region_state {
	UKCOV_REGION_EMPTY = 0,	/* handed out, not (yet) filled */
	UKCOV_REGION_LIVE = 1,	/* an area in use, or a module */
	UKCOV_REGION_DONE = 2,	/* an area whose thread ended */
};

enum ukcov_region_type {
	UKCOV_REGION_AREA = 1,	/* data: the area's words, then one page */
	UKCOV_REGION_MODULE = 2,	/* data: build id, then path (NUL ended) */
};

struct ukcov_region_entry {
	uint32_t state;		/* enum ukcov_region_state; atomic */
	uint32_t type;		/* enum ukcov_region_type */
	uint32_t image;		/* the image (see images) it belongs to */
	uint32_t pid;
	uint64_t data;		/* offset of its data in the region */
	uint64_t bytes;		/* bytes of data */
	union {
		struct {
			uint32_t kind;	/* enum ukcov_area_kind (file.h) */
			uint32_t mode;	/* enum ukcov_file_mode (file.h) */
			uint64_t tid;
			uint64_t handle;
			uint64_t words;	/* the area's size in words */
			uint64_t count_at; /* the count word's index */
			uint64_t seq;	/* creation order in its process */
			uint64_t start_routine;
			uint64_t dropped; /* atomic: entries lost (full) */
			uint32_t flags;	/* UKCOV_AREA_* (file.h) */
			char name[16];	/* the thread's name */
		} area;
		struct {
			uint64_t base;	/* load bias */
			uint64_t start, end; /* an executable segment */
			uint32_t build_id_len;
			uint32_t path_len; /* NUL included */
		} module;
	};
};

_Static_assert(sizeof(struct ukcov_region_entry) <= UKCOV_REGION_ENTRY_SIZE,
	       "entries are UKCOV_REGION_ENTRY_SIZE bytes apart");
_Static_assert(sizeof(struct ukcov_region_header) <= UKCOV_REGION_PAGE,
	       "the header is one page");

#endif /* UKCOV_REGION_H */
