// SPDX-License-Identifier: MIT
/*
 * A pool whose jobs say "done" from inside themselves, as zstd's do: the
 * job's remote section has not stopped when the requester hears of it, so
 * its coverage lands a little later.  ukcov_remote_wait waits for exactly
 * the sections open at the call, instead of a sleep and a guess.
 *
 * The requester owns a remote kcov with a common handle; each worker runs
 * its job as a section for the captured handle (ukcov_run_captured).
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ukcov.h>

#define COVER_SIZE (16 << 10)	/* words */
#define NJOBS 4

static sem_t done;

/* The job: its work, "done" from inside, then the rest of its work. */
static __attribute__((noinline)) void compress_block(void *arg)
{
	volatile long *out = arg, s = 0, i;

	for (i = 0; i < 1000; i++)
		s += i % 7 ? i : -i;
	sem_post(&done);	/* the requester may read from here on */
	usleep(20000);		/* the job's epilogue: still in the section */
	*out = s;
}

static void *worker(void *handle)
{
	static volatile long out;

	ukcov_run_captured((uint64_t)(uintptr_t)handle, compress_block,
			   (void *)&out);
	return NULL;
}

int main(void)
{
	struct kcov_remote_arg arg = {
		.trace_mode = KCOV_TRACE_PC,
		.area_size = COVER_SIZE,
		.num_handles = 0,
		.common_handle = kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, 0x42),
	};
	const volatile uint64_t *in_flight;
	unsigned long *cover, before;
	pthread_t w[NJOBS];
	int fd, i;

	fd = ukcov_open();
	if (fd == -1)
		perror("ukcov_open"), exit(1);
	if (ukcov_ioctl(fd, KCOV_INIT_TRACE, COVER_SIZE))
		perror("KCOV_INIT_TRACE"), exit(1);
	cover = ukcov_mmap(NULL, COVER_SIZE * sizeof(long),
			   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED)
		perror("ukcov_mmap"), exit(1);
	if (ukcov_ioctl(fd, KCOV_REMOTE_ENABLE, &arg))
		perror("KCOV_REMOTE_ENABLE"), exit(1);
	in_flight = ukcov_in_flight(fd);
	sem_init(&done, 0, 0);
	for (i = 0; i < NJOBS; i++)
		pthread_create(&w[i], NULL, worker,
			       (void *)(uintptr_t)ukcov_capture());
	for (i = 0; i < NJOBS; i++)
		sem_wait(&done);
	/* Every job said "done"; their sections are still open. */
	before = __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE);
	printf("jobs done: %d; sections in flight: %llu; PCs so far: %lu\n",
	       NJOBS, (unsigned long long)__atomic_load_n(in_flight,
							 __ATOMIC_ACQUIRE),
	       before);
	if (ukcov_remote_wait(fd, 10ull * 1000000000))	/* 10 s at most */
		perror("ukcov_remote_wait"), exit(1);
	printf("after ukcov_remote_wait: sections in flight: %llu; PCs: %lu\n",
	       (unsigned long long)__atomic_load_n(in_flight,
						   __ATOMIC_ACQUIRE),
	       __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE));
	for (i = 0; i < NJOBS; i++)
		pthread_join(w[i], NULL);
	if (ukcov_ioctl(fd, KCOV_DISABLE, 0))
		perror("KCOV_DISABLE"), exit(1);
	close(fd);
	return 0;
}
