// SPDX-License-Identifier: MIT
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

void t_kcov_open(struct t_kcov *k, unsigned long words)
{
	k->words = words;
	k->fd = ukcov_open();
	if (k->fd < 0)
		t_fail("ukcov_open: %s", strerror(errno));
	if (ukcov_ioctl(k->fd, KCOV_INIT_TRACE, words))
		t_fail("KCOV_INIT_TRACE %lu: %s", words, strerror(errno));
	k->area = ukcov_mmap(NULL, words * sizeof(unsigned long),
			     PROT_READ | PROT_WRITE, MAP_SHARED, k->fd, 0);
	if (k->area == MAP_FAILED)
		t_fail("ukcov_mmap: %s", strerror(errno));
}

void t_kcov_close(struct t_kcov *k)
{
	munmap(k->area, k->words * sizeof(unsigned long));
	close(k->fd);
}

unsigned long t_count(const struct t_kcov *k)
{
	return __atomic_load_n(&k->area[0], __ATOMIC_ACQUIRE);
}

bool t_has_pc_in(const struct t_kcov *k, uintptr_t lo, uintptr_t hi)
{
	unsigned long i, n = t_count(k);

	for (i = 0; i < n && i + 1 < k->words; i++) {
		if (k->area[i + 1] >= lo && k->area[i + 1] < hi)
			return true;
	}
	return false;
}

size_t t_func_size(const void *fn)
{
	Dl_info info;
	const ElfW(Sym) *sym = NULL;

	if (!dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return 0;
	return sym->st_size;
}

double t_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double t_stress_seconds(double dflt)
{
	const char *s = getenv("UKCOV_STRESS_SECONDS");
	double v;

	if (!s || !*s)
		return dflt;
	v = strtod(s, NULL);
	return v > 0 ? v : dflt;
}

struct thread_ioctl {
	int fd;
	unsigned long req, arg;
	long ret;
	int err;
};

static void *thread_ioctl_fn(void *p)
{
	struct thread_ioctl *a = p;

	errno = 0;
	a->ret = ukcov_ioctl(a->fd, a->req, a->arg);
	a->err = errno;
	return NULL;
}

long t_thread_ioctl(int fd, unsigned long req, unsigned long arg, int *err)
{
	struct thread_ioctl a = { .fd = fd, .req = req, .arg = arg };

	t_run_thread(thread_ioctl_fn, &a);
	*err = a.err;
	return a.ret;
}

void *t_run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	void *ret;
	int e;

	e = pthread_create(&t, NULL, fn, arg);
	if (e)
		t_fail("pthread_create: %s", strerror(e));
	e = pthread_join(t, &ret);
	if (e)
		t_fail("pthread_join: %s", strerror(e));
	return ret;
}

static size_t page_round(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (len + pg - 1) & ~(pg - 1);
}

void *t_map_guarded(int fd, size_t len, int prot)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), rlen = page_round(len);
	char *base, *p;

	base = mmap(NULL, rlen + 2 * pg, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		t_fail("mmap reserve: %s", strerror(errno));
	p = ukcov_mmap(base + pg, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		t_fail("ukcov_mmap MAP_FIXED: %s", strerror(errno));
	if (p != base + pg)
		t_fail("ukcov_mmap MAP_FIXED: mapped at %p, not %p", (void *)p,
		       (void *)(base + pg));
	return p;
}

void t_unmap_guarded(void *p, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	munmap((char *)p - pg, page_round(len) + 2 * pg);
}

unsigned long t_entries_in(const struct t_kcov *k, bool cmp, uintptr_t lo,
			   uintptr_t hi)
{
	unsigned long i, n = t_count(k), hits = 0;

	for (i = 0; i < n; i++) {
		unsigned long pc;

		if (cmp) {
			if (1 + 4 * i + 4 > k->words)
				break;
			pc = k->area[1 + 4 * i + 3];
		} else {
			if (i + 1 >= k->words)
				break;
			pc = k->area[i + 1];
		}
		if (pc >= lo && pc < hi)
			hits++;
	}
	return hits;
}

bool t_has_cmp_pc_in(const struct t_kcov *k, uintptr_t lo, uintptr_t hi)
{
	return t_entries_in(k, true, lo, hi) > 0;
}

int t_maps_count(const char *needle)
{
	const size_t cap = 4 << 20;
	char *buf = malloc(cap);
	size_t len = 0;
	ssize_t r;
	char *line, *nl;
	int fd, n = 0;

	if (!buf)
		return -1;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -1;
	}
	while (len < cap - 1 && (r = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = 0;
	for (line = buf; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (strstr(line, needle))
			n++;
		if (!nl)
			break;
	}
	free(buf);
	return n;
}

/* Remote-coverage tests: see helpers.h. */

int t_remote_enable(int fd, uint32_t mode, uint32_t area_size,
		    uint64_t common, unsigned int n, const uint64_t *h)
{
	struct kcov_remote_arg *a;
	int ret, e;

	a = calloc(1, sizeof(*a) + (n ? n : 1) * sizeof(uint64_t));
	if (!a)
		t_fail("calloc");
	a->trace_mode = mode;
	a->area_size = area_size;
	a->num_handles = n;
	a->common_handle = common;
	if (n)
		memcpy(a->handles, h, n * sizeof(uint64_t));
	errno = 0;
	ret = ukcov_ioctl(fd, KCOV_REMOTE_ENABLE, (unsigned long)a);
	e = errno;
	free(a);
	errno = e;
	return ret;
}

struct actor {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	long (*fn)(void *);
	void *arg;
	long ret;
	int err;
	bool pending, quit;
};

static void *actor_main(void *p)
{
	struct actor *a = p;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		while (!a->pending && !a->quit)
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->pending) {
			long (*fn)(void *) = a->fn;
			void *arg = a->arg;
			long r;
			int e;

			pthread_mutex_unlock(&a->mu);
			errno = 0;
			r = fn(arg);
			e = errno;
			pthread_mutex_lock(&a->mu);
			a->ret = r;
			a->err = e;
			a->pending = false;
			pthread_cond_broadcast(&a->cv);
			continue;
		}
		break;
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

void t_actor_start(struct t_actor *ta)
{
	struct actor *a = calloc(1, sizeof(*a));
	int e;

	if (!a)
		t_fail("calloc");
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	e = pthread_create(&a->tid, NULL, actor_main, a);
	if (e)
		t_fail("pthread_create: %s", strerror(e));
	ta->priv = a;
}

long t_actor_call(struct t_actor *ta, long (*fn)(void *), void *arg)
{
	struct actor *a = ta->priv;
	long r;
	int e;

	pthread_mutex_lock(&a->mu);
	a->fn = fn;
	a->arg = arg;
	a->pending = true;
	pthread_cond_broadcast(&a->cv);
	while (a->pending)
		pthread_cond_wait(&a->cv, &a->mu);
	r = a->ret;
	e = a->err;
	pthread_mutex_unlock(&a->mu);
	errno = e;
	return r;
}

struct actor_ioctl {
	int fd;
	unsigned long req, arg;
};

static long actor_ioctl_fn(void *p)
{
	struct actor_ioctl *c = p;

	return ukcov_ioctl(c->fd, c->req, c->arg);
}

long t_actor_ioctl(struct t_actor *a, int fd, unsigned long req,
		   unsigned long arg)
{
	struct actor_ioctl c = { fd, req, arg };

	return t_actor_call(a, actor_ioctl_fn, &c);
}

struct actor_renable {
	int fd;
	uint32_t mode, area_size;
	uint64_t common;
	unsigned int n;
	const uint64_t *h;
};

static long actor_renable_fn(void *p)
{
	struct actor_renable *c = p;

	return t_remote_enable(c->fd, c->mode, c->area_size, c->common, c->n,
			       c->h);
}

long t_actor_remote_enable(struct t_actor *a, int fd, uint32_t mode,
			   uint32_t area_size, uint64_t common, unsigned int n,
			   const uint64_t *h)
{
	struct actor_renable c = { fd, mode, area_size, common, n, h };

	return t_actor_call(a, actor_renable_fn, &c);
}

void t_actor_stop(struct t_actor *ta)
{
	struct actor *a = ta->priv;
	int e;

	pthread_mutex_lock(&a->mu);
	a->quit = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	e = pthread_join(a->tid, NULL);
	if (e)
		t_fail("pthread_join: %s", strerror(e));
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
	ta->priv = NULL;
}

struct t_range t_range_of(const void *fn)
{
	struct t_range r;
	size_t sz = t_func_size(fn);

	if (!sz)
		t_fail("no symbol size for %p", fn);
	r.lo = (uintptr_t)fn;
	r.hi = r.lo + sz;
	return r;
}

unsigned long t_count_in(const struct t_kcov *k, struct t_range r)
{
	unsigned long i, n = t_count(k), hits = 0;

	for (i = 0; i < n && i + 1 < k->words; i++) {
		if (t_in(r, k->area[i + 1]))
			hits++;
	}
	return hits;
}

void t_set_count(struct t_kcov *k, unsigned long n)
{
	__atomic_store_n(&k->area[0], n, __ATOMIC_RELEASE);
}

/* Signal-handler tests: see helpers.h. */

unsigned long t_sig_count_outside(const struct t_kcov *k,
				  const struct t_range *r, unsigned int n)
{
	unsigned long i, cnt = t_count(k), bad = 0;
	unsigned int j;

	for (i = 0; i < cnt && i + 1 < k->words; i++) {
		for (j = 0; j < n; j++)
			if (t_in(r[j], k->area[i + 1]))
				break;
		if (j == n)
			bad++;
	}
	return bad;
}

long t_sig_first_in(const struct t_kcov *k, struct t_range r)
{
	unsigned long i, n = t_count(k);

	for (i = 0; i < n && i + 1 < k->words; i++)
		if (t_in(r, k->area[i + 1]))
			return (long)i;
	return -1;
}

long t_sig_last_in(const struct t_kcov *k, struct t_range r)
{
	unsigned long i, n = t_count(k);
	long last = -1;

	for (i = 0; i < n && i + 1 < k->words; i++)
		if (t_in(r, k->area[i + 1]))
			last = (long)i;
	return last;
}

unsigned long t_sig_snapshot(const struct t_kcov *k, unsigned long *dst,
			     unsigned long cap)
{
	unsigned long n = t_count(k);

	if (n > k->words - 1)
		n = k->words - 1;
	if (n > cap)
		n = cap;
	memcpy(dst, k->area + 1, n * sizeof(unsigned long));
	return n;
}

void t_sig_raise_if(bool on, int sig)
{
	if (on)
		raise(sig);
}

struct pcs_of {
	void (*fn)(int);
	int arg;
	unsigned long n;
};

static void *pcs_of_thread(void *p)
{
	struct pcs_of *a = p;
	struct t_kcov k;

	t_kcov_open(&k, 1ul << 16);
	if (ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC))
		t_fail("t_sig_pcs_of: KCOV_ENABLE: %s", strerror(errno));
	a->fn(a->arg);
	if (ukcov_ioctl(k.fd, KCOV_DISABLE, 0))
		t_fail("t_sig_pcs_of: KCOV_DISABLE: %s", strerror(errno));
	a->n = t_count_in(&k, t_range_of((const void *)a->fn));
	t_kcov_close(&k);
	return NULL;
}

unsigned long t_sig_pcs_of(void (*fn)(int), int arg)
{
	struct pcs_of a = { fn, arg, 0 };

	t_run_thread(pcs_of_thread, &a);
	if (!a.n)
		t_fail("t_sig_pcs_of: a call of %p(%d) records no PC", 
		       (void *)fn, arg);
	return a.n;
}

int t_sig_run_self(const char *arg, const char *name, const char *value,
		   char *err, size_t errlen)
{
	char *argv[3];
	size_t len = 0;
	ssize_t r;
	int p[2], status;
	pid_t pid;

	if (pipe(p))
		t_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		t_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		if (value)
			setenv(name, value, 1);
		else
			unsetenv(name);
		argv[0] = (char *)"self";
		argv[1] = (char *)arg;
		argv[2] = NULL;
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(p[1]);
	while (errlen && len < errlen - 1 &&
	       (r = read(p[0], err + len, errlen - 1 - len)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)r;
	}
	if (errlen)
		err[len] = 0;
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			t_fail("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
