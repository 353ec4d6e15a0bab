// SPDX-License-Identifier: MIT
/*
 * Each callback records only in its own mode (reference §1.4, §3; spec
 * §3.1): on a thread collecting in KCOV_TRACE_PC mode, the comparison
 * callbacks (cmp, const_cmp, switch, cmpf/cmpd) add nothing; on a thread
 * collecting in KCOV_TRACE_CMP mode, __sanitizer_cov_trace_pc adds nothing.
 * The two threads run at the same time with their own kcovs, while an
 * unbound thread calls every callback and adds nothing anywhere; each area
 * ends with exactly its own thread's entries.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define ITERS 1000u

static pthread_barrier_t start_line;
static struct t_kcov kpc, kcmp;

T_NOCOV void every_cmp_callback(uint64_t i);
T_NOCOV void every_cmp_callback(uint64_t i)
{
	uint64_t c8[] = { 2, 8, 1, 2 };
	uint64_t c16[] = { 2, 16, 1, 2 };
	uint64_t c32[] = { 2, 32, 1, 2 };
	uint64_t c64[] = { 2, 64, 1, 2 };

	__sanitizer_cov_trace_cmp1((uint8_t)i, 2);
	__sanitizer_cov_trace_cmp2((uint16_t)i, 2);
	__sanitizer_cov_trace_cmp4((uint32_t)i, 2);
	__sanitizer_cov_trace_cmp8(i, 2);
	__sanitizer_cov_trace_const_cmp1(1, (uint8_t)i);
	__sanitizer_cov_trace_const_cmp2(1, (uint16_t)i);
	__sanitizer_cov_trace_const_cmp4(1, (uint32_t)i);
	__sanitizer_cov_trace_const_cmp8(1, i);
	__sanitizer_cov_trace_cmpf((float)i, 2.0f);
	__sanitizer_cov_trace_cmpd((double)i, 2.0);
	__sanitizer_cov_trace_switch(i, c8);
	__sanitizer_cov_trace_switch(i, c16);
	__sanitizer_cov_trace_switch(i, c32);
	__sanitizer_cov_trace_switch(i, c64);
}

/* PC mode: per iteration, every comparison callback, then one trace_pc. */
T_NOCOV void pc_loop(unsigned long *area);
T_NOCOV void pc_loop(unsigned long *area)
{
	uint64_t i;

	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	for (i = 0; i < ITERS; i++) {
		every_cmp_callback(i);
		__sanitizer_cov_trace_pc();
	}
}

/* CMP mode: per iteration, trace_pc twice, then one cmp4 record. */
T_NOCOV void cmp_loop(unsigned long *area);
T_NOCOV void cmp_loop(unsigned long *area)
{
	uint32_t i;

	__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
	for (i = 0; i < ITERS; i++) {
		__sanitizer_cov_trace_pc();
		__sanitizer_cov_trace_pc();
		__sanitizer_cov_trace_cmp4(i, ~i);
	}
}

/* An unbound thread: nothing it calls is recorded anywhere. */
T_NOCOV void unbound_loop(void);
T_NOCOV void unbound_loop(void)
{
	uint64_t i;

	for (i = 0; i < ITERS; i++) {
		every_cmp_callback(i);
		__sanitizer_cov_trace_pc();
	}
}

static bool in_fn(unsigned long ip, const void *fn)
{
	return ip >= (uintptr_t)fn && ip < (uintptr_t)fn + t_func_size(fn);
}

struct result {
	int enable, disable;
	unsigned long count;
};

/* Threads with no coverage of their own: only the loops record. */
T_NOCOV static void *pc_thread(void *p)
{
	struct result *r = p;

	r->enable = ukcov_ioctl(kpc.fd, KCOV_ENABLE, KCOV_TRACE_PC);
	pthread_barrier_wait(&start_line);
	pc_loop(kpc.area);
	r->count = t_count(&kpc);
	r->disable = ukcov_ioctl(kpc.fd, KCOV_DISABLE, 0);
	return NULL;
}

T_NOCOV static void *cmp_thread(void *p)
{
	struct result *r = p;

	r->enable = ukcov_ioctl(kcmp.fd, KCOV_ENABLE, KCOV_TRACE_CMP);
	pthread_barrier_wait(&start_line);
	cmp_loop(kcmp.area);
	r->count = t_count(&kcmp);
	r->disable = ukcov_ioctl(kcmp.fd, KCOV_DISABLE, 0);
	return NULL;
}

int main(void)
{
	struct result rpc = { -1, -1, 0 }, rcmp = { -1, -1, 0 };
	pthread_t tpc, tcmp;
	unsigned long i;

	t_assert(t_func_size(pc_loop) > 0 && t_func_size(cmp_loop) > 0);
	t_kcov_open(&kpc, 2048);
	t_kcov_open(&kcmp, 4096);
	t_assert(pthread_barrier_init(&start_line, NULL, 3) == 0);
	t_assert(pthread_create(&tpc, NULL, pc_thread, &rpc) == 0);
	t_assert(pthread_create(&tcmp, NULL, cmp_thread, &rcmp) == 0);
	pthread_barrier_wait(&start_line);
	unbound_loop();
	t_assert(pthread_join(tpc, NULL) == 0);
	t_assert(pthread_join(tcmp, NULL) == 0);
	pthread_barrier_destroy(&start_line);

	/* PC thread: exactly its ITERS trace_pc calls, all from pc_loop. */
	t_assert(rpc.enable == 0 && rpc.disable == 0);
	if (rpc.count != ITERS)
		t_fail("PC mode: %lu entries, want %u", rpc.count, ITERS);
	for (i = 1; i <= ITERS; i++)
		t_assert(in_fn(kpc.area[i], pc_loop));
	t_assert(t_count(&kpc) == ITERS);

	/* CMP thread: exactly its ITERS cmp4 records, in order. */
	t_assert(rcmp.enable == 0 && rcmp.disable == 0);
	if (rcmp.count != ITERS)
		t_fail("CMP mode: %lu records, want %u", rcmp.count, ITERS);
	for (i = 0; i < ITERS; i++) {
		const unsigned long *r = kcmp.area + 1 + 4 * i;

		t_assert(r[0] == KCOV_CMP_SIZE(2));
		t_assert(r[1] == i && r[2] == (uint32_t)~(uint32_t)i);
		t_assert(in_fn(r[3], cmp_loop));
	}
	t_assert(t_count(&kcmp) == ITERS);

	t_kcov_close(&kcmp);
	t_kcov_close(&kpc);
	return T_EXIT_PASS;
}
