// SPDX-License-Identifier: MIT
/*
 * ukcov-cc, ukcov-c++, ukcov-clang, ukcov-clang++: compiler wrappers with
 * which a project's own build system builds it for ukcov, as AFL++'s afl-cc
 * and honggfuzz's hfuzz-cc allow:
 *
 *	CC=ukcov-cc CXX=ukcov-c++ ./configure && make
 *	cmake -DCMAKE_C_COMPILER=ukcov-cc -DCMAKE_CXX_COMPILER=ukcov-c++ ...
 *
 * The name picks the compiler: ukcov-cc runs $UKCOV_CC (default gcc),
 * ukcov-c++ $UKCOV_CXX (default g++), ukcov-clang and ukcov-clang++ run
 * clang and clang++.  What the wrapper adds, by kind of invocation (the
 * reasons are in ukcov-cc(1)):
 *
 *  - compiling or preprocessing C, C++ or Objective-C: -g first (the
 *    project's own -g options come after it and refine it), then the
 *    coverage flags ($UKCOV_CC_COVERAGE, default trace-pc,trace-cmp),
 *    -fno-optimize-sibling-calls, with gcc -fno-ipa-icf, and ukcov's
 *    headers folder when it is not one the compiler searches anyway;
 *  - linking an executable: libukcov.a, whole, with the runtime's symbols
 *    exported (a dynamic list) so that dlopen'ed instrumented plugins bind
 *    to it; libukcov.so instead with UKCOV_CC_RUNTIME=shared, or when a
 *    shared library named on the link line already depends on it (one
 *    runtime per process);
 *  - linking a -shared library: no runtime (the executable's serves it).
 *    Under -z defs or --no-undefined the library is first linked, to a
 *    scratch file, against libukcov.so, which reports the project's own
 *    undefined symbols as the flag asks; it is then linked without the
 *    flag and without any copy of, or dependency on, the runtime;
 *  - linking with -static: libukcov.a, whole;
 *  - clang links: -fno-sanitize-link-runtime unless a -fsanitize= option
 *    asks for a sanitizer (clang would otherwise link its UBSan runtime,
 *    whose comparison callbacks shadow ukcov's);
 *  - anything without input files (--version, -print-*, -dumpmachine,
 *    -Wl,--version): the compiler's command line, unchanged.
 *
 * Run from the build tree (build/tools/ukcov-cc), it uses the build tree's
 * headers and libraries; installed, those of its installation, found from
 * its own location (so a DESTDIR staging copy uses the staged files).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set by the Makefile: where `make install` puts things, and the build
 * tree this binary was built in. */
#ifndef UKCOV_BINDIR
#define UKCOV_BINDIR "/usr/local/bin"
#endif
#ifndef UKCOV_LIBDIR
#define UKCOV_LIBDIR "/usr/local/lib"
#endif
#ifndef UKCOV_INCLUDEDIR
#define UKCOV_INCLUDEDIR "/usr/local/include"
#endif
#ifndef UKCOV_BUILD_DIR
#define UKCOV_BUILD_DIR "/nonexistent"
#endif
#ifndef UKCOV_SOURCE_INCLUDEDIR
#define UKCOV_SOURCE_INCLUDEDIR "/nonexistent"
#endif

#define DEFAULT_COVERAGE "trace-pc,trace-cmp"
#define RSP_DEPTH 10 /* nested @file levels followed, as gcc's limit */

extern char **environ;

static const char *prog = "ukcov-cc";
static bool verbose;

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

/* ---- Small helpers -------------------------------------------------- */

struct vec {
	char **v;
	size_t n, cap;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die(1, "out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		die(1, "out of memory");
	return d;
}

static char *__attribute__((format(printf, 1, 2))) xfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		die(1, "out of memory");
	return s;
}

/* Appends s itself (not a copy): every string pushed lives until exit. */
static void push(struct vec *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? 2 * a->cap : 32;
		a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static void push_all(struct vec *a, const struct vec *b)
{
	for (size_t i = 0; i < b->n; i++)
		push(a, b->v[i]);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool ends(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* A new empty file in $TMPDIR (or /tmp); the caller removes it. */
static char *scratch(const char *stem)
{
	const char *tmp = getenv("TMPDIR");
	char *name = xfmt("%s/ukcov-cc-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
			  stem);
	int fd = mkstemp(name);

	if (fd < 0)
		die(1, "cannot create a file in %s: %s",
		    tmp && *tmp ? tmp : "/tmp", strerror(errno));
	close(fd);
	return name;
}

/* ---- Where ukcov's files are ---------------------------------------- */

struct paths {
	char *include; /* headers folder to add, or NULL: a default one */
	char *archive; /* libukcov.a */
	char *shared;  /* libukcov.so */
	char *dynlist; /* the runtime's symbols, for --dynamic-list */
	char *static_ldflags; /* what a -static link adds (ukcov(7)) */
	char *rpath;   /* run path for libukcov.so, or NULL */
};

static void locate(struct paths *p)
{
	char self[PATH_MAX], build[PATH_MAX], *root, *dir, *slash;
	size_t rootlen, binlen = strlen(UKCOV_BINDIR);
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die(1, "cannot read /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	dir = self;
	if (realpath(UKCOV_BUILD_DIR, build) && ends(dir, "/tools") &&
	    (size_t)(strrchr(dir, '/') - dir) == strlen(build) &&
	    !strncmp(dir, build, strlen(build))) {
		/* The build tree: build/tools/ukcov-cc. */
		p->include = xstrdup(UKCOV_SOURCE_INCLUDEDIR);
		p->archive = xfmt("%s/libukcov.a", build);
		p->shared = xfmt("%s/libukcov.so", build);
		p->dynlist = xfmt("%s/ukcov.dynlist", build);
		p->static_ldflags = xfmt("%s/ukcov-static.ldflags", build);
		p->rpath = xstrdup(build);
		return;
	}
	/* Installed: BINDIR, possibly below a staging root (DESTDIR). */
	rootlen = 0;
	if (ends(dir, UKCOV_BINDIR) && binlen)
		rootlen = strlen(dir) - binlen;
	root = xfmt("%.*s", (int)rootlen, dir);
	p->include = xfmt("%s%s", root, UKCOV_INCLUDEDIR);
	if (!strcmp(p->include, "/usr/include") ||
	    !strcmp(p->include, "/usr/local/include"))
		p->include = NULL; /* -isystem on them breaks #include_next */
	p->archive = xfmt("%s%s/libukcov.a", root, UKCOV_LIBDIR);
	p->shared = xfmt("%s%s/libukcov.so", root, UKCOV_LIBDIR);
	p->dynlist = xfmt("%s%s/ukcov/ukcov.dynlist", root, UKCOV_LIBDIR);
	p->static_ldflags = xfmt("%s%s/ukcov/ukcov-static.ldflags", root,
				 UKCOV_LIBDIR);
	p->rpath = NULL;
}

/* ---- Response files (@FILE), expanded to be read --------------------- */

/* gcc's rules (libiberty's buildargv): blanks separate, quotes group,
 * a backslash takes the next character as it is. */
static void rsp_split(const char *text, struct vec *out)
{
	char *tok = xrealloc(NULL, strlen(text) + 1);
	const char *s = text;

	for (;;) {
		char q = 0, *t = tok;
		bool any = false;

		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ||
		       *s == '\v' || *s == '\f')
			s++;
		if (!*s)
			break;
		for (; *s; s++) {
			if (*s == '\\' && s[1]) {
				*t++ = *++s;
			} else if (q) {
				if (*s == q)
					q = 0;
				else
					*t++ = *s;
			} else if (*s == '\'' || *s == '"') {
				q = *s;
			} else if (*s == ' ' || *s == '\t' || *s == '\n' ||
				   *s == '\r' || *s == '\v' || *s == '\f') {
				break;
			} else {
				*t++ = *s;
			}
			any = true;
		}
		*t = '\0';
		if (any)
			push(out, xstrdup(tok));
	}
	free(tok);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? 2 * cap : 8192;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* args with every @FILE replaced by its contents; *any_rsp tells whether
 * there was one.  An @FILE that cannot be read stays as it is (gcc too). */
static void expand(struct vec *out, char **args, size_t n, int depth,
		   bool *any_rsp)
{
	for (size_t i = 0; i < n; i++) {
		char *text;
		struct vec inner = { 0 };

		if (args[i][0] != '@' || depth >= RSP_DEPTH ||
		    !(text = read_text(args[i] + 1))) {
			push(out, args[i]);
			continue;
		}
		*any_rsp = true;
		rsp_split(text, &inner);
		free(text);
		expand(out, inner.v, inner.n, depth + 1, any_rsp);
		free(inner.v);
	}
}

/* ---- What the command line asks for ---------------------------------- */

enum kind { K_NONE, K_SOURCE, K_HEADER, K_ASM, K_OTHER_LANG, K_LINK };

/* Options whose value is the next argument when given alone. */
static const char *const takes_arg[] = {
	"-o", "-x", "-I", "-L", "-D", "-U", "-include", "-imacros",
	"-isystem", "-idirafter", "-iquote", "-iprefix", "-iwithprefix",
	"-iwithprefixbefore", "-isysroot", "-imultilib", "-imultiarch",
	"-MF", "-MT", "-MQ", "-MJ", "-Xlinker", "-Xassembler",
	"-Xpreprocessor", "-Xclang", "-Xanalyzer", "-mllvm", "-T", "-u",
	"-e", "-A", "-B", "-aux-info", "--param", "-dumpbase",
	"-dumpbase-ext", "-dumpdir", "-target", "--sysroot", "-arch",
	"-iframework", "-cxx-isystem", "-ivfsoverlay", "-z", "-l", NULL,
};

static bool option_takes_arg(const char *a)
{
	for (size_t i = 0; takes_arg[i]; i++)
		if (!strcmp(a, takes_arg[i]))
			return true;
	return false;
}

static enum kind kind_of_lang(const char *lang)
{
	static const char *const src[] = { "c", "c++", "objective-c",
		"objective-c++", "cpp-output", "c-cpp-output",
		"c++-cpp-output", "objc-cpp-output", "objective-c-cpp-output",
		"objc++-cpp-output", "objective-c++-cpp-output", NULL };

	if (!strcmp(lang, "none"))
		return K_NONE;
	for (size_t i = 0; src[i]; i++)
		if (!strcmp(lang, src[i]))
			return K_SOURCE;
	if (ends(lang, "-header"))
		return K_HEADER;
	if (starts(lang, "assembler"))
		return K_ASM;
	return K_OTHER_LANG;
}

static enum kind kind_of_file(const char *name)
{
	static const char *const src[] = { ".c", ".i", ".cc", ".cp", ".cxx",
		".cpp", ".CPP", ".c++", ".C", ".ii", ".m", ".mi", ".mm", ".M",
		".mii", NULL };
	static const char *const hdr[] = { ".h", ".hh", ".H", ".hp", ".hxx",
		".hpp", ".HPP", ".h++", ".tcc", NULL };
	static const char *const as[] = { ".s", ".S", ".sx", NULL };
	const char *dot = strrchr(base_name(name), '.');
	size_t i;

	if (!dot)
		return K_LINK;
	for (i = 0; src[i]; i++)
		if (!strcmp(dot, src[i]))
			return K_SOURCE;
	for (i = 0; hdr[i]; i++)
		if (!strcmp(dot, hdr[i]))
			return K_HEADER;
	for (i = 0; as[i]; i++)
		if (!strcmp(dot, as[i]))
			return K_ASM;
	return K_LINK;
}

struct line {
	bool inputs;	  /* any input file */
	bool stop;	  /* -c, -S, -E, -M, -MM, -fsyntax-only: no link */
	bool c_family;	  /* a C, C++ or Objective-C source or header */
	bool linkable;	  /* an input that is not a header */
	bool shared;	  /* -shared */
	bool is_static;	  /* -static, -static-pie */
	bool relocatable; /* -r: a partial link */
	bool nostdlib;	  /* -nostdlib, -nodefaultlibs, -nolibc */
	bool runtime;	  /* libukcov named by the project itself */
	bool sanitizer;	  /* a -fsanitize= other than coverage */
	bool defs;	  /* -z defs, --no-undefined and the like */
	bool lto;	  /* -flto */
	struct vec libdirs, libs, dsos;
};

static bool is_ukcov_lib(const char *name)
{
	const char *b = base_name(name);

	return !strcmp(b, "libukcov.a") || !strcmp(b, "libukcov.so") ||
	       starts(b, "libukcov.so.");
}

static bool is_dso_name(const char *name)
{
	const char *b = base_name(name);

	return ends(b, ".so") || strstr(b, ".so.");
}

/* A linker option (from -Wl, -Xlinker or -z) that forbids undefined
 * symbols in a shared library or in the shared libraries it links. */
static bool linker_defs(const char *tok, const char *prev)
{
	return !strcmp(tok, "--no-undefined") ||
	       !strcmp(tok, "-no-undefined") ||
	       !strcmp(tok, "--no-allow-shlib-undefined") ||
	       !strcmp(tok, "-zdefs") ||
	       (!strcmp(tok, "defs") && prev && !strcmp(prev, "-z"));
}

static void linker_token(struct line *l, const char *tok, const char *prev)
{
	if (linker_defs(tok, prev))
		l->defs = true;
	else if (!strcmp(tok, "-shared") || !strcmp(tok, "-Bshareable"))
		l->shared = true;
	else if (!strcmp(tok, "-r") || !strcmp(tok, "--relocatable") ||
		 !strcmp(tok, "-i"))
		l->relocatable = true;
}

static void analyse(struct line *l, char **a, size_t n)
{
	enum kind lang = K_NONE;
	const char *prev_linker = NULL;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		const char *s = a[i], *val = NULL;
		enum kind k;

		if (s[0] != '-' || !strcmp(s, "-")) {
			/* An input file. */
			k = lang != K_NONE ? lang : kind_of_file(s);
			l->inputs = true;
			if (k == K_SOURCE || k == K_HEADER)
				l->c_family = true;
			if (k != K_HEADER)
				l->linkable = true;
			if (k == K_LINK && is_ukcov_lib(s))
				l->runtime = true;
			else if (k == K_LINK && is_dso_name(s))
				push(&l->dsos, s);
			continue;
		}
		if (option_takes_arg(s) && i + 1 < n)
			val = a[++i];
		if (!strcmp(s, "-x") && val) {
			lang = kind_of_lang(val);
		} else if (starts(s, "-x") && !val) {
			lang = kind_of_lang(s + 2);
		} else if (!strcmp(s, "-c") || !strcmp(s, "-S") ||
			   !strcmp(s, "-E") || !strcmp(s, "-M") ||
			   !strcmp(s, "-MM") || !strcmp(s, "-fsyntax-only") ||
			   !strcmp(s, "--precompile") ||
			   !strcmp(s, "--analyze")) {
			l->stop = true;
		} else if (!strcmp(s, "-shared") || !strcmp(s, "--shared")) {
			l->shared = true;
		} else if (!strcmp(s, "-static") || !strcmp(s, "--static") ||
			   !strcmp(s, "-static-pie")) {
			l->is_static = true;
		} else if (!strcmp(s, "-r")) {
			l->relocatable = true;
		} else if (!strcmp(s, "-nostdlib") ||
			   !strcmp(s, "-nodefaultlibs") ||
			   !strcmp(s, "-nolibc") ||
			   !strcmp(s, "--no-standard-libraries")) {
			l->nostdlib = true;
		} else if (starts(s, "-fsanitize=")) {
			l->sanitizer = true;
		} else if (starts(s, "-flto") && strcmp(s, "-flto=")) {
			l->lto = true;
		} else if (!strcmp(s, "-fno-lto")) {
			l->lto = false;
		} else if (!strcmp(s, "-l") || starts(s, "-l")) {
			const char *name = val ? val : s + 2;

			if (!val && !strcmp(s, "-l"))
				continue;
			l->inputs = l->linkable = true;
			if (!strcmp(name, "ukcov") ||
			    (name[0] == ':' && is_ukcov_lib(name + 1)))
				l->runtime = true;
			else
				push(&l->libs, name);
		} else if (!strcmp(s, "-L") || starts(s, "-L")) {
			if (val || strcmp(s, "-L"))
				push(&l->libdirs, val ? val : s + 2);
		} else if (starts(s, "-Wl,")) {
			char *copy = xstrdup(s + 4), *tok, *save;

			for (tok = strtok_r(copy, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				linker_token(l, tok, prev_linker);
				prev_linker = xstrdup(tok);
			}
			free(copy);
		} else if (!strcmp(s, "-Xlinker") && val) {
			linker_token(l, val, prev_linker);
			prev_linker = val;
		} else if (!strcmp(s, "-z") && val) {
			linker_token(l, val, "-z");
			prev_linker = val;
		} else if (starts(s, "-z") && strcmp(s, "-z")) {
			linker_token(l, s, NULL);
		}
	}
}

/* The arguments without the options that forbid undefined symbols: -z
 * defs and --no-undefined (inside -Wl, lists, as -Xlinker pairs or as
 * the driver's -z), and --no-allow-shlib-undefined. */
static void drop_defs(struct vec *out, char **a, size_t n)
{
	bool skip_defs = false; /* a -Wl list ended in -z, dropped */

	for (size_t i = 0; i < n; i++) {
		const char *s = a[i];

		if (starts(s, "-Wl,")) {
			char *copy = xstrdup(s + 4), *tok, *save, *keep;
			char *toks[256];
			size_t nt = 0, j;

			for (tok = strtok_r(copy, ",", &save); tok && nt < 256;
			     tok = strtok_r(NULL, ",", &save))
				toks[nt++] = tok;
			if (tok) { /* too long to take apart: keep it */
				push(out, s);
				continue;
			}
			keep = xstrdup("-Wl");
			for (j = 0; j < nt; j++) {
				if (skip_defs && j == 0 &&
				    !strcmp(toks[j], "defs"))
					continue;
				if (!strcmp(toks[j], "-z") && j + 1 < nt &&
				    !strcmp(toks[j + 1], "defs")) {
					j++;
					continue;
				}
				/* -Wl,-z -Wl,defs */
				if (!strcmp(toks[j], "-z") && j + 1 == nt &&
				    i + 1 < n && starts(a[i + 1], "-Wl,defs") &&
				    strchr(",", a[i + 1][8]))
					continue;
				if (linker_defs(toks[j], NULL))
					continue;
				keep = xfmt("%s,%s", keep, toks[j]);
			}
			skip_defs = nt && !strcmp(toks[nt - 1], "-z") &&
				    i + 1 < n && starts(a[i + 1], "-Wl,defs") &&
				    strchr(",", a[i + 1][8]);
			if (strcmp(keep, "-Wl"))
				push(out, keep);
			continue;
		}
		skip_defs = false;
		if (!strcmp(s, "-Xlinker") && i + 1 < n) {
			if (linker_defs(a[i + 1], NULL)) {
				i++;
				continue;
			}
			/* -Xlinker -z -Xlinker defs */
			if (!strcmp(a[i + 1], "-z") && i + 3 < n &&
			    !strcmp(a[i + 2], "-Xlinker") &&
			    !strcmp(a[i + 3], "defs")) {
				i += 3;
				continue;
			}
			push(out, s);
			push(out, a[++i]);
			continue;
		}
		if (!strcmp(s, "-z") && i + 1 < n) {
			if (!strcmp(a[i + 1], "defs")) {
				i++;
				continue;
			}
			push(out, s);
			push(out, a[++i]);
			continue;
		}
		if (!strcmp(s, "-zdefs"))
			continue;
		push(out, s);
		if (option_takes_arg(s) && i + 1 < n)
			push(out, a[++i]);
	}
}

/* ---- Running things ------------------------------------------------- */

/* UKCOV_CC_VERBOSE: each command, as a shell would take it. */
static void show(const char *what, char **argv)
{
	if (!verbose)
		return;
	fprintf(stderr, "%s: %s", prog, what);
	for (char **a = argv; *a; a++) {
		const char *s = *a;

		fputs(a == argv ? "" : " ", stderr);
		if (*s && !strpbrk(s, " \t\n'\"\\$`;&|<>()*?[]#~{}")) {
			fputs(s, stderr);
			continue;
		}
		fputc('\'', stderr);
		for (; *s; s++)
			if (*s == '\'')
				fputs("'\\''", stderr);
			else
				fputc(*s, stderr);
		fputc('\'', stderr);
	}
	fputc('\n', stderr);
}

/* Run argv and wait; its wait status.  out_fd, when not -1, becomes its
 * standard output; quiet sends its standard error to /dev/null.  Signals
 * that would end us while it runs (the terminal's, make's) are left to
 * it: we clean up after. */
static int run(char **argv, int out_fd, bool quiet)
{
	static const int sigs[4] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old[4];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, err, i;

	posix_spawn_file_actions_init(&fa);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY,
						 0);
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &ign, &old[i]);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		st = (err == ENOENT ? 127 : 126) << 8;
		if (!quiet)
			fprintf(stderr, "%s: %s: %s\n", prog, argv[0],
				strerror(err));
	} else {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	return st;
}

/* Our exit status for a child's wait status (a signal is passed on). */
static int exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) {
		signal(WTERMSIG(st), SIG_DFL);
		raise(WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return 1;
}

/* The standard output of argv, or NULL when it cannot be run or fails
 * (its errors are not ours: a missing readelf is no error). */
static char *capture(char **argv)
{
	char *name = scratch("out"), *text = NULL;
	int fd = open(name, O_RDWR | O_CLOEXEC), st;

	unlink(name);
	free(name);
	if (fd < 0)
		return NULL;
	st = run(argv, fd, true);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		text = read_text(path);
	}
	close(fd);
	return text;
}

/* ---- One runtime per process ----------------------------------------- */

/* Does the shared object need libukcov.so (a library linked against it
 * by the project, or built with UKCOV_CC_RUNTIME=shared)?  binutils'
 * readelf reads it; without readelf the answer is no. */
static bool needs_ukcov(const char *path)
{
	char *argv[] = { "readelf", "-d", "-W", (char *)path, NULL };
	char *out, *line, *save;
	bool found = false;

	if (!is_file(path) || !(out = capture(argv)))
		return false;
	for (line = strtok_r(out, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save))
		found = strstr(line, "(NEEDED)") &&
			strstr(line, "[libukcov.so.");
	free(out);
	return found;
}

/* Libraries every program links, never instrumented: not looked up. */
static bool system_lib(const char *name)
{
	static const char *const libs[] = { "c", "m", "dl", "pthread", "rt",
		"util", "resolv", "stdc++", "gcc", "gcc_s", "atomic", "crypt",
		"anl", "nsl", NULL };

	for (size_t i = 0; libs[i]; i++)
		if (!strcmp(name, libs[i]))
			return true;
	return false;
}

/* The compiler's own library folders (-print-search-dirs). */
static void compiler_libdirs(const struct vec *cc, struct vec *dirs)
{
	struct vec argv = { 0 };
	char *out, *line, *save, *dir, *save2;

	push_all(&argv, cc);
	push(&argv, "-print-search-dirs");
	out = capture(argv.v);
	if (!out)
		return;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!starts(line, "libraries: "))
			continue;
		line += strlen("libraries: ");
		if (*line == '=')
			line++;
		for (dir = strtok_r(line, ":", &save2); dir;
		     dir = strtok_r(NULL, ":", &save2))
			push(dirs, xstrdup(dir));
	}
}

/* The shared object -lNAME (or -l:FILE) names in one of dirs, NULL if
 * none; *archive tells whether a folder before had NAME's archive
 * instead (which ld then takes). */
static char *find_dso(const struct vec *dirs, const char *name,
		      bool *archive)
{
	for (size_t j = 0; j < dirs->n; j++) {
		const char *d = dirs->v[j];
		char *p = name[0] == ':' ? xfmt("%s/%s", d, name + 1)
					 : xfmt("%s/lib%s.so", d, name);
		char *a = xfmt("%s/lib%s.a", d, name);
		bool is_a = name[0] != ':' && is_file(a);

		free(a);
		if (is_file(p))
			return p;
		free(p);
		if (is_a) {
			*archive = true;
			return NULL;
		}
	}
	return NULL;
}

/* Is a shared library named on this executable's link line (a path, or
 * -lNAME found as NAME's .so in a -L folder or the compiler's) linked
 * against libukcov.so?  Direct dependencies only. */
static bool link_needs_shared(const struct line *l, const struct vec *cc)
{
	struct vec sysdirs = { 0 };
	bool have_sysdirs = false;
	size_t i;

	for (i = 0; i < l->dsos.n; i++)
		if (needs_ukcov(l->dsos.v[i]))
			return true;
	for (i = 0; i < l->libs.n; i++) {
		const char *name = l->libs.v[i];
		bool archive = false;
		char *found;

		if (name[0] == ':' ? !is_dso_name(name + 1) : system_lib(name))
			continue;
		found = find_dso(&l->libdirs, name, &archive);
		if (!found && !archive) {
			if (!have_sysdirs) {
				compiler_libdirs(cc, &sysdirs);
				have_sysdirs = true;
			}
			found = find_dso(&sysdirs, name, &archive);
		}
		if (found && needs_ukcov(found))
			return true;
		free(found);
	}
	return false;
}

/* ---- The compiler --------------------------------------------------- */

static char *search_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save, *found = NULL;

	if (strchr(name, '/'))
		return xstrdup(name);
	copy = xstrdup(path && *path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p = xfmt("%s/%s", *dir ? dir : ".", name);

		if (!access(p, X_OK) && is_file(p))
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

/* clang, or (everything else) gcc: by the name of the command, or of
 * the file it leads to (cc -> /etc/alternatives/cc -> clang). */
static bool is_clang(const char *cmd)
{
	char real[PATH_MAX], *path;
	bool clang = strstr(base_name(cmd), "clang") != NULL;

	if (clang)
		return true;
	path = search_path(cmd);
	if (path && realpath(path, real))
		clang = strstr(base_name(real), "clang") != NULL;
	free(path);
	return clang;
}

static void split_words(const char *s, struct vec *out)
{
	char *copy = xstrdup(s), *tok, *save;

	for (tok = strtok_r(copy, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save))
		push(out, tok);
}

static const char *coverage_flag(void)
{
	static const char *const known[] = { "trace-pc", "trace-cmp",
		"trace-pc-guard", "pc-table", NULL };
	const char *v = getenv("UKCOV_CC_COVERAGE");
	char *copy, *tok, *save;

	if (!v || !*v)
		v = DEFAULT_COVERAGE;
	if (!strcmp(v, "none"))
		return NULL;
	copy = xstrdup(v);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; known[i] && strcmp(tok, known[i]); i++)
			;
		if (!known[i])
			die(1, "UKCOV_CC_COVERAGE=%s: '%s' is not one of "
			    "trace-pc, trace-cmp, trace-pc-guard, pc-table "
			    "(a comma-separated list), nor 'none'", v, tok);
	}
	free(copy);
	return xfmt("-fsanitize-coverage=%s", v);
}

enum runtime { RT_STATIC, RT_SHARED, RT_NONE };

static enum runtime runtime_mode(void)
{
	const char *v = getenv("UKCOV_CC_RUNTIME");

	if (!v || !*v || !strcmp(v, "static"))
		return RT_STATIC;
	if (!strcmp(v, "shared"))
		return RT_SHARED;
	if (!strcmp(v, "none"))
		return RT_NONE;
	die(1, "UKCOV_CC_RUNTIME=%s: want static, shared or none", v);
}

static void need_file(const char *path, const char *what)
{
	if (!is_file(path))
		die(1, "%s: %s; build ukcov first (make) or install it", path,
		    what);
}

/* libukcov.so on the link line (and its folder as run path when it is
 * the build tree's). */
static void add_shared_runtime(struct vec *out, const struct paths *p)
{
	need_file(p->shared, "no libukcov.so");
	push(out, p->shared);
	if (p->rpath) {
		push(out, "-Xlinker");
		push(out, "-rpath");
		push(out, "-Xlinker");
		push(out, p->rpath);
	}
}

/* A response file holding args (for a command line whose own @FILEs
 * were rewritten); the caller removes it. */
static char *write_rsp(char **args, size_t n)
{
	char *name = scratch("args");
	FILE *f = fopen(name, "w");

	if (!f)
		die(1, "%s: %s", name, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		for (const char *s = args[i]; *s; s++) {
			if (strchr(" \t\n\r\v\f'\"\\", *s))
				fputc('\\', f);
			fputc(*s, f);
		}
		if (!*args[i])
			fputs("''", f);
		fputc('\n', f);
	}
	if (fclose(f))
		die(1, "%s: %s", name, strerror(errno));
	return name;
}

int main(int argc, char **argv)
{
	const char *name = base_name(argv[0]);
	bool cxx = ends(name, "++") || strstr(name, "cxx");
	bool clang_name = strstr(name, "clang") != NULL;
	const char *cmd, *cov;
	struct vec cc = { 0 }, user = { 0 }, full = { 0 }, out = { 0 };
	struct vec pre = { 0 }, post = { 0 }, rt = { 0 };
	struct paths p = { 0 };
	struct line l;
	enum runtime mode;
	bool clang, any_rsp = false, link, check_defs = false;
	char *rsp = NULL;
	int st;

	prog = name;
	if (clang_name)
		cmd = cxx ? "clang++" : "clang";
	else
		cmd = getenv(cxx ? "UKCOV_CXX" : "UKCOV_CC");
	if (!cmd || !*cmd)
		cmd = cxx ? "g++" : "gcc";
	split_words(cmd, &cc);
	if (!cc.n)
		die(1, "%s is blank", cxx ? "UKCOV_CXX" : "UKCOV_CC");
	if (getenv("UKCOV_CC_ACTIVE"))
		die(1, "called by the compiler it runs (%s): %s names a ukcov "
		    "wrapper; name the real compiler", cmd,
		    clang_name ? "PATH" : cxx ? "UKCOV_CXX" : "UKCOV_CC");
	verbose = getenv("UKCOV_CC_VERBOSE") &&
		  strcmp(getenv("UKCOV_CC_VERBOSE"), "0") &&
		  *getenv("UKCOV_CC_VERBOSE");

	for (int i = 1; i < argc; i++)
		push(&user, argv[i]);
	expand(&full, user.v, user.n, 0, &any_rsp);
	analyse(&l, full.v, full.n);

	/* Nothing to build: the compiler answers as it is (--version, -v,
	 * -print-*, -dumpmachine, -Wl,--version). */
	if (!l.inputs) {
		push_all(&out, &cc);
		push_all(&out, &user);
		show("", out.v);
		execvp(out.v[0], out.v);
		die(errno == ENOENT ? 127 : 126, "%s: %s", out.v[0],
		    strerror(errno));
	}

	cov = coverage_flag();
	mode = runtime_mode();
	clang = is_clang(cc.v[cc.n - 1]);
	locate(&p);
	link = !l.stop && l.linkable;

	if (l.c_family) {
		push(&pre, "-g");
		if (cov)
			push(&post, cov);
		push(&post, "-fno-optimize-sibling-calls");
		if (!clang)
			push(&post, "-fno-ipa-icf");
		if (p.include) {
			push(&post, "-isystem");
			push(&post, p.include);
		}
	}
	if (link && l.lto && !clang && !l.c_family) {
		/* gcc optimizes again at the link: the same rules. */
		push(&post, "-g");
		push(&post, "-fno-optimize-sibling-calls");
		push(&post, "-fno-ipa-icf");
	}
	if (link && clang && !l.sanitizer)
		push(&post, "-fno-sanitize-link-runtime");

	if (link && !l.runtime && mode != RT_NONE && !l.relocatable) {
		if (l.shared) {
			/* -nostdlib too: libtool links C++ libraries so. */
			if (mode == RT_SHARED)
				add_shared_runtime(&rt, &p);
			else if (l.defs)
				check_defs = true;
		} else if (l.nostdlib) {
			/* The project links every library itself. */
		} else if (!l.is_static &&
			   (mode == RT_SHARED || link_needs_shared(&l, &cc))) {
			add_shared_runtime(&rt, &p);
			push(&rt, "-lpthread");
			push(&rt, "-ldl");
		} else {
			need_file(p.archive, "no libukcov.a");
			push(&rt, "-Wl,--whole-archive");
			push(&rt, p.archive);
			push(&rt, "-Wl,--no-whole-archive");
			if (!l.is_static) {
				need_file(p.dynlist, "no ukcov.dynlist");
				push(&rt, "-Xlinker");
				push(&rt, xfmt("--dynamic-list=%s", p.dynlist));
			} else {
				/* libc.a's functions behind ukcov's routes
				 * (ukcov(7), "a fully static program"). */
				char *f;

				need_file(p.static_ldflags,
					  "no ukcov-static.ldflags");
				f = read_text(p.static_ldflags);
				rsp_split(f, &rt);
			}
			push(&rt, "-lpthread");
			push(&rt, "-ldl");
		}
	}

	if (check_defs) {
		/* The project's own check, against libukcov.so... */
		struct vec chk = { 0 }, kept = { 0 };
		char *tmp = scratch("check");

		push_all(&chk, &cc);
		push_all(&chk, &pre);
		push_all(&chk, &user);
		push_all(&chk, &post);
		add_shared_runtime(&chk, &p);
		push(&chk, "-o");
		push(&chk, tmp);
		show("checking -z defs: ", chk.v);
		st = run(chk.v, -1, false);
		unlink(tmp);
		unlink(xfmt("%s.d", tmp)); /* -MD's, named after -o */
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			return exit_code(st);
		/* ...then the library without the flag, and without the
		 * runtime: at run time the executable's serves it. */
		drop_defs(&kept, full.v, full.n);
		user.n = 0;
		if (any_rsp) {
			rsp = write_rsp(kept.v, kept.n);
			push(&user, xfmt("@%s", rsp));
		} else {
			push_all(&user, &kept);
		}
	}

	push_all(&out, &cc);
	push_all(&out, &pre);
	push_all(&out, &user);
	push_all(&out, &post);
	push_all(&out, &rt);
	show("", out.v);
	setenv("UKCOV_CC_ACTIVE", "1", 1);
	if (!rsp) {
		execvp(out.v[0], out.v);
		die(errno == ENOENT ? 127 : 126, "%s: %s", out.v[0],
		    strerror(errno));
	}
	st = run(out.v, -1, false);
	unlink(rsp);
	return exit_code(st);
}
