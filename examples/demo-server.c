// SPDX-License-Identifier: MIT
/*
 * A small server-like program for `make demo`, collected with ukcov-run: it
 * needs no ukcov code of its own to be covered per thread and per signal,
 * and uses three calls to attribute pool work to the clients.
 *
 *   - a pool of worker threads ("pool-0".."pool-2") serves requests from a
 *     queue;
 *   - two client threads ("client-0", "client-1") submit requests: client 0
 *     GETs, client 1 PUTs;
 *   - a short-lived "config" thread loads settings and exits early;
 *   - a SIGALRM timer ticks every 2 ms (on_alarm), and a helper process
 *     exits so that the SIGCHLD handler (on_child) reaps it.
 *
 * Attribution.  When a request is queued, the pool captures the
 * submitter's common handle (ukcov_capture); the worker runs the job as a
 * section for it (ukcov_run_captured).  Under ukcov-run every thread
 * inherits one common handle, so the "common" area receives the pool's work
 * for everyone.  To tell the two clients apart, each request body also runs
 * in a nested section for a global handle of the client's own
 * (ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(1), 1 + client)): with
 * `ukcov-run --handle 0x8100000000000001,0x8100000000000002` each client's
 * requests land in an area of their own, and what the pool does around them
 * stays in "common".  Without --handle the nested sections are no-ops and
 * everything lands in "common".
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ukcov.h>

#define NWORKERS 3
#define NCLIENTS 2
#define NREQUESTS 8		/* per client */

/* ---- the store the requests work on ---------------------------------- */

#define NKEYS 16
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static long store[NKEYS];
static int max_value = 1000;	/* set by the config thread */

static unsigned int hash_key(const char *key)
{
	unsigned int h = 5381;

	while (*key)
		h = h * 33 + (unsigned char)*key++;
	return h % NKEYS;
}

/* ---- requests ---------------------------------------------------------- */

enum op { OP_GET, OP_PUT, OP_STATS, OP_QUIT };

struct request {
	enum op op;
	char key[16];
	long value;
	long result;
	int client;
	uint64_t common;	/* the submitter's common handle */
	uint64_t owner;		/* the client's own global handle, or 0 */
	struct request *next;
};

static __attribute__((noinline)) long handle_get(const char *key)
{
	long v;

	pthread_mutex_lock(&store_lock);
	v = store[hash_key(key)];
	pthread_mutex_unlock(&store_lock);
	return v;
}

static __attribute__((noinline)) long handle_put(const char *key, long value)
{
	long old;

	if (value > max_value)
		value = max_value;	/* clamp */
	pthread_mutex_lock(&store_lock);
	old = store[hash_key(key)];
	store[hash_key(key)] = value;
	pthread_mutex_unlock(&store_lock);
	return old;
}

static long served[NCLIENTS];

/* The pool's own bookkeeping (credited to whoever submitted the job). */
static __attribute__((noinline)) void account(struct request *r)
{
	if (r->op != OP_STATS)
		__atomic_fetch_add(&served[r->client], 1, __ATOMIC_RELAXED);
}

static __attribute__((noinline)) long handle_stats(void)
{
	long n = 0;
	int i;

	for (i = 0; i < NCLIENTS; i++)
		n += __atomic_load_n(&served[i], __ATOMIC_RELAXED);
	return n;
}

/* A request body: in the client's own section when it has one. */
static void serve(void *p)
{
	struct request *r = p;

	ukcov_remote_start(r->owner);
	switch (r->op) {
	case OP_GET:
		r->result = handle_get(r->key);
		break;
	case OP_PUT:
		r->result = handle_put(r->key, r->value);
		break;
	case OP_STATS:
		r->result = handle_stats();
		break;
	case OP_QUIT:
		break;
	}
	ukcov_remote_stop();
	account(r);
}

/* ---- the pool ------------------------------------------------------------ */

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static struct request *queue_head, **queue_tail = &queue_head;
static int pending;

static void submit(struct request *r)
{
	r->common = ukcov_capture();	/* the submitter's common handle */
	r->next = NULL;
	pthread_mutex_lock(&qlock);
	*queue_tail = r;
	queue_tail = &r->next;
	pending++;
	pthread_cond_signal(&qcond);
	pthread_mutex_unlock(&qlock);
}

static struct request *next_request(void)
{
	struct request *r;

	pthread_mutex_lock(&qlock);
	while (!queue_head)
		pthread_cond_wait(&qcond, &qlock);
	r = queue_head;
	queue_head = r->next;
	if (!queue_head)
		queue_tail = &queue_head;
	pthread_mutex_unlock(&qlock);
	return r;
}

static void *pool_worker(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "pool-%d", (int)(intptr_t)arg);
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		struct request *r = next_request();

		if (r->op == OP_QUIT) {
			free(r);
			return NULL;
		}
		/* The job is a section for the submitter's common handle. */
		ukcov_run_captured(r->common, serve, r);
		pthread_mutex_lock(&qlock);
		pending--;
		pthread_cond_broadcast(&done_cond);
		pthread_mutex_unlock(&qlock);
	}
}

static void wait_idle(void)
{
	pthread_mutex_lock(&qlock);
	while (pending)
		pthread_cond_wait(&done_cond, &qlock);
	pthread_mutex_unlock(&qlock);
}

/* ---- clients ------------------------------------------------------------- */

static struct request reqs[NCLIENTS][NREQUESTS];

static void make_get(struct request *r, int i)
{
	r->op = OP_GET;
	snprintf(r->key, sizeof(r->key), "key%d", i % 5);
}

static void make_put(struct request *r, int i)
{
	r->op = OP_PUT;
	snprintf(r->key, sizeof(r->key), "key%d", i % 5);
	r->value = (long)i * 300;	/* some are clamped */
}

static void *client(void *arg)
{
	int me = (int)(intptr_t)arg, i;
	char name[16];

	snprintf(name, sizeof(name), "client-%d", me);
	pthread_setname_np(pthread_self(), name);
	for (i = 0; i < NREQUESTS; i++) {
		struct request *r = &reqs[me][i];

		if (me == 0)
			make_get(r, i);
		else
			make_put(r, i);
		r->client = me;
		r->owner = ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(1),
					       1 + (uint64_t)me);
		submit(r);
	}
	return NULL;
}

/* ---- a thread that exits early -------------------------------------------- */

static void *load_config(void *unused)
{
	const char *s = getenv("DEMO_MAX_VALUE");

	(void)unused;
	pthread_setname_np(pthread_self(), "config");
	if (s && *s)
		max_value = atoi(s);
	return NULL;
}

/* ---- signals --------------------------------------------------------------- */

static volatile sig_atomic_t ticks, reaped;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

static void on_child(int sig)
{
	int saved = errno, status;

	(void)sig;
	while (waitpid(-1, &status, WNOHANG) > 0)
		reaped++;
	errno = saved;
}

static void start_signals(void)
{
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void stop_timer(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static pid_t spawn_helper(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);	/* the helper's work */
	return pid;
}

int main(void)
{
	pthread_t workers[NWORKERS], clients[NCLIENTS], config;
	struct request stats = { .op = OP_STATS };
	int i;

	start_signals();
	pthread_create(&config, NULL, load_config, NULL);
	pthread_join(config, NULL);

	for (i = 0; i < NWORKERS; i++)
		pthread_create(&workers[i], NULL, pool_worker,
			       (void *)(intptr_t)i);
	for (i = 0; i < NCLIENTS; i++)
		pthread_create(&clients[i], NULL, client, (void *)(intptr_t)i);
	for (i = 0; i < NCLIENTS; i++)
		pthread_join(clients[i], NULL);
	wait_idle();

	/* A job of the main thread's own: no client handle. */
	submit(&stats);
	wait_idle();

	if (spawn_helper() < 0)
		perror("fork");
	while (ticks < 5 || !reaped)
		usleep(1000);
	stop_timer();

	for (i = 0; i < NWORKERS; i++) {
		struct request *q = calloc(1, sizeof(*q));

		if (!q)
			return 1;
		q->op = OP_QUIT;
		submit(q);
	}
	for (i = 0; i < NWORKERS; i++)
		pthread_join(workers[i], NULL);

	printf("demo-server: served %ld GETs (client-0) and %ld PUTs "
	       "(client-1) on %d pool threads, stats=%ld; %d SIGALRM ticks, "
	       "%d helper reaped\n",
	       served[0], served[1], NWORKERS, stats.result, (int)ticks,
	       (int)reaped);
	return 0;
}
