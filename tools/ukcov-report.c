// SPDX-License-Identifier: MIT
/*
 * ukcov-report: read a coverage file written under ukcov-run, symbolize its
 * PCs (elfutils' libdw: function, file, line, inlined frames; the symbol
 * table where libdw or debug info is missing) and print a summary per area,
 * lcov tracefiles, raw entries in module+offset form, or the difference
 * between two runs.  See ukcov-report(1) and ukcov-file(5).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ukcov.h>

#include "ukcov-elf.h"
#include "ukcov-file.h"

static const char *prog = "ukcov-report";

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		die(1, "out of memory");
	return p;
}

static void *xrealloc(void *p, size_t sz)
{
	p = realloc(p, sz ? sz : 1);
	if (!p)
		die(1, "out of memory");
	return p;
}

/* ---- interned strings: equal strings share one pointer ----------------- */

static char **strtab;
static size_t strtab_cap, strtab_n;

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static const char *intern(const char *s)
{
	size_t i;

	if (!s)
		return NULL;
	if (strtab_n * 2 >= strtab_cap) {
		char **old = strtab;
		size_t oldcap = strtab_cap;

		strtab_cap = oldcap ? oldcap * 2 : 1024;
		strtab = xcalloc(strtab_cap, sizeof(*strtab));
		for (i = 0; i < oldcap; i++) {
			size_t j;

			if (!old[i])
				continue;
			for (j = str_hash(old[i]) & (strtab_cap - 1); strtab[j];
			     j = (j + 1) & (strtab_cap - 1))
				;
			strtab[j] = old[i];
		}
		free(old);
	}
	for (i = str_hash(s) & (strtab_cap - 1); strtab[i];
	     i = (i + 1) & (strtab_cap - 1))
		if (!strcmp(strtab[i], s))
			return strtab[i];
	strtab[i] = strdup(s);
	if (!strtab[i])
		die(1, "out of memory");
	strtab_n++;
	return strtab[i];
}

/* ---- object files and symbolization ------------------------------------ */

/* What a PC resolves to. */
struct sym {
	const char *func;	/* innermost function (inlined or not) */
	const char *file;	/* source file, absolute when known */
	unsigned int line;
	unsigned int func_line;	/* the function's declaration line */
	const char *inlined;	/* "in caller (file:line) in ..." or NULL */
};

struct fsym {
	uint64_t addr, size;
	const char *name;
};

/* One object file (distinct path and build id). */
struct object {
	const char *path, *base;	/* interned; base = its basename */
	unsigned char build_id[64];
	uint32_t build_id_len;
	bool used;		/* some selected PC is in it */
	bool opened;
	bool missing;		/* file not readable */
	bool mismatch;		/* build id differs from the run's */
	bool dwarf;		/* has DWARF that libdw reads */
	struct fsym *syms;	/* function symbols, sorted */
	size_t nsyms;
	Dwfl *dwfl;
	Dwfl_Module *dm;
	/* offset -> sym cache (open addressing) */
	uint64_t *ckeys;
	struct sym **cvals;
	size_t ccap, cn;
};

static struct object *objects;
static size_t nobjects;
static bool no_dwarf;		/* --no-dwarf */

static int fsym_cmp(const void *x, const void *y)
{
	const struct fsym *a = x, *b = y;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

struct symcollect {
	struct fsym *v;
	size_t n, cap;
};

static int collect_sym(const char *name, const GElf_Sym *s, void *data)
{
	struct symcollect *c = data;

	if (GELF_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
	    !s->st_value)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n].addr = s->st_value;
	c->v[c->n].size = s->st_size;
	c->v[c->n].name = intern(name);
	c->n++;
	return 0;
}

/* The module is reported with its descriptor: no file to look for. */
static int no_elf(Dwfl_Module *m, void **user, const char *name,
		  Dwarf_Addr base, char **file, Elf **elf)
{
	(void)m, (void)user, (void)name, (void)base, (void)file, (void)elf;
	return -1;
}

/*
 * Separate debug information, found by build id under /usr/lib/debug (what
 * Debian's -dbgsym packages install), opened like every other file: a FIFO
 * or a device is never opened for reading.  DWARF in the module itself is
 * used first, without this.
 */
static int find_debuginfo(Dwfl_Module *m, void **user, const char *name,
			  Dwarf_Addr base, const char *file,
			  const char *debuglink, GElf_Word crc, char **path)
{
	const unsigned char *id;
	GElf_Addr vaddr;
	char buf[PATH_MAX], err[128];
	int n, i, len, fd;

	(void)user, (void)name, (void)base, (void)file, (void)debuglink,
		(void)crc;
	len = dwfl_module_build_id(m, &id, &vaddr);
	if (len < 2 || len > 64)
		return -1;
	n = snprintf(buf, sizeof(buf), "/usr/lib/debug/.build-id/%02x/", id[0]);
	for (i = 1; i < len; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%02x", id[i]);
	snprintf(buf + n, sizeof(buf) - (size_t)n, ".debug");
	fd = ukf_open_regular(buf, err, sizeof(err));
	if (fd >= 0)
		*path = strdup(buf);
	return fd;
}

static void object_open(struct object *o)
{
	struct uke e;
	struct symcollect c = { 0 };
	const unsigned char *id;
	char err[256];
	size_t len;
	int fd;

	if (o->opened)
		return;
	o->opened = true;
	if (uke_open(&e, o->path, err, sizeof(err))) {
		o->missing = true;
		return;
	}
	len = uke_build_id(&e, &id);
	if (o->build_id_len &&
	    (len != o->build_id_len || memcmp(id, o->build_id, len)))
		o->mismatch = true;
	uke_symbols(&e, collect_sym, &c);
	fd = dup(e.fd);
	uke_close(&e);
	qsort(c.v, c.n, sizeof(*c.v), fsym_cmp);
	o->syms = c.v;
	o->nsyms = c.n;
	if (!no_dwarf && fd >= 0) {
		static const Dwfl_Callbacks cb = {
			.find_elf = no_elf,
			.find_debuginfo = find_debuginfo,
			.section_address = dwfl_offline_section_address,
		};
		Dwarf_Addr bias;

		o->dwfl = dwfl_begin(&cb);
		if (o->dwfl) {
			/* dwfl takes the descriptor when it succeeds. */
			o->dm = dwfl_report_elf(o->dwfl, o->base, o->path, fd,
						0, true);
			dwfl_report_end(o->dwfl, NULL, NULL);
		}
		if (!o->dm)
			close(fd);
		o->dwarf = o->dm && dwfl_module_getdwarf(o->dm, &bias);
	} else if (fd >= 0) {
		close(fd);
	}
}

static const char *symtab_lookup(const struct object *o, uint64_t addr)
{
	size_t lo = 0, hi = o->nsyms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (o->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	/* Several symbols at one address: any covering one will do. */
	while (lo > 0) {
		const struct fsym *s = &o->syms[lo - 1];

		if (addr < s->addr + (s->size ? s->size : 1))
			return s->name;
		if (s->size || lo < 2 || o->syms[lo - 2].addr != s->addr)
			break;
		lo--;
	}
	return NULL;
}

static const char *die_name(Dwarf_Die *d)
{
	Dwarf_Attribute a;
	const char *n;

	if (dwarf_attr_integrate(d, DW_AT_name, &a) && (n = dwarf_formstring(&a)))
		return n;
	return NULL;
}

static void dwarf_lookup(struct object *o, uint64_t addr, struct sym *s)
{
	Dwfl_Line *l = dwfl_module_getsrc(o->dm, addr);
	Dwarf_Addr bias;
	Dwarf_Die *cu, *scopes = NULL;
	int n, i, line = 0;
	char chain[1024];
	size_t used = 0;
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;

	if (l) {
		const char *f = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);

		if (f && *f != '/' && dwfl_line_comp_dir(l)) {
			char buf[PATH_MAX];

			snprintf(buf, sizeof(buf), "%s/%s",
				 dwfl_line_comp_dir(l), f);
			s->file = intern(buf);
		} else {
			s->file = intern(f);
		}
		s->line = line > 0 ? (unsigned int)line : 0;
	}
	cu = dwfl_module_addrdie(o->dm, addr, &bias);
	if (!cu)
		return;
	dwarf_getsrcfiles(cu, &files, &nfiles);
	n = dwarf_getscopes(cu, addr - bias, &scopes);
	chain[0] = 0;
	/* The innermost function, then up through the inlined callers. */
	for (i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_subprogram ||
		    tag == DW_TAG_inlined_subroutine)
			break;
	}
	if (i < n) {
		Dwarf_Die fn = scopes[i];
		const char *name = die_name(&fn);
		int dl = 0, depth = 0;

		s->func = intern(name ? name : "??");
		if (!dwarf_decl_line(&fn, &dl) && dl > 0)
			s->func_line = (unsigned int)dl;
		while (dwarf_tag(&fn) == DW_TAG_inlined_subroutine &&
		       depth++ < 16 && used < sizeof(chain) - 1) {
			Dwarf_Attribute a;
			Dwarf_Word cf = 0, cl = 0;
			const char *callf = NULL, *caller = NULL;
			Dwarf_Die *up = NULL;
			int m, j;

			if (dwarf_attr(&fn, DW_AT_call_file, &a))
				dwarf_formudata(&a, &cf);
			if (dwarf_attr(&fn, DW_AT_call_line, &a))
				dwarf_formudata(&a, &cl);
			if (files && cf < nfiles)
				callf = dwarf_filesrc(files, cf, NULL, NULL);
			if (callf && strrchr(callf, '/'))
				callf = strrchr(callf, '/') + 1;
			m = dwarf_getscopes_die(&fn, &up);
			for (j = 1; j < m; j++) {
				int t = dwarf_tag(&up[j]);

				if (t == DW_TAG_subprogram ||
				    t == DW_TAG_inlined_subroutine)
					break;
			}
			if (j < m) {
				caller = die_name(&up[j]);
				fn = up[j];
			}
			used += (size_t)snprintf(chain + used,
						 sizeof(chain) - used,
						 "%sinlined into %s at %s:%llu",
						 used ? ", " : "",
						 caller ? caller : "??",
						 callf ? callf : "??",
						 (unsigned long long)cl);
			if (used >= sizeof(chain))
				used = sizeof(chain) - 1;
			free(up);
			if (j >= m)
				break;
		}
	}
	if (used)
		s->inlined = intern(chain);
	free(scopes);
}

/* Symbolize offset off of object o (a recorded PC minus the load bias). */
static struct sym *symbolize(struct object *o, uint64_t off)
{
	struct sym *s;
	size_t i;
	/* The PC is a return address: look at the call before it. */
	uint64_t addr = off ? off - 1 : 0;

	if (o->cn * 2 >= o->ccap) {
		uint64_t *ok = o->ckeys;
		struct sym **ov = o->cvals;
		size_t oc = o->ccap;

		o->ccap = oc ? oc * 2 : 4096;
		o->ckeys = xcalloc(o->ccap, sizeof(*o->ckeys));
		o->cvals = xcalloc(o->ccap, sizeof(*o->cvals));
		for (i = 0; i < oc; i++) {
			size_t j;

			if (!ov[i])
				continue;
			for (j = (ok[i] * 0x9e3779b97f4a7c15ull >> 20) &
				 (o->ccap - 1);
			     o->cvals[j]; j = (j + 1) & (o->ccap - 1))
				;
			o->ckeys[j] = ok[i];
			o->cvals[j] = ov[i];
		}
		free(ok);
		free(ov);
	}
	for (i = (off * 0x9e3779b97f4a7c15ull >> 20) & (o->ccap - 1);
	     o->cvals[i]; i = (i + 1) & (o->ccap - 1))
		if (o->ckeys[i] == off)
			return o->cvals[i];
	s = xcalloc(1, sizeof(*s));
	object_open(o);
	if (o->dwarf)
		dwarf_lookup(o, addr, s);
	if (!s->func)
		s->func = symtab_lookup(o, addr);
	o->ckeys[i] = off;
	o->cvals[i] = s;
	o->cn++;
	return s;
}

/* ---- a loaded run ------------------------------------------------------- */

struct run {
	const char *path;
	struct ukf c;
	size_t *mod_obj;	/* per module record: index into objects */
	bool *selected;		/* per area */
};

static size_t object_for(const struct ukf_module *m)
{
	size_t i;

	for (i = 0; i < nobjects; i++)
		if (!strcmp(objects[i].path, m->path) &&
		    objects[i].build_id_len == m->build_id_len &&
		    !memcmp(objects[i].build_id, m->build_id, m->build_id_len))
			return i;
	objects = xrealloc(objects, (nobjects + 1) * sizeof(*objects));
	memset(&objects[nobjects], 0, sizeof(*objects));
	objects[nobjects].path = intern(m->path);
	objects[nobjects].base = intern(strrchr(m->path, '/')
						? strrchr(m->path, '/') + 1
						: m->path);
	objects[nobjects].build_id_len =
		m->build_id_len > 64 ? 64 : m->build_id_len;
	memcpy(objects[nobjects].build_id, m->build_id,
	       objects[nobjects].build_id_len);
	return nobjects++;
}

/* PC of process pid: its object and offset; false when in no module. */
static bool locate(const struct run *r, uint64_t pid, uint64_t pc,
		   size_t *obj, uint64_t *off)
{
	static size_t last;
	size_t i;

	if (last < r->c.nmods) {
		const struct ukf_module *m = &r->c.mods[last];

		if (m->pid == pid && pc >= m->start && pc < m->end)
			goto found;
	}
	for (i = 0; i < r->c.nmods; i++) {
		const struct ukf_module *m = &r->c.mods[i];

		if (m->pid == pid && pc >= m->start && pc < m->end) {
			last = i;
			goto found;
		}
	}
	/* A forked child that wrote no map: its parent's is the same. */
	for (i = 0; i < r->c.nmods; i++) {
		const struct ukf_module *m = &r->c.mods[i];

		if (pc >= m->start && pc < m->end) {
			last = i;
			goto found;
		}
	}
	return false;
found:
	*obj = r->mod_obj[last];
	*off = pc - r->c.mods[last].base;
	return true;
}

static void run_load(struct run *r, const char *path)
{
	char err[256];
	size_t i;

	r->path = path;
	if (ukf_load(&r->c, path, err, sizeof(err)))
		die(1, "%s: %s", path, err);
	if (r->c.truncated)
		fprintf(stderr, "%s: %s: warning: file truncated after %llu "
			"whole records\n", prog, path,
			(unsigned long long)r->c.records);
	if (ukf_label_areas(&r->c, NULL, NULL))
		die(1, "out of memory");
	r->mod_obj = xcalloc(r->c.nmods, sizeof(*r->mod_obj));
	for (i = 0; i < r->c.nmods; i++)
		r->mod_obj[i] = object_for(&r->c.mods[i]);
	r->selected = xcalloc(r->c.nareas, sizeof(*r->selected));
}

/* Does area t match the selector spec (see --area)? */
static bool area_matches(const struct ukf_area *t, const char *spec)
{
	const char *label = t->label, *slash = strchr(label, '/');
	size_t n = strlen(spec);
	uint32_t kind = t->a->kind;

	if (!strcmp(label, spec))
		return true;
	if (slash && !strchr(spec, '/'))
		label = slash + 1;	/* pidN/ omitted: any process */
	if (!strcmp(label, spec))
		return true;
	if (!strcmp(spec, "threads"))
		return kind == UKCOV_AREA_THREAD;
	if (!strcmp(spec, "handles"))
		return kind == UKCOV_AREA_HANDLE;
	if (!strcmp(spec, "signals"))
		return kind == UKCOV_AREA_SIGNAL;
	if (!strncmp(spec, "tid:", 4))
		return kind == UKCOV_AREA_THREAD &&
		       strtoull(spec + 4, NULL, 0) == t->a->tid;
	/* thread:NAME selects thread:NAME#2 too. */
	if (!strncmp(label, spec, n) && label[n] == '#')
		return true;
	if (!strncmp(spec, "handle:", 7) && kind == UKCOV_AREA_HANDLE) {
		char *end;
		unsigned long long h = strtoull(spec + 7, &end, 0);

		return !*end && h == t->a->handle;
	}
	if (!strncmp(spec, "signal:", 7) && kind == UKCOV_AREA_SIGNAL) {
		int sig = ukf_signal_number(spec + 7);

		return sig > 0 &&
		       (uint64_t)sig == (t->a->handle & KCOV_INSTANCE_MASK);
	}
	return false;
}

static void select_areas(struct run *r, char **specs, size_t nspecs)
{
	size_t i, j;

	for (j = 0; j < nspecs; j++) {
		bool any = false;

		for (i = 0; i < r->c.nareas; i++)
			if (area_matches(&r->c.areas[i], specs[j]))
				r->selected[i] = any = true;
		if (!any) {
			fprintf(stderr, "%s: %s: no area matches --area %s; "
				"areas:", prog, r->path, specs[j]);
			for (i = 0; i < r->c.nareas; i++)
				fprintf(stderr, " %s", r->c.areas[i].label);
			fputc('\n', stderr);
			exit(1);
		}
	}
	if (!nspecs)
		for (i = 0; i < r->c.nareas; i++)
			r->selected[i] = true;
}

/* ---- one area's PCs, resolved ------------------------------------------- */

struct hit {
	uint64_t key;		/* object index << 40 | offset, or ~0 */
	uint64_t count;		/* entries with this PC */
	struct sym *s;
};

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

#define KEY_NONE (~0ull)
#define KEY_OBJ(k) ((size_t)((k) >> 40))
#define KEY_OFF(k) ((k) & ((1ull << 40) - 1))

static uint64_t entry_pc(const struct ukf_area *t, uint64_t i)
{
	return t->words == 4 ? t->entries[i * 4 + 3] : t->entries[i];
}

static uint64_t entry_key(const struct run *r, const struct ukf_area *t,
			  uint64_t i)
{
	size_t obj;
	uint64_t off;

	if (!locate(r, t->a->pid, entry_pc(t, i), &obj, &off) ||
	    off >= (1ull << 40))
		return KEY_NONE;
	return (uint64_t)obj << 40 | off;
}

/* The unique PCs of area t, sorted, symbolized; *unknown = PCs in no
 * module. */
static struct hit *area_hits(const struct run *r, const struct ukf_area *t,
			     size_t *nhits, uint64_t *unknown)
{
	uint64_t *keys = xcalloc(t->count, sizeof(*keys)), i;
	struct hit *h = xcalloc(t->count, sizeof(*h));
	size_t n = 0;

	*unknown = 0;
	for (i = 0; i < t->count; i++)
		keys[i] = entry_key(r, t, i);
	qsort(keys, t->count, sizeof(*keys), u64_cmp);
	for (i = 0; i < t->count; i++) {
		if (keys[i] == KEY_NONE) {
			(*unknown)++;
			continue;
		}
		if (n && h[n - 1].key == keys[i]) {
			h[n - 1].count++;
			continue;
		}
		h[n].key = keys[i];
		h[n].count = 1;
		objects[KEY_OBJ(keys[i])].used = true;
		h[n].s = symbolize(&objects[KEY_OBJ(keys[i])],
				   KEY_OFF(keys[i]));
		n++;
	}
	free(keys);
	*nhits = n;
	return h;
}

static int ptr_cmp(const void *x, const void *y)
{
	const char *a = *(const char *const *)x, *b = *(const char *const *)y;

	if (!a || !b)
		return !a - !b;
	return strcmp(a, b);
}

/* Distinct non-NULL pointers of v (interned strings), sorted by name. */
static size_t uniq_strings(const char **v, size_t n)
{
	size_t i, m = 0;

	qsort(v, n, sizeof(*v), ptr_cmp);
	for (i = 0; i < n; i++)
		if (v[i] && (!m || v[m - 1] != v[i]))
			v[m++] = v[i];
	return m;
}

struct fl {
	const char *file;
	unsigned int line;
	const char *func;
	unsigned int func_line;
	uint64_t count;
	uint64_t off;	/* lowest offset seen, for the function's entry */
};

static int fl_cmp(const void *x, const void *y)
{
	const struct fl *a = x, *b = y;
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* ---- the text summary --------------------------------------------------- */

static const char *kind_name(const struct ukcov_rec_area *a)
{
	switch (a->kind) {
	case UKCOV_AREA_THREAD:
		return "thread";
	case UKCOV_AREA_COMMON:
		return "common handle";
	case UKCOV_AREA_HANDLE:
		return "global handle";
	default:
		return "signal";
	}
}

static void describe(const struct ukf_area *t, char *buf, size_t len)
{
	const struct ukcov_rec_area *a = t->a;

	if (a->kind == UKCOV_AREA_THREAD)
		snprintf(buf, len, "tid %llu%s%s%s%s",
			 (unsigned long long)a->tid, t->name[0] ? " \"" : "",
			 t->name, t->name[0] ? "\"" : "",
			 a->tid == a->pid ? ", the main thread" : "");
	else if (a->kind == UKCOV_AREA_COMMON)
		snprintf(buf, len, "0x%llx (inherited by every thread)",
			 (unsigned long long)a->handle);
	else if (a->kind == UKCOV_AREA_HANDLE)
		snprintf(buf, len, "0x%llx",
			 (unsigned long long)a->handle);
	else
		snprintf(buf, len, "handlers of signal %llu (per-signal handle)",
			 (unsigned long long)(a->handle & KCOV_INSTANCE_MASK));
}

static void print_wrapped(const char *head, const char **v, size_t n,
			  size_t max)
{
	size_t i, col = strlen(head);

	fputs(head, stdout);
	for (i = 0; i < n && i < max; i++) {
		size_t w = strlen(v[i]) + 2;

		if (col + w > 78 && col > strlen(head)) {
			printf("\n%*s", (int)strlen(head), "");
			col = strlen(head);
		}
		printf("%s%s", v[i], i + 1 < n ? ", " : "");
		col += w;
	}
	if (n > max)
		printf("... (+%zu more; --functions lists all)", n - max);
	if (!n)
		fputs("(none resolved)", stdout);
	putchar('\n');
}

static const char *mode_name(uint32_t mode)
{
	return mode == UKCOV_FILE_MODE_CMP ? "cmp"
	       : mode == UKCOV_FILE_MODE_UNIQUE ? "unique-pc" : "pc";
}

/* The start of the summary's first line: how the run ended, when that
 * makes the file incomplete. */
static void run_status(const struct ukf *c)
{
	const struct ukcov_rec_run *u = c->run;
	char sig[16];

	if (!u || (!(u->flags & UKCOV_RUN_INCOMPLETE) &&
		   u->how != UKCOV_RUN_KILLED))
		return;
	printf("INCOMPLETE: ");
	if (u->how == UKCOV_RUN_KILLED)
		printf("the program was killed by %s; ",
		       ukf_signal_name(u->status, sig));
	if (u->areas_lost)
		printf("%llu areas lost; ", (unsigned long long)u->areas_lost);
	if (u->sections_lost)
		printf("%llu remote sections lost; ",
		       (unsigned long long)u->sections_lost);
}

static void summary(struct run *r, bool all_functions)
{
	struct ukf *c = &r->c;
	size_t i, npids = 0;
	uint64_t last_pid = 0;
	bool warned = false;

	for (i = 0; i < c->nareas; i++) {
		if (!i || c->areas[i].a->pid != last_pid)
			npids++;
		last_pid = c->areas[i].a->pid;
	}
	printf("%s: ", r->path);
	run_status(c);
	printf("%s mode, %zu area%s from %zu process%s\n",
	       c->nareas ? mode_name(c->areas[0].a->mode) : "pc",
	       c->nareas, c->nareas == 1 ? "" : "s", npids,
	       npids == 1 ? "" : "es");
	if (!c->run)
		printf("the run's end was not recorded (ukcov-run did not "
		       "finish, or the file is cut short): areas may be "
		       "missing\n");
	if (!c->nareas) {
		printf("no coverage was recorded (did the program exit "
		       "through exit(3)?)\n");
		return;
	}
	printf("\n%-24s %9s %8s %6s %6s %6s\n", "AREA", "ENTRIES", "UNIQUE",
	       "FUNCS", "FILES", "LINES");
	for (i = 0; i < c->nareas; i++) {
		const struct ukf_area *t = &c->areas[i];
		size_t nh, j, nf, nfi, nl;
		uint64_t unknown;
		struct hit *h;
		const char **funcs, **files;
		struct fl *lines;
		char desc[128];

		if (!r->selected[i])
			continue;
		h = area_hits(r, t, &nh, &unknown);
		funcs = xcalloc(nh, sizeof(*funcs));
		files = xcalloc(nh, sizeof(*files));
		lines = xcalloc(nh, sizeof(*lines));
		for (j = nl = 0; j < nh; j++) {
			funcs[j] = h[j].s->func;
			files[j] = h[j].s->file;
			if (h[j].s->file && h[j].s->line) {
				lines[nl].file = h[j].s->file;
				lines[nl++].line = h[j].s->line;
			}
		}
		nf = uniq_strings(funcs, nh);
		nfi = uniq_strings(files, nh);
		qsort(lines, nl, sizeof(*lines), fl_cmp);
		{
			size_t k, m = 0;

			for (k = 0; k < nl; k++)
				if (!m || fl_cmp(&lines[m - 1], &lines[k]))
					lines[m++] = lines[k];
			nl = m;
		}
		describe(t, desc, sizeof(desc));
		printf("%-24s %9llu %8zu %6zu %6zu %6zu   %s %s\n", t->label,
		       (unsigned long long)t->count, nh + (unknown ? 1 : 0), nf,
		       nfi, nl, kind_name(t->a), desc);
		{
			char head[64];

			snprintf(head, sizeof(head), "%26s", "functions: ");
			print_wrapped(head, funcs, nf, all_functions ? nf : 12);
		}
		if (unknown)
			printf("%26s%llu entries outside every loaded module\n",
			       "", (unsigned long long)unknown);
		if (t->a->dropped) {
			printf("%26sWARNING: area full: %llu entries dropped "
			       "(capacity %llu); rerun ukcov-run with a larger "
			       "--area-words\n", "",
			       (unsigned long long)t->a->dropped,
			       (unsigned long long)t->a->capacity);
			warned = true;
		}
		free(h);
		free(funcs);
		free(files);
		free(lines);
	}
	printf("\nsymbols:\n");
	for (i = 0; i < nobjects; i++) {
		struct object *o = &objects[i];

		if (!o->used)
			continue;
		object_open(o);
		if (o->missing)
			printf("  %s: cannot be read: PCs shown as offsets only\n",
			       o->path);
		else if (o->dwarf)
			printf("  %s: DWARF (functions, files, lines, inlined "
			       "frames)\n", o->path);
		else
			printf("  %s: symbol table only (%s): functions, no "
			       "files or lines\n", o->path,
			       no_dwarf ? "--no-dwarf"
					: "no debug info; build it with -g");
		if (o->mismatch)
			printf("  %s: WARNING: its build id differs from the "
			       "run's: it was rebuilt, symbols may be wrong\n",
			       o->path);
	}
	if (warned)
		printf("\nsome areas overflowed: their coverage is incomplete\n");
}

/* ---- lcov --------------------------------------------------------------- */

static size_t area_lines(const struct run *r, const struct ukf_area *t,
			 struct fl **out)
{
	size_t nh, j, n = 0;
	uint64_t unknown;
	struct hit *h = area_hits(r, t, &nh, &unknown);
	struct fl *v = xcalloc(nh, sizeof(*v));

	for (j = 0; j < nh; j++) {
		if (!h[j].s->file || !h[j].s->line)
			continue;
		v[n].file = h[j].s->file;
		v[n].line = h[j].s->line;
		v[n].func = h[j].s->func;
		v[n].func_line = h[j].s->func_line ? h[j].s->func_line
						   : h[j].s->line;
		v[n].count = h[j].count;
		v[n].off = h[j].key;
		n++;
	}
	free(h);
	*out = v;
	return n;
}

static void test_name(const char *label, char *buf, size_t len)
{
	size_t i;

	for (i = 0; label[i] && i + 1 < len; i++)
		buf[i] = (label[i] >= 'a' && label[i] <= 'z') ||
				 (label[i] >= 'A' && label[i] <= 'Z') ||
				 (label[i] >= '0' && label[i] <= '9')
			 ? label[i]
			 : '_';
	buf[i] = 0;
}

struct fnrec {
	const char *name;
	unsigned int line;
	uint64_t count, off;
};

/* One lcov test (TN) for area t. */
static int write_lcov(FILE *f, const struct run *r, const struct ukf_area *t)
{
	struct fl *v;
	size_t n = area_lines(r, t, &v), i, j;
	char tn[96];

	test_name(t->label, tn, sizeof(tn));
	qsort(v, n, sizeof(*v), fl_cmp);
	for (i = 0; i < n;) {
		const char *file = v[i].file;
		struct fnrec *fns = xcalloc(n, sizeof(*fns));
		size_t nfns = 0, k, lf = 0;

		fprintf(f, "TN:%s\nSF:%s\n", tn, file);
		for (j = i; j < n && v[j].file == file; j++) {
			if (!v[j].func)
				continue;
			for (k = 0; k < nfns; k++)
				if (fns[k].name == v[j].func)
					break;
			if (k == nfns) {
				fns[nfns].name = v[j].func;
				fns[nfns].line = v[j].func_line;
				fns[nfns].off = v[j].off;
				fns[nfns++].count = v[j].count;
			} else if (v[j].off < fns[k].off) {
				/* The entry block: the lowest address. */
				fns[k].off = v[j].off;
				fns[k].count = v[j].count;
			}
		}
		for (k = 0; k < nfns; k++)
			fprintf(f, "FN:%u,%s\n", fns[k].line, fns[k].name);
		for (k = 0; k < nfns; k++)
			fprintf(f, "FNDA:%llu,%s\n",
				(unsigned long long)fns[k].count, fns[k].name);
		fprintf(f, "FNF:%zu\nFNH:%zu\n", nfns, nfns);
		/* Several PCs on one line: add up. */
		for (j = i; j < n && v[j].file == file;) {
			unsigned int line = v[j].line;
			uint64_t sum = 0;

			for (; j < n && v[j].file == file && v[j].line == line; j++)
				sum += v[j].count;
			fprintf(f, "DA:%u,%llu\n", line, (unsigned long long)sum);
			lf++;
		}
		fprintf(f, "LF:%zu\nLH:%zu\nend_of_record\n", lf, lf);
		free(fns);
		i = j;
	}
	free(v);
	return ferror(f) ? -1 : 0;
}

static void lcov_dir(const struct run *r, const char *dir)
{
	size_t i, nfiles = 0, skipped = 0;

	if (mkdir(dir, 0755) && errno != EEXIST)
		die(1, "cannot create %s: %s", dir, strerror(errno));
	for (i = 0; i < r->c.nareas; i++) {
		const struct ukf_area *t = &r->c.areas[i];
		char tn[96], path[PATH_MAX];
		FILE *f;

		struct fl *v;

		if (!r->selected[i])
			continue;
		/* genhtml rejects a tracefile without records. */
		if (!area_lines(r, t, &v)) {
			free(v);
			skipped++;
			continue;
		}
		free(v);
		test_name(t->label, tn, sizeof(tn));
		snprintf(path, sizeof(path), "%s/%s.info", dir, tn);
		f = fopen(path, "w");
		if (!f)
			die(1, "cannot write %s: %s", path, strerror(errno));
		if (write_lcov(f, r, t) | fclose(f))
			die(1, "cannot write %s: %s", path, strerror(errno));
		nfiles++;
	}
	fprintf(stderr, "%s: wrote %zu lcov tracefile%s to %s/ (genhtml -o "
		"html %s/*.info)", prog, nfiles, nfiles == 1 ? "" : "s",
		dir, dir);
	if (skipped)
		fprintf(stderr, "; %zu area%s without lines left out", skipped,
			skipped == 1 ? "" : "s");
	fputc('\n', stderr);
}

static void lcov_merged(const struct run *r, const char *path)
{
	bool out = !strcmp(path, "-");
	FILE *f = out ? stdout : fopen(path, "w");
	size_t i;

	if (!f)
		die(1, "cannot write %s: %s", path, strerror(errno));
	for (i = 0; i < r->c.nareas; i++)
		if (r->selected[i] && write_lcov(f, r, &r->c.areas[i]))
			die(1, "cannot write %s: %s", path, strerror(errno));
	if (out ? fflush(f) : fclose(f))
		die(1, "cannot write %s: %s", path, strerror(errno));
	if (!out)
		fprintf(stderr, "%s: wrote %s (one lcov test per area; genhtml "
			"--show-details -o html %s)\n", prog, path, path);
}

/* ---- raw entries -------------------------------------------------------- */

static void print_loc(const struct run *r, const struct ukf_area *t,
		      uint64_t pc, bool sym)
{
	size_t obj;
	uint64_t off;

	if (!locate(r, t->a->pid, pc, &obj, &off)) {
		printf("?+0x%llx", (unsigned long long)pc);
		return;
	}
	printf("%s+0x%llx", objects[obj].base, (unsigned long long)off);
	if (sym) {
		struct sym *s = symbolize(&objects[obj], off);

		printf(" %s", s->func ? s->func : "??");
		if (s->file) {
			const char *b = strrchr(s->file, '/');

			printf(" %s:%u", b ? b + 1 : s->file, s->line);
		}
		if (s->inlined)
			printf(" (%s)", s->inlined);
	}
}

static int cmp4_cmp(const void *x, const void *y)
{
	return memcmp(x, y, 32);
}

static void raw(const struct run *r, bool unique, bool sym)
{
	size_t i;
	uint64_t j;

	for (i = 0; i < r->c.nareas; i++) {
		const struct ukf_area *t = &r->c.areas[i];
		bool cmp = t->words == 4;
		uint64_t *v, n = t->count;

		if (!r->selected[i])
			continue;
		v = xcalloc(n * t->words, sizeof(*v));
		if (unique) {
			/* By module+offset, not address: stable under ASLR. */
			for (j = 0; j < n; j++) {
				uint64_t k = entry_key(r, t, j);

				if (cmp) {
					memcpy(&v[j * 4], &t->entries[j * 4], 24);
					v[j * 4 + 3] = k;
				} else {
					v[j] = k;
				}
			}
			qsort(v, n, t->words * 8, cmp ? cmp4_cmp : u64_cmp);
		} else {
			memcpy(v, t->entries, n * t->words * 8);
		}
		printf("# %s: %llu %s\n", t->label, (unsigned long long)n,
		       cmp ? "comparisons" : "PCs");
		for (j = 0; j < n; j++) {
			uint64_t *e = &v[j * t->words];
			uint64_t pc = cmp ? e[3] : e[0];

			if (unique && j &&
			    !memcmp(e, e - t->words, t->words * 8))
				continue;
			if (unique) {
				if (pc == KEY_NONE) {
					printf("?");
				} else {
					printf("%s+0x%llx",
					       objects[KEY_OBJ(pc)].base,
					       (unsigned long long)KEY_OFF(pc));
					if (sym) {
						/* Resolve through the object. */
						struct sym *s = symbolize(
							&objects[KEY_OBJ(pc)],
							KEY_OFF(pc));

						printf(" %s", s->func ? s->func : "??");
						if (s->file)
							printf(" %s:%u",
							       strrchr(s->file, '/')
								       ? strrchr(s->file, '/') + 1
								       : s->file,
							       s->line);
						if (s->inlined)
							printf(" (%s)", s->inlined);
					}
				}
			} else {
				print_loc(r, t, pc, sym);
			}
			if (cmp) {
				unsigned int size = 1u << ((e[0] >> 1) & 3);

				printf(" %s%u%s 0x%llx 0x%llx",
				       e[0] & UKCOV_CMP_FLOAT ? "cmpf" : "cmp",
				       size * 8,
				       e[0] & KCOV_CMP_CONST ? " const" : "",
				       (unsigned long long)e[1],
				       (unsigned long long)e[2]);
			}
			putchar('\n');
		}
		free(v);
	}
}

/* ---- diff --------------------------------------------------------------- */

struct dkey {
	const char *mod;	/* object basename, interned */
	uint64_t off;
	struct sym *s;
};

static int dkey_cmp(const void *x, const void *y)
{
	const struct dkey *a = x, *b = y;
	int c = strcmp(a->mod, b->mod);

	if (c)
		return c;
	return a->off < b->off ? -1 : a->off > b->off;
}

static struct dkey *run_keys(const struct run *r, size_t *n)
{
	size_t i, j, m = 0, cap = 0;
	struct dkey *v = NULL;

	for (i = 0; i < r->c.nareas; i++) {
		size_t nh;
		uint64_t unknown;
		struct hit *h;

		if (!r->selected[i])
			continue;
		h = area_hits(r, &r->c.areas[i], &nh, &unknown);
		if (m + nh > cap) {
			cap = (m + nh) * 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		for (j = 0; j < nh; j++) {
			v[m].mod = objects[KEY_OBJ(h[j].key)].base;
			v[m].off = KEY_OFF(h[j].key);
			v[m++].s = h[j].s;
		}
		free(h);
	}
	if (m)
		qsort(v, m, sizeof(*v), dkey_cmp);
	for (i = j = 0; i < m; i++)
		if (!j || dkey_cmp(&v[j - 1], &v[i]))
			v[j++] = v[i];
	*n = j;
	return v;
}

/* Print what a covers and b does not, grouped by function. */
static size_t diff_one(const char *an, const struct dkey *a, size_t na,
		       const char *bn, const struct dkey *b, size_t nb)
{
	struct dkey *only = xcalloc(na, sizeof(*only));
	size_t i = 0, j = 0, n = 0, k;

	while (i < na) {
		int c = j < nb ? dkey_cmp(&a[i], &b[j]) : -1;

		if (c < 0)
			only[n++] = a[i++];
		else if (c > 0)
			j++;
		else
			i++, j++;
	}
	printf("covered by %s and not by %s: %zu PC%s\n", an, bn, n,
	       n == 1 ? "" : "s");
	/* Group by function (first appearance order = address order). */
	for (i = 0; i < n; i++) {
		const char *fn = only[i].s->func;
		size_t cnt = 0;
		bool seen = false;

		for (k = 0; k < i; k++)
			if (only[k].s->func == fn && only[k].mod == only[i].mod)
				seen = true;
		if (seen)
			continue;
		printf("  %s %s:", only[i].mod, fn ? fn : "??");
		for (k = i; k < n; k++) {
			if (only[k].s->func != fn || only[k].mod != only[i].mod)
				continue;
			cnt++;
			if (only[k].s->file && only[k].s->line)
				printf(" %s:%u",
				       strrchr(only[k].s->file, '/')
					       ? strrchr(only[k].s->file, '/') + 1
					       : only[k].s->file,
				       only[k].s->line);
			else
				printf(" +0x%llx",
				       (unsigned long long)only[k].off);
		}
		printf("  (%zu PC%s)\n", cnt, cnt == 1 ? "" : "s");
	}
	free(only);
	return n;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: ukcov-report [options] FILE\n"
"       ukcov-report [options] --diff FILE2 FILE\n"
"Symbolize and report a coverage file written by ukcov-run(1).\n"
"\n"
"  (default)              a summary per area: entries, unique PCs, functions,\n"
"                         files, lines, the functions covered, overflows\n"
"  -a, --area SPEC        only these areas (repeatable): main, threads,\n"
"                         thread:NAME, tid:N, common, handles, handle:H,\n"
"                         handle:app1:2, signals, signal:ALRM, or a label\n"
"  -f, --functions        list every function of each area in the summary\n"
"  -l, --lcov DIR         write one lcov tracefile per area into DIR\n"
"  -L, --lcov-merged OUT  write one lcov tracefile (a test per area; - for\n"
"                         standard output)\n"
"  -r, --raw              print the entries in module+offset form (cmp\n"
"                         records: module+offset cmpN [const] arg1 arg2)\n"
"  -u, --unique           with --raw: sorted, each entry once\n"
"  -s, --symbolize        with --raw: add function file:line (inlined frames)\n"
"  -d, --diff FILE2       what FILE covers that FILE2 does not, and back\n"
"      --no-dwarf         use symbol tables only\n"
"  -h, --help             this text\n"
"Exit status: 0; 1 on errors (unreadable or corrupt file, unwritable output);\n"
"2 for bad options.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "area", required_argument, NULL, 'a' },
		{ "functions", no_argument, NULL, 'f' },
		{ "lcov", required_argument, NULL, 'l' },
		{ "lcov-merged", required_argument, NULL, 'L' },
		{ "raw", no_argument, NULL, 'r' },
		{ "unique", no_argument, NULL, 'u' },
		{ "symbolize", no_argument, NULL, 's' },
		{ "diff", required_argument, NULL, 'd' },
		{ "no-dwarf", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char **specs = xcalloc((size_t)argc, sizeof(*specs));
	size_t nspecs = 0;
	const char *ldir = NULL, *lmerged = NULL, *other = NULL;
	bool functions = false, do_raw = false, unique = false, sym = false;
	struct run r, r2;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "a:fl:L:rusd:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			specs[nspecs++] = optarg;
			break;
		case 'f':
			functions = true;
			break;
		case 'l':
			ldir = optarg;
			break;
		case 'L':
			lmerged = optarg;
			break;
		case 'r':
			do_raw = true;
			break;
		case 'u':
			unique = true;
			break;
		case 's':
			sym = true;
			break;
		case 'd':
			other = optarg;
			break;
		case 'D':
			no_dwarf = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (optopt && strchr("alLd", optopt))
				die(2, "option -%c needs an argument "
				    "(ukcov-report --help)", optopt);
			if (optopt)
				die(2, "unknown option -%c (ukcov-report "
				    "--help)", optopt);
			die(2, "unknown option %s (ukcov-report --help)",
			    argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		die(2, optind >= argc ? "no coverage file given (ukcov-report "
					"--help)"
				      : "one coverage file, please (ukcov-report "
					"--help)");
	if ((unique || sym) && !do_raw)
		die(2, "--unique and --symbolize go with --raw");
	if (other && (do_raw || ldir || lmerged))
		die(2, "--diff does not combine with --raw or --lcov");

	run_load(&r, argv[optind]);
	select_areas(&r, specs, nspecs);
	if (other) {
		struct dkey *a, *b;
		size_t na, nb;

		run_load(&r2, other);
		select_areas(&r2, specs, nspecs);
		a = run_keys(&r, &na);
		b = run_keys(&r2, &nb);
		diff_one(r.path, a, na, r2.path, b, nb);
		diff_one(r2.path, b, nb, r.path, a, na);
		return 0;
	}
	if (do_raw) {
		raw(&r, unique, sym);
		return 0;
	}
	if (ldir)
		lcov_dir(&r, ldir);
	if (lmerged)
		lcov_merged(&r, lmerged);
	if (ldir || lmerged) {
		size_t i;
		bool lines = false;

		for (i = 0; i < nobjects; i++)
			if (objects[i].used && objects[i].dwarf)
				lines = true;
		if (!lines)
			fprintf(stderr, "%s: warning: no line information "
				"(%s): the lcov output has no lines\n", prog,
				no_dwarf ? "--no-dwarf"
					 : "no module has DWARF; build with -g");
	}
	if (!ldir && !lmerged)
		summary(&r, functions);
	return 0;
}
