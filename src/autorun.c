// SPDX-License-Identifier: MIT
/*
 * ukcov-run's collector (ukcov-run(1)): with no change to the program,
 * every thread collects into an area of its own, and one remote kcov per
 * handle collects the common handle (inherited by every thread and forked
 * child), the global handles and the per-signal handles ukcov-run asks for.
 *
 * Every area, and the module map that symbolizes them, lives in the run's
 * region (include/ukcov/region.h): memory ukcov-run holds, and writes to
 * the coverage file once the program and every process it started are
 * gone.  Nothing here writes a file or has to run at exit for a process's
 * coverage to survive: an area is written once, whole, whatever way its
 * thread or process ends.  What the exit routes do here (mark an area
 * finished, name it) only refines the labels.
 *
 * The program holds no descriptor of ukcov's that matters: the region is
 * reached through the descriptor it inherited, or through ukcov-run's
 * /proc/<pid>/fd/<fd> when the program closed that, each time a thread
 * starts.  The kcovs have no descriptor at all.
 *
 * The environment is trusted only in an ordinary process: a set-user-ID or
 * set-group-ID program (AT_SECURE) collects nothing.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "ukcov/file.h"
#include "ukcov/region.h"

/* The region, as this process sees it; set once, in the constructor. */
static struct ukcov_region_header *hdr;
static struct ukcov_region_entry *entries;
static uint32_t image;			/* this image's number in the run */
static unsigned long words;		/* of each area */
static unsigned long kmode;		/* KCOV_TRACE_PC or KCOV_TRACE_CMP */
/*
 * UKCOV_FILE_MODE_UNIQUE: areas in unique mode, each PC once per area
 * (never reset).  The bitmap is the smallest kcov allows, one word: the
 * deduplication does not depend on it (docs/design.md), and ukcov-run
 * reads the trace only, its count at word UNIQUE_BITMAP_WORDS.
 */
static bool unique;
#define UNIQUE_BITMAP_WORDS 1
static size_t page;

/* Reaching the region: see region_fd(). */
static int run_pid, run_fd;		/* from UKCOV_RUN */
static int rfd = -1;			/* ours, close-on-exec */
static dev_t rdev;
static ino_t rino;
static ukcov_lock_t region_lock;	/* protects rfd */

/* The calling thread's area. */
struct area {
	struct ukcov_region_entry *e;
	struct ukcov *k;
};
static __thread struct area my_area
	__attribute__((tls_model(UKCOV_TLS_MODEL)));

/* Modules recorded by this process: (load bias, path) of each. */
struct known_module {
	uintptr_t base;
	char *path;
};
static struct known_module *known;
static size_t nknown, known_cap;
static unsigned long long last_adds = ~0ull;

/* ---- The region ------------------------------------------------------ */

static bool same_file(int fd)
{
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) && st.st_dev == rdev &&
	       st.st_ino == rino;
}

/*
 * A descriptor of the region: ours while the program left it alone; else
 * ukcov-run's, reopened through /proc (the program may have closed every
 * descriptor, or reused our number: then it is forgotten, not closed).
 * Called with region_lock held.
 */
static int region_fd(void)
{
	char path[64];
	int fd;

	if (same_file(rfd))
		return rfd;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", run_pid, run_fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && !same_file(fd)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 && same_file(run_fd))
		fd = fcntl(run_fd, F_DUPFD_CLOEXEC, 3);
	rfd = fd;
	return fd;
}

/* An entry of the index, or NULL (counted as a lost area). */
static struct ukcov_region_entry *entry_new(void)
{
	uint64_t i = __atomic_fetch_add(&hdr->next_entry, 1, __ATOMIC_RELAXED);

	if (i >= UKCOV_REGION_MAX_ENTRIES) {
		__atomic_add_fetch(&hdr->areas_lost, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return &entries[i];
}

/*
 * len bytes of data (a page multiple), mapped between two PROT_NONE pages;
 * *off is where in the data part.  NULL when the region is full or cannot
 * be reached.
 */
static char *data_new(size_t len, uint64_t *off)
{
	uint64_t room = hdr->size - UKCOV_REGION_DATA_OFF;
	char *base;
	sigset_t ss;
	int fd;

	*off = __atomic_fetch_add(&hdr->next_data, len, __ATOMIC_RELAXED);
	if (*off > room || len > room - *off)
		return NULL;
	base = mmap(NULL, len + 2 * page, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	__ukcov_lock(&region_lock, &ss);
	fd = region_fd();
	if (fd < 0 ||
	    mmap(base + page, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, (off_t)(UKCOV_REGION_DATA_OFF + *off)) == MAP_FAILED) {
		__ukcov_unlock(&region_lock, &ss);
		munmap(base, len + 2 * page);
		return NULL;
	}
	__ukcov_unlock(&region_lock, &ss);
	return base;
}

/* The entry's fields are written; now ukcov-run may read it. */
static void entry_publish(struct ukcov_region_entry *e, uint32_t state)
{
	__atomic_store_n(&e->state, state, __ATOMIC_RELEASE);
}

static void thread_comm(char name[16])
{
	memset(name, 0, 16);
	prctl(PR_GET_NAME, name);
}

/*
 * A new area and its kcov (READY).  A failure leaves the entry EMPTY,
 * which ukcov-run counts as a lost area.
 */
static struct ukcov *area_new(uint32_t kind, uint64_t handle,
			      const struct ukcov_thread_info *ti,
			      struct ukcov_region_entry **ep)
{
	size_t len = ((words * sizeof(long) + page - 1) & ~(page - 1)) + page;
	struct ukcov_region_entry *e = entry_new();
	struct ukcov *k;
	uint64_t off;
	char *base;

	*ep = NULL;
	if (!e)
		return NULL;
	base = data_new(len, &off);
	if (!base)
		return NULL;
	e->type = UKCOV_REGION_AREA;
	e->image = image;
	e->pid = (uint32_t)getpid();
	e->data = off;
	e->bytes = len;
	e->area.kind = kind;
	e->area.mode = hdr->mode;
	e->area.tid = kind == UKCOV_AREA_THREAD
			      ? (uint64_t)syscall(SYS_gettid)
			      : 0;
	e->area.handle = handle;
	e->area.words = words;
	e->area.count_at = unique ? UNIQUE_BITMAP_WORDS : 0;
	e->area.seq = ti ? ti->seq : 0;
	e->area.start_routine = ti ? (uint64_t)(uintptr_t)ti->start_routine : 0;
	e->area.dropped = 0;
	e->area.flags = 0;
	if (kind == UKCOV_AREA_THREAD)
		thread_comm(e->area.name);
	k = __ukcov_obj_on(base, len, words, &e->area.dropped);
	if (!k) {
		munmap(base, len + 2 * page);
		return NULL;
	}
	entry_publish(e, UKCOV_REGION_LIVE);
	*ep = e;
	return k;
}

/* ---- The module map ---------------------------------------------------- */

struct scan {
	bool force;
	unsigned long long adds;
};

static bool module_known(uintptr_t base, const char *path)
{
	size_t i;

	for (i = 0; i < nknown; i++)
		if (known[i].base == base && !strcmp(known[i].path, path))
			return true;
	return false;
}

static void module_remember(uintptr_t base, const char *path)
{
	struct known_module *n;

	if (nknown == known_cap) {
		size_t cap = known_cap ? 2 * known_cap : 16;

		n = realloc(known, cap * sizeof(*n));
		if (!n)
			return;
		known = n;
		known_cap = cap;
	}
	known[nknown].base = base;
	known[nknown].path = strdup(path);
	if (known[nknown].path)
		nknown++;
}

/* One module entry per executable segment: build id, then the path. */
static void module_write(const struct dl_phdr_info *info, const char *path,
			 const unsigned char *id, uint32_t idlen)
{
	uint32_t plen = (uint32_t)strlen(path) + 1;
	size_t len = (idlen + plen + page - 1) & ~(page - 1);
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		struct ukcov_region_entry *e;
		uint64_t off;
		char *base;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		e = entry_new();
		if (!e)
			return;
		base = data_new(len, &off);
		if (!base)
			return;
		memcpy(base + page, id, idlen);
		memcpy(base + page + idlen, path, plen);
		munmap(base, len + 2 * page);
		e->type = UKCOV_REGION_MODULE;
		e->image = image;
		e->pid = (uint32_t)getpid();
		e->data = off;
		e->bytes = idlen + plen;
		e->module.base = info->dlpi_addr;
		e->module.start = info->dlpi_addr + ph->p_vaddr;
		e->module.end = e->module.start + ph->p_memsz;
		e->module.build_id_len = idlen;
		e->module.path_len = plen;
		entry_publish(e, UKCOV_REGION_LIVE);
	}
}

static int module_scan(struct dl_phdr_info *info, size_t size, void *data)
{
	struct scan *sc = data;
	const unsigned char *id = NULL;
	char path[PATH_MAX];
	uint32_t idlen = 0;
	int i;

	(void)size;
	/* Nothing loaded since the last look: stop at the first module. */
	if (!sc->force && info->dlpi_adds == last_adds)
		return 1;
	sc->adds = info->dlpi_adds;
	if (info->dlpi_name && info->dlpi_name[0]) {
		snprintf(path, sizeof(path), "%s", info->dlpi_name);
	} else {
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

		path[n > 0 ? n : 0] = 0;
	}
	if (!path[0] || !strncmp(path, "linux-vdso", 10) ||
	    module_known(info->dlpi_addr, path))
		return 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const char *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const char *desc =
				p + sizeof(*n) + ((n->n_namesz + 3) & ~3u);

			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    !memcmp(p + sizeof(*n), "GNU", 4)) {
				id = (const unsigned char *)desc;
				idlen = n->n_descsz;
			}
			p = desc + ((n->n_descsz + 3) & ~3u);
		}
	}
	module_write(info, path, id, idlen);
	module_remember(info->dlpi_addr, path);
	return 0;
}

/*
 * Record the modules loaded since the last look (dl_iterate_phdr counts
 * loads).  Task context only: dl_iterate_phdr takes the loader's lock.  A
 * thread that finds another one scanning goes on without waiting (waiting
 * here, under the loader's lock, for a thread a library constructor joins
 * would deadlock): the other one records what there is.
 */
static int scanning;

static void modules_rescan(bool force)
{
	struct scan sc = { force, 0 };

	if (!hdr || __ukcov_cur.sig_depth ||
	    __ukcov_in_vfork_child(&__ukcov_cur))
		return;
	/* Pairs with the release below: last_adds is the scanner's. */
	if (__atomic_exchange_n(&scanning, 1, __ATOMIC_ACQUIRE))
		return;
	sc.adds = last_adds;
	dl_iterate_phdr(module_scan, &sc);
	last_adds = sc.adds;
	__atomic_store_n(&scanning, 0, __ATOMIC_RELEASE);
	/* A trace-pc module loaded since: its sites deduplicated from now. */
	if (unique)
		__ukcov_pcmap_update(false);
}

/*
 * Enable area entry e's kcov k for the calling thread; in unique mode,
 * the area falls back to an ordered trace if the unique state cannot be
 * had (its map is 128 MiB of address space: RLIMIT_AS).
 */
static int area_enable(struct ukcov_region_entry *e, struct ukcov *k,
		       struct ukcov_thread *th)
{
	if (unique) {
		int ret = __ukcov_unique_enable(k, th, UNIQUE_BITMAP_WORDS);

		if (ret != -ENOMEM)
			return ret;
		e->area.count_at = 0;
		e->area.mode = UKCOV_FILE_MODE_PC;
	}
	return __ukcov_enable(k, th, kmode);
}

/* ---- Threads ------------------------------------------------------------ */

/* A thread starts (the main one in the constructor): its own area. */
static void auto_thread_begin(const struct ukcov_thread_info *ti)
{
	struct ukcov_thread *th = &__ukcov_cur;
	struct ukcov_region_entry *e;
	struct ukcov *k;

	if (!hdr || my_area.k)
		return;
	k = area_new(UKCOV_AREA_THREAD, 0, ti, &e);
	if (!k)
		return;
	/* A thread the program had collect already keeps its own: the area
	 * stays, empty (ukcov-run(1)). */
	if (area_enable(e, k, th)) {
		__ukcov_put(k);
		return;
	}
	my_area.e = e;
	my_area.k = k;
	modules_rescan(false);
}

/* The thread names itself: its area's label (ukcov-report(1)). */
static void auto_thread_named(const char *name)
{
	struct ukcov_region_entry *e = my_area.e;

	if (!e)
		return;
	memset(e->area.name, 0, sizeof(e->area.name));
	strncpy(e->area.name, name, sizeof(e->area.name) - 1);
	__atomic_or_fetch(&e->area.flags, UKCOV_AREA_NAMED, __ATOMIC_RELAXED);
}

/* The calling thread's area is finished: its last name, its state. */
static void area_finish(void)
{
	struct ukcov_region_entry *e = my_area.e;
	char name[16];

	if (!e)
		return;
	thread_comm(name);
	if (memcmp(name, e->area.name, sizeof(name))) {
		memcpy(e->area.name, name, sizeof(name));
		__atomic_or_fetch(&e->area.flags, UKCOV_AREA_NAMED,
				  __ATOMIC_RELAXED);
	}
	entry_publish(e, UKCOV_REGION_DONE);
}

/* A thread ends, still bound: its area is finished, its kcov let go (the
 * data stays in the region). */
static void auto_thread_end(void)
{
	struct area a = my_area;

	if (!a.k)
		return;
	area_finish();
	my_area.e = NULL;
	my_area.k = NULL;
	__ukcov_disable(a.k, &__ukcov_cur);
	__ukcov_put(a.k);
	modules_rescan(false);
}

/* The process ends by exit, _exit, quick_exit or a return from main: the
 * ending thread's area is finished; the others were cut short. */
static void auto_process_exit(void)
{
	area_finish();
	modules_rescan(false);
}

/*
 * A new process (fork, _Fork, clone): the parent's areas are the parent's
 * (its handle areas keep getting this child's sections, through the
 * inherited registry); this process records its own module map and
 * threads.
 */
static void auto_child(void)
{
	region_lock = 0;
	scanning = 0;
	my_area.e = NULL;
	my_area.k = NULL;
	nknown = 0; /* the parent's records are the parent's pid's */
	last_adds = ~0ull;
	modules_rescan(true);
}

static const struct ukcov_observer auto_observer = {
	.thread_begin = auto_thread_begin,
	.thread_end = auto_thread_end,
	.child = auto_child,
	.process_exit = auto_process_exit,
	.thread_named = auto_thread_named,
};

/* ---- Start-up -------------------------------------------------------------- */

/* A remote kcov collecting handle h, registered with no owner thread. */
static void handle_area(uint32_t kind, uint64_t h)
{
	struct ukcov_region_entry *e;
	struct ukcov *k = area_new(kind, h, NULL, &e);
	int ret = -ENOMEM;

	if (!k)
		return;
	if (unique)
		ret = __ukcov_remote_enable_unbound(k, kmode,
						    (unsigned int)words, h,
						    UNIQUE_BITMAP_WORDS);
	if (ret == -ENOMEM) {
		/* Ordered: asked for, or the unique state could not be had. */
		e->area.count_at = 0;
		e->area.mode = UKCOV_FILE_MODE_PC;
		ret = __ukcov_remote_enable_unbound(k, kmode,
						    (unsigned int)words, h, 0);
	}
	if (ret) {
		/* Taken already (the program registered it itself). */
		__ukcov_put(k);
		return;
	}
	/* The area lives with the process: its reference is never put. */
}

/* UKCOV_RUN: "<pid>:<fd>", both decimal, nothing else. */
static bool parse_run(const char *s)
{
	unsigned long pid, fd;
	char *end;

	errno = 0;
	pid = strtoul(s, &end, 10);
	if (errno || end == s || *end != ':' || !pid || pid > INT_MAX)
		return false;
	s = end + 1;
	fd = strtoul(s, &end, 10);
	if (errno || end == s || *end || fd > INT_MAX)
		return false;
	run_pid = (int)pid;
	run_fd = (int)fd;
	return true;
}

/* Map the region's header, handles and index; check what ukcov-run wrote. */
static bool region_open(void)
{
	struct ukcov_region_header *h;
	struct stat st;
	char path[64];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", run_pid, run_fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && !fstat(run_fd, &st) && S_ISREG(st.st_mode))
		fd = fcntl(run_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < UKCOV_REGION_DATA_OFF) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	p = mmap(NULL, UKCOV_REGION_DATA_OFF, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return false;
	}
	h = p;
	if (memcmp(h->magic, UKCOV_REGION_MAGIC, 8) ||
	    h->version != UKCOV_REGION_VERSION ||
	    h->size != (uint64_t)st.st_size ||
	    h->area_words < UKCOV_REGION_MIN_WORDS ||
	    h->area_words > UKCOV_REGION_MAX_WORDS ||
	    h->nhandles > UKCOV_REGION_MAX_HANDLES ||
	    (h->mode != UKCOV_FILE_MODE_PC && h->mode != UKCOV_FILE_MODE_CMP &&
	     h->mode != UKCOV_FILE_MODE_UNIQUE)) {
		munmap(p, UKCOV_REGION_DATA_OFF);
		close(fd);
		return false;
	}
	hdr = h;
	entries = (struct ukcov_region_entry *)((char *)p +
						UKCOV_REGION_INDEX_OFF);
	rfd = fd;
	rdev = st.st_dev;
	rino = st.st_ino;
	words = h->area_words;
	kmode = h->mode == UKCOV_FILE_MODE_CMP ? KCOV_TRACE_CMP
					       : KCOV_TRACE_PC;
	unique = h->mode == UKCOV_FILE_MODE_UNIQUE;
	return true;
}

void __ukcov_auto_init(void)
{
	const char *s = secure_getenv(UKCOV_REGION_ENV);
	const uint64_t *handles;
	struct ukcov_thread_info main_ti = { 0, NULL };
	uint32_t i;
	int sig;

	if (!s) {
		/* Never trust the environment of a privileged process. */
		if (getauxval(AT_SECURE) && getenv(UKCOV_REGION_ENV))
			__ukcov_warn(UKCOV_REGION_ENV " is ignored in a "
				     "set-user-ID or set-group-ID program",
				     NULL);
		return;
	}
	page = (size_t)sysconf(_SC_PAGESIZE);
	if (!parse_run(s) || !region_open()) {
		__ukcov_warn(UKCOV_REGION_ENV "=", s, ": not ukcov-run's "
			     "region; this process is not collected", NULL);
		return;
	}
	image = (uint32_t)__atomic_add_fetch(&hdr->images, 1,
					     __ATOMIC_RELAXED);
	modules_rescan(true);
	if (hdr->flags & UKCOV_REGION_COMMON) {
		uint64_t h = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON,
						(uint64_t)getpid() & 0xffffffff);

		handle_area(UKCOV_AREA_COMMON, h);
		__ukcov_cur.common_handle = h;
	}
	handles = (const uint64_t *)((const char *)hdr +
				     UKCOV_REGION_HANDLES_OFF);
	for (i = 0; i < hdr->nhandles; i++)
		if (__ukcov_handle_valid(handles[i], false, true, false))
			handle_area(UKCOV_AREA_HANDLE, handles[i]);
	for (sig = 1; sig < 128 && sig < _NSIG; sig++)
		if (hdr->signals[sig / 64] & (1ull << (sig % 64)))
			handle_area(UKCOV_AREA_SIGNAL,
				    kcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL,
						       (uint64_t)sig));
	__ukcov_observe(&auto_observer);
	auto_thread_begin(&main_ti);
}
