// SPDX-License-Identifier: MIT
/*
 * A library whose destructor joins its thread pool, as libuv's does
 * (uv_library_shutdown): the pool threads run m_late_lib_pool() after the
 * program's main returned, while the process is already exiting.  Built
 * instrumented as a shared library by run-lib.bash (build_late); its
 * coverage runtime is the program's.  run-target.c's dtor-lib mode starts
 * the pool.
 */
#define _GNU_SOURCE
#include <pthread.h>

#define LATE_NPOOL 3

volatile int late_sink;
static pthread_t late_pool[LATE_NPOOL];
static int late_npool, late_go;
static pthread_mutex_t late_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t late_cv = PTHREAD_COND_INITIALIZER;

__attribute__((noinline)) void m_late_lib_pool(void);
__attribute__((noinline)) void m_late_lib_pool(void)
{
	__atomic_add_fetch(&late_sink, 1, __ATOMIC_RELAXED);
}

static void *late_pool_fn(void *a)
{
	pthread_mutex_lock(&late_mu);
	while (!late_go)
		pthread_cond_wait(&late_cv, &late_mu);
	pthread_mutex_unlock(&late_mu);
	m_late_lib_pool();
	return a;
}

void late_pool_start(void);
void late_pool_start(void)
{
	while (late_npool < LATE_NPOOL &&
	       !pthread_create(&late_pool[late_npool], NULL, late_pool_fn, NULL))
		late_npool++;
}

__attribute__((destructor)) static void late_pool_join(void)
{
	int i;

	pthread_mutex_lock(&late_mu);
	late_go = 1;
	pthread_cond_broadcast(&late_cv);
	pthread_mutex_unlock(&late_mu);
	for (i = 0; i < late_npool; i++)
		pthread_join(late_pool[i], NULL);
}
