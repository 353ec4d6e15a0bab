// SPDX-License-Identifier: MIT
/*
 * ukcov-run: run a program built with the ukcov flags and linked with
 * libukcov, and write its coverage (every thread's own trace, the common
 * handle's, the given global handles' and signals') to a file.
 *
 * The runtime collects (src/autorun.c) into the run's region, a memfd this
 * tool creates and holds (include/ukcov/region.h); this tool checks the
 * program, runs it, forwards the signals it is sent, waits until the
 * program and every process it started are gone (it is their subreaper),
 * then writes the file from the region, once, to a file of its own that it
 * renames into place.  Nothing in the program's exit has to run for its
 * coverage to survive.  See ukcov-run(1) and ukcov-file(5).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ukcov.h>
#include <ukcov/region.h>

#include "ukcov-elf.h"
#include "ukcov-file.h"

#define EXIT_TOOL 125		/* ukcov-run itself failed */
#define EXIT_NOEXEC 126		/* the program could not be run */
#define EXIT_NOTFOUND 127	/* the program was not found */

static const char *prog = "ukcov-run";

static void usage(FILE *f)
{
	fprintf(f,
"usage: ukcov-run [options] -- PROGRAM [ARGS...]\n"
"Run PROGRAM (built with -fsanitize-coverage=trace-pc[,trace-cmp] and linked\n"
"with libukcov) and write its coverage, per thread and per handle, to a file.\n"
"\n"
"  -o, --output FILE      coverage file (default: ukcov.cov); replaced\n"
"  -m, --mode MODE        unique (default: each PC once per area, so long runs\n"
"                         never fill it), pc (every PC run, in order: hit\n"
"                         counts), or cmp (comparison records)\n"
"  -s, --area-words N     words per area (default 0x40000; 512..0xfffffff;\n"
"                         suffix K or M multiplies by 1024 or 1048576)\n"
"      --no-common        do not collect the common handle\n"
"  -H, --handle H[,H...]  also collect these global handles (hex or decimal)\n"
"  -S, --signal SIG[,...] also collect these signals' handlers (ALRM, SIGCHLD, 17)\n"
"      --no-check         run PROGRAM even if it does not look linked with\n"
"                         libukcov or instrumented\n"
"  -q, --quiet            no summary on standard error\n"
"  -h, --help             this text\n"
"\n"
"Signals sent to ukcov-run (TERM, INT, HUP, QUIT, USR1, USR2, ALRM) go on to\n"
"PROGRAM.  ukcov-run ends when PROGRAM and every process it started have.\n"
"Exit status: PROGRAM's; 125 when ukcov-run fails (the file could not be\n"
"written whole), 126 when PROGRAM cannot be run, 127 when it is not found,\n"
"128+N when it is killed by signal N.  Read the file with ukcov-report(1).\n");
}

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

/* What to collect, from the options. */
static uint64_t handles[UKCOV_REGION_MAX_HANDLES];
static unsigned int nhandles;
static uint64_t signal_bits[2];

/*
 * A comma-separated list, each item checked, every item kept.  An empty
 * item (",", "H,", "H,,H") is refused, not skipped: it is a typo whose
 * meaning is not ours to guess.
 */
static void add_handles(const char *s)
{
	char *tmp = strdup(s), *tok, *rest = tmp;

	if (!tmp)
		die(EXIT_TOOL, "out of memory");
	if (!*s)
		die(EXIT_TOOL, "--handle: an empty list");
	while ((tok = strsep(&rest, ","))) {
		unsigned long long h;
		uint64_t sub;
		unsigned int i;
		char *end;

		if (!*tok)
			die(EXIT_TOOL, "--handle %s: an empty item in the list", s);
		errno = 0;
		h = strtoull(tok, &end, 0);
		sub = h & KCOV_SUBSYSTEM_MASK;
		/* A digit first: strtoull would take a sign or spaces. */
		if (errno || *end || *tok < '0' || *tok > '9' ||
		    (h & ~(KCOV_SUBSYSTEM_MASK | KCOV_INSTANCE_MASK)) ||
		    !(sub == KCOV_SUBSYSTEM_USB || sub >= UKCOV_SUBSYSTEM_APP_FIRST))
			die(EXIT_TOOL, "--handle %s: not a global handle (an "
			    "application handle is 0x80..0xff in the top byte, "
			    "e.g. 0x8100000000000001; see ukcov_remote_handle(3))",
			    tok);
		for (i = 0; i < nhandles && handles[i] != h; i++)
			;
		if (i < nhandles)
			continue; /* given twice: collected once */
		if (nhandles == UKCOV_REGION_MAX_HANDLES)
			die(EXIT_TOOL, "--handle: more than %u handles",
			    UKCOV_REGION_MAX_HANDLES);
		handles[nhandles++] = h;
	}
	free(tmp);
}

static void add_signals(const char *s)
{
	char *tmp = strdup(s), *tok, *rest = tmp;

	if (!tmp)
		die(EXIT_TOOL, "out of memory");
	if (!*s)
		die(EXIT_TOOL, "--signal: an empty list");
	while ((tok = strsep(&rest, ","))) {
		int sig = ukf_signal_number(tok);

		if (!*tok)
			die(EXIT_TOOL, "--signal %s: an empty item in the list", s);
		if (sig <= 0 || sig >= NSIG || sig >= 128)
			die(EXIT_TOOL, "--signal %s: not a signal", tok);
		if (sig == SIGKILL || sig == SIGSTOP)
			die(EXIT_TOOL, "--signal %s: has no handler to collect",
			    tok);
		signal_bits[sig / 64] |= 1ull << (sig % 64);
	}
	free(tmp);
}

static unsigned long parse_words(const char *s)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (!errno && *s != '-' && end != s) {
		if (*end == 'K' || *end == 'k')
			shift = 10, end++;
		else if (*end == 'M' || *end == 'm')
			shift = 20, end++;
		if (!*end && v <= (UKCOV_REGION_MAX_WORDS >> shift) &&
		    (v << shift) >= UKCOV_REGION_MIN_WORDS)
			return (unsigned long)(v << shift);
	}
	die(EXIT_TOOL, "--area-words %s: not a number of words in "
	    "%u..%#x (as KCOV_INIT_TRACE allows)", s,
	    UKCOV_REGION_MIN_WORDS, UKCOV_REGION_MAX_WORDS);
}

/* Find PROGRAM as execvp would; NULL when it is not found. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(name, '/'))
		return access(name, F_OK) ? NULL : strdup(name);
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *c = strchr(path, ':');
		size_t n = c ? (size_t)(c - path) : strlen(path);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".",
			 name);
		if (!access(buf, X_OK))
			return strdup(buf);
		path += n + (c ? 1 : 0);
	}
	return NULL;
}

struct check {
	bool needs_ukcov;	/* DT_NEEDED libukcov.so.* */
	bool defines_ukcov;	/* ukcov_open defined (static link) */
	bool callbacks;		/* mentions __sanitizer_cov_trace_pc/cmp */
	bool any_symbols;
};

static int check_needed(const char *name, void *data)
{
	struct check *c = data;

	if (!strncmp(name, "libukcov.so", 11))
		c->needs_ukcov = true;
	return 0;
}

static int check_symbol(const char *name, const GElf_Sym *sym, void *data)
{
	struct check *c = data;

	c->any_symbols = true;
	if (!strcmp(name, "ukcov_open") && sym->st_shndx != SHN_UNDEF)
		c->defines_ukcov = true;
	if (!strcmp(name, "__sanitizer_cov_trace_pc") ||
	    !strncmp(name, "__sanitizer_cov_trace_cmp", 25) ||
	    !strncmp(name, "__sanitizer_cov_trace_const_cmp", 31) ||
	    !strcmp(name, "__sanitizer_cov_trace_switch"))
		c->callbacks = true;
	return 0;
}

/* Exit with a one-line error when path is not a ukcov program. */
static void check_program(const char *path, const char *shown)
{
	struct uke e;
	struct check c = { 0 };
	char err[256];

	if (uke_open(&e, path, err, sizeof(err)))
		die(EXIT_NOEXEC, "%s: %s%s", shown, err,
		    strcmp(err, "not an ELF file") ? ""
			: " (a script? ukcov-run runs the instrumented "
			  "program itself; --no-check runs it anyway)");
	uke_needed(&e, check_needed, &c);
	uke_symbols(&e, check_symbol, &c);
	uke_close(&e);
	if (!c.needs_ukcov && !c.defines_ukcov)
		die(EXIT_TOOL, "%s: not linked with libukcov (no libukcov.so "
		    "in its DT_NEEDED and no ukcov_open defined): link it "
		    "with -lukcov or libukcov.a, see ukcov-run(1)", shown);
	if (!c.callbacks)
		die(EXIT_TOOL, "%s: not instrumented (no reference to "
		    "__sanitizer_cov_trace_pc or _cmp): build it with "
		    "-fsanitize-coverage=trace-pc,trace-cmp%s", shown,
		    c.any_symbols ? "" : " (or it is stripped: --no-check)");
}

/* Append the RUN record: how the program ended.  One write, O_APPEND, like
 * every record, so that it lands after whatever the program wrote. */
/* ---- The region ------------------------------------------------------- */

static int rfd = -1;			/* the region: a memfd */
static struct ukcov_region_header *rh;	/* its header, mapped */
/* Its size in bytes: ours, not the header's, which the program can write. */
static uint64_t region_size;

/*
 * Create the region, as large as the system lets a file be (sparse: only
 * what the program writes takes memory), and say what to collect.
 */
static void region_create(unsigned int mode, unsigned long words, bool common)
{
	uint64_t size = 1ull << 40, min = UKCOV_REGION_DATA_OFF + (64u << 20);
	uint64_t *h;

	rfd = memfd_create("ukcov-run", MFD_CLOEXEC);
	if (rfd < 0)
		die(EXIT_TOOL, "memfd_create: %s", strerror(errno));
	/* RLIMIT_FSIZE applies: SIGXFSZ is ignored, EFBIG halves. */
	while (ftruncate(rfd, (off_t)size)) {
		if (errno != EFBIG || size / 2 < min)
			die(EXIT_TOOL, "cannot size the coverage region: %s",
			    strerror(errno));
		size /= 2;
	}
	rh = mmap(NULL, UKCOV_REGION_INDEX_OFF, PROT_READ | PROT_WRITE,
		  MAP_SHARED, rfd, 0);
	if (rh == MAP_FAILED)
		die(EXIT_TOOL, "mmap: %s", strerror(errno));
	memcpy(rh->magic, UKCOV_REGION_MAGIC, 8);
	rh->version = UKCOV_REGION_VERSION;
	rh->flags = common ? UKCOV_REGION_COMMON : 0;
	rh->size = size;
	region_size = size;
	rh->mode = mode;
	rh->area_words = words;
	rh->nhandles = nhandles;
	rh->signals[0] = signal_bits[0];
	rh->signals[1] = signal_bits[1];
	h = (uint64_t *)((char *)rh + UKCOV_REGION_HANDLES_OFF);
	memcpy(h, handles, nhandles * sizeof(*h));
}

/* ---- The program and its processes ----------------------------------- */

static volatile pid_t target;		/* the program's process */
static volatile sig_atomic_t target_gone; /* it ended (not reaped yet) */
static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1,
				 SIGUSR2, SIGALRM };

/* Every process whose parent is ukcov-run, from /proc: async-signal-safe. */
static void kill_children(int sig)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd, i;
	long pid = 0;
	bool in = false;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 (int)getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				pid = pid * 10 + (buf[i] - '0');
				in = true;
			} else if (in) {
				kill((pid_t)pid, sig);
				pid = 0;
				in = false;
			}
		}
	}
	if (in)
		kill((pid_t)pid, sig);
	close(fd);
}

/*
 * A signal sent to ukcov-run goes on to the program (or, once it has
 * ended, to the processes it left, which ukcov-run now parents), as
 * timeout(1) does.  A terminal's signal (SI_KERNEL) reached the program's
 * process group already: not sent twice.
 */
static void forward(int sig, siginfo_t *si, void *uc)
{
	int e = errno;

	(void)uc;
	if (si->si_code != SI_KERNEL) {
		if (!target_gone)
			kill(target, sig);
		else
			kill_children(sig);
	}
	errno = e;
}

static void forward_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: waits see EINTR */
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
}

/* In the child, before exec: everything as ukcov-run found it. */
static void child_signals(void)
{
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		signal(forwarded[i], SIG_DFL);
	signal(SIGXFSZ, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Wait until the program and every process it started are gone
 * (ukcov-run is their subreaper).  The program's status, or -1 if it was
 * never seen to end.  An ended process is noticed before it is reaped, so
 * that a forwarded signal never reaches a process that reused its pid.
 */
static int wait_all(void)
{
	int status = -1, st;
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT)) {
			if (errno == EINTR)
				continue;
			if (errno == ECHILD)
				return status;
			die(EXIT_TOOL, "waitid: %s", strerror(errno));
		}
		if (si.si_pid == target)
			target_gone = 1;
		while (waitpid(si.si_pid, &st, 0) < 0)
			if (errno != EINTR)
				die(EXIT_TOOL, "waitpid: %s", strerror(errno));
		if (si.si_pid == target)
			status = st;
	}
}

/* ---- The coverage file ------------------------------------------------ */

/* The output: a file of ukcov-run's own, beside the target path. */
struct out {
	const char *path;	/* what the user named */
	char *tmp;		/* ours, renamed to path at the end */
	int fd;
	off_t good;		/* bytes of whole records written */
	int err;		/* the first write error, or 0 */
};

static void out_create(struct out *o, const char *path)
{
	char *dup1 = strdup(path), *dup2 = strdup(path);
	struct stat st;
	size_t n;

	if (!dup1 || !dup2)
		die(EXIT_TOOL, "out of memory");
	o->path = path;
	o->good = 0;
	o->err = 0;
	o->tmp = NULL;
	/*
	 * A device, FIFO or socket is written into, as a shell redirection
	 * would (-o /dev/null, -o /dev/stdout, a pipe to a reader), never
	 * replaced.  A FIFO must have its reader already: else a one-line
	 * error before the run, not a wait.
	 */
	if (!lstat(path, &st) && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ||
				  S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		int fl;

		o->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (o->fd < 0)
			die(EXIT_TOOL, "cannot write %s: %s", path,
			    errno == ENXIO ? "a FIFO with no reader"
					   : strerror(errno));
		fl = fcntl(o->fd, F_GETFL);
		if (fl < 0 || fcntl(o->fd, F_SETFL, fl & ~O_NONBLOCK))
			die(EXIT_TOOL, "cannot write %s: %s", path,
			    strerror(errno));
		free(dup1);
		free(dup2);
		return;
	}
	/* rename() cannot replace a directory, nor make a name ending in
	 * '/': say so now, not after the run (a link at path is replaced,
	 * whatever it points to). */
	if (path[strlen(path) - 1] == '/' ||
	    (!lstat(path, &st) && S_ISDIR(st.st_mode)))
		die(EXIT_TOOL, "cannot write %s: %s", path, strerror(EISDIR));
	n = strlen(path) + 32;
	o->tmp = malloc(n);
	if (!o->tmp)
		die(EXIT_TOOL, "out of memory");
	snprintf(o->tmp, n, "%s/.%s.XXXXXX", dirname(dup1), basename(dup2));
	/* O_EXCL, 0600: a file no one else made, no link followed. */
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0)
		die(EXIT_TOOL, "cannot write %s: %s", path, strerror(errno));
	free(dup1);
	free(dup2);
}

/* One record (its pieces), whole or not at all. */
static void out_write(struct out *o, struct iovec *iov, int n)
{
	ssize_t w;

	if (o->err)
		return;
	while (n) {
		w = writev(o->fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->err = w < 0 ? errno : ENOSPC;
			/* Back to the last whole record. */
			if (ftruncate(o->fd, o->good))
				o->err = errno;
			return;
		}
		while (n && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	o->good = lseek(o->fd, 0, SEEK_CUR);
}

/* A window of the region's data, read-only; NULL if out of range. */
static const char *data_map(const struct ukcov_region_entry *e,
			    size_t *maplen)
{
	uint64_t room = region_size - UKCOV_REGION_DATA_OFF;
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (e->data > room || e->bytes > room - e->data || !e->bytes ||
	    e->data % (uint64_t)page)
		return NULL;
	*maplen = (size_t)e->bytes;
	p = mmap(NULL, *maplen, PROT_READ, MAP_SHARED, rfd,
		 (off_t)(UKCOV_REGION_DATA_OFF + e->data));
	return p == MAP_FAILED ? NULL : p;
}

/*
 * The pid a record carries: the process's, or, when one process ran
 * several instrumented images (exec), the image's number in the upper 32
 * bits (ukcov-file(5)).
 */
static uint64_t *multi_image;	/* pids with more than one image, sorted */
static size_t nmulti;

static uint64_t pid_key(const struct ukcov_region_entry *e)
{
	size_t lo = 0, hi = nmulti;

	while (lo < hi) {
		size_t m = (lo + hi) / 2;

		if (multi_image[m] == e->pid)
			return ((uint64_t)e->image << 32) | e->pid;
		if (multi_image[m] < e->pid)
			lo = m + 1;
		else
			hi = m;
	}
	return e->pid;
}

static int pid_image_cmp(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return *a < *b ? -1 : *a > *b;
}

static void find_multi_images(const struct ukcov_region_entry *ent,
			      uint64_t n)
{
	uint64_t *pi = calloc(n + 1, sizeof(*pi)), i, m = 0;

	if (!pi)
		die(EXIT_TOOL, "out of memory");
	for (i = 0; i < n; i++)
		if (ent[i].state != UKCOV_REGION_EMPTY)
			pi[m++] = ((uint64_t)ent[i].pid << 32) | ent[i].image;
	qsort(pi, m, sizeof(*pi), pid_image_cmp);
	multi_image = calloc(m + 1, sizeof(*multi_image));
	if (!multi_image)
		die(EXIT_TOOL, "out of memory");
	for (i = 1; i < m; i++)
		if (pi[i] >> 32 == pi[i - 1] >> 32 && pi[i] != pi[i - 1] &&
		    (!nmulti || multi_image[nmulti - 1] != pi[i] >> 32))
			multi_image[nmulti++] = pi[i] >> 32;
	free(pi);
}

/*
 * Each process's number in the run (ukcov-file(5)): 0 for the program
 * ukcov-run started (its pid's first instrumented image), then 1, 2, ...
 * in the order of their first entry in the index, that is, the order in
 * which their collectors started: stable from run to run when the program
 * starts its processes in a stable order, unlike pids.
 */
static uint64_t *proc_keys;	/* pid_key of process number i */
static size_t nprocs;

static uint32_t proc_number(const struct ukcov_region_entry *e)
{
	uint64_t key = pid_key(e);
	size_t i;

	for (i = 0; i < nprocs; i++)
		if (proc_keys[i] == key)
			return (uint32_t)i;
	return 0;
}

static void number_procs(const struct ukcov_region_entry *ent, uint64_t n,
			 pid_t target_pid)
{
	uint64_t i, key;
	size_t j;

	proc_keys = calloc(n + 2, sizeof(*proc_keys));
	if (!proc_keys)
		die(EXIT_TOOL, "out of memory");
	/* Slot 0: the program's; never a valid key until found. */
	proc_keys[0] = ~0ull;
	nprocs = 1;
	for (i = 0; i < n; i++) {
		if (ent[i].state == UKCOV_REGION_EMPTY)
			continue;
		key = pid_key(&ent[i]);
		for (j = 0; j < nprocs && proc_keys[j] != key; j++)
			;
		if (j < nprocs)
			continue;
		if (ent[i].pid == (uint32_t)target_pid && proc_keys[0] == ~0ull)
			proc_keys[0] = key;
		else
			proc_keys[nprocs++] = key;
	}
}

static void write_module(struct out *o, const struct ukcov_region_entry *e)
{
	static const char zeros[8];
	struct ukcov_rec rec = { .type = UKCOV_REC_MODULE };
	struct ukcov_rec_module m;
	uint32_t idlen = e->module.build_id_len, plen = e->module.path_len;
	size_t used = (size_t)idlen + plen, maplen;
	const char *d = data_map(e, &maplen);
	struct iovec iov[4];

	if (!d)
		return;
	/* The program wrote this: a path that fits and ends where it says. */
	if (used > e->bytes || !plen || plen > PATH_MAX ||
	    d[idlen + plen - 1] || memchr(d + idlen, 0, plen) != d + used - 1)
		goto out;
	m.pid = pid_key(e);
	m.base = e->module.base;
	m.start = e->module.start;
	m.end = e->module.end;
	m.build_id_len = idlen;
	m.path_len = plen;
	rec.size = sizeof(m) + ((used + 7) & ~(size_t)7);
	iov[0] = (struct iovec){ &rec, sizeof(rec) };
	iov[1] = (struct iovec){ &m, sizeof(m) };
	iov[2] = (struct iovec){ (void *)d, used };
	iov[3] = (struct iovec){ (void *)zeros, ((used + 7) & ~(size_t)7) - used };
	out_write(o, iov, 4);
out:
	munmap((void *)d, maplen);
}

/* An area's record; false if the entry is not a valid area. */
static bool write_area(struct out *o, const struct ukcov_region_entry *e,
		       uint64_t *entries_out)
{
	struct ukcov_rec rec = { .type = UKCOV_REC_AREA };
	struct ukcov_rec_area a;
	uint64_t words = e->area.words, ew, cap, count;
	size_t maplen;
	const char *d;
	const uint64_t *area;
	struct iovec iov[3];

	if (words < 2 || words > UKCOV_REGION_MAX_WORDS ||
	    e->area.count_at >= words - 1 || words * 8 > e->bytes ||
	    (e->area.mode != UKCOV_FILE_MODE_PC &&
	     e->area.mode != UKCOV_FILE_MODE_CMP &&
	     e->area.mode != UKCOV_FILE_MODE_UNIQUE) ||
	    e->area.kind < UKCOV_AREA_THREAD || e->area.kind > UKCOV_AREA_SIGNAL)
		return false;
	d = data_map(e, &maplen);
	if (!d)
		return false;
	area = (const uint64_t *)d + e->area.count_at;
	ew = e->area.mode == UKCOV_FILE_MODE_CMP ? 4 : 1;
	cap = (words - e->area.count_at - 1) / ew;
	count = area[0] < cap ? area[0] : cap; /* the program's word */
	memset(&a, 0, sizeof(a));
	a.pid = pid_key(e);
	a.tid = e->area.tid;
	a.kind = e->area.kind;
	a.mode = e->area.mode;
	a.handle = e->area.handle;
	a.count = count;
	a.capacity = cap;
	a.dropped = e->area.dropped;
	a.seq = e->area.seq;
	a.start_routine = e->area.start_routine;
	a.flags = e->area.flags & UKCOV_AREA_NAMED;
	a.proc = proc_number(e);
	if (e->state == UKCOV_REGION_LIVE && e->area.kind == UKCOV_AREA_THREAD)
		a.flags |= UKCOV_AREA_UNFINISHED;
	memcpy(a.name, e->area.name, sizeof(a.name) - 1);
	rec.size = sizeof(a) + count * ew * 8;
	iov[0] = (struct iovec){ &rec, sizeof(rec) };
	iov[1] = (struct iovec){ &a, sizeof(a) };
	iov[2] = (struct iovec){ (void *)(area + 1), count * ew * 8 };
	out_write(o, iov, 3);
	*entries_out += count;
	munmap((void *)d, maplen);
	return true;
}

/*
 * The file, from the region, once everything is gone: the header, the
 * module maps, the areas, how the run ended.  Returns the number of areas
 * lost: not created (the runtime's count, and entries it handed out but
 * never filled), or refused; *refused counts the published entries that
 * are not valid (the program's memory: it may have written over them).
 */
static uint64_t write_file(struct out *o, int status, uint64_t *refused)
{
	struct ukcov_file_header h = { .version = UKCOV_FILE_VERSION,
				       .word_size = 8 };
	struct {
		struct ukcov_rec rec;
		struct ukcov_rec_run run;
	} r;
	const struct ukcov_region_entry *ent;
	uint64_t n, i, lost, entries = 0;
	struct iovec iov;

	memcpy(h.magic, UKCOV_FILE_MAGIC, 8);
	iov = (struct iovec){ &h, sizeof(h) };
	out_write(o, &iov, 1);
	ent = mmap(NULL, UKCOV_REGION_DATA_OFF - UKCOV_REGION_INDEX_OFF,
		   PROT_READ, MAP_SHARED, rfd, UKCOV_REGION_INDEX_OFF);
	if (ent == MAP_FAILED)
		die(EXIT_TOOL, "mmap: %s", strerror(errno));
	n = rh->next_entry < UKCOV_REGION_MAX_ENTRIES
		    ? rh->next_entry : UKCOV_REGION_MAX_ENTRIES;
	/* The program's count: any value; added to without wrapping. */
	lost = rh->areas_lost;
	*refused = 0;
	find_multi_images(ent, n);
	number_procs(ent, n, target);
	for (i = 0; i < n; i++)
		if (ent[i].state == UKCOV_REGION_LIVE &&
		    ent[i].type == UKCOV_REGION_MODULE)
			write_module(o, &ent[i]);
	for (i = 0; i < n; i++) {
		uint32_t state = ent[i].state;

		if (ent[i].type == UKCOV_REGION_MODULE &&
		    state != UKCOV_REGION_EMPTY)
			continue;
		if (state == UKCOV_REGION_EMPTY) {
			lost += lost != UINT64_MAX;
			continue;
		}
		/* Only the states the collector publishes (region.h). */
		if ((state != UKCOV_REGION_LIVE && state != UKCOV_REGION_DONE) ||
		    ent[i].type != UKCOV_REGION_AREA ||
		    !write_area(o, &ent[i], &entries)) {
			lost += lost != UINT64_MAX;
			++*refused;
		}
	}
	memset(&r, 0, sizeof(r));
	r.rec.type = UKCOV_REC_RUN;
	r.rec.size = sizeof(r.run);
	if (status >= 0 && WIFSIGNALED(status)) {
		r.run.how = UKCOV_RUN_KILLED;
		r.run.status = WTERMSIG(status);
		r.run.flags = UKCOV_RUN_INCOMPLETE;
	} else {
		r.run.how = UKCOV_RUN_EXITED;
		r.run.status = status >= 0 ? WEXITSTATUS(status) : 0;
	}
	if (lost)
		r.run.flags = UKCOV_RUN_INCOMPLETE;
	r.run.areas_lost = lost;
	iov = (struct iovec){ &r, sizeof(r) };
	out_write(o, &iov, 1);
	munmap((void *)ent, UKCOV_REGION_DATA_OFF - UKCOV_REGION_INDEX_OFF);
	free(multi_image);
	multi_image = NULL;
	free(proc_keys);
	proc_keys = NULL;
	return lost;
}

/* Into place (a link at path is replaced, never followed). */
static void out_finish(struct out *o)
{
	mode_t um = umask(0);

	umask(um);
	if (!o->tmp) { /* written into: a device, FIFO or socket */
		if (close(o->fd) && errno != EINTR)
			die(EXIT_TOOL, "cannot write %s: %s", o->path,
			    strerror(errno));
		return;
	}
	if (fchmod(o->fd, 0666 & ~um) || close(o->fd) ||
	    rename(o->tmp, o->path)) {
		int e = errno;

		unlink(o->tmp);
		die(EXIT_TOOL, "cannot write %s: %s", o->path, strerror(e));
	}
	free(o->tmp);
	o->tmp = NULL;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Sum up what the run wrote. */
static void summarize(const char *out, bool quiet, const char *shown,
		      unsigned int mode, bool direct)
{
	struct ukf c;
	char err[256];
	unsigned long n[5] = { 0 }, pids = 0;
	uint64_t entries = 0, dropped = 0, *pid;
	bool ordered = false;	/* drops in an ordered PC trace */
	unsigned long fell_back = 0;
	size_t i;

	/* Written into a device or FIFO: nothing to read back. */
	if (direct)
		return;
	if (ukf_load(&c, out, err, sizeof(err))) {
		fprintf(stderr, "%s: %s: %s\n", prog, out, err);
		return;
	}
	/* The areas are in file order: count the processes by sorting. */
	pid = calloc(c.nareas + 1, sizeof(*pid));
	for (i = 0; i < c.nareas; i++) {
		n[c.areas[i].a->kind]++;
		entries += c.areas[i].count;
		dropped += c.areas[i].a->dropped;
		ordered |= c.areas[i].a->dropped &&
			   c.areas[i].a->mode == UKCOV_FILE_MODE_PC;
		fell_back += c.areas[i].a->mode != mode;
		if (pid)
			pid[i] = c.areas[i].a->pid;
	}
	if (pid) {
		if (c.nareas > 1)
			qsort(pid, c.nareas, sizeof(*pid), u64_cmp);
		for (i = 0; i < c.nareas; i++)
			pids += !i || pid[i] != pid[i - 1];
		free(pid);
	}
	if (!c.nareas) {
		fprintf(stderr, "%s: %s: no area in %s\n", prog, shown, out);
	} else if (!quiet) {
		fprintf(stderr, "%s: wrote %s: %lu thread%s, %lu common, "
			"%lu handle, %lu signal area%s; %llu entries",
			prog, out, n[1], n[1] == 1 ? "" : "s", n[2], n[3], n[4],
			n[4] == 1 ? "" : "s", (unsigned long long)entries);
		if (pids > 1)
			fprintf(stderr, "; %lu processes", pids);
		fputc('\n', stderr);
	}
	if (fell_back)
		fprintf(stderr, "%s: warning: %lu of %zu areas hold an ordered "
			"trace: unique mode's map (128 MiB of address space "
			"each) could not be reserved\n", prog, fell_back,
			c.nareas);
	if (dropped)
		fprintf(stderr, "%s: warning: %llu entries were dropped "
			"because areas were full; rerun with a larger "
			"--area-words%s\n", prog, (unsigned long long)dropped,
			ordered ? ", or with --mode unique" : "");
	ukf_free(&c);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "mode", required_argument, NULL, 'm' },
		{ "area-words", required_argument, NULL, 's' },
		{ "no-common", no_argument, NULL, 'C' },
		{ "handle", required_argument, NULL, 'H' },
		{ "signal", required_argument, NULL, 'S' },
		{ "no-check", no_argument, NULL, 'N' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_path = "ukcov.cov";
	unsigned int mode = UKCOV_FILE_MODE_UNIQUE;
	unsigned long words = 0x40000;
	bool common = true, check = true, quiet = false;
	char env[64];
	struct out o;
	bool direct;
	uint64_t lost, refused;
	char *path;
	int opt, status;
	pid_t pid;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+o:m:s:H:S:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			if (!*optarg)
				die(EXIT_TOOL, "--output: an empty path");
			out_path = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "pc"))
				mode = UKCOV_FILE_MODE_PC;
			else if (!strcmp(optarg, "cmp"))
				mode = UKCOV_FILE_MODE_CMP;
			else if (!strcmp(optarg, "unique"))
				mode = UKCOV_FILE_MODE_UNIQUE;
			else
				die(EXIT_TOOL, "--mode %s: not pc, unique or cmp",
				    optarg);
			break;
		case 's':
			words = parse_words(optarg);
			break;
		case 'C':
			common = false;
			break;
		case 'H':
			add_handles(optarg);
			break;
		case 'S':
			add_signals(optarg);
			break;
		case 'N':
			check = false;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (optopt && strchr("omsHS", optopt))
				die(EXIT_TOOL, "option -%c needs an argument "
				    "(ukcov-run --help)", optopt);
			if (optopt)
				die(EXIT_TOOL, "unknown option -%c (ukcov-run "
				    "--help)", optopt);
			die(EXIT_TOOL, "unknown option %s (ukcov-run --help)",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die(EXIT_TOOL, "no program to run: ukcov-run [options] -- "
		    "PROGRAM [ARGS...] (ukcov-run --help)");

	path = find_program(argv[optind]);
	if (!path)
		die(EXIT_NOTFOUND, "%s: no such program", argv[optind]);
	if (check)
		check_program(path, argv[optind]);

	/* Before the run: a bad output path fails now, not after it. */
	out_create(&o, out_path);
	signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE: EFBIG, not death */
	/*
	 * The region is memory, not the user's disk: sized under the hard
	 * file-size limit; the program, and the file written at the end,
	 * get the user's limit back.
	 */
	{
		struct rlimit user, raised;

		getrlimit(RLIMIT_FSIZE, &user);
		raised = user;
		raised.rlim_cur = user.rlim_max;
		setrlimit(RLIMIT_FSIZE, &raised);
		region_create(mode, words, common);
		setrlimit(RLIMIT_FSIZE, &user);
	}
	/* Orphans of the program's (daemons) become ours to wait for. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die(EXIT_TOOL, "prctl(PR_SET_CHILD_SUBREAPER): %s",
		    strerror(errno));
	snprintf(env, sizeof(env), "%d:%d", (int)getpid(), rfd);
	if (setenv(UKCOV_REGION_ENV, env, 1))
		die(EXIT_TOOL, "setenv: %s", strerror(errno));

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(EXIT_TOOL, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* The region, inherited; nothing else of ukcov-run's. */
		close(o.fd);
		if (fcntl(rfd, F_SETFD, 0))
			_exit(EXIT_TOOL);
		child_signals();
		execv(path, argv + optind);
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind],
			strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
	}
	target = pid;
	forward_signals();
	status = wait_all();

	/* The program never started (exec failed): no file. */
	if (!rh->images && WIFEXITED(status) &&
	    (WEXITSTATUS(status) == EXIT_NOEXEC ||
	     WEXITSTATUS(status) == EXIT_NOTFOUND)) {
		close(o.fd);
		if (o.tmp)
			unlink(o.tmp);
		free(o.tmp);
		free(path);
		return WEXITSTATUS(status);
	}
	lost = write_file(&o, status, &refused);
	direct = !o.tmp;
	out_finish(&o);
	if (status >= 0 && WIFSIGNALED(status)) {
		char sig[16];

		fprintf(stderr, "%s: %s was killed by %s: its threads' areas "
			"hold what they recorded until then\n", prog,
			argv[optind], ukf_signal_name(WTERMSIG(status), sig));
	}
	if (!rh->images)
		fprintf(stderr, "%s: %s did not run libukcov's collector: "
			"nothing was collected (not linked with libukcov, or "
			"a set-user-ID program)\n", prog, argv[optind]);
	if (lost > refused)
		fprintf(stderr, "%s: warning: %llu area%s could not be "
			"created (the region or its index was full)\n", prog,
			(unsigned long long)(lost - refused),
			lost - refused == 1 ? "" : "s");
	if (refused)
		fprintf(stderr, "%s: warning: %llu area%s refused: not valid "
			"in the region (the program wrote over it)\n", prog,
			(unsigned long long)refused, refused == 1 ? " was" : "s were");
	if (o.err) {
		fprintf(stderr, "%s: %s: %s: the file holds the whole records "
			"written before\n", prog, out_path, strerror(o.err));
		free(path);
		return EXIT_TOOL;
	}
	if (rh->images)
		summarize(out_path, quiet || direct, argv[optind], mode,
			  direct);
	free(path);
	if (status < 0)
		return EXIT_TOOL;
	return WIFEXITED(status) ? WEXITSTATUS(status)
				 : 128 + WTERMSIG(status);
}
