// SPDX-License-Identifier: MIT
/*
 * The fixture's program: collects its own coverage through ukcov's API
 * while it calls into the shared library and into a dlopen'ed plugin, in
 * both modes, and checks that
 *   - the PCs of the library's and the plugin's functions were collected
 *     (trace-pc), and their comparisons (trace-cmp: with clang, an UBSan
 *     runtime shadowing ukcov's callbacks would leave none);
 *   - the process has exactly one ukcov runtime: the executable's own
 *     (libukcov.a) or libukcov.so, as the argument says, never both.
 * Under ukcov-run (UKCOV_RUN set), whose collection a KCOV_ENABLE of
 * its own would refuse (EBUSY), it only checks the runtime and calls the
 * functions, for ukcov-report to find.
 * Usage: main static|shared PLUGIN.  Exit 0 = pass, 1 = fail.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ukcov.h>

#include "fixture.h"

#define WORDS 8192

static int failed;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	if (!ok)
		failed = 1;
}

/* The name of the function around pc, by the dynamic symbol tables. */
static const char *func_of(unsigned long pc)
{
	Dl_info d;

	if (!dladdr((void *)pc, &d) || !d.dli_sname)
		return "";
	return d.dli_sname;
}

/* Is libukcov.so mapped into this process? */
static int shared_runtime_mapped(void)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/libukcov.so"))
			found = 1;
	fclose(f);
	return found;
}

/* The work: calls into the library and the plugin. */
static int work(fixture_plugin_fn score)
{
	int i, r = 0;

	for (i = 0; i < 4; i++)
		r += fixture_lib_classify(i * 60) + score(i * 3);
	return r;
}

/* Collect the work in mode into cover; count the entries (PCs, or the
 * records' PCs) in the library's and in the plugin's function. */
static void collect(int fd, unsigned long *cover, unsigned long mode,
		    fixture_plugin_fn score, const char *what)
{
	unsigned long words = mode == KCOV_TRACE_CMP ? KCOV_WORDS_PER_CMP : 1;
	unsigned long n, i, lib = 0, plug = 0;
	int r;

	if (ukcov_ioctl(fd, KCOV_ENABLE, mode)) {
		perror("KCOV_ENABLE");
		exit(1);
	}
	__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
	r = work(score);
	n = __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE);
	ukcov_ioctl(fd, KCOV_DISABLE, 0UL);
	for (i = 0; i < n && 1 + (i + 1) * words <= WORDS; i++) {
		/* A PC is the entry; a record's PC its last word. */
		const char *f = func_of(cover[1 + i * words + words - 1]);

		lib += !strcmp(f, "fixture_lib_classify");
		plug += !strcmp(f, FIXTURE_PLUGIN_ENTRY);
	}
	printf("%s: %lu entries, %lu in the library, %lu in the plugin "
	       "(result %d)\n", what, n, lib, plug, r);
	check(lib > 0, "the shared library's function was collected");
	check(plug > 0, "the plugin's function was collected");
}

int main(int argc, char **argv)
{
	fixture_plugin_fn score;
	unsigned long *cover;
	Dl_info self, rt;
	void *h, *open_fn;
	int fd;

	if (argc != 3 ||
	    (strcmp(argv[1], "static") && strcmp(argv[1], "shared"))) {
		fprintf(stderr, "usage: main static|shared PLUGIN\n");
		return 1;
	}
	h = dlopen(argv[2], RTLD_NOW);
	check(h != NULL, "the instrumented plugin opens with dlopen");
	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	score = (fixture_plugin_fn)dlsym(h, FIXTURE_PLUGIN_ENTRY);
	if (!score)
		return 1;

	/* One runtime: whoever defines ukcov_open for everybody. */
	open_fn = dlsym(RTLD_DEFAULT, "ukcov_open");
	check(open_fn && dladdr(open_fn, &rt) && dladdr((void *)main, &self),
	      "ukcov_open resolves");
	if (!strcmp(argv[1], "static")) {
		check(rt.dli_fbase == self.dli_fbase,
		      "the runtime is the executable's own (libukcov.a)");
		check(shared_runtime_mapped() == 0,
		      "libukcov.so is not loaded");
	} else {
		check(rt.dli_fname && strstr(rt.dli_fname, "libukcov.so"),
		      "the runtime is libukcov.so");
	}

	if (getenv("UKCOV_RUN")) {
		printf("result %d\n", work(score));
		return failed;
	}

	fd = ukcov_open();
	if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, (unsigned long)WORDS))
		return perror("ukcov"), 1;
	cover = ukcov_mmap(NULL, WORDS * sizeof(long), PROT_READ | PROT_WRITE,
			   MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED)
		return perror("ukcov_mmap"), 1;
	collect(fd, cover, KCOV_TRACE_PC, score, "trace-pc");
	collect(fd, cover, KCOV_TRACE_CMP, score, "trace-cmp");
	ukcov_close(fd);
	return failed;
}
