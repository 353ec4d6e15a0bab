// SPDX-License-Identifier: MIT
/*
 * Collection driven by the environment, for ukcov-run: no change to the
 * program.  When UKCOV_OUTPUT names a file, every thread of the process
 * (the main thread, and each thread pthread_create starts) collects into a
 * kcov of its own, and one remote kcov per handle collects the common
 * handle (inherited by every thread and forked child), the global handles
 * of UKCOV_HANDLES and the per-signal handles of UKCOV_SIGNALS.  A thread's
 * area is appended to the file when it exits, the rest when the process
 * exits (exit(3) or a return from main; _exit(2) and fatal signals lose
 * what was not written yet), with the module map that symbolizes the PCs.
 * The format is include/ukcov/file.h.
 *
 *   UKCOV_OUTPUT       the file (appended to; ukcov-run writes its header)
 *   UKCOV_MODE         pc (default) or cmp
 *   UKCOV_AREA_WORDS   area size in words (default 0x40000, 512..0x10000000)
 *   UKCOV_COMMON       1 (default): collect the common handle; 0: don't
 *   UKCOV_HANDLES      comma-separated global handles (hex or decimal)
 *   UKCOV_SIGNALS      comma-separated signals (numbers or names: CHLD, SIGALRM)
 * Bad values get a one-line warning and the default.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"
#include "ukcov/file.h"

static bool __ukcov_auto;

static int out_fd = -1;
static unsigned long auto_mode;		/* KCOV_TRACE_PC or KCOV_TRACE_CMP */
static unsigned long auto_words = 0x40000;

/* Every kcov the collector opened in this process. */
#define MAX_HANDLE_AREAS (1 + 64 + 64)
struct auto_area {
	int fd;
	uint32_t kind;
	uint64_t handle;
	pid_t tid;
	struct ukcov *k;	/* the descriptor's object, for stats */
};

static ukcov_lock_t auto_lock;		/* protects threads_list and handle_areas */
static struct auto_area handle_areas[MAX_HANDLE_AREAS];
static unsigned int nhandle_areas;

/* The thread kcovs of live threads: dumped at process exit. */
struct auto_thread {
	struct auto_area a;
	struct auto_thread *next;
};
static struct auto_thread *threads_list;
static __thread struct auto_thread *my_auto
	__attribute__((tls_model(UKCOV_TLS_MODEL)));

/* "ukcov: VAR=value: why" */
static void warn(const char *what, const char *val, const char *why)
{
	__ukcov_warn(what, "=", val, ": ", why, NULL);
}

static bool parse_ul(const char *s, unsigned long *v)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 0);
	return !errno && !*end;
}

static int signal_number(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{ "HUP", SIGHUP },   { "INT", SIGINT },	    { "QUIT", SIGQUIT },
		{ "ILL", SIGILL },   { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },
		{ "BUS", SIGBUS },   { "FPE", SIGFPE },	    { "USR1", SIGUSR1 },
		{ "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },   { "PIPE", SIGPIPE },
		{ "ALRM", SIGALRM }, { "TERM", SIGTERM },   { "CHLD", SIGCHLD },
		{ "CONT", SIGCONT }, { "TSTP", SIGTSTP },   { "TTIN", SIGTTIN },
		{ "TTOU", SIGTTOU }, { "URG", SIGURG },	    { "XCPU", SIGXCPU },
		{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
		{ "WINCH", SIGWINCH }, { "IO", SIGIO },	    { "SYS", SIGSYS },
	};
	unsigned long v;
	size_t i;

	if (parse_ul(s, &v))
		return v > 0 && v < _NSIG ? (int)v : -1;
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].sig;
	return -1;
}

/* Open, size and map a kcov; -1 on failure. */
static int open_area(void)
{
	int fd = ukcov_open();

	if (fd < 0)
		return -1;
	if (ukcov_ioctl(fd, KCOV_INIT_TRACE, auto_words)) {
		ukcov_close(fd);
		return -1;
	}
	return fd;
}

static void add_handle_area(uint32_t kind, uint64_t handle)
{
	struct auto_area *a;
	struct ukcov *k;
	int fd;

	if (nhandle_areas == MAX_HANDLE_AREAS) {
		warn("UKCOV_HANDLES/UKCOV_SIGNALS", "...",
		     "more than 128 handles; the rest are ignored");
		return;
	}
	fd = open_area();
	if (fd < 0)
		return;
	k = __ukcov_obj_get(fd);
	if (!k || __ukcov_remote_enable_unbound(k, auto_mode,
						(unsigned int)auto_words,
						handle)) {
		if (k)
			__ukcov_put(k);
		ukcov_close(fd);
		return;
	}
	__ukcov_put(k);
	a = &handle_areas[nhandle_areas++];
	a->fd = fd;
	a->kind = kind;
	a->handle = handle;
	a->tid = 0;
	a->k = k;
}

/* Append one area to the file: one writev, so records never interleave. */
static void write_area(const struct auto_area *a, const char *name)
{
	struct ukcov *k = a->k;
	struct ukcov_rec rec;
	struct ukcov_rec_area body;
	unsigned long ew = auto_mode == KCOV_TRACE_CMP ? UKCOV_WORDS_PER_CMP : 1;
	unsigned long cap = (k->size - 1) / ew;
	unsigned long count = __atomic_load_n(&k->area[0], __ATOMIC_ACQUIRE);
	struct iovec iov[3];

	if (count > cap)
		count = cap;
	memset(&body, 0, sizeof(body));
	body.pid = (uint64_t)getpid();
	body.tid = (uint64_t)a->tid;
	body.kind = a->kind;
	body.mode = auto_mode == KCOV_TRACE_CMP ? UKCOV_FILE_MODE_CMP
						: UKCOV_FILE_MODE_PC;
	body.handle = a->handle;
	body.count = count;
	body.capacity = cap;
	body.dropped = READ_ONCE(k->dropped);
	body.seq = 0;		/* not tracked yet: readers order by tid */
	body.start_routine = 0;	/* unknown */
	body.flags = 0;
	if (name)
		strncpy(body.name, name, sizeof(body.name) - 1);
	rec.type = UKCOV_REC_AREA;
	rec.reserved = 0;
	rec.size = sizeof(body) + count * ew * sizeof(unsigned long);
	iov[0].iov_base = &rec;
	iov[0].iov_len = sizeof(rec);
	iov[1].iov_base = &body;
	iov[1].iov_len = sizeof(body);
	iov[2].iov_base = k->area + 1;
	iov[2].iov_len = count * ew * sizeof(unsigned long);
	if (writev(out_fd, iov, 3) < 0)
		return;
}

static void thread_name(pid_t tid, char name[16])
{
	char path[64];
	ssize_t n;
	int fd;

	memset(name, 0, 16);
	if (tid == (pid_t)syscall(SYS_gettid)) {
		prctl(PR_GET_NAME, name);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, name, 15);
	close(fd);
	if (n > 0 && name[n - 1] == '\n')
		name[n - 1] = 0;
}

static void auto_thread_begin(void)
{
	struct auto_thread *t;
	sigset_t ss;

	if (!__ukcov_auto || my_auto)
		return;
	t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->a.fd = open_area();
	if (t->a.fd < 0 ||
	    ukcov_ioctl(t->a.fd, KCOV_ENABLE, auto_mode)) {
		if (t->a.fd >= 0)
			ukcov_close(t->a.fd);
		free(t);
		return;
	}
	t->a.k = __ukcov_cur.local;
	t->a.kind = UKCOV_AREA_THREAD;
	t->a.tid = (pid_t)syscall(SYS_gettid);
	my_auto = t;
	__ukcov_lock(&auto_lock, &ss);
	t->next = threads_list;
	threads_list = t;
	__ukcov_unlock(&auto_lock, &ss);
}

static void unlink_thread(struct auto_thread *t)
{
	struct auto_thread **pp;
	sigset_t ss;

	__ukcov_lock(&auto_lock, &ss);
	for (pp = &threads_list; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	__ukcov_unlock(&auto_lock, &ss);
}

/* A thread exits (before its kcov is unbound): append its area. */
static void auto_thread_end(void)
{
	struct auto_thread *t = my_auto;
	char name[16];

	if (!t)
		return;
	my_auto = NULL;
	unlink_thread(t);
	thread_name(t->a.tid, name);
	write_area(&t->a, name);
	ukcov_ioctl(t->a.fd, KCOV_DISABLE, 0);
	ukcov_close(t->a.fd);
	free(t);
}

/* The executable segments of every loaded object, with build ids. */
static int write_module(struct dl_phdr_info *info, size_t size, void *data)
{
	const unsigned char *build_id = NULL;
	char path[PATH_MAX];
	uint32_t build_id_len = 0;
	int i;

	(void)size;
	(void)data;
	if (info->dlpi_name && info->dlpi_name[0]) {
		strncpy(path, info->dlpi_name, sizeof(path) - 1);
		path[sizeof(path) - 1] = 0;
	} else {
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

		path[n > 0 ? n : 0] = 0;
	}
	if (!path[0] || !strncmp(path, "linux-vdso", 10))
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
			const char *desc = p + sizeof(*n) + ((n->n_namesz + 3) & ~3u);

			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    !memcmp(p + sizeof(*n), "GNU", 4)) {
				build_id = (const unsigned char *)desc;
				build_id_len = n->n_descsz;
			}
			p = desc + ((n->n_descsz + 3) & ~3u);
		}
	}
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		struct ukcov_rec_module m;
		struct ukcov_rec rec;
		static const char zeros[8];
		uint32_t path_len = (uint32_t)strlen(path) + 1;
		size_t used = build_id_len + path_len;
		struct iovec iov[5];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		m.pid = (uint64_t)getpid();
		m.base = info->dlpi_addr;
		m.start = info->dlpi_addr + ph->p_vaddr;
		m.end = m.start + ph->p_memsz;
		m.build_id_len = build_id_len;
		m.path_len = path_len;
		rec.type = UKCOV_REC_MODULE;
		rec.reserved = 0;
		rec.size = sizeof(m) + ((used + 7) & ~(size_t)7);
		iov[0] = (struct iovec){ &rec, sizeof(rec) };
		iov[1] = (struct iovec){ &m, sizeof(m) };
		iov[2] = (struct iovec){ (void *)build_id, build_id_len };
		iov[3] = (struct iovec){ path, path_len };
		iov[4] = (struct iovec){ (void *)zeros, ((used + 7) & ~(size_t)7) - used };
		if (writev(out_fd, iov, 5) < 0)
			return 1;
	}
	return 0;
}

/* Process exit: the live threads' areas, the handles' areas, the modules. */
__attribute__((destructor)) static void auto_exit(void)
{
	struct auto_thread *t;
	unsigned int i;
	char name[16];
	sigset_t ss;

	if (!__ukcov_auto || out_fd < 0)
		return;
	/* This thread records no more: the dump must not change under us. */
	__ukcov_gen_stop(&__ukcov_cur.gen);
	__ukcov_lock(&auto_lock, &ss);
	for (t = threads_list; t; t = t->next) {
		thread_name(t->a.tid, name);
		write_area(&t->a, name);
	}
	threads_list = NULL;
	for (i = 0; i < nhandle_areas; i++)
		write_area(&handle_areas[i], NULL);
	nhandle_areas = 0;
	__ukcov_unlock(&auto_lock, &ss);
	dl_iterate_phdr(write_module, NULL);
	__ukcov_auto = false;
}

/*
 * A forked child starts afresh: the parent's collectors stay the parent's
 * (it writes them), the handle areas keep receiving the child's sections
 * through the inherited registry, and the forking thread gets a new kcov.
 */
static void auto_child(void)
{
	if (!__ukcov_auto)
		return;
	auto_lock = 0;
	threads_list = NULL;
	nhandle_areas = 0;
	my_auto = NULL;
}

static const struct ukcov_observer auto_observer = {
	.thread_begin = auto_thread_begin,
	.thread_end = auto_thread_end,
	.child = auto_child,
};

static void parse_list(const char *var, uint32_t kind)
{
	const char *s = getenv(var);
	char buf[1024], *tok, *save;
	unsigned long v;

	if (!s || !*s)
		return;
	if (strlen(s) >= sizeof(buf)) {
		warn(var, "...", "longer than 1023 characters; ignored");
		return;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (kind == UKCOV_AREA_SIGNAL) {
			int sig = signal_number(tok);

			if (sig < 0)
				warn(var, tok, "not a signal; ignored");
			else
				add_handle_area(kind, kcov_remote_handle(
					UKCOV_SUBSYSTEM_SIGNAL, (uint64_t)sig));
		} else if (!parse_ul(tok, &v) ||
			   !__ukcov_handle_valid(v, false, true, false)) {
			warn(var, tok, "not a global handle; ignored");
		} else {
			add_handle_area(kind, v);
		}
	}
}

void __ukcov_auto_init(void)
{
	const char *out = getenv("UKCOV_OUTPUT");
	const char *s;
	unsigned long v;
	struct stat st;

	if (!out || !*out)
		return;
	s = getenv("UKCOV_MODE");
	if (s && !strcmp(s, "cmp"))
		auto_mode = KCOV_TRACE_CMP;
	else if (s && strcmp(s, "pc"))
		warn("UKCOV_MODE", s, "not pc or cmp; using pc");
	s = getenv("UKCOV_AREA_WORDS");
	if (s) {
		if (parse_ul(s, &v) && v >= 512 && v <= 0x10000000)
			auto_words = v;
		else
			warn("UKCOV_AREA_WORDS", s,
			     "not a size in 512..0x10000000; using 0x40000");
	}
	out_fd = open(out, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		warn("UKCOV_OUTPUT", out, strerror(errno));
		return;
	}
	if (fstat(out_fd, &st) == 0 && st.st_size == 0) {
		/* Run without ukcov-run: start the file ourselves. */
		struct ukcov_file_header h = { .version = UKCOV_FILE_VERSION,
					       .word_size = 8 };

		memcpy(h.magic, UKCOV_FILE_MAGIC, 8);
		if (write(out_fd, &h, sizeof(h)) != sizeof(h))
			return;
	}
	__ukcov_auto = true;
	s = getenv("UKCOV_COMMON");
	if (!s || strcmp(s, "0")) {
		uint64_t h = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON,
						(uint64_t)getpid() & 0xffffffff);

		add_handle_area(UKCOV_AREA_COMMON, h);
		if (nhandle_areas)
			__ukcov_cur.common_handle = h;
	}
	parse_list("UKCOV_HANDLES", UKCOV_AREA_HANDLE);
	parse_list("UKCOV_SIGNALS", UKCOV_AREA_SIGNAL);
	__ukcov_observe(&auto_observer);
	auto_thread_begin();
}
