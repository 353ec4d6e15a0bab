// SPDX-License-Identifier: MIT
/*
 * ukcov-run: run a program built with the ukcov flags and linked with
 * libukcov, and write its coverage (every thread's own trace, the common
 * handle's, the given global handles' and signals') to a file.  The runtime
 * does the collecting (src/autorun.c); this tool checks the program, writes
 * the file header, sets the environment, runs the program and sums up what
 * was written.  See ukcov-run(1) and ukcov-file(5).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ukcov.h>

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
"  -o, --output FILE      coverage file (default: ukcov.cov); overwritten\n"
"  -m, --mode MODE        pc (default) or cmp\n"
"  -s, --area-words N     words per area (default 0x40000; 512..0x10000000;\n"
"                         suffix K or M multiplies by 1024 or 1048576)\n"
"      --no-common        do not collect the common handle\n"
"  -H, --handle H[,H...]  also collect these global handles (hex or decimal)\n"
"  -S, --signal SIG[,...] also collect these signals' handlers (ALRM, SIGCHLD, 17)\n"
"      --no-check         run PROGRAM even if it does not look linked with\n"
"                         libukcov or instrumented\n"
"  -q, --quiet            no summary on standard error\n"
"  -h, --help             this text\n"
"\n"
"Exit status: PROGRAM's; 125 when ukcov-run fails, 126 when PROGRAM cannot\n"
"be run, 127 when it is not found, 128+N when it is killed by signal N.\n"
"Read the file with ukcov-report(1).\n");
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

/* Append the list s (comma-separated) to buf, each item checked. */
static void add_handles(char *buf, size_t len, const char *s)
{
	char tmp[1024], *tok, *save;

	snprintf(tmp, sizeof(tmp), "%s", s);
	for (tok = strtok_r(tmp, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long long h;
		uint64_t sub;
		char *end;

		errno = 0;
		h = strtoull(tok, &end, 0);
		sub = h & KCOV_SUBSYSTEM_MASK;
		if (errno || *end || *tok == '-' || !*tok ||
		    (h & ~(KCOV_SUBSYSTEM_MASK | KCOV_INSTANCE_MASK)) ||
		    !(sub == KCOV_SUBSYSTEM_USB || sub >= UKCOV_SUBSYSTEM_APP_FIRST))
			die(EXIT_TOOL, "--handle %s: not a global handle (an "
			    "application handle is 0x80..0xff in the top byte, "
			    "e.g. 0x8100000000000001; see ukcov_remote_handle(3))",
			    tok);
		if (strlen(buf) + 24 >= len)
			die(EXIT_TOOL, "--handle: too many handles");
		snprintf(buf + strlen(buf), len - strlen(buf), "%s0x%llx",
			 *buf ? "," : "", h);
	}
}

static void add_signals(char *buf, size_t len, const char *s)
{
	char tmp[1024], *tok, *save;

	snprintf(tmp, sizeof(tmp), "%s", s);
	for (tok = strtok_r(tmp, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int sig = ukf_signal_number(tok);

		if (sig < 0)
			die(EXIT_TOOL, "--signal %s: not a signal", tok);
		if (sig == SIGKILL || sig == SIGSTOP)
			die(EXIT_TOOL, "--signal %s: has no handler to collect",
			    tok);
		if (strlen(buf) + 8 >= len)
			die(EXIT_TOOL, "--signal: too many signals");
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%d",
			 *buf ? "," : "", sig);
	}
}

static unsigned long parse_words(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (!errno && *s != '-' && end != s) {
		if (*end == 'K' || *end == 'k')
			v <<= 10, end++;
		else if (*end == 'M' || *end == 'm')
			v <<= 20, end++;
		if (!*end && v >= 512 && v <= 0x10000000)
			return (unsigned long)v;
	}
	die(EXIT_TOOL, "--area-words %s: not a number of words in "
	    "512..0x10000000", s);
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
static void write_run(const char *out, int status)
{
	struct {
		struct ukcov_rec rec;
		struct ukcov_rec_run run;
	} r;
	int fd;

	memset(&r, 0, sizeof(r));
	r.rec.type = UKCOV_REC_RUN;
	r.rec.size = sizeof(r.run);
	if (WIFSIGNALED(status)) {
		r.run.how = UKCOV_RUN_KILLED;
		r.run.status = WTERMSIG(status);
		r.run.flags = UKCOV_RUN_INCOMPLETE;
	} else {
		r.run.how = UKCOV_RUN_EXITED;
		r.run.status = WEXITSTATUS(status);
	}
	fd = open(out, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, out,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Sum up what the run wrote. */
static void summarize(const char *out, bool quiet, const char *shown)
{
	struct ukf c;
	char err[256];
	unsigned long n[5] = { 0 }, pids = 0;
	uint64_t entries = 0, dropped = 0, *pid;
	size_t i;

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
		fprintf(stderr, "%s: %s wrote no coverage to %s (it ended "
			"without exit(3): _exit, exec or a signal; or it does "
			"not run libukcov's constructor)\n", prog, shown, out);
	} else if (!quiet) {
		fprintf(stderr, "%s: wrote %s: %lu thread%s, %lu common, "
			"%lu handle, %lu signal area%s; %llu entries",
			prog, out, n[1], n[1] == 1 ? "" : "s", n[2], n[3], n[4],
			n[4] == 1 ? "" : "s", (unsigned long long)entries);
		if (pids > 1)
			fprintf(stderr, "; %lu processes", pids);
		fputc('\n', stderr);
	}
	if (dropped)
		fprintf(stderr, "%s: warning: %llu entries were dropped "
			"because areas were full; rerun with a larger "
			"--area-words\n", prog, (unsigned long long)dropped);
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
	const char *out = "ukcov.cov", *mode = "pc";
	char handles[4096] = "", signals[1024] = "", words[32] = "";
	char abs_out[PATH_MAX];
	bool common = true, check = true, quiet = false;
	struct ukcov_file_header h = { .version = UKCOV_FILE_VERSION,
				       .word_size = 8 };
	char *path;
	int opt, fd, status;
	pid_t pid;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+o:m:s:H:S:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "pc") && strcmp(optarg, "cmp"))
				die(EXIT_TOOL, "--mode %s: not pc or cmp", optarg);
			mode = optarg;
			break;
		case 's':
			snprintf(words, sizeof(words), "%lu", parse_words(optarg));
			break;
		case 'C':
			common = false;
			break;
		case 'H':
			add_handles(handles, sizeof(handles), optarg);
			break;
		case 'S':
			add_signals(signals, sizeof(signals), optarg);
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

	/* The header; the runtime appends the records. */
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(EXIT_TOOL, "cannot write %s: %s", out, strerror(errno));
	memcpy(h.magic, UKCOV_FILE_MAGIC, 8);
	if (write(fd, &h, sizeof(h)) != (ssize_t)sizeof(h) || close(fd))
		die(EXIT_TOOL, "cannot write %s: %s", out, strerror(errno));
	/* Absolute: the program may change directory before it exits. */
	if (!realpath(out, abs_out))
		die(EXIT_TOOL, "%s: %s", out, strerror(errno));

	setenv("UKCOV_OUTPUT", abs_out, 1);
	setenv("UKCOV_MODE", mode, 1);
	if (*words)
		setenv("UKCOV_AREA_WORDS", words, 1);
	else
		unsetenv("UKCOV_AREA_WORDS");
	setenv("UKCOV_COMMON", common ? "1" : "0", 1);
	if (*handles)
		setenv("UKCOV_HANDLES", handles, 1);
	else
		unsetenv("UKCOV_HANDLES");
	if (*signals)
		setenv("UKCOV_SIGNALS", signals, 1);
	else
		unsetenv("UKCOV_SIGNALS");

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(EXIT_TOOL, "fork: %s", strerror(errno));
	if (pid == 0) {
		execv(path, argv + optind);
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind],
			strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
	}
	/* Like a shell: the terminal's ^C goes to the program. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die(EXIT_TOOL, "waitpid: %s", strerror(errno));
	if (WIFEXITED(status) &&
	    (WEXITSTATUS(status) == EXIT_NOEXEC ||
	     WEXITSTATUS(status) == EXIT_NOTFOUND)) {
		struct stat st;

		/* Did the exec fail (nothing past the header)? */
		if (!stat(abs_out, &st) && st.st_size == (off_t)sizeof(h))
			return WEXITSTATUS(status);
	}
	if (WIFSIGNALED(status)) {
		char sig[16];

		fprintf(stderr, "%s: %s was killed by %s: the areas of threads "
			"still running were not written\n", prog, argv[optind],
			ukf_signal_name(WTERMSIG(status), sig));
	}
	write_run(abs_out, status);
	summarize(abs_out, quiet, argv[optind]);
	free(path);
	return WIFEXITED(status) ? WEXITSTATUS(status)
				 : 128 + WTERMSIG(status);
}
