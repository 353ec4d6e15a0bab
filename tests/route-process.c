// SPDX-License-Identifier: MIT
/*
 * Every way a program on glibc creates a process (spec §3.9; issue 10):
 * fork, vfork, __vfork, _Fork, clone without CLONE_VM, clone with
 * CLONE_VM | CLONE_VFORK, posix_spawn, posix_spawnp, system, popen, daemon.
 *
 * The main thread collects locally (kcov L), owns a remote kcov R with a
 * common handle, and runs each route inside a remote section for a handle
 * another thread owns (kcov A).  For each route:
 *   - nothing the child runs lands anywhere: L and A hold exactly what the
 *     same code path records when no child is created (a baseline run of
 *     the identical instrumented function with a fake route), and none of
 *     the child's functions;
 *   - the parent's state is exact afterwards: the section still collects
 *     for A until its stop, L is still bound (KCOV_DISABLE succeeds);
 *   - a real child (fork, _Fork, clone without CLONE_VM, daemon) starts
 *     with nothing collecting, as a new Linux task: it can enable a kcov
 *     of its own (no EBUSY), which records its code, and it inherited the
 *     common handle;
 *   - a vfork-style child that closes the parent's kcov descriptor (in its
 *     own descriptor table) changes nothing for the parent.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 65536
#define FAKE_PID 424242

static const uint64_t HA = UKCOV_SUBSYSTEM_APP(30) | 1;
static uint64_t hc;	/* the main thread's common handle */
static struct t_kcov L, A, R;
static int result_pipe[2];
extern char **environ;

volatile long sink;

/* Instrumented: what a child runs.  Must never land in the parent's areas. */
__attribute__((noinline)) void child_work(int x);
__attribute__((noinline)) void child_work(int x)
{
	if (x > 3)
		sink = x * 7;
	else
		sink = x - 7;
}

/* Instrumented: what the parent runs around the route. */
__attribute__((noinline)) void parent_work(int x);
__attribute__((noinline)) void parent_work(int x)
{
	if (x & 1)
		sink += x;
	else
		sink -= x;
}

/*
 * A real child's checks (fork, _Fork, clone, daemon): nothing collecting,
 * the common handle inherited, a kcov of its own works.  Exit status 0 when
 * all hold, else the number of the failed check.
 */
static int real_child_checks(void)
{
	struct t_kcov own;
	unsigned long n;

	child_work(5);
	if (ukcov_common_handle() != hc)
		return 2;
	own.fd = ukcov_open();
	if (own.fd < 0 || ukcov_ioctl(own.fd, KCOV_INIT_TRACE, 4096))
		return 3;
	own.words = 4096;
	own.area = mmap(NULL, 4096 * sizeof(long), PROT_READ | PROT_WRITE,
			MAP_SHARED, own.fd, 0);
	if (own.area == MAP_FAILED)
		return 4;
	/* No binding inherited: EBUSY here would mean one. */
	if (ukcov_ioctl(own.fd, KCOV_ENABLE, KCOV_TRACE_PC))
		return 5;
	own.area[0] = 0;
	child_work(9);
	n = t_count(&own);
	ukcov_ioctl(own.fd, KCOV_DISABLE, 0);
	if (!n || t_count_in(&own, t_range_of((void *)child_work)) == 0)
		return 6;
	return 0;
}

/* The child of fork, _Fork, daemon: runs in spawn_generic's frame. */
__attribute__((noinline, noreturn)) void child_body(void);
__attribute__((noinline, noreturn)) void child_body(void)
{
	int r = real_child_checks();
	unsigned char b = (unsigned char)r;

	/* daemon's grandchild reports through the pipe. */
	if (write(result_pipe[1], &b, 1) != 1)
		_exit(100);
	_exit(r);
}

/* The child of clone without CLONE_VM, on its own stack. */
static int clone_child_fn(void *arg)
{
	(void)arg;
	child_body();
}

/* A vfork-style child (vfork, clone CLONE_VM|CLONE_VFORK): the parent's
 * memory; it runs instrumented code, closes L's descriptor, exec fails. */
__attribute__((noinline, noreturn)) void vm_child_body(void);
__attribute__((noinline, noreturn)) void vm_child_body(void)
{
	static char *const argv[] = { "/nonexistent/ukcov-route", NULL };

	child_work(4);
	close(L.fd);
	ukcov_remote_start(HA);	/* nothing: the parent's state is not ours */
	child_work(2);
	execv(argv[0], argv);
	_exit(0);
}

static int vm_clone_fn(void *arg)
{
	(void)arg;
	vm_child_body();
}

enum route {
	R_FAKE, R_FORK, R__FORK, R_CLONE, R_CLONE_VFORK, R_SPAWN, R_SPAWNP,
	R_SYSTEM, R_POPEN, R_DAEMON,
};

static const char *const route_names[] = {
	"fake", "fork", "_Fork", "clone", "clone(CLONE_VM|CLONE_VFORK)",
	"posix_spawn", "posix_spawnp", "system", "popen", "daemon",
};

static char clone_stack[1 << 16] __attribute__((aligned(16)));

/*
 * Uninstrumented: make the route's child; the parent gets a positive value
 * (the child's pid, or FAKE_PID), a fork-like child 0.
 */
T_NOCOV static pid_t route_call(enum route r)
{
	char *const argv[] = { "true", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid = -1, helper;
	FILE *p;

	switch (r) {
	case R_FAKE:
		return FAKE_PID;
	case R_FORK:
		return fork();
	case R__FORK:
		return _Fork();
	case R_CLONE:
		return clone(clone_child_fn, clone_stack + sizeof(clone_stack),
			     SIGCHLD, NULL);
	case R_CLONE_VFORK:
		return clone(vm_clone_fn, clone_stack + sizeof(clone_stack),
			     CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	case R_SPAWN:
		/* Closing L's descriptor in the child: its own table. */
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addclose(&fa, L.fd);
		if (posix_spawn(&pid, "/bin/true", &fa, NULL, argv, environ))
			pid = -1;
		posix_spawn_file_actions_destroy(&fa);
		return pid;
	case R_SPAWNP:
		if (posix_spawnp(&pid, "true", NULL, NULL, argv, environ))
			return -1;
		return pid;
	case R_SYSTEM:
		return system("exit 3") == (3 << 8) ? FAKE_PID : -1;
	case R_POPEN:
		p = popen("echo x", "r");
		if (!p)
			return -1;
		while (fgetc(p) != EOF)
			;
		return pclose(p) == 0 ? FAKE_PID : -1;
	case R_DAEMON:
		helper = fork();
		if (helper != 0)
			return helper;
		/* The helper's daemon: its parent (the helper) _exits. */
		if (daemon(1, 1))
			_exit(99);
		return 0;
	}
	return -1;
}

/* Uninstrumented: the parent's half; the child's result, 0 if good. */
T_NOCOV static int parent_side(enum route r, pid_t pid)
{
	int status;
	unsigned char b;

	if (pid < 0)
		t_fail("%s: %s", route_names[r], strerror(errno));
	if (pid == FAKE_PID)
		return 0;
	if (waitpid(pid, &status, 0) != pid)
		t_fail("%s: waitpid: %s", route_names[r], strerror(errno));
	if (!WIFEXITED(status))
		t_fail("%s: child did not exit (status %#x)", route_names[r],
		       status);
	if (r == R_SPAWN || r == R_SPAWNP || r == R_CLONE_VFORK)
		return WEXITSTATUS(status);
	if (r == R_DAEMON && WEXITSTATUS(status))
		return WEXITSTATUS(status);
	/* fork-like children also report through the pipe. */
	if (read(result_pipe[0], &b, 1) != 1)
		t_fail("%s: no result from the child", route_names[r]);
	return b;
}

/* One instrumented path for every route but vfork: the same code runs
 * whether the route made a child or not. */
__attribute__((noinline)) int spawn_generic(enum route r);
__attribute__((noinline)) int spawn_generic(enum route r)
{
	pid_t pid;

	parent_work(1);
	pid = route_call(r);
	if (pid == 0)
		child_body();
	parent_work(2);
	return parent_side(r, pid);
}

/*
 * vfork must be called by the function that uses its result, so the real
 * and the fake run go through one opaque entry (no frame of its own: it
 * jumps to vfork), and the instrumented function is the same in both runs.
 */
volatile unsigned char vfork_real;
extern pid_t t_route_vfork(void) __attribute__((returns_twice, nothrow));
extern pid_t t_route___vfork(void) __attribute__((returns_twice, nothrow));
__asm__(".text\n"
	"t_route_vfork:\n"
	"	cmpb $0, vfork_real(%rip)\n"
	"	jne 1f\n"
	"	movl $" "424242" ", %eax\n"
	"	ret\n"
	"1:	jmp vfork@PLT\n"
	"t_route___vfork:\n"
	"	cmpb $0, vfork_real(%rip)\n"
	"	jne 1f\n"
	"	movl $" "424242" ", %eax\n"
	"	ret\n"
	"1:	jmp __vfork@PLT\n");
_Static_assert(FAKE_PID == 424242, "the assembly above returns FAKE_PID");

T_NOCOV static int vfork_parent(pid_t pid)
{
	return parent_side(pid == FAKE_PID ? R_FAKE : R_CLONE_VFORK, pid);
}

#define SPAWN_VFORK(name, call)                                                \
	__attribute__((noinline)) int name(void);                              \
	__attribute__((noinline)) int name(void)                               \
	{                                                                      \
		pid_t pid;                                                     \
                                                                               \
		parent_work(1);                                                \
		pid = call();                                                  \
		if (pid == 0)                                                  \
			vm_child_body();                                       \
		parent_work(2);                                                \
		return vfork_parent(pid);                                      \
	}
SPAWN_VFORK(spawn_vfork, t_route_vfork)
SPAWN_VFORK(spawn___vfork, t_route___vfork)

struct outcome {
	unsigned long local, remote;	/* entries in L and in A */
	int child;			/* the child's result */
};

/*
 * Run the route twice: collecting locally into L, then inside a section for
 * HA (the local trace is suspended while a section is open).
 */
T_NOCOV static struct outcome run(int (*fn)(enum route), enum route r,
				  int (*vfn)(void))
{
	struct outcome o;

	t_set_count(&L, 0);
	o.child = vfn ? vfn() : fn(r);
	o.local = t_count(&L);
	t_set_count(&L, 0);
	t_set_count(&A, 0);
	ukcov_remote_start(HA);
	o.child |= vfn ? vfn() : fn(r);
	ukcov_remote_stop();
	o.remote = t_count(&A);
	if (t_count(&L))
		t_fail("%s: %lu local entries inside the section",
		       route_names[r], t_count(&L));
	return o;
}

T_NOCOV static void check(const char *name, struct outcome got,
			  struct outcome want)
{
	struct t_range child = t_range_of((void *)child_work);

	if (got.child)
		t_fail("%s: the child's check %d failed", name, got.child);
	if (t_count_in(&L, child) || t_count_in(&A, child))
		t_fail("%s: the child's code landed in the parent's areas "
		       "(%lu local, %lu remote)", name, t_count_in(&L, child),
		       t_count_in(&A, child));
	if (got.local != want.local)
		t_fail("%s: local trace %lu entries, %lu without a child",
		       name, got.local, want.local);
	if (got.remote != want.remote)
		t_fail("%s: section %lu entries, %lu without a child", name,
		       got.remote, want.remote);
	if (!got.local || !got.remote)
		t_fail("%s: nothing recorded (%lu, %lu)", name, got.local,
		       got.remote);
}

int main(void)
{
	struct t_actor actor;
	struct outcome base, vbase;
	struct ukcov_stats st;
	int r;

	if (pipe(result_pipe))
		t_fail("pipe: %s", strerror(errno));
	t_kcov_open(&L, WORDS);
	t_kcov_open(&A, WORDS);
	t_kcov_open(&R, WORDS);
	hc = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, 0x7a11);
	t_actor_start(&actor);
	if (t_actor_remote_enable(&actor, A.fd, KCOV_TRACE_PC, 8192, 0, 1,
				  &HA))
		t_fail("REMOTE_ENABLE A: %s", strerror(errno));
	t_expect_ok(t_remote_enable(R.fd, KCOV_TRACE_PC, 8192, hc, 0, NULL));
	t_expect_ok(ukcov_ioctl(L.fd, KCOV_ENABLE, KCOV_TRACE_PC));

	base = run(spawn_generic, R_FAKE, NULL);
	check("baseline", base, base);
	for (r = R_FORK; r <= R_DAEMON; r++) {
		/*
		 * ThreadSanitizer cannot follow a CLONE_VM child running
		 * instrumented code (gcc's and clang's), and clang's crashes
		 * in its own fork bookkeeping when a multi-threaded process
		 * clones: those routes are checked in the other builds.
		 */
		if (T_SIG_TSAN && (r == R_CLONE || r == R_CLONE_VFORK)) {
			printf("%s: skipped under ThreadSanitizer\n",
			       route_names[r]);
			continue;
		}
		check(route_names[r], run(spawn_generic, r, NULL), base);
	}
	if (T_SIG_TSAN) {
		/* Its vfork is a fork: the child has memory of its own. */
		printf("vfork: skipped under ThreadSanitizer (a fork there)\n");
		goto end;
	}
	vbase = run(NULL, R_FAKE, spawn_vfork);
	vfork_real = 1;
	check("vfork", run(NULL, R_FAKE, spawn_vfork), vbase);
	vfork_real = 0;
	vbase = run(NULL, R_FAKE, spawn___vfork);
	vfork_real = 1;
	check("__vfork", run(NULL, R_FAKE, spawn___vfork), vbase);
end:

	/*
	 * The parent's kcovs are intact: descriptors, objects, bindings.  The
	 * vfork children closed L's descriptor in their own tables: the
	 * parent's still holds the object once its binding is gone.
	 */
	t_expect_ok(ukcov_get_stats(L.fd, &st));
	t_expect_ok(ukcov_ioctl(L.fd, KCOV_DISABLE, 0));
	t_expect_ok(ukcov_ioctl(L.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(L.fd, KCOV_DISABLE, 0));
	t_expect_ok(ukcov_ioctl(R.fd, KCOV_DISABLE, 0));
	t_assert(ukcov_common_handle() == 0);
	t_actor_stop(&actor);
	printf("every process route kept the parent's state: %lu local, "
	       "%lu section entries each\n", base.local, base.remote);
	return 0;
}
