// SPDX-License-Identifier: MIT
/*
 * tests/lint/fuzzer-engines.sh's harness for the ways an input can end
 * other than by returning: each input's work runs as a section on a
 * thread of its own (joined), which ends by what byte 0 says:
 *   'W'  abort() on the worker thread (inside its section)
 *   'X'  exit(0) on the worker thread
 *   'C'  abort() on the harness thread, after the job
 *   else it returns.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <ukcov.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct req {
	uint64_t handle;
	const uint8_t *data;
	size_t size;
};

static volatile unsigned long sink;

static void job(void *arg)
{
	const struct req *r = arg;

	for (size_t i = 0; i < r->size; i++)
		sink += r->data[i] % 3 ? r->data[i] : 1;
	if (r->data[0] == 'W')
		abort();
	if (r->data[0] == 'X')
		exit(0);
}

static void *worker(void *arg)
{
	struct req *r = arg;

	ukcov_run_captured(r->handle, job, r);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req r = { ukcov_capture(), data, size };
	pthread_t t;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < size; i++)
		if (data[i] == 'z')
			sink++;
	if (pthread_create(&t, NULL, worker, &r))
		abort();
	pthread_join(t, NULL);
	if (data[0] == 'C')
		abort();
	return 0;
}
