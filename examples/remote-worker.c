// SPDX-License-Identifier: MIT
/*
 * Remote coverage from a global worker, with a nested section.
 *
 * The main thread registers a global handle of an application subsystem
 * (KCOV_REMOTE_ENABLE with handles[]), as a fuzzer registers USB bus
 * handles with Linux.  A worker thread brackets each request with
 * ukcov_remote_start/ukcov_remote_stop for that handle, so the request's
 * coverage is appended to the main thread's area.  Inside the request a
 * logging call opens a nested section for a second handle, owned by
 * another thread: its coverage goes there, and the outer section resumes
 * after the inner stop.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <ukcov.h>

#define COVER_SIZE (16 << 10)	/* words */

struct owner {
	uint64_t handle;
	unsigned long *cover;
	int fd;
};

/* Register o->handle as a global handle of a new kcov owned by the caller. */
static int owner_open(struct owner *o)
{
	struct kcov_remote_arg *arg = malloc(sizeof(*arg) + sizeof(uint64_t));

	if (!arg)
		return -1;
	arg->trace_mode = KCOV_TRACE_PC;
	arg->area_size = 4096;		/* words per section */
	arg->num_handles = 1;
	arg->common_handle = 0;
	arg->handles[0] = o->handle;
	o->fd = ukcov_open();
	if (o->fd == -1 || ukcov_ioctl(o->fd, KCOV_INIT_TRACE, COVER_SIZE))
		goto fail;
	o->cover = ukcov_mmap(NULL, COVER_SIZE * sizeof(unsigned long),
			      PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	if (o->cover == MAP_FAILED ||
	    ukcov_ioctl(o->fd, KCOV_REMOTE_ENABLE, arg))
		goto fail;
	free(arg);
	__atomic_store_n(&o->cover[0], 0, __ATOMIC_RELAXED);
	return 0;
fail:
	free(arg);
	return -1;
}

static struct owner req, lgr;	/* the request's and the logger's owners */
static sem_t log_ready, log_done;

/* The logger's owner: a thread that keeps its kcov until told to stop. */
static void *log_owner(void *unused)
{
	(void)unused;
	if (owner_open(&lgr))
		perror("ukcov"), lgr.fd = -1;
	sem_post(&log_ready);
	sem_wait(&log_done);
	return NULL;	/* exit: disables the kcov, unregisters the handle */
}

/* Request code and logging code, each in a section of its own. */
static volatile unsigned sink;
__attribute__((section("req_code"), noinline)) static void serve(unsigned v)
{
	sink = v > 10 ? v / 2 : v * 3;
}
__attribute__((section("log_code"), noinline)) static void log_line(unsigned v)
{
	sink = v & 1 ? v + 1 : v;
}
extern const char __start_req_code[], __stop_req_code[];
extern const char __start_log_code[], __stop_log_code[];

static void *worker(void *unused)
{
	(void)unused;
	for (unsigned v = 1; v <= 20; v++) {
		ukcov_remote_start(req.handle);
		serve(v);
		ukcov_remote_start(lgr.handle);	/* nested: the logger's */
		log_line(v);
		ukcov_remote_stop();		/* back to the request's */
		serve(v + 1);
		ukcov_remote_stop();
	}
	return NULL;
}

/* Count o's PCs inside [lo, hi). */
static unsigned long pcs_in(const struct owner *o, const char *lo,
			    const char *hi)
{
	unsigned long n = __atomic_load_n(&o->cover[0], __ATOMIC_ACQUIRE);
	unsigned long i, in = 0;

	for (i = 0; i < n; i++)
		in += (const char *)o->cover[i + 1] >= lo &&
		      (const char *)o->cover[i + 1] < hi;
	return in;
}

int main(void)
{
	pthread_t w, l;
	unsigned long rr, rl, lr, ll;

	req.handle = ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(0), 1);
	lgr.handle = ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(0), 2);
	sem_init(&log_ready, 0, 0);
	sem_init(&log_done, 0, 0);
	if (owner_open(&req))
		return perror("ukcov"), 1;
	pthread_create(&l, NULL, log_owner, NULL);
	sem_wait(&log_ready);
	if (lgr.fd == -1)
		return 1;
	pthread_create(&w, NULL, worker, NULL);
	pthread_join(w, NULL);

	rr = pcs_in(&req, __start_req_code, __stop_req_code);
	rl = pcs_in(&req, __start_log_code, __stop_log_code);
	lr = pcs_in(&lgr, __start_req_code, __stop_req_code);
	ll = pcs_in(&lgr, __start_log_code, __stop_log_code);
	printf("request handle: %lu PCs in serve(), %lu in log_line()\n",
	       rr, rl);
	printf("logger handle:  %lu PCs in serve(), %lu in log_line()\n",
	       lr, ll);
	sem_post(&log_done);
	pthread_join(l, NULL);
	ukcov_ioctl(req.fd, KCOV_DISABLE, 0);
	return !(rr && !rl && !lr && ll);
}
