// SPDX-License-Identifier: MIT
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
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
