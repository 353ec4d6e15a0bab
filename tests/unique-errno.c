// SPDX-License-Identifier: MIT
/*
 * The errors of unique mode's requests.
 *
 * KCOV_UNIQUE_ENABLE, in the 2025 series' order (reference section 6):
 * the state first (before INIT_TRACE, or enabled already, in any mode:
 * EINVAL), then the thread's binding (another kcov enabled: EBUSY), then
 * the bitmap's size (0, or fewer than two words left for the trace:
 * EINVAL).  Nothing changes on a refusal: the kcov stays usable.  From a
 * signal handler: EINVAL, as every request there.
 *
 * UKCOV_REMOTE_UNIQUE_ENABLE: trace_mode other than KCOV_TRACE_PC and a
 * bad bitmap size are EINVAL; the rest as KCOV_REMOTE_ENABLE (a bad
 * pointer EFAULT, too many handles EINVAL, a handle taken EEXIST), all or
 * nothing.  KCOV_RESET_TRACE: arg must be 0, the caller the bound thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define WORDS 4096

static volatile long sink;

__attribute__((noinline)) void work(void);
__attribute__((noinline)) void work(void)
{
	sink++;
}

static int handler_ret = 1, handler_err;
static int handler_fd;

static void on_usr1(int sig)
{
	(void)sig;
	handler_ret = ukcov_ioctl(handler_fd, KCOV_UNIQUE_ENABLE, 16UL);
	handler_err = errno;
}

struct reset_arg {
	int fd;
	int ret, err;
};

static void *reset_other(void *p)
{
	struct reset_arg *a = p;

	a->ret = ukcov_ioctl(a->fd, KCOV_RESET_TRACE, 0UL);
	a->err = errno;
	return NULL;
}

/* UKCOV_REMOTE_UNIQUE_ENABLE with n handles from h. */
static int remote_unique(int fd, uint32_t mode, uint32_t bitmap, unsigned int n,
			 const uint64_t *h)
{
	/* The header (24 bytes), then the handles. */
	uint64_t buf[3 + 8];
	struct ukcov_remote_unique_arg *a = (void *)buf;

	memset(buf, 0, sizeof(buf));
	a->trace_mode = mode;
	a->area_size = 1024;
	a->num_handles = n;
	a->bitmap_words = bitmap;
	memcpy(a->handles, h, n * sizeof(*h));
	return ukcov_ioctl(fd, UKCOV_REMOTE_UNIQUE_ENABLE, a);
}

int main(void)
{
	const uint64_t h1 = UKCOV_SUBSYSTEM_APP(30) | 1;
	const uint64_t h2 = UKCOV_SUBSYSTEM_APP(30) | 2;
	const uint64_t bad = (0x05ull << 56) | 1; /* no such subsystem */
	struct t_kcov k, k2;
	struct reset_arg ra;
	pthread_t t;
	int fd;

	/* Before INIT_TRACE: EINVAL. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_err(ukcov_ioctl(fd, KCOV_UNIQUE_ENABLE, 16UL), EINVAL);
	close(fd);

	t_kcov_open(&k, WORDS);
	/* The bitmap's size: 0, and up to two words short of the area. */
	t_expect_err(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE, 0UL), EINVAL);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE,
				 (unsigned long)WORDS), EINVAL);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE,
				 (unsigned long)WORDS - 1), EINVAL);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE, ~0UL), EINVAL);
	/* Two words for the trace: allowed; then enabled: EINVAL. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE,
				(unsigned long)WORDS - 2));
	t_expect_err(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE, 16UL), EINVAL);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC), EINVAL);
	/* Another kcov while this one is enabled: EBUSY (state checked
	 * first: it is READY). */
	t_kcov_open(&k2, WORDS);
	t_expect_err(ukcov_ioctl(k2.fd, KCOV_UNIQUE_ENABLE, 16UL), EBUSY);
	/* KCOV_RESET_TRACE: arg 0 only, and only the bound thread. */
	t_expect_err(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 1UL), EINVAL);
	ra.fd = k.fd;
	pthread_create(&t, NULL, reset_other, &ra);
	pthread_join(t, NULL);
	t_assert(ra.ret == -1 && ra.err == EINVAL);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0UL));
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0UL));
	/* After DISABLE: usable in every mode again. */
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE, 16UL));
	work();
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0UL));
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0UL));
	/* Not bound: RESET_TRACE is EINVAL. */
	t_expect_err(ukcov_ioctl(k.fd, KCOV_RESET_TRACE, 0UL), EINVAL);

	/* From a signal handler: EINVAL, and nothing changed. */
	handler_fd = k2.fd;
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	t_assert(handler_ret == -1 && handler_err == EINVAL);
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_UNIQUE_ENABLE, 16UL));
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_DISABLE, 0UL));

	/* UKCOV_REMOTE_UNIQUE_ENABLE. */
	t_expect_err(remote_unique(k.fd, KCOV_TRACE_CMP, 16, 1, &h1), EINVAL);
	t_expect_err(remote_unique(k.fd, KCOV_TRACE_PC, 0, 1, &h1), EINVAL);
	t_expect_err(remote_unique(k.fd, KCOV_TRACE_PC, WORDS - 1, 1, &h1),
		     EINVAL);
	t_expect_err(remote_unique(k.fd, 7, 16, 1, &h1), EINVAL);
	t_expect_err(ukcov_ioctl(k.fd, UKCOV_REMOTE_UNIQUE_ENABLE, (void *)8),
		     EFAULT);
	{
		uint64_t hs[2] = { h1, bad };

		/* All or nothing: h1 is free again afterwards. */
		t_expect_err(remote_unique(k.fd, KCOV_TRACE_PC, 16, 2, hs),
			     EINVAL);
	}
	t_expect_ok(remote_unique(k.fd, KCOV_TRACE_PC, 16, 1, &h1));
	/* Enabled: every enable is EINVAL; another kcov cannot take h1. */
	t_expect_err(remote_unique(k.fd, KCOV_TRACE_PC, 16, 1, &h2), EINVAL);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_UNIQUE_ENABLE, 16UL), EINVAL);
	/* A remote owner may trace locally too (Linux 7.2's rule). */
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_UNIQUE_ENABLE, 16UL));
	t_expect_ok(ukcov_ioctl(k2.fd, KCOV_DISABLE, 0UL));
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0UL));
	/* h1 taken by k2 (ordered, another thread's): k cannot have it. */
	{
		struct t_actor other;

		t_actor_start(&other);
		t_assert(t_actor_remote_enable(&other, k2.fd, KCOV_TRACE_PC,
					       1024, 0, 1, &h1) == 0);
		t_expect_err(remote_unique(k.fd, KCOV_TRACE_PC, 16, 1, &h1),
			     EEXIST);
		t_assert(t_actor_ioctl(&other, k2.fd, KCOV_DISABLE, 0) == 0);
		t_actor_stop(&other);
	}
	t_expect_ok(remote_unique(k.fd, KCOV_TRACE_PC, 16, 1, &h1));
	/* This thread owns remotely now: another remote enable is EBUSY. */
	t_expect_err(remote_unique(k2.fd, KCOV_TRACE_PC, 16, 1, &h2), EBUSY);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_DISABLE, 0UL));
	t_kcov_close(&k2);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}
