// SPDX-License-Identifier: MIT
/*
 * fork (reference §4.9, spec §3.5):
 *   - Linux's fork-server pattern: the parent does INIT_TRACE and maps the
 *     area, then forks children one after the other; each child ENABLEs the
 *     inherited descriptor, runs its own function and DISABLEs (or just
 *     exits); after waitpid the parent finds exactly that child's function
 *     in its own mapping, and can still enable the kcov itself afterwards;
 *   - a child forked while the parent is collecting inherits no binding:
 *     what it runs before any ENABLE adds nothing to the parent's area, its
 *     DISABLE (and ENABLE) of the parent's descriptor is EINVAL, and it can
 *     enable a kcov of its own; the parent's collection goes on unaffected.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 8192
#define NCHILD 4

volatile int sink;

#define DEF_FN(name, k)                                                        \
	__attribute__((noinline)) int name(int x);                             \
	__attribute__((noinline)) int name(int x)                              \
	{                                                                      \
		if (x > (k))                                                   \
			return x * ((k) + 5);                                  \
		return x ^ ((k) * 3 + 1);                                      \
	}
DEF_FN(child_fn0, 10)
DEF_FN(child_fn1, 20)
DEF_FN(child_fn2, 30)
DEF_FN(child_fn3, 40)
DEF_FN(parent_before, 50)
DEF_FN(parent_after, 60)
DEF_FN(child_only, 70)
DEF_FN(child_own, 80)

static int (*const child_fns[NCHILD])(int) = {
	child_fn0, child_fn1, child_fn2, child_fn3,
};

struct range {
	uintptr_t lo, hi;
};

static struct range range(int (*fn)(int))
{
	struct range r = { (uintptr_t)fn, (uintptr_t)fn + t_func_size(fn) };

	t_assert(r.hi > r.lo);
	return r;
}

static bool has(const struct t_kcov *k, struct range r)
{
	return t_has_pc_in(k, r.lo, r.hi);
}

/* Exit codes of the children, so that the parent can say what failed. */
enum {
	C_OK = 0,
	C_ENABLE = 10,
	C_DISABLE,
	C_BOUND_DISABLE,
	C_BOUND_ENABLE,
	C_OWN_OPEN,
	C_OWN_ENABLE,
	C_OWN_EMPTY,
	C_OWN_DISABLE,
};

static void wait_child(pid_t pid, const char *what)
{
	int st;

	t_assert(waitpid(pid, &st, 0) == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != C_OK)
		t_fail("%s: child %s %d", what,
		       WIFEXITED(st) ? "exited with" : "killed by signal",
		       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* Child i of the fork server: enable the inherited fd, run, leave. */
__attribute__((noinline)) void server_child(const struct t_kcov *k, int i);
__attribute__((noinline)) void server_child(const struct t_kcov *k, int i)
{
	if (ukcov_ioctl(k->fd, KCOV_ENABLE, KCOV_TRACE_PC))
		_exit(C_ENABLE);
	sink = child_fns[i](i * 7);
	sink = child_fns[i](i * 7 + 100);
	/* Even children DISABLE; odd ones just exit while enabled. */
	if (!(i & 1) && ukcov_ioctl(k->fd, KCOV_DISABLE, 0))
		_exit(C_DISABLE);
	_exit(C_OK);
}

static void fork_server(void)
{
	struct t_kcov k;
	struct range fr[NCHILD], pa = range(parent_after);
	int i, j;

	for (i = 0; i < NCHILD; i++)
		fr[i] = range(child_fns[i]);
	t_kcov_open(&k, WORDS);
	for (i = 0; i < NCHILD; i++) {
		pid_t pid;

		__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
		pid = fork();
		t_assert(pid >= 0);
		if (pid == 0)
			server_child(&k, i);
		wait_child(pid, "fork server");
		if (t_count(&k) < 1 || !has(&k, fr[i]))
			t_fail("child %d: its coverage is not in the parent's "
			       "mapping (count %lu)", i, t_count(&k));
		for (j = 0; j < NCHILD; j++)
			if (j != i && has(&k, fr[j]))
				t_fail("child %d: area holds child %d's PCs",
				       i, j);
	}
	/* The children's exits changed nothing here: READY in the parent. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
	sink = parent_after(3);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(has(&k, pa));
	for (j = 0; j < NCHILD; j++)
		t_assert(!has(&k, fr[j]));
	t_kcov_close(&k);
}

/* Forked while the parent collects: bound to nothing. */
__attribute__((noinline)) void unbound_child(const struct t_kcov *k);
__attribute__((noinline)) void unbound_child(const struct t_kcov *k)
{
	struct range own = range(child_own);
	struct t_kcov mine;
	int i;

	for (i = 0; i < 64; i++)
		sink = child_only(i * 3);
	if (ukcov_ioctl(k->fd, KCOV_DISABLE, 0) != -1 || errno != EINVAL)
		_exit(C_BOUND_DISABLE);
	/* The parent's kcov is enabled (by the parent): EINVAL, as Linux. */
	if (ukcov_ioctl(k->fd, KCOV_ENABLE, KCOV_TRACE_PC) != -1 ||
	    errno != EINVAL)
		_exit(C_BOUND_ENABLE);
	for (i = 0; i < 64; i++)
		sink = child_only(i * 5);
	/* Not bound: a kcov of its own can be enabled (no EBUSY). */
	mine.fd = ukcov_open();
	if (mine.fd < 0 || ukcov_ioctl(mine.fd, KCOV_INIT_TRACE, WORDS))
		_exit(C_OWN_OPEN);
	mine.words = WORDS;
	mine.area = ukcov_mmap(NULL, WORDS * sizeof(unsigned long),
			       PROT_READ | PROT_WRITE, MAP_SHARED, mine.fd, 0);
	if (mine.area == MAP_FAILED)
		_exit(C_OWN_OPEN);
	if (ukcov_ioctl(mine.fd, KCOV_ENABLE, KCOV_TRACE_PC))
		_exit(C_OWN_ENABLE);
	__atomic_store_n(&mine.area[0], 0, __ATOMIC_RELAXED);
	sink = child_own(90);
	if (ukcov_ioctl(mine.fd, KCOV_DISABLE, 0))
		_exit(C_OWN_DISABLE);
	if (!t_has_pc_in(&mine, own.lo, own.hi))
		_exit(C_OWN_EMPTY);
	_exit(C_OK);
}

static void fork_while_collecting(void)
{
	struct range pb = range(parent_before), pa = range(parent_after);
	struct range co = range(child_only), cw = range(child_own);
	struct t_kcov k;
	unsigned long before;
	pid_t pid;

	t_kcov_open(&k, WORDS);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	__atomic_store_n(&k.area[0], 0, __ATOMIC_RELAXED);
	sink = parent_before(51);
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0)
		unbound_child(&k);
	wait_child(pid, "forked while collecting");
	before = t_count(&k);
	t_assert(before >= 1);
	if (has(&k, co) || has(&k, cw))
		t_fail("the child's code landed in the parent's area");
	/* The parent still collects, appending after what it had. */
	sink = parent_after(61);
	t_assert(t_count(&k) > before);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0));
	t_assert(has(&k, pb));
	t_assert(has(&k, pa));
	t_assert(!has(&k, co) && !has(&k, cw));
	t_kcov_close(&k);
}

int main(void)
{
	fork_server();
	fork_while_collecting();
	return T_EXIT_PASS;
}
