// SPDX-License-Identifier: MIT
/*
 * Linux's sequence check across fork: a forked child keeps a copy of the
 * registry and of its owner, so its sections for a handle registered at
 * the fork reach the owner's area.  Once the owner has disabled since
 * (and maybe enabled again, remotely or for local tracing), the child's
 * sections belong to a session that is over: they are discarded, never
 * appended into the new session's area.
 *
 * Three children, each after the parent registered handle H: one whose
 * owner changes nothing (its section lands: the control), one whose owner
 * re-registers H (a new session), one whose owner enables for local
 * tracing instead.  Each child reports, in its exit status, whether its
 * copy counted the section appended or discarded.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 65536

static const uint64_t H = UKCOV_SUBSYSTEM_APP(22) | 5;
static volatile long sink;

__attribute__((noinline)) void child_work(void);
__attribute__((noinline)) void child_work(void)
{
	for (int i = 0; i < 50; i++)
		sink += i;
}

/* The child: wait for the parent, run one section, say what happened. */
static pid_t spawn(int fd, int *go)
{
	int p[2];
	pid_t pid;
	char c;

	t_assert(pipe(p) == 0);
	pid = fork();
	t_assert(pid >= 0);
	if (pid == 0) {
		struct ukcov_stats st;

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(90);
		ukcov_remote_start(H);
		child_work();
		ukcov_remote_stop();
		if (ukcov_get_stats(fd, &st))
			_exit(91);
		if (st.sections_appended == 1 && st.sections_discarded == 0)
			_exit(10);
		if (st.sections_appended == 0 && st.sections_discarded == 1)
			_exit(20);
		_exit(92);
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static int finish(pid_t pid, int go)
{
	int status;

	t_assert(write(go, "x", 1) == 1);
	close(go);
	t_assert(waitpid(pid, &status, 0) == pid);
	t_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void owner_register(struct t_actor *a, int fd)
{
	t_expect_ok(t_actor_remote_enable(a, fd, KCOV_TRACE_PC, 4096, 0, 1, &H));
}

int main(void)
{
	struct t_range work = t_range_of(child_work);
	struct t_actor owner;
	struct t_kcov k;
	pid_t pid;
	int go, r;

	t_actor_start(&owner);
	t_kcov_open(&k, WORDS);

	/* Control: the owner stays in its session; the child's lands. */
	owner_register(&owner, k.fd);
	t_set_count(&k, 0);
	pid = spawn(k.fd, &go);
	r = finish(pid, go);
	t_assert(r == 10);
	t_assert(t_count_in(&k, work) > 0);

	/* The owner registers H again after the fork: a new session. */
	pid = spawn(k.fd, &go);
	t_assert(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0) == 0);
	owner_register(&owner, k.fd);
	t_set_count(&k, 0);
	r = finish(pid, go);
	if (r != 20)
		t_fail("re-registered: the child's section was not discarded "
		       "(child status %d)", r);
	t_assert(t_count_in(&k, work) == 0);

	/* The owner traces locally after the fork. */
	pid = spawn(k.fd, &go);
	t_assert(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0) == 0);
	t_assert(t_actor_ioctl(&owner, k.fd, KCOV_ENABLE, KCOV_TRACE_PC) == 0);
	t_set_count(&k, 0);
	r = finish(pid, go);
	if (r != 20)
		t_fail("local after the fork: the child's section was not "
		       "discarded (child status %d)", r);
	t_assert(t_count_in(&k, work) == 0);
	t_assert(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0) == 0);

	t_actor_stop(&owner);
	return T_EXIT_PASS;
}
