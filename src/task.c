// SPDX-License-Identifier: MIT
/*
 * Per-thread state: publishing a feed to the callbacks, the thread-exit hook
 * (Linux's kcov_task_exit), fork (kcov_task_init for the child) and thread
 * creation (the common handle is inherited, like task->kcov_handle).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/*
 * Publish a feed: everything else first, then the mode (a signal handler or
 * the callbacks on this thread read mode first, see check in callbacks.c).
 */
void __ukcov_gen_start(struct ukcov_gen *live, const struct ukcov_gen *g)
{
	live->area = g->area;
	live->cap = g->cap;
	live->kcov = g->kcov;
	live->sequence = g->sequence;
	live->dropped = g->dropped;
	barrier(); /* pairs with the barrier after the mode read in callbacks */
	WRITE_ONCE(live->mode, g->mode);
}

/* Withdraw a feed: the mode first, then the rest. */
void __ukcov_gen_stop(struct ukcov_gen *live)
{
	WRITE_ONCE(live->mode, UKCOV_MODE_DISABLED);
	barrier(); /* pairs with the barrier after the mode read in callbacks */
	live->area = NULL;
	live->cap = 0;
	live->kcov = NULL;
	live->sequence = 0;
	live->dropped = NULL;
}

/*
 * The feed of the thread's own (task-level) collection: the live one, or,
 * while remote sections are open on top of it, the one the lowest section
 * saved and will restore.
 */
struct ukcov_gen *__ukcov_base_gen(struct ukcov_thread *th)
{
	struct ukcov_ctx *c = &th->task_ctx;
	unsigned int i;

	for (i = 0; i < c->depth; i++) {
		if (c->frames[i].kcov || c->frames[i].muted)
			return &c->frames[i].saved;
	}
	return &th->gen;
}

void __ukcov_warn(const char *first, ...)
{
	const char *s;
	va_list ap;

	if (write(2, "ukcov: ", 7) < 0)
		return;
	va_start(ap, first);
	for (s = first; s; s = va_arg(ap, const char *))
		if (write(2, s, strlen(s)) < 0)
			break;
	va_end(ap);
	if (write(2, "\n", 1) < 0)
		return;
}

static pthread_key_t exit_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void thread_exit(void *p)
{
	struct ukcov_thread *th = p;

	th->exit_hook = false;
	/* ukcov-run's collector writes the area while it is still bound. */
	__ukcov_auto_thread_end();
	/* A thread that exits inside sections ends them (Linux leaks here). */
	__ukcov_ctx_unwind(th, &th->task_ctx, 0);
	__ukcov_thread_unbind(th);
}

void __ukcov_arm_exit_hook(struct ukcov_thread *th)
{
	if (th->exit_hook)
		return;
	th->exit_hook = true;
	pthread_setspecific(exit_key, th);
}


static void init_once_fn(void)
{
	__ukcov_kcov_init();
	pthread_key_create(&exit_key, thread_exit);
	pthread_atfork(__ukcov_atfork_prepare, __ukcov_atfork_parent,
		       __ukcov_atfork_child);
	__ukcov_signal_init();
}

void __ukcov_init(void)
{
	pthread_once(&init_once, init_once_fn);
}

__attribute__((constructor)) static void ukcov_ctor(void)
{
	__ukcov_init();
	/* Outside the once-routine: it opens descriptors, which init again. */
	__ukcov_auto_init();
}

/*
 * Thread creation: the new thread inherits its creator's common handle
 * (Linux copies task->kcov_handle in dup_task_struct).  Threads of creators
 * without one are started exactly as without ukcov.
 */
struct start_args {
	void *(*fn)(void *);
	void *arg;
	uint64_t common_handle;
};

static void *thread_start(void *p)
{
	struct start_args a = *(struct start_args *)p;

	free(p);
	__ukcov_cur.common_handle = a.common_handle;
	__ukcov_auto_thread_begin();
	return a.fn(a.arg);
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *,
				 void *(*)(void *), void *);

UKCOV_API int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg);
int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		   void *(*fn)(void *), void *arg)
{
	static pthread_create_fn real;
	struct start_args *a;
	uint64_t h = __ukcov_cur.common_handle;
	int ret;

	if (!real) {
		real = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
		if (!real)
			return EAGAIN;
	}
	if ((!h && !__ukcov_auto) || __ukcov_cur.sig_depth)
		return real(thread, attr, fn, arg);
	a = malloc(sizeof(*a));
	if (!a)
		return EAGAIN;
	a->fn = fn;
	a->arg = arg;
	a->common_handle = h;
	ret = real(thread, attr, thread_start, a);
	if (ret)
		free(a);
	return ret;
}

uint64_t ukcov_common_handle(void)
{
	/* Linux: 0 outside task context. */
	if (__ukcov_cur.sig_depth)
		return 0;
	return __ukcov_cur.common_handle;
}

uint64_t ukcov_remote_handle(uint64_t subsystem, uint64_t instance)
{
	return kcov_remote_handle(subsystem, instance);
}

int ukcov_version_major(void)
{
	return UKCOV_VERSION_MAJOR;
}

int ukcov_version_minor(void)
{
	return UKCOV_VERSION_MINOR;
}
