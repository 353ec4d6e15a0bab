// SPDX-License-Identifier: MIT
/*
 * Unique mode across dlopen and dlclose of instrumented (trace-pc)
 * modules.  A module's PCs must never be taken for another's: the second
 * plugin has the first one's layout (its PCs at the same offsets) and is
 * usually mapped where the first one was after its dlclose.
 *
 *   - a module loaded while collecting: its PCs are all there (appended
 *     at every hit until the next KCOV_RESET_TRACE gives it its range,
 *     then once);
 *   - after dlclose of A and dlopen of B, every PC of B's is there,
 *     wherever B landed; B's PCs once after the next reset;
 *   - A again, after B: its PCs again (new module, new range).
 * In the -guard build the program's own code uses guards and the plugins
 * PC ranges, in one index space.
 */
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define WORDS 65536
#define BITMAP 1024

typedef int (*work_fn)(int);

static struct t_kcov k;
static unsigned long *trace;

static char plugin_dir[4096];

static void *load(const char *name, work_fn *fn, uintptr_t *lo, uintptr_t *hi)
{
	char path[4200];
	Dl_info di;
	void *h;

	snprintf(path, sizeof(path), "%s/%s", plugin_dir, name);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		t_fail("dlopen %s: %s", path, dlerror());
	*fn = (work_fn)dlsym(h, "plugin_work");
	t_assert(*fn);
	t_assert(dladdr((void *)*fn, &di));
	/* The module's whole text, roughly: from its base on. */
	*lo = (uintptr_t)di.dli_fbase;
	*hi = *lo + (1u << 20);
	return h;
}

/* Entries in [lo, hi), and how many of them distinct. */
static T_NOCOV int cmp_ul(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static T_NOCOV unsigned long count_from(unsigned long from, uintptr_t lo,
					uintptr_t hi, unsigned long *uniq)
{
	static unsigned long v[WORDS];
	unsigned long n = __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE), i, m = 0;

	for (i = from; i < n; i++)
		if (trace[1 + i] >= lo && trace[1 + i] < hi)
			v[m++] = trace[1 + i];
	qsort(v, m, sizeof(*v), cmp_ul);
	*uniq = 0;
	for (i = 0; i < m; i++)
		*uniq += !i || v[i] != v[i - 1];
	return m;
}

static T_NOCOV unsigned long count_in(uintptr_t lo, uintptr_t hi,
				      unsigned long *uniq)
{
	return count_from(0, lo, hi, uniq);
}

static T_NOCOV unsigned long now(void)
{
	return __atomic_load_n(&trace[0], __ATOMIC_ACQUIRE);
}

int main(int argc, char **argv)
{
	unsigned long all, uniq, pcs, n0;
	uintptr_t lo_a, hi_a, lo_b, hi_b, lo_a2, hi_a2;
	work_fn fa, fb, fa2;
	void *ha, *hb, *ha2;
	char exe[4096];

	(void)argc;
	snprintf(exe, sizeof(exe), "%s", argv[0]);
	snprintf(plugin_dir, sizeof(plugin_dir), "%s", dirname(exe));

	t_kcov_open(&k, WORDS);
	trace = k.area + BITMAP;
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE, (unsigned long)BITMAP));

	/* Loaded while collecting: every PC there, maybe repeated. */
	ha = load("libcov-a.so", &fa, &lo_a, &hi_a);
	n0 = now();
	fa(30);
	all = count_from(n0, lo_a, hi_a, &pcs);
	t_assert(pcs >= 3);
	/* From the reset on, each once. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0UL));
	fa(30);
	fa(30);
	all = count_in(lo_a, hi_a, &uniq);
	if (all != pcs || uniq != pcs)
		t_fail("A after a reset: %lu entries, %lu distinct, want %lu "
		       "once each", all, uniq, pcs);

	/* A goes, B (same layout) comes, likely at A's place. */
	t_assert(dlclose(ha) == 0);
	hb = load("libcov-b.so", &fb, &lo_b, &hi_b);
	printf("A at %#lx, B at %#lx%s\n", (unsigned long)lo_a,
	       (unsigned long)lo_b, lo_a == lo_b ? " (the same place)" : "");
	n0 = now();
	fb(30);
	/* With A's PCs seen before, B's, at the same offsets, must still
	 * be new: all of them appended since. */
	count_from(n0, lo_b, hi_b, &uniq);
	if (uniq != pcs)
		t_fail("B%s: %lu distinct PCs appended, want %lu",
		       lo_a == lo_b ? " at A's place" : "", uniq, pcs);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0UL));
	fb(30);
	fb(30);
	all = count_in(lo_b, hi_b, &uniq);
	if (all != pcs || uniq != pcs)
		t_fail("B after a reset: %lu entries, %lu distinct, want %lu "
		       "once each", all, uniq, pcs);

	/* A again: a new module, all of its PCs. */
	t_assert(dlclose(hb) == 0);
	ha2 = load("libcov-a.so", &fa2, &lo_a2, &hi_a2);
	n0 = now();
	fa2(30);
	count_from(n0, lo_a2, hi_a2, &uniq);
	if (uniq != pcs)
		t_fail("A again: %lu distinct PCs, want %lu", uniq, pcs);
	t_assert(dlclose(ha2) == 0);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0UL));
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
