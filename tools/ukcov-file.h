/* SPDX-License-Identifier: MIT */
/*
 * The coverage file of include/ukcov/file.h (ukcov-file(5)), as ukcov-run
 * and ukcov-report read it: a loader that trusts nothing in the file, the
 * names of handles and signals, and a safe open(2) for every file the tools
 * read.
 */
#ifndef UKCOV_TOOLS_FILE_H
#define UKCOV_TOOLS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ukcov/file.h>

/* One module record: an executable segment of a loaded object. */
struct ukf_module {
	uint64_t pid, base, start, end;
	const unsigned char *build_id;	/* into the mapped file */
	uint32_t build_id_len;
	const char *path;		/* NUL-terminated, into the file */
};

/* One area record. */
struct ukf_area {
	const struct ukcov_rec_area *a;	/* pid, tid, kind, ... */
	const uint64_t *entries;	/* count entries of `words` words */
	uint64_t count;
	unsigned int words;		/* 1 (PC, unique) or 4 (cmp) */
	uint64_t index;			/* record order among the areas */
	char name[16];			/* a->name, control bytes as '?' */
	const char *label;		/* set by ukf_label_areas() */
};

struct ukf {
	unsigned char *map;		/* the whole file, read-only */
	size_t size;
	struct ukf_module *mods;	/* in file order */
	size_t nmods;
	struct ukf_area *areas;		/* in file order, until labelled */
	size_t nareas;
	const struct ukcov_rec_run *run; /* the last RUN record, or NULL */
	uint64_t records;		/* whole records read */
	bool truncated;			/* the last record is cut short */
	char *labels;			/* storage of the areas' labels */
};

/*
 * Open path for reading without blocking on a FIFO or a device, and only if
 * it is a regular file.  The descriptor, or -1 with a reason in err.
 */
int ukf_open_regular(const char *path, char *err, size_t errlen);

/*
 * Load a coverage file.  0, or -1 with a one-line reason in err (the caller
 * prefixes the program and file names).  A cut-short last record is not an
 * error: c->truncated says so.
 */
int ukf_load(struct ukf *c, const char *path, char *err, size_t errlen);
void ukf_free(struct ukf *c);

/*
 * The name of a thread's start routine, for its label: run-time address
 * addr in process pid.  NULL when unknown.
 */
typedef const char *ukf_routine_fn(void *ctx, uint64_t pid, uint64_t addr);

/*
 * Give every area its label and sort the areas: by process, kind, the main
 * thread first, creation order, thread id, handle.  Labels:
 *   main                    the thread whose tid is the pid
 *   thread:NAME             NAMED by the program
 *   thread:FUNC             else the start routine, when routine() knows it
 *   thread:NAME             else the name it inherited
 *   common, handle:app1:2, signal:SIGALRM
 * with #k (k >= 2) numbering the areas of one process that share a label,
 * in creation order; prefixed "pidN/" when the file holds several
 * processes.  n log n in the number of areas.  0, or -1 when out of memory.
 */
int ukf_label_areas(struct ukf *c, ukf_routine_fn *routine, void *ctx);

/* "app1:2" for a handle of application subsystem 1, instance 2. */
const char *ukf_handle_name(uint64_t h, char buf[40]);
/* "ALRM", "SIGALRM", "14" -> 14; -1 when not a signal. */
int ukf_signal_number(const char *s);
/* "SIGALRM", or "SIG34" for a signal without an abbreviation. */
const char *ukf_signal_name(int sig, char buf[16]);

#endif /* UKCOV_TOOLS_FILE_H */
