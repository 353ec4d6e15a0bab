// SPDX-License-Identifier: MIT
/*
 * The coverage file loader shared by ukcov-run and ukcov-report (see
 * ukcov-file.h and ukcov-file(5)).  The file is the tools' untrusted input:
 * every size, count and offset is checked against what is there before it
 * is used, in an order that cannot overflow, and the loader is linear in
 * the file's size.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ukcov.h>

#include "ukcov-file.h"

int ukf_open_regular(const char *path, char *err, size_t errlen)
{
	struct stat st;
	const char *what;
	int fd;

	/* O_NONBLOCK: a FIFO's open() would wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode)) {
		/* Reads of a regular file never block; clear it anyway. */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		return fd;
	}
	what = S_ISFIFO(st.st_mode)   ? "a FIFO"
	       : S_ISDIR(st.st_mode)  ? "a directory"
	       : S_ISSOCK(st.st_mode) ? "a socket"
				      : "a device";
	snprintf(err, errlen, "%s, not a regular file", what);
	close(fd);
	return -1;
}

/* Append to a growing array: doubling, so n appends cost O(n). */
static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;

	if (n < *cap)
		return v;
	if (c > SIZE_MAX / size)
		return NULL;
	v = realloc(v, c * size);
	if (v)
		*cap = c;
	return v;
}

static unsigned int entry_words(uint32_t mode)
{
	return mode == UKCOV_FILE_MODE_CMP ? 4 : 1;
}

/* The size a module record's body has: writers pad it to 8 bytes. */
static uint64_t module_size(const struct ukcov_rec_module *m)
{
	return sizeof(*m) + (((uint64_t)m->build_id_len + m->path_len + 7) &
			     ~(uint64_t)7);
}

/* Is size exactly the area's fixed part and its count entries?  By
 * division: count * 32 may overflow. */
static bool area_fits(const struct ukcov_rec_area *a, uint64_t size)
{
	uint64_t bytes = 8ull * entry_words(a->mode);

	return (size - sizeof(*a)) % bytes == 0 &&
	       (size - sizeof(*a)) / bytes == a->count;
}

/*
 * A record that runs past the end of the file is a cut-short last record
 * when what is there of it agrees with its size (else the file is corrupt):
 * a known type, and for an area whose fixed part is there, a mode and a
 * count that fit the size.
 */
static bool cut_record_ok(const struct ukcov_rec *r, size_t avail)
{
	const struct ukcov_rec_module *m = (const void *)(r + 1);
	const struct ukcov_rec_area *a = (const void *)(r + 1);

	switch (r->type) {
	case UKCOV_REC_MODULE:
		return avail < sizeof(*m) ||
		       r->size == module_size(m);
	case UKCOV_REC_AREA:
		return avail < sizeof(*a) ||
		       (a->mode <= UKCOV_FILE_MODE_UNIQUE &&
			r->size >= sizeof(*a) && area_fits(a, r->size));
	case UKCOV_REC_RUN:
		return r->size == sizeof(struct ukcov_rec_run);
	default:
		return false;
	}
}

static int load_module(struct ukf *c, size_t *cap, const void *body,
		       uint64_t size, size_t off, char *err, size_t errlen)
{
	const struct ukcov_rec_module *m = body;
	const char *tail = (const char *)(m + 1);
	struct ukf_module *t;

	if (size < sizeof(*m) || size != module_size(m) || !m->path_len ||
	    tail[m->build_id_len + m->path_len - 1] || m->start > m->end) {
		snprintf(err, errlen, "corrupt: bad module record at offset "
			 "%zu", off);
		return -1;
	}
	t = grow(c->mods, cap, c->nmods, sizeof(*c->mods));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->mods = t;
	t = &c->mods[c->nmods++];
	t->pid = m->pid;
	t->base = m->base;
	t->start = m->start;
	t->end = m->end;
	t->build_id = (const unsigned char *)tail;
	t->build_id_len = m->build_id_len;
	t->path = tail + m->build_id_len;
	return 0;
}

static int load_area(struct ukf *c, size_t *cap, const void *body,
		     uint64_t size, size_t off, char *err, size_t errlen)
{
	const struct ukcov_rec_area *a = body;
	struct ukf_area *t;
	unsigned int i;

	if (size < sizeof(*a) || a->mode > UKCOV_FILE_MODE_UNIQUE ||
	    a->kind < UKCOV_AREA_THREAD || a->kind > UKCOV_AREA_SIGNAL) {
		snprintf(err, errlen, "corrupt: bad area record at offset %zu",
			 off);
		return -1;
	}
	if (!area_fits(a, size)) {
		snprintf(err, errlen, "corrupt: area record at offset %zu: "
			 "its size does not match its count of entries", off);
		return -1;
	}
	if (!memchr(a->name, 0, sizeof(a->name))) {
		snprintf(err, errlen, "corrupt: area record at offset %zu: "
			 "thread name not NUL-terminated", off);
		return -1;
	}
	t = grow(c->areas, cap, c->nareas, sizeof(*c->areas));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->areas = t;
	t = &c->areas[c->nareas];
	memset(t, 0, sizeof(*t));
	t->a = a;
	t->entries = (const uint64_t *)(a + 1);
	t->count = a->count;
	t->words = entry_words(a->mode);
	t->index = c->nareas++;
	/* Names come from the program: no control bytes reach a terminal. */
	for (i = 0; i < sizeof(t->name) - 1 && a->name[i]; i++)
		t->name[i] = (unsigned char)a->name[i] < 0x20 ||
				     a->name[i] == 0x7f
			     ? '?'
			     : a->name[i];
	return 0;
}

static int load(struct ukf *c, const char *path, char *err, size_t errlen)
{
	const struct ukcov_file_header *h;
	size_t off, mcap = 0, acap = 0;
	struct stat st;
	int fd;

	memset(c, 0, sizeof(*c));
	fd = ukf_open_regular(path, err, errlen);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	c->size = (size_t)st.st_size;
	if (c->size < sizeof(*h)) {
		close(fd);
		snprintf(err, errlen, c->size ? "not a ukcov coverage file "
						"(too short for the header)"
					      : "empty file, not a ukcov coverage "
						"file");
		return -1;
	}
	c->map = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (c->map == MAP_FAILED) {
		c->map = NULL;
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	h = (const struct ukcov_file_header *)c->map;
	if (memcmp(h->magic, UKCOV_FILE_MAGIC, 8)) {
		snprintf(err, errlen, "not a ukcov coverage file (bad magic)");
		return -1;
	}
	if (h->version == 1) {
		snprintf(err, errlen, "version 1 file: written by an older "
			 "ukcov-run; run the program again");
		return -1;
	}
	if (h->version != UKCOV_FILE_VERSION) {
		snprintf(err, errlen, "coverage file version %u is not "
			 "supported (this reader knows version %u)",
			 h->version, UKCOV_FILE_VERSION);
		return -1;
	}
	if (h->word_size != 8) {
		snprintf(err, errlen, "coverage file has %u-byte words (this "
			 "reader knows 8-byte words)", h->word_size);
		return -1;
	}
	/* Every record starts 8-aligned: the header is 24 bytes, record
	 * headers 16 and bodies a multiple of 8. */
	for (off = sizeof(*h); off < c->size;) {
		const struct ukcov_rec *r = (const void *)(c->map + off);
		const void *body = r + 1;
		size_t avail;
		int rc = 0;

		/* A cut-short last record (the writer was killed, the disk
		 * filled): keep what came before it. */
		if (c->size - off < sizeof(*r)) {
			c->truncated = true;
			break;
		}
		if (r->size % 8) {
			snprintf(err, errlen, "corrupt: record at offset %zu "
				 "has a size that is not a multiple of 8", off);
			return -1;
		}
		avail = c->size - off - sizeof(*r);
		if (r->size > avail) {
			if (cut_record_ok(r, avail)) {
				c->truncated = true;
				break;
			}
			snprintf(err, errlen, "corrupt: record at offset %zu "
				 "runs past the end of the file", off);
			return -1;
		}
		switch (r->type) {
		case UKCOV_REC_MODULE:
			rc = load_module(c, &mcap, body, r->size, off, err,
					 errlen);
			break;
		case UKCOV_REC_AREA:
			rc = load_area(c, &acap, body, r->size, off, err,
				       errlen);
			break;
		case UKCOV_REC_RUN:
			if (r->size != sizeof(*c->run) ||
			    (((const struct ukcov_rec_run *)body)->how !=
				     UKCOV_RUN_EXITED &&
			     ((const struct ukcov_rec_run *)body)->how !=
				     UKCOV_RUN_KILLED)) {
				snprintf(err, errlen, "corrupt: bad run record "
					 "at offset %zu", off);
				return -1;
			}
			c->run = body;
			break;
		default:
			snprintf(err, errlen, "unknown record type %u at "
				 "offset %zu (this reader knows file version "
				 "%u)", r->type, off, UKCOV_FILE_VERSION);
			return -1;
		}
		if (rc)
			return -1;
		off += sizeof(*r) + r->size;
		c->records++;
	}
	return 0;
}

int ukf_load(struct ukf *c, const char *path, char *err, size_t errlen)
{
	if (!load(c, path, err, errlen))
		return 0;
	ukf_free(c);
	return -1;
}

void ukf_free(struct ukf *c)
{
	free(c->mods);
	free(c->areas);
	free(c->labels);
	if (c->map)
		munmap(c->map, c->size);
	memset(c, 0, sizeof(*c));
}

/* ---- labels --------------------------------------------------------------- */

const char *ukf_handle_name(uint64_t h, char buf[40])
{
	uint64_t sub = h >> 56, inst = h & KCOV_INSTANCE_MASK;

	if (sub >= 0x80)
		snprintf(buf, 40, "app%u:%llu", (unsigned)(sub - 0x80),
			 (unsigned long long)inst);
	else if (sub == 1)
		snprintf(buf, 40, "usb:%llu", (unsigned long long)inst);
	else
		snprintf(buf, 40, "0x%llx", (unsigned long long)h);
	return buf;
}

int ukf_signal_number(const char *s)
{
	char *end;
	long v;
	int i;

	if (*s >= '0' && *s <= '9') {
		v = strtol(s, &end, 10);
		return !*end && v > 0 && v < NSIG ? (int)v : -1;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 1; i < NSIG; i++) {
		const char *n = sigabbrev_np(i);

		if (n && !strcasecmp(n, s))
			return i;
	}
	return -1;
}

const char *ukf_signal_name(int sig, char buf[16])
{
	const char *n = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;

	if (n)
		snprintf(buf, 16, "SIG%s", n);
	else
		snprintf(buf, 16, "SIG%d", sig);
	return buf;
}

#define LABEL_MAX 160	/* a label's bytes, NUL included; longer is cut */

/* One area while its label is made: 16 bytes, for 1e6 areas and more. */
struct lab {
	struct ukf_area *t;
	uint32_t base;		/* offset of its label (no prefix, no #k) */
	uint32_t k;		/* #k, 1 for the first of its label */
};

static int lab_cmp(const void *x, const void *y, void *bases)
{
	const struct lab *a = x, *b = y;
	int c;

	if (a->t->a->pid != b->t->a->pid)
		return a->t->a->pid < b->t->a->pid ? -1 : 1;
	c = strcmp((const char *)bases + a->base, (const char *)bases + b->base);
	if (c)
		return c;
	if (a->t->a->seq != b->t->a->seq)
		return a->t->a->seq < b->t->a->seq ? -1 : 1;
	if (a->t->a->tid != b->t->a->tid)
		return a->t->a->tid < b->t->a->tid ? -1 : 1;
	return a->t->index < b->t->index ? -1 : a->t->index > b->t->index;
}

static int area_cmp(const void *x, const void *y)
{
	const struct ukf_area *a = x, *b = y;
	const struct ukcov_rec_area *p = a->a, *q = b->a;

	if (p->pid != q->pid)
		return p->pid < q->pid ? -1 : 1;
	if (p->kind != q->kind)
		return p->kind < q->kind ? -1 : 1;
	if (p->kind == UKCOV_AREA_THREAD) {
		bool pm = p->tid == p->pid, qm = q->tid == q->pid;

		/* The main thread first, then in creation order. */
		if (pm != qm)
			return pm ? -1 : 1;
		if (p->seq != q->seq)
			return p->seq < q->seq ? -1 : 1;
		if (p->tid != q->tid)
			return p->tid < q->tid ? -1 : 1;
	}
	if (p->handle != q->handle)
		return p->handle < q->handle ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Copy s into buf, control bytes as '?', cut to fit. */
static void clean_copy(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?'
								   : s[i];
	buf[i] = 0;
}

static void base_label(const struct ukf_area *t, char *out,
		       ukf_routine_fn *routine, void *ctx)
{
	const struct ukcov_rec_area *a = t->a;
	const char *name = t->name[0] ? t->name : "?";
	char buf[40], fn[LABEL_MAX - 8];
	const char *r;

	switch (a->kind) {
	case UKCOV_AREA_THREAD:
		if (a->tid == a->pid) {
			snprintf(out, LABEL_MAX, "main");
		} else if (!(a->flags & UKCOV_AREA_NAMED) && a->start_routine &&
			   routine &&
			   (r = routine(ctx, a->pid, a->start_routine))) {
			clean_copy(fn, sizeof(fn), r);
			snprintf(out, LABEL_MAX, "thread:%s", fn);
		} else {
			snprintf(out, LABEL_MAX, "thread:%s", name);
		}
		break;
	case UKCOV_AREA_COMMON:
		snprintf(out, LABEL_MAX, "common");
		break;
	case UKCOV_AREA_HANDLE:
		snprintf(out, LABEL_MAX, "handle:%s",
			 ukf_handle_name(a->handle, buf));
		break;
	default:
		snprintf(out, LABEL_MAX, "signal:%s",
			 ukf_signal_name((int)(a->handle & KCOV_INSTANCE_MASK),
					 buf));
		break;
	}
}

/* Room for n more bytes in a growing buffer; false when out of memory. */
static bool reserve(char **buf, size_t *cap, size_t used, size_t n)
{
	size_t c = *cap ? *cap : 4096;
	char *p;

	while (c - used < n)
		c *= 2;
	if (c == *cap)
		return true;
	p = realloc(*buf, c);
	if (!p)
		return false;
	*buf = p;
	*cap = c;
	return true;
}

struct pid_proc {
	uint64_t pid;
	uint32_t proc;
};

static int by_pid(const void *x, const void *y)
{
	const struct pid_proc *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->proc < b->proc ? -1 : a->proc > b->proc;
}

static int by_proc_number(const void *x, const void *y)
{
	const struct pid_proc *a = x, *b = y;

	if (a->proc != b->proc)
		return a->proc < b->proc ? -1 : 1;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

/* Whether the areas' process numbers name their processes one to one
 * (a file of an older ukcov-run has 0 for every process). */
static bool procs_numbered(const struct ukf *c)
{
	struct pid_proc *v = calloc(c->nareas, sizeof(*v));
	bool ok = true;
	size_t i;

	if (!v)
		return false;
	for (i = 0; i < c->nareas; i++) {
		v[i].pid = c->areas[i].a->pid;
		v[i].proc = c->areas[i].a->proc;
	}
	qsort(v, c->nareas, sizeof(*v), by_pid);
	for (i = 1; i < c->nareas && ok; i++)
		ok = v[i].pid != v[i - 1].pid || v[i].proc == v[i - 1].proc;
	qsort(v, c->nareas, sizeof(*v), by_proc_number);
	for (i = 1; i < c->nareas && ok; i++)
		ok = v[i].proc != v[i - 1].proc || v[i].pid == v[i - 1].pid;
	free(v);
	return ok;
}

int ukf_label_areas(struct ukf *c, ukf_routine_fn *routine, void *ctx)
{
	struct lab *v;
	char *bases = NULL, *labels = NULL, base[LABEL_MAX + 48];
	size_t i, bcap = 0, bused = 0, lcap = 0, lused = 0;
	bool multi = false, by_proc = false;

	free(c->labels);
	c->labels = NULL;
	if (!c->nareas)
		return 0;
	if (c->nareas > UINT32_MAX / 8)
		return -1;
	/* Sorted first: the labels then point into the sorted array. */
	if (c->nareas > 1)
		qsort(c->areas, c->nareas, sizeof(*c->areas), area_cmp);
	v = calloc(c->nareas, sizeof(*v));
	if (!v)
		return -1;
	for (i = 0; i < c->nareas; i++) {
		size_t n;

		base_label(&c->areas[i], base, routine, ctx);
		n = strlen(base) + 1;
		if (bused + n > UINT32_MAX || !reserve(&bases, &bcap, bused, n))
			goto oom;
		memcpy(bases + bused, base, n);
		v[i].t = &c->areas[i];
		v[i].base = (uint32_t)bused;
		bused += n;
		if (c->areas[i].a->pid != c->areas[0].a->pid)
			multi = true;
	}
	/* Several processes: named by their numbers in the run when every
	 * process has its own (ukcov-file(5)), else by their pids. */
	if (multi)
		by_proc = procs_numbered(c);
	/* Equal labels of one process, numbered in creation order. */
	qsort_r(v, c->nareas, sizeof(*v), lab_cmp, bases);
	for (i = 0; i < c->nareas; i++)
		v[i].k = i && v[i - 1].t->a->pid == v[i].t->a->pid &&
				 !strcmp(bases + v[i - 1].base,
					 bases + v[i].base) &&
				 v[i - 1].k < UINT32_MAX
			 ? v[i - 1].k + 1
			 : 1;
	for (i = 0; i < c->nareas; i++) {
		char pre[32] = "", num[16] = "";
		int n;

		if (multi && by_proc && v[i].t->a->proc)
			snprintf(pre, sizeof(pre), "proc%u/", v[i].t->a->proc);
		else if (multi && !by_proc)
			snprintf(pre, sizeof(pre), "pid%llu/",
				 (unsigned long long)v[i].t->a->pid);
		if (v[i].k > 1)
			snprintf(num, sizeof(num), "#%u", v[i].k);
		n = snprintf(base, sizeof(base), "%s%s%s", pre,
			     bases + v[i].base, num);
		if (n >= (int)sizeof(base))
			n = sizeof(base) - 1;
		if (!reserve(&labels, &lcap, lused, (size_t)n + 1))
			goto oom;
		memcpy(labels + lused, base, (size_t)n + 1);
		/* An offset for now: labels may still move. */
		v[i].t->label = (const char *)(uintptr_t)lused;
		lused += (size_t)n + 1;
	}
	for (i = 0; i < c->nareas; i++)
		c->areas[i].label = labels + (uintptr_t)c->areas[i].label;
	c->labels = labels;
	free(bases);
	free(v);
	return 0;
oom:
	free(bases);
	free(labels);
	free(v);
	return -1;
}
