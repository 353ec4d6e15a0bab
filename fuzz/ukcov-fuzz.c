// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for ukcov's control API (issue 7).
 *
 * An input is a program of operations: open, KCOV_INIT_TRACE with edge
 * sizes, ukcov_mmap with good and bad lengths, offsets and prots, ENABLE in
 * both modes (and bad ones), DISABLE, KCOV_RESET_TRACE, KCOV_REMOTE_ENABLE
 * with generated argument structs (bad pointers: NULL, a PROT_NONE page, a
 * struct whose handles[] run into it; counts up to 257), remote start/stop
 * for registered and unregistered handles (nesting past the depth), entries
 * generated on demand, close, scribbling word 0, raising a signal whose
 * handler opens sections (and may raise it again, nested), unknown
 * requests and foreign descriptors, and a second thread that operations
 * hop to (and that may exit while bound and inside sections).
 *
 * Every return value and errno is checked against a small model of kcov's
 * state machine (reference §2.2, with ukcov's rules: a thread may hold a
 * local and a remote kcov, EOPNOTSUPP never happens, KCOV_RESET_TRACE per
 * §6.2, any ioctl from a signal handler is EINVAL).  The model also tracks
 * every kcov's count word, the exact content of the first SHADOW words of
 * its area, ukcov_get_stats() (dropped entries, sections appended,
 * discarded, skipped), the calling thread's common handle, and when the
 * object must be alive (a dup()ed descriptor keeps it alive, as under
 * Linux; once every descriptor is closed and nothing is bound or in
 * flight, its mapping of the area must be gone).  Any mismatch aborts
 * with a description.
 *
 * How the runtime under test is linked (see fuzz/fuzz.mk): ukcov's control
 * sources are compiled into this program with -fsanitize=fuzzer-no-link
 * (plus ASan and UBSan), so libFuzzer is guided by ukcov's own branches.
 * libFuzzer's runtime defines the __sanitizer_cov_trace_cmp* callbacks
 * itself, so src/callbacks.c is compiled bare (no coverage, no sanitizer),
 * with every callback renamed to ukcov_test_* by -D on the command line;
 * this harness calls the renamed callbacks directly to generate entries,
 * each from a single call site, so every recorded PC is known exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ukcov.h>

/* src/callbacks.c, renamed (fuzz/fuzz.mk). */
void ukcov_test_trace_pc(void);
void ukcov_test_trace_cmp1(uint8_t a, uint8_t b);
void ukcov_test_trace_cmp2(uint16_t a, uint16_t b);
void ukcov_test_trace_cmp4(uint32_t a, uint32_t b);
void ukcov_test_trace_cmp8(uint64_t a, uint64_t b);
void ukcov_test_trace_const_cmp1(uint8_t a, uint8_t b);
void ukcov_test_trace_const_cmp2(uint16_t a, uint16_t b);
void ukcov_test_trace_const_cmp4(uint32_t a, uint32_t b);
void ukcov_test_trace_const_cmp8(uint64_t a, uint64_t b);
void ukcov_test_trace_cmpf(float a, float b);
void ukcov_test_trace_cmpd(double a, double b);
void ukcov_test_trace_switch(uint64_t val, uint64_t *cases);

/* ---- limits of one input -------------------------------------------- */
#define MAXOBJ 10 /* kcov objects opened per input */
#define NSLOT 4	  /* descriptor slots the operations name */
#define MAXOPS 300
#define SHADOW 8192 /* words of each area whose content is modelled */
#define DEPTH UKCOV_REMOTE_MAX_DEPTH
#define NCTX 3 /* task context, a handler, a nested handler */
#define IRQ_WORDS_DEFAULT 0x40000ul
#define HUGE_WORDS ((unsigned long)INT_MAX / sizeof(unsigned long))

static int sigfuzz; /* SIGRTMIN + 4: libFuzzer uses USR1/USR2/ALRM */
static unsigned long irq_words = IRQ_WORDS_DEFAULT;

/* ---- failure reporting ---------------------------------------------- */
static unsigned int opno;
static const char *opname = "init";

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt,
								...)
{
	va_list ap;

	fprintf(stderr, "ukcov-fuzz: op %u (%s): ", opno, opname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			die("check failed: %s (line %d)", #c, __LINE__);       \
	} while (0)

/* r is the call's result, e its errno; want_err 0 means success. */
static void expect(const char *what, long r, int e, int want_err)
{
	if (want_err == 0 && r != 0)
		die("%s: got %ld errno %d (%s), want 0", what, r, e,
		    strerror(e));
	if (want_err != 0 && (r != -1 || e != want_err))
		die("%s: got %ld errno %d (%s), want -1 errno %d (%s)", what, r,
		    e, strerror(e), want_err, strerror(want_err));
}

/* ---- the model ------------------------------------------------------ */
enum ostate { O_OPEN, O_READY, O_LOCAL, O_REMOTE };
enum { M_PC = 0, M_CMP = 1 };

struct mobj {
	bool used;
	int fd;	    /* primary descriptor, -1 once closed */
	int keeper; /* a dup(), for cleanup and "via dup" */
	enum ostate st;
	unsigned long size; /* words */
	bool huge;	    /* never enabled locally (fault-in = 2 GiB) */
	int mode;	    /* M_PC / M_CMP while LOCAL or REMOTE */
	int owner;	    /* thread index while LOCAL or REMOTE */
	unsigned int seq;
	uint32_t remote_size;
	unsigned long *view; /* plain mmap of the fd, page-rounded */
	size_t view_len;
	unsigned long count; /* model of word 0 */
	uint64_t dropped, appended, discarded, skipped;
	unsigned int inflight; /* sections holding a reference */
	uint64_t *shadow;      /* SHADOW words: expected area content */
	unsigned long nshadow;
};

enum { F_NOOP, F_ACTIVE, F_MUTED };
struct mframe {
	int kind;
	int obj;
	unsigned int seq;
	int mode;
	unsigned long cap; /* entries */
	unsigned long n;   /* entries held */
	uint64_t dropped;
	uint64_t *words; /* n * ew words */
	size_t alloc;
};

struct mctx {
	int depth;
	int skipped;
	struct mframe f[DEPTH];
};

struct mthread {
	bool alive;
	int local, remote; /* object index or -1 */
	uint64_t common;
	int nctx; /* 1 + running handlers */
	struct mctx ctx[NCTX];
};

static struct mobj objs[MAXOBJ];
static int nobjs;
static int slots[NSLOT]; /* object index or -1 */
static struct mthread thr[2];

#define REGMAX 600
static struct {
	uint64_t h;
	int obj;
} reg[REGMAX];
static int nreg;

static int reg_find(uint64_t h)
{
	int i;

	for (i = 0; i < nreg; i++)
		if (reg[i].h == h)
			return i;
	return -1;
}

static int reg_owner(uint64_t h)
{
	int i = reg_find(h);

	return i < 0 ? -1 : reg[i].obj;
}

static void reg_drop_obj(int o)
{
	int i, j = 0;

	for (i = 0; i < nreg; i++)
		if (reg[i].obj != o)
			reg[j++] = reg[i];
	nreg = j;
}

static int signal_handles(void)
{
	int i, n = 0;

	for (i = 0; i < nreg; i++)
		if ((reg[i].h >> 56) == 0x40)
			n++;
	return n;
}

/* Handle validity, written from reference §1.6 and ukcov.h. */
static bool handle_valid(uint64_t h, bool common_ok, bool global_ok,
			 bool zero_ok)
{
	uint64_t sub = h >> 56;

	if (h & 0x00ffffff00000000ull)
		return false;
	if (sub == 0)
		return h ? common_ok : zero_ok;
	if (sub == 1 || sub == 0x40 || sub >= 0x80)
		return global_ok;
	return false;
}

static unsigned long ew_of(int mode)
{
	return mode == M_CMP ? 4 : 1;
}

static unsigned long cap_local(const struct mobj *o)
{
	return (o->size - 1) / ew_of(o->mode);
}

static unsigned long cap_section(int mode, unsigned long words)
{
	if (words < 2)
		return 0;
	return (words - 1) / ew_of(mode);
}

static void shadow_put(struct mobj *o, unsigned long pos, uint64_t v)
{
	if (pos < o->nshadow)
		o->shadow[pos] = v;
}

static bool alive(const struct mobj *o)
{
	return o->fd >= 0 || o->keeper >= 0 || o->st == O_LOCAL ||
	       o->st == O_REMOTE || o->inflight;
}

/* The runtime's views of live areas ("memfd:ukcov" in /proc/self/maps). */
static int ukcov_mappings(void)
{
	char buf[8192];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), n = 0;
	ssize_t r;
	size_t have = 0;

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		char *p, *nl;

		have += (size_t)r;
		buf[have] = 0;
		for (p = buf; (nl = strchr(p, '\n')); p = nl + 1)
			if (memmem(p, (size_t)(nl - p), "memfd:ukcov", 11))
				n++;
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
	}
	close(fd);
	return n;
}

/* ---- the real calls' entry sites (one call site each) ----------------- */
static uint64_t ip_pc, ip_cmp[8], ip_cmpf, ip_cmpd, ip_switch;

__attribute__((noinline)) static void emit_pc(unsigned int n)
{
#pragma nounroll
	for (unsigned int i = 0; i < n; i++)
		ukcov_test_trace_pc();
}

/* Operand a of record i; b is the tag. */
__attribute__((noinline)) static void emit_cmp(int kind, unsigned int n,
					       uint64_t a, uint64_t b)
{
	switch (kind) {
	case 0:
#pragma nounroll
		for (unsigned int i = 0; i < n; i++)
			ukcov_test_trace_cmp1((uint8_t)(a + i), (uint8_t)b);
		break;
	case 1:
#pragma nounroll
		for (unsigned int i = 0; i < n; i++)
			ukcov_test_trace_cmp2((uint16_t)(a + i), (uint16_t)b);
		break;
	case 2:
#pragma nounroll
		for (unsigned int i = 0; i < n; i++)
			ukcov_test_trace_cmp4((uint32_t)(a + i), (uint32_t)b);
		break;
	case 3:
#pragma nounroll
		for (unsigned int i = 0; i < n; i++)
			ukcov_test_trace_cmp8(a + i, b);
		break;
	case 4:
#pragma nounroll
		for (unsigned int i = 0; i < n; i++)
			ukcov_test_trace_const_cmp1((uint8_t)(a + i),
						    (uint8_t)b);
		break;
	case 5:
#pragma nounroll
		for (unsigned int i = 0; i < n; i++)
			ukcov_test_trace_const_cmp2((uint16_t)(a + i),
						    (uint16_t)b);
		break;
	case 6:
#pragma nounroll
		for (unsigned int i = 0; i < n; i++)
			ukcov_test_trace_const_cmp4((uint32_t)(a + i),
						    (uint32_t)b);
		break;
	default:
#pragma nounroll
		for (unsigned int i = 0; i < n; i++)
			ukcov_test_trace_const_cmp8(a + i, b);
		break;
	}
}

__attribute__((noinline)) static void emit_cmpf(unsigned int n, float a,
						float b)
{
#pragma nounroll
	for (unsigned int i = 0; i < n; i++)
		ukcov_test_trace_cmpf(a + (float)i, b);
}

__attribute__((noinline)) static void emit_cmpd(unsigned int n, double a,
						double b)
{
#pragma nounroll
	for (unsigned int i = 0; i < n; i++)
		ukcov_test_trace_cmpd(a + (double)i, b);
}

__attribute__((noinline)) static void emit_switch(uint64_t val, uint64_t *cases)
{
	ukcov_test_trace_switch(val, cases);
}

static uint64_t fbits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static uint64_t dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

/* ---- model of the feed ---------------------------------------------- */
static int cur_t; /* thread the current operation runs on */

static struct mctx *cur_ctx(int t)
{
	return &thr[t].ctx[thr[t].nctx - 1];
}

/* Where an entry of this mode lands: a frame, an object (local) or nowhere. */
struct feed {
	struct mframe *f;
	int obj;
	int mode;
};

static struct feed feed_of(int t)
{
	struct mctx *c = cur_ctx(t);
	struct feed fd = {NULL, -1, -1};
	int i;

	for (i = c->depth - 1; i >= 0; i--) {
		if (c->f[i].kind == F_ACTIVE) {
			fd.f = &c->f[i];
			fd.mode = c->f[i].mode;
			return fd;
		}
		if (c->f[i].kind == F_MUTED)
			return fd;
	}
	if (thr[t].nctx == 1 && thr[t].local >= 0) {
		struct mobj *o = &objs[thr[t].local];

		CHECK(o->st == O_LOCAL && o->owner == t);
		fd.obj = thr[t].local;
		fd.mode = o->mode;
	}
	return fd;
}

/* One entry of ew words (w[0..ew-1]) written by a callback of mode m. */
static void model_entry(int t, int m, const uint64_t *w)
{
	struct feed fd = feed_of(t);
	unsigned long ew = ew_of(m), i;

	if (fd.mode != m)
		return;
	if (fd.f) {
		struct mframe *f = fd.f;

		if (f->n >= f->cap) {
			f->dropped++;
			return;
		}
		if ((f->n + 1) * ew > f->alloc) {
			f->alloc = f->alloc ? f->alloc * 2 : 64;
			f->words = realloc(f->words, f->alloc * 8);
			CHECK(f->words);
		}
		memcpy(f->words + f->n * ew, w, ew * 8);
		f->n++;
		return;
	}
	if (fd.obj >= 0) {
		struct mobj *o = &objs[fd.obj];

		if (o->count >= cap_local(o)) {
			o->dropped++;
			return;
		}
		for (i = 0; i < ew; i++)
			shadow_put(o, 1 + o->count * ew + i, w[i]);
		o->count++;
	}
}

/* Linux's kcov_move_area, in the model. */
static void model_move(struct mobj *o, struct mframe *f)
{
	unsigned long ew = ew_of(o->mode), cap = (o->size - 1) / ew;
	unsigned long len = o->count, n = f->n, i;
	uint64_t d = f->dropped;

	CHECK(o->mode == f->mode);
	if (len > cap) {
		o->dropped += n + d;
		return;
	}
	if (n > cap - len) {
		d += n - (cap - len);
		n = cap - len;
	}
	o->dropped += d;
	for (i = 0; i < n * ew; i++)
		shadow_put(o, 1 + len * ew + i, f->words[i]);
	o->count = len + n;
}

static void model_start(int t, uint64_t h)
{
	struct mctx *c = cur_ctx(t);
	struct mframe *f;
	int o;

	if (c->depth >= DEPTH) {
		c->skipped++;
		return;
	}
	f = &c->f[c->depth++];
	f->kind = F_NOOP;
	f->n = 0;
	f->dropped = 0;
	if (!h || !handle_valid(h, true, true, false))
		return;
	o = reg_owner(h);
	if (o < 0)
		return;
	CHECK(objs[o].st == O_REMOTE);
	f->kind = F_ACTIVE;
	f->obj = o;
	f->seq = objs[o].seq;
	f->mode = objs[o].mode;
	f->cap = cap_section(f->mode,
			     thr[t].nctx > 1 ? irq_words : objs[o].remote_size);
	objs[o].inflight++;
}

static void model_close_top(int t, struct mctx *c)
{
	struct mframe *f = &c->f[--c->depth];
	struct mobj *o;

	(void)t;
	if (f->kind != F_ACTIVE)
		return;
	o = &objs[f->obj];
	CHECK(o->inflight > 0);
	o->inflight--;
	if (o->seq == f->seq && o->st == O_REMOTE) {
		model_move(o, f);
		o->appended++;
	} else {
		o->discarded++;
	}
}

static void model_stop(int t)
{
	struct mctx *c = cur_ctx(t);

	if (c->skipped) {
		c->skipped--;
		return;
	}
	if (!c->depth)
		return;
	model_close_top(t, c);
}

static void model_unwind(int t, struct mctx *c)
{
	c->skipped = 0;
	while (c->depth)
		model_close_top(t, c);
}

/* kcov_reset for o (bound to thread t), as DISABLE or exit does it. */
static void model_unbind(int t, int oi)
{
	struct mobj *o = &objs[oi];

	if (thr[t].local == oi) {
		thr[t].local = -1;
	} else {
		CHECK(thr[t].remote == oi);
		thr[t].remote = -1;
		thr[t].common = 0;
		reg_drop_obj(oi);
	}
	o->st = O_READY;
	o->owner = -1;
	o->seq++;
}

/* ---- the second thread ------------------------------------------------ */
typedef void (*opfn)(void *);
static pthread_t helper;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static opfn pending;
static void *pending_arg;
static bool pending_exit, pending_done;

static void *helper_main(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (!pending && !pending_exit)
			pthread_cond_wait(&cv, &mu);
		if (pending_exit) {
			pending_exit = false;
			pending_done = true;
			pthread_cond_broadcast(&cv);
			pthread_mutex_unlock(&mu);
			return NULL; /* exits bound, inside sections */
		}
		opfn fn = pending;
		void *arg = pending_arg;

		pthread_mutex_unlock(&mu);
		fn(arg);
		pthread_mutex_lock(&mu);
		pending = NULL;
		pending_done = true;
		pthread_cond_broadcast(&cv);
	}
}

static void helper_spawn(void)
{
	int i;

	for (i = 0; i < NCTX; i++) {
		thr[1].ctx[i].depth = 0;
		thr[1].ctx[i].skipped = 0;
	}
	thr[1].alive = true;
	thr[1].local = thr[1].remote = -1;
	thr[1].nctx = 1;
	/* ukcov's pthread_create passes the creator's common handle on. */
	thr[1].common = thr[0].common;
	CHECK(pthread_create(&helper, NULL, helper_main, NULL) == 0);
}

static void helper_exit(void)
{
	struct mthread *m = &thr[1];

	pthread_mutex_lock(&mu);
	pending_done = false;
	pending_exit = true;
	pthread_cond_broadcast(&cv);
	while (!pending_done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	CHECK(pthread_join(helper, NULL) == 0);
	/* The exit hook: sections end first, then the bindings. */
	model_unwind(1, &m->ctx[0]);
	if (m->local >= 0)
		model_unbind(1, m->local);
	if (m->remote >= 0)
		model_unbind(1, m->remote);
	m->alive = false;
}

/* Run fn(arg) on thread t (0: this one). */
static void run_on(int t, opfn fn, void *arg)
{
	if (t == 0) {
		cur_t = 0;
		fn(arg);
		return;
	}
	if (!thr[1].alive)
		helper_spawn();
	cur_t = 1;
	pthread_mutex_lock(&mu);
	pending_done = false;
	pending_arg = arg;
	pending = fn;
	pthread_cond_broadcast(&cv);
	while (!pending_done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	cur_t = 0;
}

/* ---- the input reader ------------------------------------------------- */
static const uint8_t *in_p;
static size_t in_n;

static uint8_t get8(void)
{
	if (!in_n)
		return 0;
	in_n--;
	return *in_p++;
}

static uint32_t get32(void)
{
	uint32_t v = get8();

	v |= (uint32_t)get8() << 8;
	v |= (uint32_t)get8() << 16;
	v |= (uint32_t)get8() << 24;
	return v;
}

static uint64_t get64(void)
{
	uint64_t lo = get32();

	return lo | (uint64_t)get32() << 32;
}

/* ---- operations ------------------------------------------------------- */
/* Argument block of one operation (filled on the main thread). */
struct op {
	int t; /* thread the op runs on */
	int slot;
	int obj; /* resolved object or -1 */
	int fd;
	unsigned long a, b, c;
	uint64_t x, y;
};

static int pipefd[2] = {-1, -1};
static int bad_fd = -1; /* a number that is never open */
static char *argmem;	/* 2 readable pages, then a PROT_NONE page */
static long pg;

static const unsigned long init_sizes[] = {
    0,	       1,	   2,
    3,	       4,	   5,
    8,	       9,	   511,
    512,       513,	   1024,
    1025,      2048,	   4096,
    1ul << 20, HUGE_WORDS, HUGE_WORDS + 1,
    ULONG_MAX, 1ul << 32,  (unsigned long)INT_MAX,
    0x80,      100,	   1000,
};

static uint64_t handle_pool(uint8_t i, uint64_t rnd)
{
	switch (i % 20) {
	case 0:
		return UKCOV_SUBSYSTEM_APP(1) | 1;
	case 1:
		return UKCOV_SUBSYSTEM_APP(1) | 2;
	case 2:
		return UKCOV_SUBSYSTEM_APP(2) | 7;
	case 3:
		return KCOV_SUBSYSTEM_USB | 3;
	case 4:
		return KCOV_SUBSYSTEM_USB | 0;
	case 5:
		return UKCOV_SUBSYSTEM_SIGNAL | (uint64_t)sigfuzz;
	case 6:
		return UKCOV_SUBSYSTEM_SIGNAL | 10;
	case 7:
		return KCOV_SUBSYSTEM_COMMON | 1;
	case 8:
		return KCOV_SUBSYSTEM_COMMON | 2;
	case 9:
		return 0;
	case 10:
		return UKCOV_SUBSYSTEM_APP(1) | 1 | (1ull << 40);
	case 11:
		return (2ull << 56) | 1;
	case 12:
		return UKCOV_SUBSYSTEM_APP(127) | 0xffffffffull;
	case 13:
		return (0x3full << 56) | 5;
	case 14:
		return KCOV_SUBSYSTEM_COMMON | 0xffffffffull;
	case 15:
		return (0x41ull << 56) | 1;
	case 16:
		return UKCOV_SUBSYSTEM_APP(1) | 1; /* again: duplicates */
	case 17:
		return KCOV_SUBSYSTEM_COMMON | 1;
	case 18:
		return UKCOV_SUBSYSTEM_SIGNAL | (uint64_t)sigfuzz;
	default:
		return rnd;
	}
}

static void check_common(int t)
{
	uint64_t want = thr[t].nctx > 1 ? 0 : thr[t].common;
	uint64_t got = ukcov_common_handle();

	if (got != want)
		die("thread %d: ukcov_common_handle %#llx, model %#llx", t,
		    (unsigned long long)got, (unsigned long long)want);
	CHECK(ukcov_capture() == got);
}

/* Errno of any fd-taking ioctl that never reaches the object. */
static int fd_errno(int fd)
{
	if (fd == pipefd[0] || fd == pipefd[1])
		return ENOTTY;
	return EBADF;
}

static void op_init(void *p)
{
	struct op *op = p;
	struct mobj *o = &objs[op->obj];
	unsigned long size = op->a;
	int r, e, want = 0;

	errno = 0;
	r = ukcov_ioctl(op->fd, KCOV_INIT_TRACE, size);
	e = errno;
	if (thr[cur_t].nctx > 1)
		want = EINVAL;
	else if (size < 2 || size > HUGE_WORDS)
		want = EINVAL;
	else if (o->st != O_OPEN)
		want = EBUSY;
	if (r == -1 && e == ENOMEM && !want && size > (1ul << 20))
		return; /* the machine may refuse 2 GiB of address space */
	expect("KCOV_INIT_TRACE", r, e, want);
	if (want)
		return;
	o->st = O_READY;
	o->size = size;
	o->huge = size > (1ul << 20);
	o->nshadow = size < SHADOW ? size : SHADOW;
	o->shadow = calloc(SHADOW, 8);
	CHECK(o->shadow);
	if (!o->huge) {
		o->view_len = (size * 8 + (size_t)pg - 1) & ~((size_t)pg - 1);
		o->view = mmap(NULL, o->view_len, PROT_READ | PROT_WRITE,
			       MAP_SHARED, o->fd, 0);
		CHECK(o->view != MAP_FAILED);
	}
}

static void op_enable(void *p)
{
	struct op *op = p;
	struct mthread *m = &thr[cur_t];
	struct mobj *o = &objs[op->obj];
	int r, e, want = 0;

	errno = 0;
	r = ukcov_ioctl(op->fd, KCOV_ENABLE, op->a);
	e = errno;
	if (m->nctx > 1 || o->st != O_READY)
		want = EINVAL;
	else if (m->local >= 0)
		want = EBUSY;
	else if (op->a != KCOV_TRACE_PC && op->a != KCOV_TRACE_CMP)
		want = EINVAL;
	expect("KCOV_ENABLE", r, e, want);
	if (want)
		return;
	o->st = O_LOCAL;
	o->owner = cur_t;
	o->mode = op->a == KCOV_TRACE_CMP ? M_CMP : M_PC;
	m->local = op->obj;
}

static void op_disable(void *p)
{
	struct op *op = p;
	struct mthread *m = &thr[cur_t];
	int r, e, want = 0;

	errno = 0;
	r = ukcov_ioctl(op->fd, KCOV_DISABLE, op->a);
	e = errno;
	if (m->nctx > 1 || op->a != 0 ||
	    (m->local != op->obj && m->remote != op->obj))
		want = EINVAL;
	expect("KCOV_DISABLE", r, e, want);
	if (!want)
		model_unbind(cur_t, op->obj);
}

static void op_reset(void *p)
{
	struct op *op = p;
	struct mthread *m = &thr[cur_t];
	struct mobj *o = &objs[op->obj];
	int r, e, want = 0;

	errno = 0;
	r = ukcov_ioctl(op->fd, KCOV_RESET_TRACE, op->a);
	e = errno;
	if (m->nctx > 1 || op->a != 0 ||
	    (m->local != op->obj && m->remote != op->obj))
		want = EINVAL;
	expect("KCOV_RESET_TRACE", r, e, want);
	if (!want)
		o->count = 0;
}

static void op_unknown(void *p)
{
	static const unsigned long reqs[] = {
	    0x80046301ul, /* INIT_TRACE of a 32-bit program */
	    0x6366ul,	  /* REMOTE_ENABLE without its size */
	    0x4008636aul, /* _IOW(c, 106): not a kcov request */
	    0,
	    0xdeadbeeful,
	    0x6369ul,
	    0x40186367ul,
	    0xc0086301ul,
	};
	struct op *op = p;
	int r, e, want;

	errno = 0;
	r = ukcov_ioctl(op->fd, reqs[op->a % 8], op->b);
	e = errno;
	want = thr[cur_t].nctx > 1 ? EINVAL : ENOTTY;
	expect("unknown request", r, e, want);
}

/* The request number's high bits are dropped, as the syscall ABI does. */
static void op_enable_hibits(void *p)
{
	struct op *op = p;

	op->a &= 1;
	op_enable(p);
	if (thr[cur_t].local == op->obj) {
		/* Enabled: a second one through the wide number is EINVAL. */
		errno = 0;
		int r = ukcov_ioctl(op->fd, KCOV_ENABLE | (1ul << 32), 0ul);

		expect("KCOV_ENABLE | 1 << 32", r, errno, EINVAL);
	}
}

/* A descriptor that is not a live ukcov one: EBADF or ENOTTY. */
static void op_badfd(void *p)
{
	struct op *op = p;
	struct ukcov_stats st;
	int fd = (op->a & 1) ? pipefd[op->a & 2 ? 1 : 0] : bad_fd;
	unsigned long reqs[] = {KCOV_INIT_TRACE, KCOV_ENABLE, KCOV_DISABLE,
				KCOV_RESET_TRACE, 0x1234};
	int r, e;

	errno = 0;
	r = ukcov_ioctl(fd, reqs[op->b % 5], 0ul);
	e = errno;
	expect("ioctl on a foreign fd", r, e, fd_errno(fd));
	errno = 0;
	r = ukcov_get_stats(fd, &st);
	e = errno;
	expect("ukcov_get_stats on a foreign fd", r, e,
	       thr[cur_t].nctx > 1 ? EINVAL : fd_errno(fd));
}

static void op_mmap(void *p)
{
	struct op *op = p;
	struct mobj *o = &objs[op->obj];
	static const int prots[] = {
	    PROT_READ | PROT_WRITE,
	    PROT_READ,
	    PROT_NONE,
	    PROT_READ | PROT_EXEC,
	    PROT_EXEC,
	    PROT_WRITE,
	    PROT_READ | PROT_WRITE | PROT_EXEC,
	    PROT_READ | PROT_WRITE,
	};
	static const off_t offs[] = {0, 0, 0, 0, 4096, 1, -4096, 8192};
	size_t want_len = o->size * 8, len;
	int prot = prots[op->b % 8];
	off_t off = offs[(op->b >> 3) % 8];
	int flags = (op->b & 0x40) ? MAP_PRIVATE : MAP_SHARED;
	int want = 0, e;
	void *m;

	switch (op->a % 10) {
	case 0:
		len = want_len;
		break;
	case 1:
		len = want_len - 1;
		break;
	case 2:
		len = want_len + 1;
		break;
	case 3:
		len = 0;
		break;
	case 4:
		len = (size_t)pg;
		break;
	case 5:
		len = ((want_len + pg - 1) & ~((size_t)pg - 1)) - pg + 1;
		break;
	case 6:
		len = want_len + pg;
		break;
	case 7:
		len = SIZE_MAX;
		break;
	case 8:
		len = op->c;
		break;
	default:
		len = (want_len + pg - 1) & ~((size_t)pg - 1);
		break;
	}
	errno = 0;
	m = ukcov_mmap(NULL, len, prot, flags, op->fd, off);
	e = errno;
	if (o->st == O_OPEN || off != 0)
		want = EINVAL;
	else if (prot & PROT_EXEC)
		want = EPERM;
	else if (((len + pg - 1) & ~((size_t)pg - 1)) != want_len)
		want = EINVAL;
	if (want) {
		if (m != MAP_FAILED || e != want)
			die("ukcov_mmap(len %zu, prot %d, off %ld) on %s: "
			    "got %p errno %d, want MAP_FAILED errno %d",
			    len, prot, (long)off,
			    o->st == O_OPEN ? "OPEN" : "initialised", m, e,
			    want);
		return;
	}
	if (m == MAP_FAILED)
		die("ukcov_mmap(len %zu, prot %d): errno %d", len, prot, e);
	if ((prot & PROT_READ) && !o->huge && o->view)
		CHECK(((volatile unsigned long *)m)[0] == o->view[0]);
	munmap(m, len);
}

/* KCOV_REMOTE_ENABLE with a generated struct. */
static void op_remote(void *p)
{
	struct op *op = p;
	struct mthread *m = &thr[cur_t];
	struct mobj *o = &objs[op->obj];
	static const uint32_t sizes[] = {0, 1,	2,   3,	   5,
					 8, 64, 512, 4096, 1u << 17};
	static const uint32_t modes[] = {
	    KCOV_TRACE_PC, KCOV_TRACE_CMP, KCOV_TRACE_PC, KCOV_TRACE_CMP, 2,
	    0xffffffffu,   KCOV_TRACE_PC,  KCOV_TRACE_CMP};
	uint64_t hs[257];
	uint32_t num, trace_mode = modes[op->a & 7];
	uint32_t area_size = sizes[(op->a >> 3) % 10];
	uint64_t common;
	unsigned int where = (op->a >> 8) % 8, i;
	size_t bytes;
	char *ptr;
	bool fault = false;
	int r, e, want = 0, added = 0;

	/* num_handles */
	switch ((op->b >> 0) % 16) {
	case 12:
		num = 256;
		break;
	case 13:
		num = 257;
		break;
	case 14:
		num = 0xffffffffu;
		break;
	case 15:
		num = 0;
		break;
	default:
		num = (op->b & 15) % 5;
		break;
	}
	for (i = 0; i < num && i < 257; i++) {
		if (num >= 256)
			hs[i] = UKCOV_SUBSYSTEM_APP(3) | (i + 1);
		else
			hs[i] = handle_pool((uint8_t)(op->c >> (8 * i)), op->y);
	}
	if (num == 256 && (op->b & 16))
		hs[num / 2] = hs[0]; /* a duplicate in the middle */
	common = (op->b & 32) ? handle_pool((uint8_t)(op->b >> 8), op->y) : 0;
	bytes = sizeof(struct kcov_remote_arg) +
		(num <= 256 ? num : 0) * sizeof(uint64_t);

	/* Where the struct lives. */
	switch (where) {
	case 1:
		ptr = NULL;
		fault = true;
		break;
	case 2:
		ptr = argmem + 2 * pg; /* the PROT_NONE page */
		fault = true;
		break;
	case 3: /* the header fits, handles[] run into the PROT_NONE page */
		ptr = argmem + 2 * pg - sizeof(struct kcov_remote_arg) -
		      8 * (op->x % 3);
		fault = num <= 256 && bytes > (size_t)(argmem + 2 * pg - ptr);
		break;
	case 4: /* header cut at num_handles */
		ptr = argmem + 2 * pg - 8;
		fault = true;
		break;
	case 5: /* num_handles readable, the rest not */
		ptr = argmem + 2 * pg - 12;
		fault = num <= 256;
		break;
	default:
		ptr = argmem;
		break;
	}
	if (ptr && where != 2 && where != 1) {
		struct kcov_remote_arg hdr = {
		    .trace_mode = trace_mode,
		    .area_size = area_size,
		    .num_handles = num,
		    .common_handle = common,
		};
		size_t room = (size_t)(argmem + 2 * pg - ptr);

		memcpy(ptr, &hdr, room < sizeof(hdr) ? room : sizeof(hdr));
		if (room > sizeof(hdr)) {
			size_t hb = (num <= 256 ? num : 257) * 8;

			if (hb > room - sizeof(hdr))
				hb = room - sizeof(hdr);
			memcpy(ptr + sizeof(hdr), hs, hb);
		}
		if (where == 4 || where == 5) {
			/* Only the bytes before the guard page are real. */
			fault = where == 4 || num <= 256;
		}
	}

	errno = 0;
	r = ukcov_ioctl(op->fd, KCOV_REMOTE_ENABLE, (unsigned long)ptr);
	e = errno;

	if (m->nctx > 1)
		want = EINVAL;
	else if (where == 1 || where == 2 || where == 4)
		want = EFAULT;
	else if (num > 256)
		want = EINVAL;
	else if (fault)
		want = EFAULT;
	else if (o->st != O_READY)
		want = EINVAL;
	else if (m->remote >= 0)
		want = EBUSY;
	else if (trace_mode > 1)
		want = EINVAL;
	else {
		/* Commit, then register in order; roll back on error. */
		for (i = 0; i < num && !want; i++) {
			if (!handle_valid(hs[i], false, true, false))
				want = EINVAL;
			else if (reg_find(hs[i]) >= 0)
				want = EEXIST;
			else {
				CHECK(nreg < REGMAX);
				reg[nreg].h = hs[i];
				reg[nreg++].obj = op->obj;
				added++;
			}
		}
		if (!want && common) {
			if (!handle_valid(common, true, false, false))
				want = EINVAL;
			else if (reg_find(common) >= 0)
				want = EEXIST;
			else {
				reg[nreg].h = common;
				reg[nreg++].obj = op->obj;
			}
		}
		if (want) {
			/* kcov_disable: handles, common handle, sequence. */
			reg_drop_obj(op->obj);
			m->common = 0;
			o->seq++;
		}
	}
	if (want && r == -1 && e == want)
		return;
	expect("KCOV_REMOTE_ENABLE", r, e, want);
	o->st = O_REMOTE;
	o->owner = cur_t;
	o->mode = trace_mode == KCOV_TRACE_CMP ? M_CMP : M_PC;
	o->remote_size = area_size;
	m->remote = op->obj;
	if (common)
		m->common = common;
}

static void op_start(void *p)
{
	struct op *op = p;

	if (op->b & 1) {
		ukcov_remote_start_common(op->x & 3);
		model_start(
		    cur_t, op->x & 3 ? KCOV_SUBSYSTEM_COMMON | (op->x & 3) : 0);
	} else {
		ukcov_remote_start(op->x);
		model_start(cur_t, op->x);
	}
}

static void op_stop(void *p)
{
	(void)p;
	ukcov_remote_stop();
	model_stop(cur_t);
}

static void do_emit(int kind, unsigned int n, uint64_t tag)
{
	uint64_t w[4];
	unsigned int i;

	if (kind == 0) {
		emit_pc(n);
		w[0] = ip_pc;
		for (i = 0; i < n; i++)
			model_entry(cur_t, M_PC, w);
		return;
	}
	if (kind >= 1 && kind <= 8) {
		static const uint64_t masks[4] = {0xff, 0xffff, 0xffffffff,
						  ~0ull};
		int k = kind - 1, sz = k & 3;
		uint64_t a = tag * 0x9e3779b97f4a7c15ull;

		emit_cmp(k, n, a, tag);
		for (i = 0; i < n; i++) {
			w[0] =
			    KCOV_CMP_SIZE(sz) | (k >= 4 ? KCOV_CMP_CONST : 0);
			w[1] = (a + i) & masks[sz];
			w[2] = tag & masks[sz];
			w[3] = ip_cmp[k];
			model_entry(cur_t, M_CMP, w);
		}
		return;
	}
	if (kind == 9) {
		float a = (float)(tag & 0xffff), b = 0.5f;

		emit_cmpf(n, a, b);
		for (i = 0; i < n; i++) {
			w[0] = KCOV_CMP_SIZE(2) | UKCOV_CMP_FLOAT;
			w[1] = fbits(a + (float)i);
			w[2] = fbits(b);
			w[3] = ip_cmpf;
			model_entry(cur_t, M_CMP, w);
		}
		return;
	}
	if (kind == 10) {
		double a = (double)tag, b = -1.25;

		emit_cmpd(n, a, b);
		for (i = 0; i < n; i++) {
			w[0] = KCOV_CMP_SIZE(3) | UKCOV_CMP_FLOAT;
			w[1] = dbits(a + (double)i);
			w[2] = dbits(b);
			w[3] = ip_cmpd;
			model_entry(cur_t, M_CMP, w);
		}
		return;
	}
	/* switch: n cases, a width from the tag (some invalid) */
	{
		static const uint64_t widths[] = {8, 16, 32, 64, 0, 7, 128};
		uint64_t cases[2 + 64];
		uint64_t width = widths[tag % 7], val = tag >> 3, sz;
		unsigned int nc = n % 65;

		cases[0] = nc;
		cases[1] = width;
		for (i = 0; i < nc; i++)
			cases[2 + i] = tag + i;
		emit_switch(val, cases);
		sz = width == 8 ? 0 : width == 16 ? 1 : width == 32 ? 2 : 3;
		if (width != 8 && width != 16 && width != 32 && width != 64)
			return;
		for (i = 0; i < nc; i++) {
			w[0] = KCOV_CMP_SIZE(sz) | KCOV_CMP_CONST;
			w[1] = cases[2 + i];
			w[2] = val;
			w[3] = ip_switch;
			model_entry(cur_t, M_CMP, w);
		}
	}
}

static void op_emit(void *p)
{
	struct op *op = p;

	do_emit((int)(op->a % 12), (unsigned int)op->b, op->x);
}

static void op_scribble(void *p)
{
	struct op *op = p;
	struct mobj *o = &objs[op->obj];
	unsigned long cap, v;

	if (!o->view)
		return;
	cap =
	    o->st == O_LOCAL || o->st == O_REMOTE ? cap_local(o) : o->size - 1;
	switch (op->a % 8) {
	case 0:
		v = 0;
		break;
	case 1:
		v = cap ? cap - 1 : 0;
		break;
	case 2:
		v = cap;
		break;
	case 3:
		v = cap + 1;
		break;
	case 4:
		v = ULONG_MAX;
		break;
	case 5:
		v = ULONG_MAX / 4 + 1;
		break; /* * 4 wraps */
	case 6:
		v = op->x % (cap + 2);
		break;
	default:
		v = LONG_MAX;
		break;
	}
	__atomic_store_n(&o->view[0], v, __ATOMIC_RELEASE);
	o->count = v;
}

/* ---- signals ---------------------------------------------------------- */
struct step {
	uint8_t op, a, b;
};
static struct step scripts[2][8];
static int nsteps[2];
static uint64_t sig_rnd;

static void handler_step(const struct step *s, int depth)
{
	struct ukcov_stats st;
	struct op op;
	int r, e;

	switch (s->op % 8) {
	case 0:
		ukcov_remote_start(handle_pool(s->a, sig_rnd));
		model_start(cur_t, handle_pool(s->a, sig_rnd));
		break;
	case 1:
		ukcov_remote_stop();
		model_stop(cur_t);
		break;
	case 2:
	case 3:
		do_emit(s->a % 12, s->b, 0x5100 + (uint64_t)depth);
		break;
	case 4: {
		/* Any request from a handler: EINVAL (on a live fd). */
		int oi = slots[s->a % NSLOT], fd;

		fd = oi >= 0
			 ? (objs[oi].fd >= 0 ? objs[oi].fd : objs[oi].keeper)
			 : bad_fd;
		errno = 0;
		r = ukcov_ioctl(fd, (s->b & 1) ? KCOV_DISABLE : KCOV_ENABLE,
				0ul);
		e = errno;
		if (oi >= 0 && alive(&objs[oi]))
			expect("ioctl in a handler", r, e, EINVAL);
		else if (oi < 0)
			expect("ioctl in a handler", r, e, EBADF);
		errno = 0;
		r = ukcov_get_stats(fd, &st);
		expect("ukcov_get_stats in a handler", r, errno, EINVAL);
		break;
	}
	case 5:
		check_common(cur_t);
		break;
	case 6:
		if (depth == 0) {
			raise(sigfuzz); /* nested: SA_NODEFER */
		}
		break;
	default:
		memset(&op, 0, sizeof(op));
		op.a = s->a;
		op.b = s->b;
		op_badfd(&op);
		break;
	}
}

static void fuzz_handler(int sig, siginfo_t *si, void *uc)
{
	struct mthread *m = &thr[cur_t];
	int depth = m->nctx - 1, i;

	(void)si;
	(void)uc;
	CHECK(sig == sigfuzz);
	CHECK(m->nctx < NCTX);
	/* Frames keep their word buffers (freed by model_reset). */
	m->ctx[m->nctx].depth = 0;
	m->ctx[m->nctx].skipped = 0;
	m->nctx++;
	if (signal_handles())
		model_start(cur_t, UKCOV_SUBSYSTEM_SIGNAL | (uint64_t)sig);
	for (i = 0; i < nsteps[depth]; i++)
		handler_step(&scripts[depth][i], depth);
	/* The wrapper's exit: whatever is left open ends. */
	model_unwind(cur_t, &m->ctx[m->nctx - 1]);
	m->nctx--;
}

static void op_signal(void *p)
{
	(void)p;
	raise(sigfuzz);
	check_common(cur_t);
}

/* ---- checks of the whole state ---------------------------------------- */
static uint64_t irq_skipped0;

static void check_obj(int oi, bool content)
{
	struct mobj *o = &objs[oi];
	struct ukcov_stats st;
	int fd = o->fd >= 0 ? o->fd : o->keeper;
	unsigned long i;
	int r, e;

	errno = 0;
	r = ukcov_get_stats(fd, &st);
	e = errno;
	if (fd < 0) {
		/* Every descriptor closed: nothing to ask through. */
		expect("ukcov_get_stats without a descriptor", r, e, EBADF);
	} else {
		if (r != 0)
			die("obj %d: ukcov_get_stats: %d errno %d (%s)", oi, r,
			    e, strerror(e));
		if (st.entries_dropped != o->dropped ||
		    st.sections_appended != o->appended ||
		    st.sections_discarded != o->discarded ||
		    st.sections_skipped != o->skipped)
			die("obj %d stats: dropped %llu/%llu appended "
			    "%llu/%llu discarded %llu/%llu skipped %llu/%llu "
			    "(real/model)",
			    oi, (unsigned long long)st.entries_dropped,
			    (unsigned long long)o->dropped,
			    (unsigned long long)st.sections_appended,
			    (unsigned long long)o->appended,
			    (unsigned long long)st.sections_discarded,
			    (unsigned long long)o->discarded,
			    (unsigned long long)st.sections_skipped,
			    (unsigned long long)o->skipped);
	}
	if (!o->view)
		return;
	if (o->view[0] != o->count)
		die("obj %d: count %lu, model %lu", oi, o->view[0], o->count);
	if (!content)
		return;
	for (i = 1; i < o->nshadow; i++)
		if (o->view[i] != o->shadow[i])
			die("obj %d: word %lu is %#lx, model %#llx (count %lu)",
			    oi, i, o->view[i], (unsigned long long)o->shadow[i],
			    o->count);
}

static void check_all(bool content)
{
	int i;

	for (i = 0; i < nobjs; i++)
		if (objs[i].used && (objs[i].fd >= 0 || objs[i].keeper >= 0))
			check_obj(i, content);
	if (ukcov_irq_sections_skipped() != irq_skipped0)
		die("ukcov_irq_sections_skipped moved: %llu",
		    (unsigned long long)ukcov_irq_sections_skipped());
}

/* ---- set-up ----------------------------------------------------------- */
static void calibrate(void)
{
	unsigned long *a;
	int fd, k;

	fd = ukcov_open();
	CHECK(fd >= 0);
	CHECK(ukcov_ioctl(fd, KCOV_INIT_TRACE, 512ul) == 0);
	a = ukcov_mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(a != MAP_FAILED);
	CHECK(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0);
	a[0] = 0;
	emit_pc(2);
	CHECK(a[0] == 2 && a[1] == a[2] && a[1]);
	ip_pc = a[1];
	CHECK(ukcov_ioctl(fd, KCOV_DISABLE, 0ul) == 0);
	CHECK(ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP) == 0);
	for (k = 0; k < 8; k++) {
		a[0] = 0;
		emit_cmp(k, 2, 1, 2);
		CHECK(a[0] == 2 && a[4] == a[8]);
		ip_cmp[k] = a[4];
	}
	a[0] = 0;
	emit_cmpf(1, 1.0f, 2.0f);
	CHECK(a[0] == 1);
	ip_cmpf = a[4];
	a[0] = 0;
	emit_cmpd(1, 1.0, 2.0);
	CHECK(a[0] == 1);
	ip_cmpd = a[4];
	{
		uint64_t cases[3] = {1, 32, 5};

		a[0] = 0;
		emit_switch(5, cases);
		CHECK(a[0] == 1);
		ip_switch = a[4];
	}
	CHECK(ukcov_ioctl(fd, KCOV_DISABLE, 0ul) == 0);
	munmap(a, 4096);
	CHECK(close(fd) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sigaction sa;
	const char *s = getenv("UKCOV_IRQ_AREA_SIZE");
	int i;

	(void)argc;
	(void)argv;
	pg = sysconf(_SC_PAGESIZE);
	if (s) {
		unsigned long v = strtoul(s, NULL, 0);

		if (v >= 0x80 && v <= 0x1000000)
			irq_words = v;
	}
	sigfuzz = SIGRTMIN + 4;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fuzz_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sigfuzz, &sa, NULL) == 0);
	CHECK(pipe(pipefd) == 0);
	/* A descriptor number that stays closed. */
	bad_fd = 900;
	close(bad_fd);
	argmem = mmap(NULL, 3 * (size_t)pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(argmem != MAP_FAILED);
	CHECK(mprotect(argmem + 2 * pg, (size_t)pg, PROT_NONE) == 0);
	calibrate();
	for (i = 0; i < NSLOT; i++)
		slots[i] = -1;
	irq_skipped0 = ukcov_irq_sections_skipped();
	return 0;
}

static void model_reset(void)
{
	int i;

	for (i = 0; i < nobjs; i++) {
		free(objs[i].shadow);
		memset(&objs[i], 0, sizeof(objs[i]));
	}
	nobjs = 0;
	for (i = 0; i < NSLOT; i++)
		slots[i] = -1;
	nreg = 0;
	for (i = 0; i < 2; i++) {
		int c, d;

		for (c = 0; c < NCTX; c++)
			for (d = 0; d < DEPTH; d++)
				free(thr[i].ctx[c].f[d].words);
		memset(&thr[i], 0, sizeof(thr[i]));
		thr[i].local = thr[i].remote = -1;
		thr[i].nctx = 1;
	}
	thr[0].alive = true;
}

static void op_cleanup_main(void *p)
{
	struct op op;
	int i;

	(void)p;
	while (thr[0].ctx[0].depth || thr[0].ctx[0].skipped)
		op_stop(NULL);
	for (i = 0; i < 2; i++) {
		int oi = i ? thr[0].remote : thr[0].local;

		if (oi < 0)
			continue;
		memset(&op, 0, sizeof(op));
		op.obj = oi;
		op.fd = objs[oi].fd >= 0 ? objs[oi].fd : objs[oi].keeper;
		op_disable(&op);
	}
}

static void cleanup(void)
{
	int i;

	opname = "cleanup";
	if (thr[1].alive)
		helper_exit();
	op_cleanup_main(NULL);
	check_all(true);
	CHECK(thr[0].local < 0 && thr[0].remote < 0 && thr[0].common == 0);
	CHECK(ukcov_common_handle() == 0);
	for (i = 0; i < nobjs; i++) {
		struct mobj *o = &objs[i];

		if (!o->used)
			continue;
		CHECK(o->inflight == 0);
		if (o->fd >= 0) {
			CHECK(close(o->fd) == 0);
			o->fd = -1;
		}
		/* The dup keeps it alive, as under Linux. */
		check_obj(i, false);
		CHECK(close(o->keeper) == 0);
		o->keeper = -1;
		if (o->view)
			munmap(o->view, o->view_len);
		o->view = NULL;
	}
	/* Nothing holds any object now: every area's mapping is gone. */
	CHECK(ukcov_mappings() == 0);
	CHECK(nreg == 0);
	model_reset();
}

static void check_common_cb(void *p)
{
	(void)p;
	check_common(cur_t);
}

static int obj_for_slot(int s)
{
	return slots[s];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct op op;
	unsigned int n;

	in_p = data;
	in_n = size;
	model_reset();
	for (n = 0; n < MAXOPS && in_n; n++) {
		uint8_t code = get8(), sel = get8();
		int oi;

		opno = n;
		memset(&op, 0, sizeof(op));
		op.t = sel & 1;
		op.slot = (sel >> 1) % NSLOT;
		oi = obj_for_slot(op.slot);
		op.obj = oi;
		op.fd = oi < 0 ? bad_fd
			       : (objs[oi].fd >= 0 && !(sel & 0x80)
				      ? objs[oi].fd
				      : objs[oi].keeper);
		switch (code % 18) {
		case 0: /* open */
			opname = "open";
			if (oi >= 0 && objs[oi].fd >= 0)
				break;
			if (nobjs >= MAXOBJ)
				break;
			oi = nobjs++;
			memset(&objs[oi], 0, sizeof(objs[oi]));
			objs[oi].used = true;
			objs[oi].owner = -1;
			objs[oi].fd = ukcov_open();
			if (objs[oi].fd < 0)
				die("ukcov_open: %s", strerror(errno));
			CHECK(fcntl(objs[oi].fd, F_GETFD) & FD_CLOEXEC);
			objs[oi].keeper =
			    fcntl(objs[oi].fd, F_DUPFD_CLOEXEC, 100);
			CHECK(objs[oi].keeper >= 0);
			objs[oi].st = O_OPEN;
			objs[oi].seq = 1;
			slots[op.slot] = oi;
			break;
		case 1:
			opname = "init";
			if (oi < 0 || !alive(&objs[oi]))
				break;
			op.a = init_sizes[get8() % 24];
			run_on(op.t, op_init, &op);
			break;
		case 2:
			opname = "mmap";
			if (oi < 0 || !alive(&objs[oi]))
				break;
			op.a = get8();
			op.b = get8();
			op.c = get32();
			run_on(op.t, op_mmap, &op);
			break;
		case 3:
			opname = "enable";
			if (oi < 0 || !alive(&objs[oi]) || objs[oi].huge)
				break;
			{
				static const unsigned long modes[] = {
				    0, 1, 0, 1, 2, 3, 0x100, ULONG_MAX,
				};
				op.a = modes[get8() % 8];
			}
			run_on(op.t, op_enable, &op);
			break;
		case 4:
			opname = "disable";
			if (oi < 0 || !alive(&objs[oi]))
				break;
			op.a = (get8() % 8) == 7 ? 1 : 0;
			run_on(op.t, op_disable, &op);
			break;
		case 5:
			opname = "reset";
			if (oi < 0 || !alive(&objs[oi]))
				break;
			op.a = (get8() % 8) == 7 ? 2 : 0;
			run_on(op.t, op_reset, &op);
			break;
		case 6:
		case 7:
			opname = "remote-enable";
			if (oi < 0 || !alive(&objs[oi]))
				break;
			op.a = get32();
			op.b = get32();
			op.c = get32();
			op.x = get8();
			op.y = get64();
			run_on(op.t, op_remote, &op);
			break;
		case 8:
			opname = "start";
			op.b = get8();
			op.x = handle_pool(get8(), get64());
			if (op.b & 1)
				op.x = get8();
			run_on(op.t, op_start, &op);
			break;
		case 9:
			opname = "stop";
			run_on(op.t, op_stop, &op);
			break;
		case 10:
		case 11: {
			uint8_t c = get8();

			opname = "emit";
			op.a = get8();
			op.b = c < 200 ? c : (unsigned long)(c - 200) * 16;
			op.x = n + 1;
			run_on(op.t, op_emit, &op);
			break;
		}
		case 12:
			opname = "close";
			if (oi < 0 || objs[oi].fd < 0)
				break;
			CHECK(close(objs[oi].fd) == 0);
			objs[oi].fd = -1;
			slots[op.slot] = -1;
			break;
		case 13:
			opname = "scribble";
			if (oi < 0)
				break;
			op.a = get8();
			op.x = get64();
			op_scribble(&op);
			break;
		case 14: {
			int d, i;

			opname = "signal";
			for (d = 0; d < 2; d++) {
				nsteps[d] = get8() % 9;
				for (i = 0; i < nsteps[d]; i++) {
					scripts[d][i].op = get8();
					scripts[d][i].a = get8();
					scripts[d][i].b = get8();
				}
			}
			sig_rnd = get64();
			run_on(op.t, op_signal, &op);
			break;
		}
		case 15:
			opname = "thread-exit";
			if (thr[1].alive)
				helper_exit();
			break;
		case 16:
			opname = "foreign-fd";
			op.a = get8();
			op.b = get8();
			run_on(op.t, op_badfd, &op);
			break;
		default:
			opname = "unknown-request";
			if (oi < 0 || !alive(&objs[oi]))
				break;
			op.a = get8();
			op.b = get8();
			if (op.a & 0x80) {
				op.a &= 1;
				opname = "enable-hibits";
				if (objs[oi].huge)
					break;
				run_on(op.t, op_enable_hibits, &op);
			} else {
				run_on(op.t, op_unknown, &op);
			}
			break;
		}
		if (thr[op.t].alive)
			run_on(op.t, check_common_cb, &op);
		check_all(false);
	}
	cleanup();
	return 0;
}
