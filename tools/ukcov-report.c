// SPDX-License-Identifier: MIT
/*
 * ukcov-report: read a coverage file written under ukcov-run, symbolize its
 * PCs (elfutils' libdw: function, file, line, inlined frames; the symbol
 * table where debug info is missing) and print a summary per area, lcov
 * tracefiles, raw entries in module+offset form, or the difference between
 * two runs.  See ukcov-report(1) and ukcov-file(5).
 *
 * How it scales: every distinct PC of the selected areas goes into one
 * sorted table of keys (object << 40 | offset) with a 16-byte result each;
 * the table is symbolized object by object in address order, each
 * compilation unit's functions swept once; areas then look their PCs up in
 * it by binary search.  Nothing is quadratic in areas, PCs or modules.
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
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ukcov.h>

#include "ukcov-elf.h"
#include "ukcov-file.h"

static const char *prog = "ukcov-report";

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void *xmalloc(size_t n, size_t sz)
{
	void *p;

	if (sz && n > SIZE_MAX / sz)
		die(1, "out of memory");
	p = malloc(n && sz ? n * sz : 1);
	if (!p)
		die(1, "out of memory");
	return p;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		die(1, "out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n, size_t sz)
{
	if (sz && n > SIZE_MAX / sz)
		die(1, "out of memory");
	p = realloc(p, n && sz ? n * sz : 1);
	if (!p)
		die(1, "out of memory");
	return p;
}

/* Room for one more element in a doubling array. */
#define PUSH(v, n, cap)                                                       \
	do {                                                                  \
		if ((n) >= (cap)) {                                           \
			(cap) = (n) ? (n) * 2 : 64;                           \
			(v) = xrealloc((v), (cap), sizeof(*(v)));             \
		}                                                             \
	} while (0)

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* qsort(), which must not see a NULL array even for 0 elements. */
static void sort(void *v, size_t n, size_t size,
		 int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/* Sort and remove duplicates; the new length. */
static size_t sort_unique(uint64_t *v, size_t n)
{
	size_t i, m = 0;

	sort(v, n, sizeof(*v), u64_cmp);
	for (i = 0; i < n; i++)
		if (!m || v[m - 1] != v[i])
			v[m++] = v[i];
	return m;
}

/* What reaches a terminal or a tracefile has no control bytes. */
static const char *clean(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	if (!s[i])
		return s;
	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = 0;
	return buf;
}

/* ---- interned strings: one id per distinct string, 0 for none ------------ */

static char **strs;		/* by id; strs[0] is unused */
static size_t nstrs = 1, strs_cap;
static uint32_t *str_hash_tab;	/* open addressing, ids */
static size_t str_hash_cap;

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 1099511628211ull;
	return h;
}

static uint32_t str_id(const char *s)
{
	size_t i, mask;
	uint64_t h;

	if (!s)
		return 0;
	if (nstrs * 2 >= str_hash_cap) {
		size_t j;

		free(str_hash_tab);
		str_hash_cap = str_hash_cap ? str_hash_cap * 2 : 4096;
		str_hash_tab = xcalloc(str_hash_cap, sizeof(*str_hash_tab));
		mask = str_hash_cap - 1;
		for (j = 1; j < nstrs; j++) {
			h = hash_bytes(strs[j], strlen(strs[j]),
				       1469598103934665603ull);
			for (i = h & mask; str_hash_tab[i]; i = (i + 1) & mask)
				;
			str_hash_tab[i] = (uint32_t)j;
		}
	}
	mask = str_hash_cap - 1;
	h = hash_bytes(s, strlen(s), 1469598103934665603ull);
	for (i = h & mask; str_hash_tab[i]; i = (i + 1) & mask)
		if (!strcmp(strs[str_hash_tab[i]], s))
			return str_hash_tab[i];
	if (nstrs >= UINT32_MAX)
		die(1, "out of memory");
	PUSH(strs, nstrs, strs_cap);
	strs[nstrs] = strdup(s);
	if (!strs[nstrs])
		die(1, "out of memory");
	str_hash_tab[i] = (uint32_t)nstrs;
	return (uint32_t)nstrs++;
}

static const char *str(uint32_t id)
{
	return id ? strs[id] : NULL;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* ---- functions: a name in a file, one id each ----------------------------- */

struct func {
	uint32_t name;		/* string id */
	uint32_t file;		/* string id of its file, 0 unknown */
	uint32_t line;		/* its declaration line, 0 unknown */
	uint32_t obj;		/* the object, for symbol-table-only names */
};

static struct func *funcs;	/* by id; funcs[0] is "none" */
static size_t nfuncs = 1, funcs_cap;
static uint32_t *func_hash_tab;
static size_t func_hash_cap;

static uint64_t func_hash(const struct func *f)
{
	return hash_bytes(f, sizeof(*f), 1469598103934665603ull);
}

static uint32_t func_id(uint32_t name, uint32_t file, uint32_t line,
			uint32_t obj)
{
	struct func f = { name, file, line, file ? 0 : obj };
	size_t i, mask;

	if (!name)
		return 0;
	if (nfuncs * 2 >= func_hash_cap) {
		size_t j;

		free(func_hash_tab);
		func_hash_cap = func_hash_cap ? func_hash_cap * 2 : 4096;
		func_hash_tab = xcalloc(func_hash_cap, sizeof(*func_hash_tab));
		mask = func_hash_cap - 1;
		for (j = 1; j < nfuncs; j++) {
			for (i = func_hash(&funcs[j]) & mask; func_hash_tab[i];
			     i = (i + 1) & mask)
				;
			func_hash_tab[i] = (uint32_t)j;
		}
	}
	mask = func_hash_cap - 1;
	for (i = func_hash(&f) & mask; func_hash_tab[i]; i = (i + 1) & mask)
		if (!memcmp(&funcs[func_hash_tab[i]], &f, sizeof(f)))
			return func_hash_tab[i];
	if (nfuncs >= UINT32_MAX)
		die(1, "out of memory");
	PUSH(funcs, nfuncs, funcs_cap);
	funcs[nfuncs] = f;
	func_hash_tab[i] = (uint32_t)nfuncs;
	return (uint32_t)nfuncs++;
}

static const char *func_name(uint32_t fn)
{
	return fn ? str(funcs[fn].name) : NULL;
}

/* ---- object files ------------------------------------------------------- */

struct fsym {
	uint64_t addr, size;
	uint32_t name;
};

/* One object file: a distinct path and build id. */
struct object {
	uint32_t path;		/* string ids */
	uint32_t name;		/* the path's last component */
	unsigned char build_id[64];
	uint32_t build_id_len;
	bool used;		/* some selected PC is in it */
	bool loaded;		/* object_load() ran */
	bool missing;		/* cannot be read: why says why */
	bool mismatch;		/* its build id differs from the run's */
	bool dwarf;		/* has DWARF that libdw reads */
	bool instrumented;	/* refers to a PC callback */
	char why[96];
	struct fsym *syms;	/* function symbols, by address */
	size_t nsyms;
	uint64_t (*exec)[2];	/* executable segments [vaddr, vaddr+size) */
	size_t nexec;
	/* Its coverable PCs: the return addresses of its calls to the PC
	 * callbacks (see object_coverable()). */
	enum { COV_UNKNOWN, COV_NONE, COV_KNOWN } cov_state;
	const char *cov_how;	/* "objdump", "cache" */
	char cov_why[96];	/* COV_UNKNOWN: why */
	uint64_t *cov;		/* sorted offsets, until merged into the table */
	size_t ncov;
	uint64_t tails;		/* the summary's entries of tail calls here */
};

static struct object *objects;
static size_t nobjects, objects_cap;
static bool no_dwarf;		/* --no-dwarf */

#define OBJ_MAX (1u << 24)
#define OFF_BITS 40
#define KEY_NONE (~0ull)
#define KEY(obj, off) ((uint64_t)(obj) << OFF_BITS | (off))
#define KEY_OBJ(k) ((uint32_t)((k) >> OFF_BITS))
#define KEY_OFF(k) ((k) & ((1ull << OFF_BITS) - 1))

static int fsym_cmp(const void *x, const void *y)
{
	const struct fsym *a = x, *b = y;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	/* Sized symbols first at one address. */
	return (a->size == 0) - (b->size == 0);
}

struct symcollect {
	struct fsym *v;
	size_t n, cap;
	bool callback;		/* __sanitizer_cov_trace_pc(_guard) named */
};

/* The callbacks whose return addresses are PCs: trace-pc, and clang's
 * trace-pc-guard. */
static bool pc_callback(const char *name, size_t len)
{
	static const char cb[] = "__sanitizer_cov_trace_pc";

	if (len == sizeof(cb) - 1 && !memcmp(name, cb, len))
		return true;
	return len == sizeof(cb) - 1 + 6 && !memcmp(name, cb, sizeof(cb) - 1) &&
	       !memcmp(name + sizeof(cb) - 1, "_guard", 6);
}

static int collect_sym(const char *name, const GElf_Sym *s, void *data)
{
	struct symcollect *c = data;

	if (pc_callback(name, strlen(name)))
		c->callback = true;
	if (GELF_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
	    !s->st_value)
		return 0;
	PUSH(c->v, c->n, c->cap);
	c->v[c->n].addr = s->st_value;
	c->v[c->n].size = s->st_size;
	c->v[c->n].name = str_id(name);
	c->n++;
	return 0;
}

/* Open the object once: its build id against the run's, its symbols. */
static void object_load(struct object *o)
{
	struct symcollect c = { 0 };
	const unsigned char *id;
	struct uke e;
	size_t len;

	if (o->loaded)
		return;
	o->loaded = true;
	if (uke_open(&e, str(o->path), o->why, sizeof(o->why))) {
		o->missing = true;
		return;
	}
	len = uke_build_id(&e, &id);
	if (o->build_id_len &&
	    (len != o->build_id_len || memcmp(id, o->build_id, len)))
		o->mismatch = true;
	uke_symbols(&e, collect_sym, &c);
	o->instrumented = c.callback;
	if (o->instrumented) {
		size_t i, nph = 0;

		/* Where its code may be: what a cached PC must lie in. */
		if (!elf_getphdrnum(e.elf, &nph) && nph < 65536) {
			o->exec = xmalloc(nph + 1, sizeof(*o->exec));
			for (i = 0; i < nph; i++) {
				GElf_Phdr ph;

				if (gelf_getphdr(e.elf, (int)i, &ph) &&
				    ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
				    ph.p_vaddr + ph.p_memsz > ph.p_vaddr) {
					o->exec[o->nexec][0] = ph.p_vaddr;
					o->exec[o->nexec++][1] =
						ph.p_vaddr + ph.p_memsz;
				}
			}
		}
	}
	uke_close(&e);
	sort(c.v, c.n, sizeof(*c.v), fsym_cmp);
	o->syms = c.v;
	o->nsyms = c.n;
}

/* The function symbol that holds addr, or 0. */
static uint32_t symtab_lookup(const struct object *o, uint64_t addr)
{
	size_t lo = 0, hi = o->nsyms, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Several symbols may start at one address (aliases); a few steps
	 * back is enough to find a sized one that holds addr. */
	for (k = 0; lo > 0 && k < 8; lo--, k++) {
		const struct fsym *s = &o->syms[lo - 1];

		if (addr < s->addr + (s->size ? s->size : 1))
			return s->name;
		if (s->size && addr >= s->addr + s->size &&
		    (lo < 2 || o->syms[lo - 2].addr != s->addr))
			break;
	}
	return 0;
}

/* ---- DWARF: lines and functions, without .debug_aranges ------------------ */

/*
 * clang 14 writes no .debug_aranges, and libdw 0.188 finds a compilation
 * unit (dwfl_module_addrdie, dwfl_module_getsrc) only through them.  The
 * units are found here from their own ranges (DW_AT_low_pc/high_pc or
 * DW_AT_ranges, what dwarf_ranges() returns), the line with
 * dwarf_getsrc_die() on the unit, and the function from one walk of the
 * unit's DIEs: every subprogram and inlined subroutine with its ranges,
 * swept in address order with the PCs (which come sorted).
 */
struct fnode {
	uint32_t name, file, line;	/* the function: name, declaration */
	uint32_t call_file, call_line;	/* inlined: where it was inlined */
	int32_t parent;			/* enclosing node, or -1 */
	uint32_t fn;			/* its func id, 0 until asked */
	uint32_t chain;			/* "inlined into ...", 0 until asked */
	bool chain_done;
};

struct piece {
	uint64_t lo, hi;
	uint32_t node, depth;
};

struct cu {
	Dwarf_Die die;
	const char *comp_dir;
	bool walked;
	struct fnode *nodes;
	size_t nnodes, nodes_cap;
	struct piece *pieces;
	size_t npieces, pieces_cap;
	size_t next;			/* sweep: next piece to open */
	uint32_t *stack;		/* sweep: open pieces */
	size_t sp;
	Dwarf_Files *files;
	size_t nfiles;
	const char *last_src;		/* the last line's file, and its id */
	uint32_t last_file;
};

struct curange {
	uint64_t lo, hi;
	size_t cu;
};

struct dwarf_ctx {
	struct object *o;
	uint32_t obj;
	Dwfl *dwfl;
	Dwarf *dw;
	Dwarf_Addr bias;
	struct cu *cus;
	size_t ncus, cus_cap;
	struct curange *ranges;
	size_t nranges, ranges_cap;
};

static int curange_cmp(const void *x, const void *y)
{
	const struct curange *a = x, *b = y;

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static int piece_cmp(const void *x, const void *y)
{
	const struct piece *a = x, *b = y;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->depth < b->depth ? -1 : a->depth > b->depth;
}

static const char *die_name(Dwarf_Die *d)
{
	Dwarf_Attribute a;

	if (dwarf_attr_integrate(d, DW_AT_name, &a))
		return dwarf_formstring(&a);
	return NULL;
}

/* A file name of the unit as an absolute path when the unit knows it. */
static uint32_t file_id(const struct cu *cu, const char *f)
{
	char buf[PATH_MAX];

	if (!f)
		return 0;
	if (*f != '/' && cu->comp_dir) {
		snprintf(buf, sizeof(buf), "%s/%s", cu->comp_dir, f);
		return str_id(buf);
	}
	return str_id(f);
}

static void walk_dies(struct cu *cu, Dwarf_Die *parent, int32_t pnode,
		      uint32_t depth, unsigned int level)
{
	Dwarf_Die child;

	/* Hostile nesting cannot exhaust the stack. */
	if (level > 256 || dwarf_child(parent, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		int32_t node = pnode;
		uint32_t d = depth;

		if (tag == DW_TAG_subprogram ||
		    tag == DW_TAG_inlined_subroutine) {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t off = 0;
			size_t first = cu->npieces;

			while ((off = dwarf_ranges(&child, off, &base, &lo,
						   &hi)) > 0) {
				if (hi <= lo)
					continue;
				PUSH(cu->pieces, cu->npieces, cu->pieces_cap);
				cu->pieces[cu->npieces++] = (struct piece){
					lo, hi, (uint32_t)cu->nnodes, depth
				};
			}
			if (cu->npieces > first) {
				struct fnode *n;
				Dwarf_Attribute a;
				Dwarf_Word w;
				int l = 0;

				PUSH(cu->nodes, cu->nnodes, cu->nodes_cap);
				n = &cu->nodes[cu->nnodes];
				memset(n, 0, sizeof(*n));
				n->name = str_id(die_name(&child));
				n->file = file_id(cu, dwarf_decl_file(&child));
				if (!dwarf_decl_line(&child, &l) && l > 0)
					n->line = (uint32_t)l;
				n->parent = pnode;
				if (tag == DW_TAG_inlined_subroutine) {
					if (dwarf_attr(&child, DW_AT_call_file,
						       &a) &&
					    !dwarf_formudata(&a, &w) &&
					    cu->files && w < cu->nfiles)
						n->call_file = str_id(base_name(
							dwarf_filesrc(cu->files,
								      w, NULL,
								      NULL)
								?: "??"));
					if (dwarf_attr(&child, DW_AT_call_line,
						       &a) &&
					    !dwarf_formudata(&a, &w) &&
					    w <= UINT32_MAX)
						n->call_line = (uint32_t)w;
				}
				node = (int32_t)cu->nnodes++;
				d = depth + 1;
			}
		}
		walk_dies(cu, &child, node, d, level + 1);
	} while (dwarf_siblingof(&child, &child) == 0);
}

static void cu_walk(struct cu *cu)
{
	cu->walked = true;
	if (dwarf_getsrcfiles(&cu->die, &cu->files, &cu->nfiles))
		cu->files = NULL, cu->nfiles = 0;
	walk_dies(cu, &cu->die, -1, 0, 0);
	sort(cu->pieces, cu->npieces, sizeof(*cu->pieces), piece_cmp);
	cu->stack = xmalloc(cu->npieces + 1, sizeof(*cu->stack));
}

/* The innermost function node holding addr; addresses come in order. */
static int32_t cu_function(struct cu *cu, uint64_t addr)
{
	while (cu->next < cu->npieces && cu->pieces[cu->next].lo <= addr) {
		const struct piece *p = &cu->pieces[cu->next];

		while (cu->sp && cu->pieces[cu->stack[cu->sp - 1]].hi <= p->lo)
			cu->sp--;
		cu->stack[cu->sp++] = (uint32_t)cu->next++;
	}
	while (cu->sp && cu->pieces[cu->stack[cu->sp - 1]].hi <= addr)
		cu->sp--;
	if (!cu->sp || cu->pieces[cu->stack[cu->sp - 1]].lo > addr)
		return -1;
	return (int32_t)cu->pieces[cu->stack[cu->sp - 1]].node;
}

/* "inlined into CALLER at FILE:LINE, inlined into ..." for node n. */
static uint32_t node_chain(struct cu *cu, int32_t n)
{
	char buf[1024];
	size_t used = 0;
	int32_t i, depth = 0;

	if (cu->nodes[n].chain_done)
		return cu->nodes[n].chain;
	for (i = n; i >= 0 && cu->nodes[i].parent >= 0 && depth++ < 16;
	     i = cu->nodes[i].parent) {
		const struct fnode *c = &cu->nodes[i];
		const char *caller = str(cu->nodes[c->parent].name);
		int w;

		if (!c->call_line && !c->call_file)
			break;	/* a nested subprogram, not inlined */
		w = snprintf(buf + used, sizeof(buf) - used,
			     "%sinlined into %s at %s:%u", used ? ", " : "",
			     caller ? caller : "??",
			     c->call_file ? str(c->call_file) : "??",
			     c->call_line);
		if (w < 0 || (size_t)w >= sizeof(buf) - used) {
			used = sizeof(buf) - 1;
			break;
		}
		used += (size_t)w;
	}
	cu->nodes[n].chain = used ? str_id(buf) : 0;
	cu->nodes[n].chain_done = true;
	return cu->nodes[n].chain;
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
 * Debian's -dbgsym packages install), and the dwz file it may refer to,
 * opened like every other file: a FIFO or a device is never read.  DWARF
 * in the module itself is used first, without this.
 */
static int find_debuginfo(Dwfl_Module *m, void **user, const char *name,
			  Dwarf_Addr base, const char *file,
			  const char *debuglink, GElf_Word crc, char **path)
{
	const unsigned char *id;
	GElf_Addr vaddr;
	char buf[PATH_MAX], err[128];
	int n, i, len, fd;

	(void)name, (void)base, (void)file, (void)crc;
	/* A second call asks for the dwz file a debug file refers to
	 * (.gnu_debugaltlink): only by an absolute path. */
	if (*user) {
		if (!debuglink || *debuglink != '/')
			return -1;
		fd = ukf_open_regular(debuglink, err, sizeof(err));
		if (fd >= 0 && !(*path = strdup(debuglink))) {
			close(fd);
			return -1;
		}
		return fd;
	}
	*user = (void *)1;
	len = dwfl_module_build_id(m, &id, &vaddr);
	if (len < 2 || len > 64)
		return -1;
	n = snprintf(buf, sizeof(buf), "/usr/lib/debug/.build-id/%02x/", id[0]);
	for (i = 1; i < len; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%02x", id[i]);
	snprintf(buf + n, sizeof(buf) - (size_t)n, ".debug");
	fd = ukf_open_regular(buf, err, sizeof(err));
	if (fd >= 0) {
		*path = strdup(buf);
		if (!*path) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static bool dwarf_open(struct dwarf_ctx *x)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = no_elf,
		.find_debuginfo = find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	Dwfl_Module *dm = NULL;
	Dwarf_CU *cu = NULL;
	char err[128];
	int fd;

	fd = ukf_open_regular(str(x->o->path), err, sizeof(err));
	if (fd < 0)
		return false;
	x->dwfl = dwfl_begin(&cb);
	if (x->dwfl) {
		/* dwfl takes the descriptor when it succeeds. */
		dm = dwfl_report_elf(x->dwfl, str(x->o->name), str(x->o->path),
				     fd, 0, true);
		dwfl_report_end(x->dwfl, NULL, NULL);
	}
	if (!dm)
		close(fd);
	x->dw = dm ? dwfl_module_getdwarf(dm, &x->bias) : NULL;
	if (!x->dw)
		return false;
	/* Every unit, by its own address ranges. */
	for (;;) {
		Dwarf_Die cudie, subdie;
		Dwarf_Half version;
		uint8_t type;
		Dwarf_Addr base, lo, hi;
		ptrdiff_t off = 0;
		struct cu *c;
		Dwarf_Attribute a;

		if (dwarf_get_units(x->dw, cu, &cu, &version, &type, &cudie,
				    &subdie) != 0)
			break;
		if (type == DW_UT_skeleton)
			cudie = subdie;
		if (dwarf_tag(&cudie) != DW_TAG_compile_unit &&
		    dwarf_tag(&cudie) != DW_TAG_partial_unit)
			continue;
		PUSH(x->cus, x->ncus, x->cus_cap);
		c = &x->cus[x->ncus];
		memset(c, 0, sizeof(*c));
		c->die = cudie;
		c->comp_dir = dwarf_attr(&cudie, DW_AT_comp_dir, &a)
				      ? dwarf_formstring(&a)
				      : NULL;
		while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
			if (hi <= lo)
				continue;
			PUSH(x->ranges, x->nranges, x->ranges_cap);
			x->ranges[x->nranges++] =
				(struct curange){ lo, hi, x->ncus };
		}
		x->ncus++;
	}
	sort(x->ranges, x->nranges, sizeof(*x->ranges), curange_cmp);
	return x->nranges > 0;
}

static void dwarf_close(struct dwarf_ctx *x)
{
	size_t i;

	for (i = 0; i < x->ncus; i++) {
		free(x->cus[i].nodes);
		free(x->cus[i].pieces);
		free(x->cus[i].stack);
	}
	free(x->cus);
	free(x->ranges);
	if (x->dwfl)
		dwfl_end(x->dwfl);
	memset(x, 0, sizeof(*x));
}

static struct cu *unit_of(struct dwarf_ctx *x, uint64_t addr)
{
	size_t lo = 0, hi = x->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->ranges[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= x->ranges[lo - 1].hi)
		return NULL;
	return &x->cus[x->ranges[lo - 1].cu];
}

/* ---- coverable PCs: the call sites of the PC callbacks --------------------- */

/*
 * The coverable PCs of an instrumented module are the return addresses of
 * its calls to __sanitizer_cov_trace_pc (and _guard): every PC the runtime
 * can record there, as syzkaller computes the kernel's.  binutils' objdump
 * disassembles; a call is one to the callback when objdump names it
 * (`call ADDR <__sanitizer_cov_trace_pc@plt>`, a direct call in a static
 * link, or -fno-plt's `call *X(%rip)  # SLOT <__sanitizer_cov_trace_pc@V>`)
 * or when its GOT slot is one the callback's relocations fill.  The result
 * is cached per build id.
 */

/* GOT slots (relocation targets) of the PC callbacks, sorted. */
struct slots {
	uint64_t *v;
	size_t n, cap;
};

static int collect_slot(const char *name, GElf_Addr where, unsigned int type,
			void *data)
{
	struct slots *s = data;

	if (pc_callback(name, strlen(name)) &&
	    (type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT ||
	     type == R_X86_64_64)) {
		PUSH(s->v, s->n, s->cap);
		s->v[s->n++] = where;
	}
	return 0;
}

static bool in_sorted(const uint64_t *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == x;
}

/*
 * One line of `objdump -d -w`: "  ADDR:\tBYTES\tcall   OPERANDS".  The
 * return address of a call to a PC callback, or 0.
 */
static uint64_t callback_call(const char *line, const struct slots *got)
{
	const char *p = line, *tab, *insn, *lt, *hash;
	uint64_t addr, len = 0;
	char *end;

	while (*p == ' ')
		p++;
	addr = strtoull(p, &end, 16);
	if (end == p || *end != ':' || !(tab = strchr(end, '\t')))
		return 0;
	/* The instruction's bytes: its length. */
	for (p = tab + 1; *p && *p != '\t'; p++)
		if (p[0] != ' ' && p[1] && p[1] != ' ' && p[1] != '\t' &&
		    (p == tab + 1 || p[-1] == ' '))
			len++;
	if (*p != '\t')
		return 0;
	insn = p + 1;
	if (strncmp(insn, "call", 4) || (insn[4] != ' ' && insn[4] != 'q'))
		return 0;
	lt = strchr(insn, '<');
	if (lt) {
		const char *n = lt + 1;
		size_t k = strcspn(n, "@>+");

		if ((n[k] == '@' || n[k] == '>') && pc_callback(n, k))
			return addr + len;
	}
	hash = strstr(insn, "# ");
	if (hash && strstr(insn, "(%rip)") &&
	    in_sorted(got->v, got->n, strtoull(hash + 2, NULL, 16)))
		return addr + len;
	return 0;
}

/* Run objdump over descriptor fd (the module); its coverable PCs. */
static int objdump_pcs(struct object *o, int fd)
{
	struct slots got = { 0 };
	struct uke e;
	char *line = NULL, path[64];
	size_t cap = 0, lcap = 0;
	int pfd[2], status;
	ssize_t n;
	pid_t pid;
	FILE *f;

	if (!uke_open(&e, str(o->path), o->cov_why, sizeof(o->cov_why))) {
		uke_relocs(&e, collect_slot, &got);
		uke_close(&e);
	}
	if (got.n)
		got.n = sort_unique(got.v, got.n);
	if (pipe2(pfd, O_CLOEXEC)) {
		snprintf(o->cov_why, sizeof(o->cov_why), "pipe: %s",
			 strerror(errno));
		free(got.v);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		/* The module by its descriptor: the file checked to be
		 * regular is the file disassembled. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (dup2(pfd[1], 1) < 0 || (null >= 0 && dup2(null, 2) < 0) ||
		    fcntl(fd, F_SETFD, 0))
			_exit(126);
		setenv("LC_ALL", "C", 1);
		execlp("objdump", "objdump", "-d", "-w", "--", path,
		       (char *)NULL);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		snprintf(o->cov_why, sizeof(o->cov_why), "fork: %s",
			 strerror(errno));
		free(got.v);
		return -1;
	}
	f = fdopen(pfd[0], "r");
	while (f && (n = getline(&line, &lcap, f)) > 0) {
		uint64_t ret;

		/* Cheap filter: only calls are looked at. */
		if (!strstr(line, "\tcall"))
			continue;
		ret = callback_call(line, &got);
		if (ret) {
			PUSH(o->cov, o->ncov, cap);
			o->cov[o->ncov++] = ret;
		}
	}
	if (f)
		fclose(f);
	else
		close(pfd[0]);
	free(line);
	free(got.v);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(o->cov_why, sizeof(o->cov_why), "%s",
			 WIFEXITED(status) && WEXITSTATUS(status) == 127
				 ? "objdump is not installed (apt-get install "
				   "binutils)"
				 : "objdump failed on it");
		free(o->cov);
		o->cov = NULL;
		o->ncov = 0;
		return -1;
	}
	o->ncov = sort_unique(o->cov, o->ncov);
	return 0;
}

/* The cache: $XDG_CACHE_HOME/ukcov or ~/.cache/ukcov, created 0700 and
 * used only while it is a directory of ours that nobody else can write. */
#define CACHE_MAGIC "UKCOVPCS"
#define CACHE_VERSION 1

struct cache_header {
	char magic[8];
	uint32_t version;
	uint32_t build_id_len;
	unsigned char build_id[64];
	uint64_t count;
	uint64_t checksum;	/* FNV-1a of the build id and the offsets */
};

static const char *cache_dir(void)
{
	static char dir[PATH_MAX];
	static int state;	/* 0 not looked at, 1 usable, -1 not */
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char base[PATH_MAX];
	struct stat st;

	if (state)
		return state > 0 ? dir : NULL;
	state = -1;
	if (xdg && *xdg == '/')
		snprintf(base, sizeof(base), "%s", xdg);
	else if (home && *home == '/')
		snprintf(base, sizeof(base), "%s/.cache", home);
	else
		return NULL;
	if (mkdir(base, 0700) && errno != EEXIST)
		return NULL;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/ukcov", base) >= sizeof(dir))
		return NULL;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return NULL;
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		char buf[PATH_MAX];

		fprintf(stderr, "%s: warning: %s is not a private directory of "
			"this user: coverable PCs are not cached\n", prog,
			clean(dir, buf, sizeof(buf)));
		return NULL;
	}
	state = 1;
	return dir;
}

static bool cache_path(const struct object *o, char *buf, size_t len)
{
	const char *dir = cache_dir();
	size_t n, i;

	if (!dir || o->build_id_len < 8)
		return false;
	n = (size_t)snprintf(buf, len, "%s/pcs-", dir);
	for (i = 0; i < o->build_id_len && n + 3 < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%02x",
				      o->build_id[i]);
	return i == o->build_id_len;
}

static uint64_t cache_sum(const struct object *o, const uint64_t *v, size_t n)
{
	uint64_t h = hash_bytes(o->build_id, o->build_id_len,
				1469598103934665603ull);

	return hash_bytes(v, n * sizeof(*v), h);
}

/* Read back what an earlier run cached; trusted only when every check
 * holds: ours, regular, the right size, magic, version, build id and
 * checksum, offsets strictly increasing inside executable segments. */
static bool cache_read(struct object *o)
{
	struct cache_header h;
	char path[PATH_MAX];
	struct stat st;
	uint64_t *v = NULL;
	size_t i, k = 0;
	int fd;

	if (!cache_path(o, path, sizeof(path)))
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_size < (off_t)sizeof(h) ||
	    read(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, CACHE_MAGIC, 8) || h.version != CACHE_VERSION ||
	    h.build_id_len != o->build_id_len ||
	    memcmp(h.build_id, o->build_id, o->build_id_len) ||
	    h.count > (uint64_t)(st.st_size - (off_t)sizeof(h)) / 8 ||
	    (off_t)(sizeof(h) + h.count * 8) != st.st_size)
		goto bad;
	v = xmalloc(h.count + 1, sizeof(*v));
	if (h.count && read(fd, v, h.count * 8) != (ssize_t)(h.count * 8))
		goto bad;
	if (cache_sum(o, v, h.count) != h.checksum)
		goto bad;
	for (i = 0; i < h.count; i++) {
		if (i && v[i] <= v[i - 1])
			goto bad;
		while (k < o->nexec && v[i] > o->exec[k][1])
			k++;
		/* A return address may be the segment's end, no further. */
		if (k == o->nexec || v[i] <= o->exec[k][0])
			goto bad;
	}
	close(fd);
	o->cov = v;
	o->ncov = h.count;
	return true;
bad:
	free(v);
	close(fd);
	return false;
}

static void cache_write(const struct object *o)
{
	struct cache_header h;
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	int fd;

	if (!cache_path(o, path, sizeof(path)))
		return;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, CACHE_MAGIC, 8);
	h.version = CACHE_VERSION;
	h.build_id_len = o->build_id_len;
	memcpy(h.build_id, o->build_id, o->build_id_len);
	h.count = o->ncov;
	h.checksum = cache_sum(o, o->cov, o->ncov);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	/* Whole or not at all: written aside, then renamed. */
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    (o->ncov && write(fd, o->cov, o->ncov * 8) !=
				(ssize_t)(o->ncov * 8)) ||
	    close(fd) || rename(tmp, path))
		unlink(tmp);
}

/* Sort the exec segments so that cache_read() can walk them. */
static int range_cmp(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return a[0] < b[0] ? -1 : a[0] > b[0];
}

/* The object's coverable PCs: none when it never calls a PC callback. */
static void object_coverable(struct object *o)
{
	char err[128];
	int fd;

	object_load(o);
	if (o->missing || o->mismatch) {
		snprintf(o->cov_why, sizeof(o->cov_why), "%s",
			 o->missing ? "cannot be read" : "rebuilt since the run");
		return;
	}
	if (!o->instrumented) {
		o->cov_state = COV_NONE;
		return;
	}
	sort(o->exec, o->nexec, sizeof(*o->exec), range_cmp);
	if (cache_read(o)) {
		o->cov_state = o->ncov ? COV_KNOWN : COV_NONE;
		o->cov_how = "cache";
		return;
	}
	fd = ukf_open_regular(str(o->path), err, sizeof(err));
	if (fd < 0) {
		snprintf(o->cov_why, sizeof(o->cov_why), "%.80s", err);
		return;
	}
	if (!objdump_pcs(o, fd)) {
		o->cov_state = COV_KNOWN;
		o->cov_how = "objdump";
		cache_write(o);
	}
	/* It names the callback but never calls it: libukcov itself. */
	if (o->cov_state == COV_KNOWN && !o->ncov)
		o->cov_state = COV_NONE;
	close(fd);
}

/* ---- the table of every distinct PC --------------------------------------- */

/* What a PC resolves to: 16 bytes, whatever the number of PCs. */
struct pcinfo {
	uint32_t fn;		/* func id, 0 unknown */
	uint32_t file;		/* string id of its source file, 0 unknown */
	uint32_t line;
	uint32_t chain;		/* string id of "inlined into ...", or 0 */
};

static uint64_t *pcs;		/* sorted distinct keys */
static struct pcinfo *info;	/* parallel to pcs */
static uint8_t *flags;		/* parallel to pcs: PC_* */
static size_t npcs, pcs_cap;

#define PC_RECORDED 1		/* some selected area recorded it */
#define PC_COVERABLE 2		/* a call site of a PC callback */

/* Index of key k in the table (which holds it). */
static size_t pc_index(uint64_t k)
{
	size_t lo = 0, hi = npcs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pcs[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Symbolize the table's PCs of object obj: pcs[first..end). */
static void symbolize_object(uint32_t obj, size_t first, size_t end)
{
	struct object *o = &objects[obj];
	struct dwarf_ctx x = { .o = o, .obj = obj };
	bool dw;
	size_t i;

	object_load(o);
	if (o->missing || o->mismatch)
		return;		/* left unsymbolized: offsets only */
	dw = !no_dwarf && dwarf_open(&x);
	o->dwarf = dw;
	for (i = first; i < end; i++) {
		uint64_t off = KEY_OFF(pcs[i]);
		/* The PC is a return address: look at the call before it. */
		uint64_t addr = off ? off - 1 : 0;
		struct pcinfo *p = &info[i];
		struct cu *cu = dw ? unit_of(&x, addr - x.bias) : NULL;

		if (cu) {
			uint64_t a = addr - x.bias;
			Dwarf_Line *l;
			int32_t n;
			int line0 = -1;

			if (!cu->walked)
				cu_walk(cu);
			l = dwarf_getsrc_die(&cu->die, a);
			/* A call the compiler put on line 0 (clang does, for
			 * some callbacks): the line of the instruction after
			 * it, where the block's own code starts. */
			if (l && !dwarf_lineno(l, &line0) && !line0)
				l = dwarf_getsrc_die(&cu->die, a + 1) ?: l;
			if (l) {
				const char *src = dwarf_linesrc(l, NULL, NULL);
				int line = 0;

				if (src != cu->last_src || !cu->last_file) {
					cu->last_src = src;
					cu->last_file = file_id(cu, src);
				}
				p->file = cu->last_file;
				if (!dwarf_lineno(l, &line) && line > 0)
					p->line = (uint32_t)line;
			}
			n = cu_function(cu, a);
			if (n >= 0) {
				struct fnode *f = &cu->nodes[n];

				if (!f->fn)
					f->fn = func_id(f->name,
							f->file ? f->file
								: p->file,
							f->line, obj);
				p->fn = f->fn;
				p->chain = node_chain(cu, n);
			}
		}
		if (!p->fn)
			p->fn = func_id(symtab_lookup(o, addr), 0, 0, obj);
	}
	dwarf_close(&x);
}

/* ---- a loaded run ----------------------------------------------------------- */

/* A module record, for the lookup of (pid, PC). */
struct modref {
	uint64_t pid, start, end, base;
	uint32_t obj;
};

struct run {
	const char *path;
	struct ukf c;
	struct modref *mods;	/* by pid, then start */
	size_t nmods;
	uint64_t fallback_pid;	/* for processes that wrote no map */
	bool *selected;		/* per area */
	size_t last;		/* the last module found */
};

static int modref_cmp(const void *x, const void *y)
{
	const struct modref *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->start < b->start ? -1 : a->start > b->start;
}

/* The last module record of pid starting at or below pc, or nmods. */
static size_t mod_floor(const struct run *r, uint64_t pid, uint64_t pc)
{
	size_t lo = 0, hi = r->nmods;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct modref *m = &r->mods[mid];

		if (m->pid < pid || (m->pid == pid && m->start <= pc))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || r->mods[lo - 1].pid != pid)
		return r->nmods;
	return lo - 1;
}

static bool pid_has_map(const struct run *r, uint64_t pid)
{
	size_t i = mod_floor(r, pid, UINT64_MAX);

	return i < r->nmods;
}

/* PC of process pid: its key, or KEY_NONE when in no module. */
static uint64_t locate(struct run *r, uint64_t pid, uint64_t pc)
{
	const struct modref *m;
	size_t i;

	if (r->last < r->nmods) {
		m = &r->mods[r->last];
		if (m->pid == pid && pc >= m->start && pc < m->end)
			goto found;
	}
	i = mod_floor(r, pid, pc);
	/* A process that wrote no map (a forked child that ended before its
	 * exit handlers ran) is taken to map what the first process in the
	 * file that wrote one did: a forked child maps its parent's. */
	if (i == r->nmods && !pid_has_map(r, pid))
		i = mod_floor(r, r->fallback_pid, pc);
	if (i == r->nmods || pc >= r->mods[i].end)
		return KEY_NONE;
	r->last = i;
	m = &r->mods[i];
found:
	if (pc - m->base >= 1ull << OFF_BITS)
		return KEY_NONE;
	return KEY(m->obj, pc - m->base);
}

/* Objects: one per distinct path and build id, found by sorting. */
static const struct ukf_module *sort_mods;

static int modidx_cmp(const void *x, const void *y)
{
	const struct ukf_module *a = &sort_mods[*(const size_t *)x],
				*b = &sort_mods[*(const size_t *)y];
	int c = strcmp(a->path, b->path);

	if (c)
		return c;
	if (a->build_id_len != b->build_id_len)
		return a->build_id_len < b->build_id_len ? -1 : 1;
	return memcmp(a->build_id, b->build_id, a->build_id_len);
}

/* The object of path and build id, made when new: objects of the second
 * run of --diff are matched against the first's by a binary search. */
static uint32_t object_of(const struct ukf_module *m)
{
	struct object *o;
	uint32_t len = m->build_id_len > 64 ? 64 : m->build_id_len;

	if (nobjects && objects[nobjects - 1].path == str_id(m->path) &&
	    objects[nobjects - 1].build_id_len == len &&
	    !memcmp(objects[nobjects - 1].build_id, m->build_id, len))
		return (uint32_t)(nobjects - 1);
	if (nobjects >= OBJ_MAX)
		die(1, "more than %u distinct modules", OBJ_MAX);
	PUSH(objects, nobjects, objects_cap);
	o = &objects[nobjects];
	memset(o, 0, sizeof(*o));
	o->path = str_id(m->path);
	o->name = str_id(base_name(m->path));
	o->build_id_len = len;
	memcpy(o->build_id, m->build_id, len);
	return (uint32_t)nobjects++;
}

/* Objects of a second run: reuse the first run's where they match. */
static uint32_t *obj_index;	/* objects sorted by path, build id */
static size_t nobj_index;

static int obj_find_cmp(const struct ukf_module *m, const struct object *o)
{
	uint32_t len = m->build_id_len > 64 ? 64 : m->build_id_len;
	int c = strcmp(m->path, str(o->path));

	if (c)
		return c;
	if (len != o->build_id_len)
		return len < o->build_id_len ? -1 : 1;
	return memcmp(m->build_id, o->build_id, len);
}

static void run_objects(struct run *r)
{
	const struct ukf *c = &r->c;
	size_t *idx = xmalloc(c->nmods + 1, sizeof(*idx)), i, first = nobjects;
	uint32_t *objs = xmalloc(c->nmods + 1, sizeof(*objs));

	for (i = 0; i < c->nmods; i++)
		idx[i] = i;
	sort_mods = c->mods;
	sort(idx, c->nmods, sizeof(*idx), modidx_cmp);
	for (i = 0; i < c->nmods; i++) {
		const struct ukf_module *m = &c->mods[idx[i]];
		size_t lo = 0, hi = nobj_index;

		/* An object of an earlier run? */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (obj_find_cmp(m, &objects[obj_index[mid]]) > 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < nobj_index &&
		    !obj_find_cmp(m, &objects[obj_index[lo]]))
			objs[idx[i]] = obj_index[lo];
		else if (i && !modidx_cmp(&idx[i - 1], &idx[i]))
			objs[idx[i]] = objs[idx[i - 1]];
		else
			objs[idx[i]] = object_of(m);
	}
	/* The index for the next run: this run's new objects are in path
	 * order already; merge them with the old ones. */
	if (nobjects > first) {
		uint32_t *v = xmalloc(nobj_index + nobjects - first, sizeof(*v));
		size_t a = 0, b = first, n = 0;

		while (a < nobj_index || b < nobjects) {
			const struct object *x = a < nobj_index
							 ? &objects[obj_index[a]]
							 : NULL;
			bool take_b = !x;

			if (x && b < nobjects) {
				const struct object *y = &objects[b];
				int cmp = strcmp(str(y->path), str(x->path));

				if (!cmp && y->build_id_len != x->build_id_len)
					cmp = y->build_id_len < x->build_id_len
						      ? -1
						      : 1;
				if (!cmp)
					cmp = memcmp(y->build_id, x->build_id,
						     y->build_id_len);
				take_b = cmp < 0;
			}
			v[n++] = take_b ? (uint32_t)b++ : obj_index[a++];
		}
		free(obj_index);
		obj_index = v;
		nobj_index = n;
	}
	r->mods = xmalloc(c->nmods + 1, sizeof(*r->mods));
	r->nmods = c->nmods;
	for (i = 0; i < c->nmods; i++)
		r->mods[i] = (struct modref){ c->mods[i].pid, c->mods[i].start,
					      c->mods[i].end, c->mods[i].base,
					      objs[i] };
	if (c->nmods)
		r->fallback_pid = c->mods[0].pid;
	sort(r->mods, r->nmods, sizeof(*r->mods), modref_cmp);
	free(idx);
	free(objs);
}

/* A thread's start routine, for its label: the symbol at that address. */
static const char *routine_name(void *ctx, uint64_t pid, uint64_t addr)
{
	struct run *r = ctx;
	uint64_t k = locate(r, pid, addr);
	struct object *o;
	size_t lo = 0, hi;

	if (k == KEY_NONE)
		return NULL;
	o = &objects[KEY_OBJ(k)];
	object_load(o);
	if (o->missing || o->mismatch)
		return NULL;
	/* The routine's own address: an exact match. */
	hi = o->nsyms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->syms[mid].addr < KEY_OFF(k))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < o->nsyms && o->syms[lo].addr == KEY_OFF(k)
		       ? str(o->syms[lo].name)
		       : NULL;
}

static void run_load(struct run *r, const char *path)
{
	char err[256], buf[PATH_MAX];

	memset(r, 0, sizeof(*r));
	r->path = path;
	if (ukf_load(&r->c, path, err, sizeof(err)))
		die(1, "%s: %s", clean(path, buf, sizeof(buf)), err);
	if (r->c.truncated)
		fprintf(stderr, "%s: %s: warning: file truncated after %llu "
			"whole records\n", prog, clean(path, buf, sizeof(buf)),
			(unsigned long long)r->c.records);
	run_objects(r);
	if (ukf_label_areas(&r->c, routine_name, r))
		die(1, "out of memory");
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
	char buf[PATH_MAX], buf2[256];

	for (j = 0; j < nspecs; j++) {
		bool any = false;

		for (i = 0; i < r->c.nareas; i++)
			if (area_matches(&r->c.areas[i], specs[j]))
				r->selected[i] = any = true;
		if (!any) {
			fprintf(stderr, "%s: %s: no area matches --area %s; "
				"areas:", prog, clean(r->path, buf, sizeof(buf)),
				clean(specs[j], buf2, sizeof(buf2)));
			for (i = 0; i < r->c.nareas && i < 50; i++)
				fprintf(stderr, " %s", r->c.areas[i].label);
			if (r->c.nareas > 50)
				fprintf(stderr, " ... (%zu more)",
					r->c.nareas - 50);
			fputc('\n', stderr);
			exit(1);
		}
	}
	if (!nspecs)
		for (i = 0; i < r->c.nareas; i++)
			r->selected[i] = true;
}

/* ---- one area's PCs ----------------------------------------------------- */

static uint64_t entry_pc(const struct ukf_area *t, uint64_t i)
{
	return t->words == 4 ? t->entries[i * 4 + 3] : t->entries[i];
}

/* The keys of area t's entries, sorted (KEY_NONE last). */
static uint64_t *area_keys(struct run *r, const struct ukf_area *t)
{
	uint64_t *k = xmalloc(t->count + 1, sizeof(*k)), i;

	for (i = 0; i < t->count; i++)
		k[i] = locate(r, t->a->pid, entry_pc(t, i));
	sort(k, t->count, sizeof(*k), u64_cmp);
	return k;
}

/* Add the distinct PCs of every selected area of r to the table. */
static void collect_pcs(struct run *r)
{
	size_t i;

	for (i = 0; i < r->c.nareas; i++) {
		const struct ukf_area *t = &r->c.areas[i];
		uint64_t *k, j;

		if (!r->selected[i])
			continue;
		k = area_keys(r, t);
		for (j = 0; j < t->count && k[j] != KEY_NONE; j++) {
			if (j && k[j] == k[j - 1])
				continue;
			PUSH(pcs, npcs, pcs_cap);
			pcs[npcs++] = k[j];
		}
		free(k);
	}
}

/*
 * A module rebuilt since the run (its build id differs) would credit
 * functions that never ran: its PCs stay unsymbolized, and every mode says
 * so on standard error, once per module.
 */
static void warn_rebuilt(void)
{
	size_t i, n = 0;
	char buf[PATH_MAX];

	for (i = 0; i < nobjects; i++) {
		if (!objects[i].mismatch)
			continue;
		if (n++ < 10)
			fprintf(stderr, "%s: warning: %s was rebuilt since the "
				"run (its build id differs): its PCs are left "
				"unsymbolized\n", prog,
				clean(str(objects[i].path), buf, sizeof(buf)));
	}
	if (n > 10)
		fprintf(stderr, "%s: warning: %zu more modules were rebuilt "
			"since the run\n", prog, n - 10);
}

/*
 * Sort the table, add the coverable PCs of every object (when cov), mark
 * each PC recorded and/or coverable, and symbolize it (when sym), object
 * by object.
 */
static void build_table(bool sym, bool cov)
{
	size_t i, j, nrec;
	uint64_t *rec;

	nrec = npcs = sort_unique(pcs, npcs);
	rec = xmalloc(nrec + 1, sizeof(*rec));
	if (nrec)
		memcpy(rec, pcs, nrec * sizeof(*rec));
	for (i = 0; i < nrec; i++)
		objects[KEY_OBJ(rec[i])].used = true;
	for (i = 0; cov && i < nobjects; i++) {
		struct object *o = &objects[i];

		object_coverable(o);
		for (j = 0; j < o->ncov; j++) {
			if (o->cov[j] >= 1ull << OFF_BITS)
				continue;
			PUSH(pcs, npcs, pcs_cap);
			pcs[npcs++] = KEY(i, o->cov[j]);
		}
	}
	npcs = sort_unique(pcs, npcs);
	info = xcalloc(npcs, sizeof(*info));
	flags = xcalloc(npcs, sizeof(*flags));
	for (i = j = 0; i < nrec; i++) {
		while (pcs[j] < rec[i])
			j++;
		flags[j] |= PC_RECORDED;
	}
	free(rec);
	for (i = 0; cov && i < nobjects; i++) {
		struct object *o = &objects[i];

		for (j = 0; j < o->ncov; j++)
			if (o->cov[j] < 1ull << OFF_BITS)
				flags[pc_index(KEY(i, o->cov[j]))] |=
					PC_COVERABLE;
		free(o->cov);
		o->cov = NULL;
	}
	for (i = 0; sym && i < npcs; i = j) {
		uint32_t obj = KEY_OBJ(pcs[i]);

		for (j = i; j < npcs && KEY_OBJ(pcs[j]) == obj; j++)
			;
		symbolize_object(obj, i, j);
	}
	for (i = 0; !sym && i < nobjects; i++)
		if (objects[i].used)
			object_load(&objects[i]);
	warn_rebuilt();
}

/* ---- what was covered, of what could be ----------------------------------- */

static uint32_t *fn_cov, *fn_hit;	/* per func id: coverable, covered PCs */
static uint32_t *file_cov, *file_hit;	/* per file (string id): PCs */
static uint32_t *file_lcov, *file_lhit;	/* lines */
static uint32_t *file_fns, *file_fhit;	/* functions */
static uint64_t total_cov, total_hit, total_lcov, total_lhit;
static uint64_t total_fns, total_fhit;
static bool cov_known;			/* some object's coverable PCs */

/* Totals per function and file for the selected areas, from the table. */
static void coverage_stats(void)
{
	uint64_t *lk = xmalloc(npcs + 1, sizeof(*lk));
	size_t i, j, n = 0;

	fn_cov = xcalloc(nfuncs, sizeof(*fn_cov));
	fn_hit = xcalloc(nfuncs, sizeof(*fn_hit));
	file_cov = xcalloc(nstrs, sizeof(*file_cov));
	file_hit = xcalloc(nstrs, sizeof(*file_hit));
	file_lcov = xcalloc(nstrs, sizeof(*file_lcov));
	file_lhit = xcalloc(nstrs, sizeof(*file_lhit));
	file_fns = xcalloc(nstrs, sizeof(*file_fns));
	file_fhit = xcalloc(nstrs, sizeof(*file_fhit));
	for (i = 0; i < nobjects; i++)
		cov_known |= objects[i].cov_state == COV_KNOWN;
	for (i = 0; i < npcs; i++) {
		const struct pcinfo *p = &info[i];
		bool hit = flags[i] & PC_RECORDED;

		if (!(flags[i] & PC_COVERABLE))
			continue;
		total_cov++;
		total_hit += hit;
		fn_cov[p->fn]++;
		fn_hit[p->fn] += hit;
		file_cov[p->file]++;
		file_hit[p->file] += hit;
		/* A line: its file and number, and whether it was hit. */
		if (p->file && p->line)
			lk[n++] = ((uint64_t)p->file << 32 | p->line) << 1 | hit;
	}
	/* Lines: sorted, a hit one sorts after its miss. */
	sort(lk, n, sizeof(*lk), u64_cmp);
	for (i = 0; i < n; i = j) {
		uint32_t file = (uint32_t)(lk[i] >> 33);

		for (j = i; j < n && lk[j] >> 1 == lk[i] >> 1; j++)
			;
		file_lcov[file]++;
		total_lcov++;
		if (lk[j - 1] & 1) {
			file_lhit[file]++;
			total_lhit++;
		}
	}
	free(lk);
	for (i = 1; i < nfuncs; i++) {
		if (!fn_cov[i])
			continue;
		file_fns[funcs[i].file]++;
		total_fns++;
		if (fn_hit[i]) {
			file_fhit[funcs[i].file]++;
			total_fhit++;
		}
	}
}

/*
 * A recorded PC that is no call site of a PC callback is a tail call: gcc
 * turns a function's last callback into a jump, and the callback records
 * its caller's return address, in whatever code called the instrumented
 * function (libc's thread start, libukcov's ukcov_run_captured or signal
 * wrapper, or another instrumented function after its call).  That PC is
 * not covered code of its module: it is counted apart and attributed to
 * nothing.  Where the coverable PCs are unknown, every PC is attributed.
 */
enum { ATTRIBUTED, TAIL_UNINSTRUMENTED, TAIL_NO_SITE };

static int pc_kind(size_t idx, const struct ukf_area *t)
{
	const struct object *o = &objects[KEY_OBJ(pcs[idx])];

	if (t->words != 1)	/* comparison records: other callbacks */
		return ATTRIBUTED;
	if (o->cov_state == COV_NONE)
		return TAIL_UNINSTRUMENTED;
	if (o->cov_state == COV_KNOWN && !(flags[idx] & PC_COVERABLE))
		return TAIL_NO_SITE;
	return ATTRIBUTED;
}

static void pct(char *buf, size_t len, uint64_t a, uint64_t b)
{
	if (!b)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%llu/%llu %.1f%%", (unsigned long long)a,
			 (unsigned long long)b, 100.0 * (double)a / (double)b);
}

/* Does some selected area hold PCs (not comparison records)? */
static bool pc_areas(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->c.nareas; i++)
		if (r->selected[i] && r->c.areas[i].words == 1)
			return true;
	return false;
}

/* One distinct PC of an area. */
struct hit {
	uint64_t idx;		/* into pcs and info */
	uint64_t count;		/* entries with this PC */
};

/* The distinct PCs of area t, in key order; *unknown = entries in no
 * module. */
static struct hit *area_hits(struct run *r, const struct ukf_area *t,
			     size_t *nhits, uint64_t *unknown)
{
	uint64_t *k = area_keys(r, t), i;
	struct hit *h = xmalloc(t->count + 1, sizeof(*h));
	size_t n = 0;

	*unknown = 0;
	for (i = 0; i < t->count; i++) {
		if (k[i] == KEY_NONE) {
			(*unknown)++;
			continue;
		}
		if (i && k[i] == k[i - 1]) {
			h[n - 1].count++;
			continue;
		}
		h[n].idx = pc_index(k[i]);
		h[n++].count = 1;
	}
	free(k);
	*nhits = n;
	return h;
}

/* Files in name order: a rank per string id, made once. */
static uint32_t *file_rank;

static int id_name_cmp(const void *x, const void *y)
{
	return strcmp(str(*(const uint32_t *)x), str(*(const uint32_t *)y));
}

static void rank_files(void)
{
	uint32_t *ids = xmalloc(nstrs, sizeof(*ids));
	size_t i, n = 0;

	file_rank = xcalloc(nstrs, sizeof(*file_rank));
	for (i = 0; i < npcs; i++)
		if (info[i].file && !file_rank[info[i].file]) {
			file_rank[info[i].file] = 1;
			ids[n++] = info[i].file;
		}
	sort(ids, n, sizeof(*ids), id_name_cmp);
	for (i = 0; i < n; i++)
		file_rank[ids[i]] = (uint32_t)i + 1;
	free(ids);
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
		snprintf(buf, len, "tid %llu%s%s%s%s%s",
			 (unsigned long long)a->tid, t->name[0] ? " \"" : "",
			 t->name, t->name[0] ? "\"" : "",
			 (a->tid & 0xffffffff) == (a->pid & 0xffffffff)
				 ? ", the main thread"
				 : "",
			 a->flags & UKCOV_AREA_UNFINISHED
				 ? ", unfinished (still running at the end)"
				 : "");
	else if (a->kind == UKCOV_AREA_COMMON)
		snprintf(buf, len, "0x%llx (inherited by every thread)",
			 (unsigned long long)a->handle);
	else if (a->kind == UKCOV_AREA_HANDLE)
		snprintf(buf, len, "0x%llx", (unsigned long long)a->handle);
	else
		snprintf(buf, len, "handlers of signal %llu (per-signal handle)",
			 (unsigned long long)(a->handle & KCOV_INSTANCE_MASK));
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

/* "1 entry is a" or "3 entries are", for "... tail call(s)". */
static const char *entries(uint64_t n, char *buf, size_t len)
{
	snprintf(buf, len, n == 1 ? "%llu entry is a" : "%llu entries are",
		 (unsigned long long)n);
	return buf;
}

/* A function reached by an area, with the area's covered coverable PCs. */
struct afn {
	uint32_t fn;
	uint32_t hit;		/* covered coverable PCs of fn in the area */
};

static int afn_name_cmp(const void *x, const void *y)
{
	const struct afn *a = x, *b = y;
	int c = strcmp(func_name(a->fn), func_name(b->fn));

	return c ? c : (a->fn > b->fn) - (a->fn < b->fn);
}

/* "name 3/7" for the summary's function lists. */
static void print_functions(const struct afn *v, size_t n, size_t max)
{
	static const char head[] = "               functions: ";
	size_t i, col = sizeof(head) - 1;
	char buf[256], item[320];

	fputs(head, stdout);
	for (i = 0; i < n && i < max; i++) {
		const char *s = clean(func_name(v[i].fn), buf, sizeof(buf));
		size_t w;

		if (fn_cov[v[i].fn])
			snprintf(item, sizeof(item), "%s %u/%u", s, v[i].hit,
				 fn_cov[v[i].fn]);
		else
			snprintf(item, sizeof(item), "%s", s);
		w = strlen(item) + 2;
		if (col + w > 78 && col > sizeof(head) - 1) {
			printf("\n%*s", (int)sizeof(head) - 1, "");
			col = sizeof(head) - 1;
		}
		printf("%s%s", item, i + 1 < n ? ", " : "");
		col += w;
	}
	if (n > max)
		printf("... (+%zu more; --functions lists all)", n - max);
	if (!n)
		fputs("(none resolved)", stdout);
	putchar('\n');
}

/* The files of the instrumented modules, by name. */
static void print_files(bool all)
{
	uint32_t *ids = xmalloc(nstrs, sizeof(*ids));
	size_t i, n = 0, shown;
	char buf[PATH_MAX], a[48], b[48], c[48];

	for (i = 1; i < nstrs; i++)
		if (file_cov[i])
			ids[n++] = (uint32_t)i;
	sort(ids, n, sizeof(*ids), id_name_cmp);
	if (n)
		printf("\n%-40s %20s %20s %16s\n", "FILE", "PCS", "LINES",
		       "FUNCTIONS");
	shown = all ? n : (n < 20 ? n : 20);
	for (i = 0; i < shown; i++) {
		const char *f = clean(str(ids[i]), buf, sizeof(buf));
		size_t len = strlen(f);

		pct(a, sizeof(a), file_hit[ids[i]], file_cov[ids[i]]);
		pct(b, sizeof(b), file_lhit[ids[i]], file_lcov[ids[i]]);
		snprintf(c, sizeof(c), "%u/%u", file_fhit[ids[i]],
			 file_fns[ids[i]]);
		/* Long paths keep their end, where the name is. */
		printf("%s%-40s %20s %20s %16s\n", len > 40 ? "..." : "",
		       len > 40 ? f + len - 37 : f, a, b, c);
	}
	if (n > shown)
		printf("... (+%zu more files; --functions lists all)\n",
		       n - shown);
	free(ids);
}

static void summary(struct run *r, bool all_functions)
{
	struct ukf *c = &r->c;
	size_t i, npids = 0, missing = 0;
	char buf[PATH_MAX], a[48], b[48];
	bool warned = false;

	for (i = 0; i < c->nareas; i++)
		npids += !i || c->areas[i].a->pid != c->areas[i - 1].a->pid;
	printf("%s: ", clean(r->path, buf, sizeof(buf)));
	run_status(c);
	printf("%s mode, %zu area%s from %zu process%s\n",
	       c->nareas ? mode_name(c->areas[0].a->mode) : "pc", c->nareas,
	       c->nareas == 1 ? "" : "s", npids, npids == 1 ? "" : "es");
	if (!c->run)
		printf("the run's end was not recorded (ukcov-run did not "
		       "finish, or the file is cut short): areas may be "
		       "missing\n");
	if (!c->nareas) {
		printf("no coverage was recorded (did the program exit "
		       "through exit(3)?)\n");
		return;
	}
	printf("\n%-24s %9s %8s %6s %6s %6s %18s\n", "AREA", "ENTRIES",
	       "UNIQUE", "FUNCS", "FILES", "LINES", "COVERED PCS");
	for (i = 0; i < c->nareas; i++) {
		const struct ukf_area *t = &c->areas[i];
		size_t nh, j, nf = 0, nfi = 0, nl = 0, m;
		uint64_t unknown, *fiv, *lv, hit = 0, tails[3] = { 0 };
		struct afn *fv;
		struct hit *h;
		char desc[128];

		if (!r->selected[i])
			continue;
		h = area_hits(r, t, &nh, &unknown);
		fv = xmalloc(nh + 1, sizeof(*fv));
		fiv = xmalloc(nh + 1, sizeof(*fiv));
		lv = xmalloc(nh + 1, sizeof(*lv));
		for (j = 0; j < nh; j++) {
			const struct pcinfo *p = &info[h[j].idx];
			bool cv = flags[h[j].idx] & PC_COVERABLE;
			int kind = pc_kind(h[j].idx, t);

			if (kind != ATTRIBUTED) {
				tails[kind] += h[j].count;
				objects[KEY_OBJ(pcs[h[j].idx])].tails +=
					h[j].count;
				continue;
			}
			hit += cv;
			if (p->fn)
				fv[nf++] = (struct afn){ p->fn, cv };
			if (p->file)
				fiv[nfi++] = p->file;
			if (p->file && p->line)
				lv[nl++] = (uint64_t)p->file << 32 | p->line;
		}
		/* Each function once, with its covered PCs summed. */
		sort(fv, nf, sizeof(*fv), afn_name_cmp);
		for (j = m = 0; j < nf; j++) {
			if (m && fv[m - 1].fn == fv[j].fn)
				fv[m - 1].hit += fv[j].hit;
			else
				fv[m++] = fv[j];
		}
		nf = m;
		nfi = sort_unique(fiv, nfi);
		nl = sort_unique(lv, nl);
		describe(t, desc, sizeof(desc));
		pct(a, sizeof(a), hit, total_cov);
		printf("%-24s %9llu %8zu %6zu %6zu %6zu %18s   %s %s\n",
		       t->label, (unsigned long long)t->count,
		       nh + (unknown ? 1 : 0), nf, nfi, nl,
		       t->words == 4 ? "-" : a, kind_name(t->a), desc);
		print_functions(fv, nf, all_functions ? nf : 12);
		if (unknown)
			printf("%26s%llu entries outside every loaded module\n",
			       "", (unsigned long long)unknown);
		if (tails[TAIL_UNINSTRUMENTED])
			printf("%26s%s tail call%s into uninstrumented code, "
			       "not attributed\n", "",
			       entries(tails[TAIL_UNINSTRUMENTED], a, sizeof(a)),
			       tails[TAIL_UNINSTRUMENTED] == 1 ? "" : "s");
		if (tails[TAIL_NO_SITE])
			printf("%26s%s tail call%s at no coverage call site, "
			       "not attributed\n", "",
			       entries(tails[TAIL_NO_SITE], a, sizeof(a)),
			       tails[TAIL_NO_SITE] == 1 ? "" : "s");
		if (t->a->dropped) {
			printf("%26sWARNING: area full: %llu entries dropped "
			       "(capacity %llu); rerun ukcov-run with a larger "
			       "--area-words\n", "",
			       (unsigned long long)t->a->dropped,
			       (unsigned long long)t->a->capacity);
			warned = true;
		}
		free(h);
		free(fv);
		free(fiv);
		free(lv);
	}
	if (cov_known) {
		pct(a, sizeof(a), total_hit, total_cov);
		pct(b, sizeof(b), total_lhit, total_lcov);
		printf("\nall selected areas: %s of the coverable PCs, %s of "
		       "the lines, %llu/%llu functions reached\n", a, b,
		       (unsigned long long)total_fhit,
		       (unsigned long long)total_fns);
		print_files(all_functions);
		if (total_fns > total_fhit)
			printf("%llu function%s never reached (--uncovered "
			       "lists them)\n",
			       (unsigned long long)(total_fns - total_fhit),
			       total_fns - total_fhit == 1 ? "" : "s");
	}
	printf("\nsymbols:\n");
	for (i = 0; i < nobjects; i++) {
		struct object *o = &objects[i];
		const char *p = clean(str(o->path), buf, sizeof(buf));

		if (!o->used && o->cov_state != COV_KNOWN)
			continue;
		/* Thousands of vanished modules: a few are enough. */
		if (o->missing && ++missing > 20)
			continue;
		printf("  %s: ", p);
		if (o->missing)
			printf("cannot be read (%s): PCs shown as offsets "
			       "only\n", o->why);
		else if (o->mismatch)
			printf("WARNING: its build id differs from the run's: "
			       "it was rebuilt since; its PCs are left "
			       "unsymbolized\n");
		else if (o->dwarf)
			printf("DWARF (functions, files, lines, inlined "
			       "frames)");
		else
			printf("symbol table only (%s): functions, no files "
			       "or lines",
			       no_dwarf ? "--no-dwarf"
					: "no debug info; build it with -g");
		if (o->missing || o->mismatch)
			continue;
		if (o->cov_state == COV_KNOWN)
			printf("; %zu coverable PCs (%s)%s", o->ncov,
			       o->cov_how, o->used ? "" : ", none reached");
		else if (o->cov_state == COV_NONE)
			printf("; not instrumented");
		if (o->cov_state != COV_UNKNOWN && o->tails)
			printf("; %s tail call%s into it, not attributed\n",
			       entries(o->tails, a, sizeof(a)),
			       o->tails == 1 ? "" : "s");
		else if (o->cov_state != COV_UNKNOWN)
			putchar('\n');
		else
			printf("; coverable PCs unknown: %s\n",
			       o->cov_why[0] ? o->cov_why : "not computed");
	}
	if (missing > 20)
		printf("  ... and %zu more modules that cannot be read\n",
		       missing - 20);
	if (warned)
		printf("\nsome areas overflowed: their coverage is incomplete\n");
}

/* --uncovered: the functions no selected area reached, by file. */
static int fn_file_cmp(const void *x, const void *y)
{
	const struct func *a = &funcs[*(const uint32_t *)x],
			  *b = &funcs[*(const uint32_t *)y];
	int c;

	if (a->file != b->file) {
		if (!a->file || !b->file)
			return a->file ? -1 : 1;
		return strcmp(str(a->file), str(b->file));
	}
	if (a->obj != b->obj)
		return a->obj < b->obj ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	c = strcmp(str(a->name), str(b->name));
	return c;
}

static void uncovered(void)
{
	uint32_t *v = xmalloc(nfuncs, sizeof(*v));
	size_t i, n = 0;
	char buf[PATH_MAX];

	if (!cov_known) {
		printf("coverable PCs unknown (see the summary's symbols): "
		       "cannot tell what was not reached\n");
		free(v);
		return;
	}
	for (i = 1; i < nfuncs; i++)
		if (fn_cov[i] && !fn_hit[i])
			v[n++] = (uint32_t)i;
	sort(v, n, sizeof(*v), fn_file_cmp);
	printf("%zu of %llu functions never reached in the selected areas\n",
	       n, (unsigned long long)total_fns);
	for (i = 0; i < n; i++) {
		const struct func *f = &funcs[v[i]];

		if (!i || f->file != funcs[v[i - 1]].file ||
		    (!f->file && f->obj != funcs[v[i - 1]].obj)) {
			if (f->file)
				printf("%s:\n", clean(str(f->file), buf,
						      sizeof(buf)));
			else
				printf("%s (no source file):\n",
				       clean(str(objects[f->obj].path), buf,
					     sizeof(buf)));
		}
		if (f->line)
			printf("  %5u %s (%u PC%s)\n", f->line,
			       clean(str(f->name), buf, sizeof(buf)),
			       fn_cov[v[i]], fn_cov[v[i]] == 1 ? "" : "s");
		else
			printf("        %s (%u PC%s)\n",
			       clean(str(f->name), buf, sizeof(buf)),
			       fn_cov[v[i]], fn_cov[v[i]] == 1 ? "" : "s");
	}
	free(v);
}

/* ---- lcov --------------------------------------------------------------- */

/* One covered line of one area. */
struct fl {
	uint32_t file, line;
	uint32_t fn;
	uint64_t count;
	uint64_t key;		/* the lowest PC seen, for a function's entry */
};

static int fl_cmp(const void *x, const void *y)
{
	const struct fl *a = x, *b = y;

	if (a->file != b->file)
		return file_rank[a->file] < file_rank[b->file] ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->key < b->key ? -1 : a->key > b->key;
}

/* The lines of area t with an absolute source path, sorted by file, line. */
static size_t area_lines(struct run *r, const struct ukf_area *t,
			 struct fl **out)
{
	size_t nh, j, n = 0;
	uint64_t unknown;
	struct hit *h = area_hits(r, t, &nh, &unknown);
	struct fl *v = xmalloc(nh + 1, sizeof(*v));

	for (j = 0; j < nh; j++) {
		const struct pcinfo *p = &info[h[j].idx];

		/* genhtml needs absolute paths; tail calls are no lines. */
		if (!p->file || !p->line || str(p->file)[0] != '/' ||
		    pc_kind(h[j].idx, t) != ATTRIBUTED)
			continue;
		v[n++] = (struct fl){ p->file, p->line, p->fn, h[j].count,
				      pcs[h[j].idx] };
	}
	free(h);
	sort(v, n, sizeof(*v), fl_cmp);
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

/* A function's FN line: its declaration, else its first line. */
static uint32_t fn_line(uint32_t fn, uint32_t fallback)
{
	return funcs[fn].line ? funcs[fn].line : fallback;
}

/*
 * lcov output, linear in what ran and in the program's size: each area is
 * a test (TN) holding only the lines and functions it reached, with their
 * counts; one more record set, in a test without a name, holds every
 * coverable line (DA:line,0) and every function with coverable PCs
 * (FNDA:0) of every file, so that genhtml, which adds tests up, shows real
 * percentages.  Every file's coverable lines and functions are kept sorted
 * by file, each file's span found through first[] and count[] (by string
 * id).
 */
struct fline {
	uint32_t file, line;
};

static struct fline *all_lines;
static uint32_t *line_first, *line_count;
static uint32_t *all_fns;
static uint32_t *fn_first, *fn_count;

static int fline_cmp(const void *x, const void *y)
{
	const struct fline *a = x, *b = y;

	if (a->file != b->file)
		return file_rank[a->file] < file_rank[b->file] ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static int fn_line_cmp(const void *x, const void *y)
{
	const struct func *a = &funcs[*(const uint32_t *)x],
			  *b = &funcs[*(const uint32_t *)y];

	if (a->file != b->file)
		return file_rank[a->file] < file_rank[b->file] ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return strcmp(str(a->name), str(b->name));
}

static bool lcov_file(uint32_t file)
{
	/* genhtml needs absolute paths. */
	return file && str(file)[0] == '/';
}

static void lcov_prepare(void)
{
	size_t i, n = 0, m = 0;

	all_lines = xmalloc(npcs + 1, sizeof(*all_lines));
	line_first = xcalloc(nstrs, sizeof(*line_first));
	line_count = xcalloc(nstrs, sizeof(*line_count));
	fn_first = xcalloc(nstrs, sizeof(*fn_first));
	fn_count = xcalloc(nstrs, sizeof(*fn_count));
	for (i = 0; i < npcs; i++) {
		const struct pcinfo *p = &info[i];

		if ((flags[i] & PC_COVERABLE) && lcov_file(p->file) && p->line)
			all_lines[n++] = (struct fline){ p->file, p->line };
	}
	sort(all_lines, n, sizeof(*all_lines), fline_cmp);
	for (i = 0; i < n; i++) {
		if (m && !fline_cmp(&all_lines[m - 1], &all_lines[i]))
			continue;
		if (!line_count[all_lines[i].file])
			line_first[all_lines[i].file] = (uint32_t)m;
		line_count[all_lines[i].file]++;
		all_lines[m++] = all_lines[i];
	}
	all_fns = xmalloc(nfuncs, sizeof(*all_fns));
	for (i = 1, n = 0; i < nfuncs; i++)
		if (fn_cov[i] && lcov_file(funcs[i].file))
			all_fns[n++] = (uint32_t)i;
	sort(all_fns, n, sizeof(*all_fns), fn_line_cmp);
	for (i = 0; i < n; i++) {
		uint32_t file = funcs[all_fns[i]].file;

		if (!fn_count[file])
			fn_first[file] = (uint32_t)i;
		fn_count[file]++;
	}
}

/* A function an area reached: the count of its lowest PC, normally its
 * entry block, in the file it is declared in (else its first line's). */
struct fnrec {
	uint32_t fn, file, line;
	uint64_t count, key;
};

static int fnrec_cmp(const void *x, const void *y)
{
	const struct fnrec *a = x, *b = y;

	if (a->fn != b->fn)
		return a->fn < b->fn ? -1 : 1;
	return a->key < b->key ? -1 : a->key > b->key;
}

static int fnrec_file_cmp(const void *x, const void *y)
{
	const struct fnrec *a = x, *b = y;

	if (a->file != b->file)
		return file_rank[a->file] < file_rank[b->file] ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->fn < b->fn ? -1 : a->fn > b->fn;
}

static void put_fn(FILE *f, uint32_t fn, uint32_t line, uint64_t count)
{
	char buf[PATH_MAX];
	const char *name = clean(func_name(fn), buf, sizeof(buf));

	fprintf(f, "FN:%u,%s\nFNDA:%llu,%s\n", line, name,
		(unsigned long long)count, name);
}

/* One lcov test (TN) for area t: the lines and functions it reached. */
static int write_lcov(FILE *f, struct run *r, const struct ukf_area *t)
{
	struct fl *v;
	size_t n = area_lines(r, t, &v), i = 0, j = 0, k, m = 0;
	struct fnrec *fns = xmalloc(n + 1, sizeof(*fns));
	char tn[192], buf[PATH_MAX];

	for (k = 0; k < n; k++) {
		uint32_t fn = v[k].fn;
		bool own = fn && lcov_file(funcs[fn].file);

		if (fn)
			fns[m++] = (struct fnrec){
				fn, own ? funcs[fn].file : v[k].file,
				funcs[fn].line ? funcs[fn].line : v[k].line,
				v[k].count, v[k].key
			};
	}
	/* Each function once, at its lowest PC; then by file and line. */
	sort(fns, m, sizeof(*fns), fnrec_cmp);
	for (k = j = 0; k < m; k++)
		if (!j || fns[j - 1].fn != fns[k].fn)
			fns[j++] = fns[k];
	m = j;
	sort(fns, m, sizeof(*fns), fnrec_file_cmp);
	test_name(t->label, tn, sizeof(tn));
	/* The files of its lines and of its functions, merged in order. */
	for (i = j = 0; i < n || j < m;) {
		uint32_t file = j == m || (i < n && file_rank[v[i].file] <=
							     file_rank[fns[j].file])
					? v[i].file
					: fns[j].file;
		size_t lf = 0, lh = 0, nf = 0;

		fprintf(f, "TN:%s\nSF:%s\n", tn,
			clean(str(file), buf, sizeof(buf)));
		for (; j < m && fns[j].file == file; j++, nf++)
			put_fn(f, fns[j].fn, fns[j].line, fns[j].count);
		fprintf(f, "FNF:%zu\nFNH:%zu\n", nf, nf);
		/* Several PCs on one line: add up. */
		while (i < n && v[i].file == file) {
			uint32_t line = v[i].line;
			uint64_t sum = 0;

			for (; i < n && v[i].file == file && v[i].line == line;
			     i++)
				sum += v[i].count;
			fprintf(f, "DA:%u,%llu\n", line,
				(unsigned long long)sum);
			lf++;
			lh += sum > 0;
		}
		fprintf(f, "LF:%zu\nLH:%zu\nend_of_record\n", lf, lh);
	}
	free(fns);
	free(v);
	return ferror(f) ? -1 : 0;
}

/* Every coverable line and function of every file, all zeros, in a test
 * without a name.  The number of files. */
static size_t write_coverable(FILE *f)
{
	uint32_t *ids = xmalloc(nstrs, sizeof(*ids));
	size_t i, k, n = 0;
	char buf[PATH_MAX];

	for (i = 1; i < nstrs; i++)
		if (line_count[i] || fn_count[i])
			ids[n++] = (uint32_t)i;
	sort(ids, n, sizeof(*ids), id_name_cmp);
	for (i = 0; i < n; i++) {
		const struct fline *cl = &all_lines[line_first[ids[i]]];
		const uint32_t *fl = &all_fns[fn_first[ids[i]]];

		fprintf(f, "TN:\nSF:%s\n", clean(str(ids[i]), buf, sizeof(buf)));
		for (k = 0; k < fn_count[ids[i]]; k++)
			put_fn(f, fl[k], fn_line(fl[k], 1), 0);
		fprintf(f, "FNF:%u\nFNH:0\n", fn_count[ids[i]]);
		for (k = 0; k < line_count[ids[i]]; k++)
			fprintf(f, "DA:%u,0\n", cl[k].line);
		fprintf(f, "LF:%u\nLH:0\nend_of_record\n", line_count[ids[i]]);
	}
	free(ids);
	return n;
}

static void lcov_dir(struct run *r, const char *dir)
{
	size_t i, nfiles = 0, skipped = 0;
	char buf[PATH_MAX], path[PATH_MAX];
	FILE *f;

	if (mkdir(dir, 0755) && errno != EEXIST)
		die(1, "cannot create %s: %s", clean(dir, buf, sizeof(buf)),
		    strerror(errno));
	for (i = 0; i < r->c.nareas; i++) {
		const struct ukf_area *t = &r->c.areas[i];
		char tn[192];
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
			die(1, "cannot write %s: %s",
			    clean(path, buf, sizeof(buf)), strerror(errno));
		if (write_lcov(f, r, t) | fclose(f))
			die(1, "cannot write %s: %s",
			    clean(path, buf, sizeof(buf)), strerror(errno));
		nfiles++;
	}
	/* Labels never make this name: they have a ':' or are main, common. */
	snprintf(path, sizeof(path), "%s/coverable.info", dir);
	f = fopen(path, "w");
	if (!f)
		die(1, "cannot write %s: %s", clean(path, buf, sizeof(buf)),
		    strerror(errno));
	if (write_coverable(f)) {
		if (ferror(f) | fclose(f))
			die(1, "cannot write %s: %s",
			    clean(path, buf, sizeof(buf)), strerror(errno));
		nfiles++;
	} else {
		fclose(f);
		unlink(path);
	}
	dir = clean(dir, buf, sizeof(buf));
	fprintf(stderr, "%s: wrote %zu lcov tracefile%s to %s/ (genhtml -o "
		"html %s/*.info)", prog, nfiles, nfiles == 1 ? "" : "s",
		dir, dir);
	if (skipped)
		fprintf(stderr, "; %zu area%s without lines left out", skipped,
			skipped == 1 ? "" : "s");
	fputc('\n', stderr);
}

static void lcov_merged(struct run *r, const char *path)
{
	bool out = !strcmp(path, "-");
	FILE *f = out ? stdout : fopen(path, "w");
	char buf[PATH_MAX];
	const char *shown = clean(path, buf, sizeof(buf));
	size_t i;

	if (!f)
		die(1, "cannot write %s: %s", shown, strerror(errno));
	for (i = 0; i < r->c.nareas; i++)
		if (r->selected[i] && write_lcov(f, r, &r->c.areas[i]))
			die(1, "cannot write %s: %s", shown, strerror(errno));
	write_coverable(f);
	if (ferror(f) | (out ? fflush(f) : fclose(f)))
		die(1, "cannot write %s: %s", shown, strerror(errno));
	if (!out)
		fprintf(stderr, "%s: wrote %s (one lcov test per area; genhtml "
			"--show-details -o html %s)\n", prog, shown, shown);
}

/* ---- raw entries -------------------------------------------------------- */

static void print_sym(uint64_t k, const struct ukf_area *t)
{
	size_t idx = pc_index(k);
	const struct pcinfo *p = &info[idx];
	char buf[PATH_MAX];
	int kind = pc_kind(idx, t);

	if (objects[KEY_OBJ(k)].mismatch) {
		printf(" (module rebuilt since the run: not symbolized)");
		return;
	}
	printf(" %s", p->fn ? clean(func_name(p->fn), buf, sizeof(buf)) : "??");
	if (kind != ATTRIBUTED) {
		printf(" (tail call %s: not attributed)",
		       kind == TAIL_UNINSTRUMENTED ? "into uninstrumented code"
						   : "at no coverage call site");
		return;
	}
	if (p->file)
		printf(" %s:%u", clean(base_name(str(p->file)), buf, sizeof(buf)),
		       p->line);
	if (p->chain)
		printf(" (%s)", clean(str(p->chain), buf, sizeof(buf)));
}

static void print_key(uint64_t k, uint64_t pc, bool sym,
		      const struct ukf_area *t)
{
	char buf[PATH_MAX];

	if (k == KEY_NONE) {
		printf("?+0x%llx", (unsigned long long)pc);
		return;
	}
	printf("%s+0x%llx",
	       clean(str(objects[KEY_OBJ(k)].name), buf, sizeof(buf)),
	       (unsigned long long)KEY_OFF(k));
	if (sym)
		print_sym(k, t);
}

static void print_cmp(const uint64_t *e)
{
	unsigned int size = 1u << ((e[0] >> 1) & 3);

	printf(" %s%u%s 0x%llx 0x%llx",
	       e[0] & UKCOV_CMP_FLOAT ? "cmpf" : "cmp", size * 8,
	       e[0] & KCOV_CMP_CONST ? " const" : "",
	       (unsigned long long)e[1], (unsigned long long)e[2]);
}

/* cmp records by PC key (word 3), then type and operands. */
static int cmp4_cmp(const void *x, const void *y)
{
	static const int order[4] = { 3, 0, 1, 2 };
	const uint64_t *a = x, *b = y;
	int i;

	for (i = 0; i < 4; i++)
		if (a[order[i]] != b[order[i]])
			return a[order[i]] < b[order[i]] ? -1 : 1;
	return 0;
}

static void raw(struct run *r, bool unique, bool sym)
{
	size_t i;
	uint64_t j;

	for (i = 0; i < r->c.nareas; i++) {
		const struct ukf_area *t = &r->c.areas[i];
		bool cmp = t->words == 4;
		uint64_t n = t->count, nu = 0, *v = NULL;

		if (!r->selected[i])
			continue;
		if (unique) {
			/* By module+offset, not address: stable under ASLR.
			 * cmp records: the PC's key in word 3. */
			v = xmalloc(n * t->words + 1, sizeof(*v));
			for (j = 0; j < n; j++) {
				if (cmp)
					memcpy(&v[j * 4], &t->entries[j * 4], 24);
				v[j * t->words + t->words - 1] =
					locate(r, t->a->pid, entry_pc(t, j));
			}
			sort(v, n, t->words * 8, cmp ? cmp4_cmp : u64_cmp);
			for (j = 0; j < n; j++)
				nu += !j || memcmp(&v[j * t->words],
						   &v[(j - 1) * t->words],
						   t->words * 8);
			printf("# %s: %llu %s, %llu unique\n", t->label,
			       (unsigned long long)n,
			       cmp ? "comparisons" : "entries",
			       (unsigned long long)nu);
		} else {
			printf("# %s: %llu %s\n", t->label,
			       (unsigned long long)n,
			       cmp ? "comparisons" : "entries");
		}
		for (j = 0; j < n; j++) {
			const uint64_t *e;
			uint64_t pc;

			if (unique) {
				e = &v[j * t->words];
				if (j && !memcmp(e, e - t->words, t->words * 8))
					continue;
				if (e[t->words - 1] == KEY_NONE)
					printf("?");
				else
					print_key(e[t->words - 1], 0, sym, t);
			} else {
				e = &t->entries[j * t->words];
				pc = e[t->words - 1];
				print_key(locate(r, t->a->pid, pc), pc, sym, t);
			}
			if (cmp)
				print_cmp(e);
			putchar('\n');
		}
		free(v);
	}
}

/* ---- diff --------------------------------------------------------------- */

/* A PC as --diff compares it: module name and offset, so that two runs
 * of one build compare whatever their objects' order. */
struct dkey {
	uint32_t mod;		/* string id of the module's file name */
	uint32_t fn;
	uint64_t off;
	uint64_t idx;		/* into the PC table */
};

static int dkey_cmp(const void *x, const void *y)
{
	const struct dkey *a = x, *b = y;

	if (a->mod != b->mod)
		return a->mod < b->mod ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

static struct dkey *run_keys(struct run *r, size_t *n)
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
		for (j = 0; j < nh; j++) {
			uint64_t k = pcs[h[j].idx];

			if (pc_kind(h[j].idx, &r->c.areas[i]) != ATTRIBUTED)
				continue;	/* tail calls: not covered code */
			PUSH(v, m, cap);
			v[m++] = (struct dkey){ objects[KEY_OBJ(k)].name,
						info[h[j].idx].fn, KEY_OFF(k),
						h[j].idx };
		}
		free(h);
	}
	if (m)
		sort(v, m, sizeof(*v), dkey_cmp);
	for (i = j = 0; i < m; i++)
		if (!j || dkey_cmp(&v[j - 1], &v[i]))
			v[j++] = v[i];
	*n = j;
	return v;
}

/* A group of --diff: the PCs of one function of one module. */
static int group_cmp(const void *x, const void *y)
{
	const struct dkey *a = x, *b = y;

	if (a->mod != b->mod)
		return a->mod < b->mod ? -1 : 1;
	if (a->fn != b->fn)
		return a->fn < b->fn ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

struct group {
	size_t first, n;
	uint32_t mod;
	uint64_t off;		/* its lowest PC: groups in address order */
};

static int group_order(const void *x, const void *y)
{
	const struct group *a = x, *b = y;

	if (a->mod != b->mod)
		return strcmp(str(a->mod), str(b->mod));
	return a->off < b->off ? -1 : a->off > b->off;
}

#define DIFF_SHOWN 32	/* locations shown per function; -r -u lists all */

/* Print what a covers and b does not, grouped by function. */
static size_t diff_one(const char *an, const struct dkey *a, size_t na,
		       const char *bn, const struct dkey *b, size_t nb)
{
	struct dkey *only = xmalloc(na + 1, sizeof(*only));
	struct group *g;
	size_t i = 0, j = 0, n = 0, ng = 0, k;
	char buf[PATH_MAX], buf2[PATH_MAX];

	while (i < na) {
		int c = j < nb ? dkey_cmp(&a[i], &b[j]) : -1;

		if (c < 0)
			only[n++] = a[i++];
		else if (c > 0)
			j++;
		else
			i++, j++;
	}
	printf("covered by %s and not by %s: %zu PC%s\n",
	       clean(an, buf, sizeof(buf)), clean(bn, buf2, sizeof(buf2)), n,
	       n == 1 ? "" : "s");
	sort(only, n, sizeof(*only), group_cmp);
	g = xmalloc(n + 1, sizeof(*g));
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && only[j].mod == only[i].mod &&
			    only[j].fn == only[i].fn;
		     j++)
			;
		g[ng++] = (struct group){ i, j - i, only[i].mod, only[i].off };
	}
	sort(g, ng, sizeof(*g), group_order);
	for (i = 0; i < ng; i++) {
		const char *fn = func_name(only[g[i].first].fn);

		printf("  %s %s:", clean(str(g[i].mod), buf, sizeof(buf)),
		       fn ? clean(fn, buf2, sizeof(buf2)) : "??");
		for (k = g[i].first; k < g[i].first + g[i].n; k++) {
			const struct pcinfo *p = &info[only[k].idx];

			if (k - g[i].first == DIFF_SHOWN) {
				printf(" ...");
				break;
			}
			if (p->file && p->line)
				printf(" %s:%u",
				       clean(base_name(str(p->file)), buf,
					     sizeof(buf)),
				       p->line);
			else
				printf(" +0x%llx",
				       (unsigned long long)only[k].off);
		}
		printf("  (%zu PC%s)\n", g[i].n, g[i].n == 1 ? "" : "s");
	}
	free(g);
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
"  -U, --uncovered        list the functions no selected area reached\n"
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
		{ "uncovered", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* Static: what hangs off them stays reachable until exit. */
	static char **specs;
	static struct run r, r2;
	size_t nspecs = 0;
	const char *ldir = NULL, *lmerged = NULL, *other = NULL;
	bool functions = false, do_raw = false, unique = false, sym = false;
	bool unreached = false, cov;
	int opt;

	specs = xcalloc((size_t)argc, sizeof(*specs));
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "a:fl:L:rusd:Uh", opts, NULL)) !=
	       -1) {
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
		case 'U':
			unreached = true;
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
	if (other && (do_raw || ldir || lmerged || unreached))
		die(2, "--diff does not combine with --raw, --lcov or "
		    "--uncovered");
	if (unreached && (do_raw || ldir || lmerged))
		die(2, "--uncovered does not combine with --raw or --lcov");

	run_load(&r, argv[optind]);
	select_areas(&r, specs, nspecs);
	collect_pcs(&r);
	/* Coverable PCs are those of the PC callbacks: not for cmp areas. */
	cov = pc_areas(&r);
	if (other) {
		struct dkey *a, *b;
		size_t na, nb;

		run_load(&r2, other);
		select_areas(&r2, specs, nspecs);
		collect_pcs(&r2);
		build_table(true, cov || pc_areas(&r2));
		a = run_keys(&r, &na);
		b = run_keys(&r2, &nb);
		diff_one(r.path, a, na, r2.path, b, nb);
		diff_one(r2.path, b, nb, r.path, a, na);
		free(a);
		free(b);
		return fflush(stdout) ? 1 : 0;
	}
	if (do_raw) {
		build_table(sym, cov && sym);
		raw(&r, unique, sym);
		return fflush(stdout) ? 1 : 0;
	}
	build_table(true, cov);
	coverage_stats();
	rank_files();
	if (unreached) {
		uncovered();
		return fflush(stdout) ? 1 : 0;
	}
	if (ldir || lmerged)
		lcov_prepare();
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
					 : "no module of the run has usable "
					   "DWARF; build with -g, and rerun "
					   "after a rebuild");
	}
	if (!ldir && !lmerged)
		summary(&r, functions);
	return 0;
}
