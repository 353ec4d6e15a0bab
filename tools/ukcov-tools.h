/* SPDX-License-Identifier: MIT */
/*
 * Shared by ukcov-run and ukcov-report: a small ELF reader (sections,
 * symbols, DT_NEEDED, build id) and the loader of the coverage file of
 * include/ukcov/file.h (ukcov-file(5)).  Header-only; everything static.
 */
#ifndef UKCOV_TOOLS_H
#define UKCOV_TOOLS_H

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ukcov.h>
#include <ukcov/file.h>

/* ---- ELF ---------------------------------------------------------------- */

struct tl_elf {
	unsigned char *map;
	size_t size;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	unsigned int shnum;
};

/* Map path and check it is a 64-bit ELF of this machine's byte order.
 * 0, or -1 with a reason in err. */
static inline int tl_elf_open(struct tl_elf *e, const char *path, char *err,
			      size_t errlen)
{
	struct stat st;
	int fd;

	memset(e, 0, sizeof(*e));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		snprintf(err, errlen, "not an ELF file");
		return -1;
	}
	e->size = (size_t)st.st_size;
	e->map = mmap(NULL, e->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (e->map == MAP_FAILED) {
		e->map = NULL;
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	e->eh = (const Elf64_Ehdr *)e->map;
	if (memcmp(e->eh->e_ident, ELFMAG, SELFMAG)) {
		snprintf(err, errlen, "not an ELF file");
		goto bad;
	}
	if (e->eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    e->eh->e_ident[EI_DATA] !=
		    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB
							       : ELFDATA2MSB)) {
		snprintf(err, errlen, "not a 64-bit ELF file of this machine");
		goto bad;
	}
	if (e->eh->e_shoff && e->eh->e_shentsize == sizeof(Elf64_Shdr) &&
	    e->eh->e_shoff < e->size &&
	    e->eh->e_shnum <= (e->size - e->eh->e_shoff) / sizeof(Elf64_Shdr)) {
		e->sh = (const Elf64_Shdr *)(e->map + e->eh->e_shoff);
		e->shnum = e->eh->e_shnum;
	}
	return 0;
bad:
	munmap(e->map, e->size);
	e->map = NULL;
	return -1;
}

static inline void tl_elf_close(struct tl_elf *e)
{
	if (e->map)
		munmap(e->map, e->size);
	e->map = NULL;
}

/* The bytes of section i, or NULL when out of the file. */
static inline const void *tl_elf_data(const struct tl_elf *e, unsigned int i,
				      size_t *len)
{
	const Elf64_Shdr *s;

	if (i >= e->shnum)
		return NULL;
	s = &e->sh[i];
	if (s->sh_type == SHT_NOBITS || s->sh_offset > e->size ||
	    s->sh_size > e->size - s->sh_offset)
		return NULL;
	*len = s->sh_size;
	return e->map + s->sh_offset;
}

static inline const char *tl_elf_str(const struct tl_elf *e, unsigned int sec,
				     uint64_t off)
{
	size_t len;
	const char *s = tl_elf_data(e, sec, &len);

	if (!s || off >= len || !memchr(s + off, 0, len - off))
		return NULL;
	return s + off;
}

static inline const char *tl_elf_secname(const struct tl_elf *e,
					 unsigned int i)
{
	if (i >= e->shnum)
		return NULL;
	return tl_elf_str(e, e->eh->e_shstrndx, e->sh[i].sh_name);
}

static inline bool tl_elf_has_section(const struct tl_elf *e, const char *name)
{
	unsigned int i;

	for (i = 0; i < e->shnum; i++) {
		const char *n = tl_elf_secname(e, i);

		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

/* Call fn for every symbol of .symtab and .dynsym; stop when it returns
 * nonzero (and return that). */
static inline int tl_elf_symbols(const struct tl_elf *e,
				 int (*fn)(const char *name,
					   const Elf64_Sym *sym, void *data),
				 void *data)
{
	unsigned int i;

	for (i = 0; i < e->shnum; i++) {
		const Elf64_Sym *syms;
		size_t len, j;
		int r;

		if (e->sh[i].sh_type != SHT_SYMTAB &&
		    e->sh[i].sh_type != SHT_DYNSYM)
			continue;
		syms = tl_elf_data(e, i, &len);
		if (!syms)
			continue;
		for (j = 1; j < len / sizeof(Elf64_Sym); j++) {
			const char *n = tl_elf_str(e, e->sh[i].sh_link,
						   syms[j].st_name);

			if (n && *n && (r = fn(n, &syms[j], data)))
				return r;
		}
	}
	return 0;
}

/* Call fn for every DT_NEEDED entry. */
static inline int tl_elf_needed(const struct tl_elf *e,
				int (*fn)(const char *name, void *data),
				void *data)
{
	unsigned int i;

	for (i = 0; i < e->shnum; i++) {
		const Elf64_Dyn *d;
		size_t len, j;
		int r;

		if (e->sh[i].sh_type != SHT_DYNAMIC)
			continue;
		d = tl_elf_data(e, i, &len);
		if (!d)
			continue;
		for (j = 0; j < len / sizeof(*d) && d[j].d_tag != DT_NULL; j++) {
			const char *n;

			if (d[j].d_tag != DT_NEEDED)
				continue;
			n = tl_elf_str(e, e->sh[i].sh_link, d[j].d_un.d_val);
			if (n && (r = fn(n, data)))
				return r;
		}
	}
	return 0;
}

/* The GNU build id; its length, 0 when there is none. */
static inline size_t tl_elf_build_id(const struct tl_elf *e,
				     const unsigned char **id)
{
	unsigned int i;

	for (i = 0; i < e->shnum; i++) {
		const unsigned char *p, *end;
		size_t len;

		if (e->sh[i].sh_type != SHT_NOTE)
			continue;
		p = tl_elf_data(e, i, &len);
		if (!p)
			continue;
		end = p + len;
		while (p + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *n = (const Elf64_Nhdr *)p;
			const unsigned char *desc =
				p + sizeof(*n) + ((n->n_namesz + 3) & ~3u);

			if (desc + n->n_descsz > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    !memcmp(p + sizeof(*n), "GNU", 4)) {
				*id = desc;
				return n->n_descsz;
			}
			p = desc + ((n->n_descsz + 3) & ~3u);
		}
	}
	return 0;
}

/* ---- signals and handles ------------------------------------------------ */

/* "ALRM", "SIGALRM", "14" -> 14; -1 when not a signal. */
static inline int tl_signal_number(const char *s)
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

/* "SIGALRM", or "SIG34" for a signal without an abbreviation. */
static inline const char *tl_signal_name(int sig, char buf[16])
{
	const char *n = sig > 0 && sig < NSIG ? sigabbrev_np(sig) : NULL;

	if (n)
		snprintf(buf, 16, "SIG%s", n);
	else
		snprintf(buf, 16, "SIG%d", sig);
	return buf;
}

/* ---- the coverage file -------------------------------------------------- */

struct tl_module {
	uint64_t pid, base, start, end;
	const unsigned char *build_id;
	uint32_t build_id_len;
	const char *path;
};

struct tl_area {
	const struct ukcov_rec_area *a;	/* pid, tid, kind, ... */
	const uint64_t *entries;	/* count entries of 1 or 4 words */
	uint64_t count;
	unsigned int words;		/* per entry */
	char name[17];
	char label[80];			/* stable name, see tl_label_areas() */
};

struct tl_cov {
	unsigned char *map;
	size_t size;
	struct tl_module *mods;
	size_t nmods;
	struct tl_area *areas;
	size_t nareas;
	const struct ukcov_rec_run *run;	/* the last RUN record, or NULL */
	uint64_t records;	/* whole records read */
	bool truncated;		/* the last record is cut short */
};

/*
 * A record that runs past the end of the file is a cut-short last record
 * when what is there of it agrees with its size (else the file is corrupt):
 * a known type, and for an area whose fixed part is there, a count that
 * fits the size.
 */
static inline bool tl_cut_record_ok(const struct ukcov_rec *r, size_t avail)
{
	const struct ukcov_rec_area *a = (const void *)(r + 1);

	if (r->type < UKCOV_REC_MODULE || r->type > UKCOV_REC_RUN)
		return false;
	if (r->type == UKCOV_REC_AREA && avail >= sizeof(*a)) {
		unsigned int w = a->mode == UKCOV_FILE_MODE_CMP ? 4 : 1;

		return a->mode <= UKCOV_FILE_MODE_UNIQUE &&
		       r->size >= sizeof(*a) &&
		       a->count <= (r->size - sizeof(*a)) / 8 / w;
	}
	return true;
}

/*
 * Load a coverage file.  0, or -1 with a one-line reason in err (the caller
 * prefixes the program and file names).
 */
static inline int tl_cov_load(struct tl_cov *c, const char *path, char *err,
			      size_t errlen)
{
	const struct ukcov_file_header *h;
	struct stat st;
	size_t off;
	int fd;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "not a regular file");
		return -1;
	}
	c->size = (size_t)st.st_size;
	if (c->size < sizeof(*h)) {
		close(fd);
		snprintf(err, errlen, c->size ? "not a ukcov coverage file "
						"(too short for the header)"
					      : "empty file, not a ukcov coverage file");
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
		snprintf(err, errlen,
			 "coverage file version %u is not supported (this "
			 "reader knows version %u)",
			 h->version, UKCOV_FILE_VERSION);
		return -1;
	}
	if (h->word_size != 8) {
		snprintf(err, errlen,
			 "coverage file has %u-byte words (this reader knows "
			 "8-byte words)", h->word_size);
		return -1;
	}
	for (off = sizeof(*h); off < c->size;) {
		const struct ukcov_rec *r = (const void *)(c->map + off);
		const unsigned char *body = (const unsigned char *)(r + 1);

		size_t avail;

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
			if (tl_cut_record_ok(r, avail)) {
				c->truncated = true;
				break;
			}
			snprintf(err, errlen, "corrupt: record at offset %zu "
				 "runs past the end of the file", off);
			return -1;
		}
		if (r->type == UKCOV_REC_MODULE) {
			const struct ukcov_rec_module *m = (const void *)body;
			struct tl_module *tm;
			void *p;

			if (r->size < sizeof(*m) ||
			    (uint64_t)m->build_id_len + m->path_len >
				    r->size - sizeof(*m) ||
			    !m->path_len ||
			    ((const char *)(m + 1))[m->build_id_len +
						    m->path_len - 1] ||
			    m->start > m->end) {
				snprintf(err, errlen, "corrupt: bad module "
					 "record at offset %zu", off);
				return -1;
			}
			p = realloc(c->mods, (c->nmods + 1) * sizeof(*c->mods));
			if (!p) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			c->mods = p;
			tm = &c->mods[c->nmods++];
			tm->pid = m->pid;
			tm->base = m->base;
			tm->start = m->start;
			tm->end = m->end;
			tm->build_id = (const unsigned char *)(m + 1);
			tm->build_id_len = m->build_id_len;
			tm->path = (const char *)(m + 1) + m->build_id_len;
		} else if (r->type == UKCOV_REC_AREA) {
			const struct ukcov_rec_area *a = (const void *)body;
			struct tl_area *ta;
			unsigned int w;
			void *p;

			if (r->size < sizeof(*a) ||
			    a->mode > UKCOV_FILE_MODE_UNIQUE ||
			    a->kind < UKCOV_AREA_THREAD ||
			    a->kind > UKCOV_AREA_SIGNAL) {
				snprintf(err, errlen, "corrupt: bad area "
					 "record at offset %zu", off);
				return -1;
			}
			w = a->mode == UKCOV_FILE_MODE_CMP ? 4 : 1;
			if (a->count > (r->size - sizeof(*a)) / 8 / w) {
				snprintf(err, errlen, "corrupt: area record at "
					 "offset %zu holds fewer entries than "
					 "it says", off);
				return -1;
			}
			p = realloc(c->areas, (c->nareas + 1) * sizeof(*c->areas));
			if (!p) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			c->areas = p;
			ta = &c->areas[c->nareas++];
			memset(ta, 0, sizeof(*ta));
			ta->a = a;
			ta->entries = (const uint64_t *)(a + 1);
			ta->count = a->count;
			ta->words = w;
			memcpy(ta->name, a->name, 16);
		} else if (r->type == UKCOV_REC_RUN) {
			if (r->size < sizeof(*c->run)) {
				snprintf(err, errlen, "corrupt: bad run record "
					 "at offset %zu", off);
				return -1;
			}
			c->run = (const void *)body;
		} else {
			snprintf(err, errlen, "unknown record type %u at offset "
				 "%zu (this reader knows file version %u)",
				 r->type, off, UKCOV_FILE_VERSION);
			return -1;
		}
		off += sizeof(*r) + r->size;
		c->records++;
	}
	return 0;
}

static inline int tl_area_cmp(const void *x, const void *y)
{
	const struct tl_area *a = x, *b = y;

	if (a->a->pid != b->a->pid)
		return a->a->pid < b->a->pid ? -1 : 1;
	if (a->a->kind != b->a->kind)
		return a->a->kind < b->a->kind ? -1 : 1;
	/* The main thread first, then by thread id (creation order). */
	if (a->a->kind == UKCOV_AREA_THREAD) {
		bool am = a->a->tid == a->a->pid, bm = b->a->tid == b->a->pid;

		if (am != bm)
			return am ? -1 : 1;
		if (a->a->tid != b->a->tid)
			return a->a->tid < b->a->tid ? -1 : 1;
	}
	if (a->a->handle != b->a->handle)
		return a->a->handle < b->a->handle ? -1 : 1;
	return 0;
}

/* "app1:2" for a handle of application subsystem 1, instance 2. */
static inline const char *tl_handle_name(uint64_t h, char buf[40])
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

/*
 * Sort the areas (by process, kind, main thread first, thread id, handle)
 * and give each a label that does not depend on ids the kernel hands out:
 *   main, thread:NAME (thread:NAME#2 for the second of that name),
 *   common, handle:app1:2, signal:SIGALRM
 * prefixed with "pidN/" when the file holds several processes.
 */
static inline void tl_label_areas(struct tl_cov *c)
{
	size_t i, j;
	bool multi = false;

	qsort(c->areas, c->nareas, sizeof(*c->areas), tl_area_cmp);
	for (i = 1; i < c->nareas; i++)
		if (c->areas[i].a->pid != c->areas[0].a->pid)
			multi = true;
	for (i = 0; i < c->nareas; i++) {
		struct tl_area *t = &c->areas[i];
		const struct ukcov_rec_area *a = t->a;
		char pre[32] = "", buf[40], sig[16];

		if (multi)
			snprintf(pre, sizeof(pre), "pid%llu/",
				 (unsigned long long)a->pid);
		switch (a->kind) {
		case UKCOV_AREA_THREAD:
			if (a->tid == a->pid) {
				snprintf(t->label, sizeof(t->label), "%smain", pre);
			} else {
				unsigned int same = 0, k = 0;

				for (j = 0; j < c->nareas; j++) {
					const struct tl_area *u = &c->areas[j];

					if (u->a->pid != a->pid ||
					    u->a->kind != UKCOV_AREA_THREAD ||
					    u->a->tid == u->a->pid ||
					    strcmp(u->name, t->name))
						continue;
					same++;
					if (j < i)
						k++;
				}
				snprintf(t->label, sizeof(t->label),
					 same > 1 && k ? "%sthread:%s#%u"
						       : "%sthread:%s",
					 pre, t->name[0] ? t->name : "?", k + 1);
			}
			break;
		case UKCOV_AREA_COMMON:
			snprintf(t->label, sizeof(t->label), "%scommon", pre);
			break;
		case UKCOV_AREA_HANDLE:
			snprintf(t->label, sizeof(t->label), "%shandle:%s", pre,
				 tl_handle_name(a->handle, buf));
			break;
		case UKCOV_AREA_SIGNAL:
			snprintf(t->label, sizeof(t->label), "%ssignal:%s", pre,
				 tl_signal_name((int)(a->handle &
						      KCOV_INSTANCE_MASK),
						sig));
			break;
		}
	}
}

static inline void tl_cov_free(struct tl_cov *c)
{
	free(c->mods);
	free(c->areas);
	if (c->map)
		munmap(c->map, c->size);
	memset(c, 0, sizeof(*c));
}

#endif /* UKCOV_TOOLS_H */
