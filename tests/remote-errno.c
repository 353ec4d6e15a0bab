// SPDX-License-Identifier: MIT
/*
 * KCOV_REMOTE_ENABLE: every error of Linux's table (reference §2.2) with the
 * exact errno, in Linux's order of checks, plus what must be accepted:
 * EFAULT for bad pointers (NULL, a PROT_NONE page, handles[] running past
 * the end of a mapping); EINVAL for num_handles > 256, COMMON or invalid
 * handles in handles[], a global handle as common_handle, reserved bytes,
 * unknown subsystems, trace_mode 2, a kcov not in READY; EEXIST for a
 * handle owned elsewhere or listed twice; EBUSY from a thread that already
 * owns a remote kcov.  A failed REMOTE_ENABLE registers nothing (all or
 * nothing) and leaves the descriptor usable; a DISABLE frees the handles.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"

#define APP(n, i) (UKCOV_SUBSYSTEM_APP(n) | (uint64_t)(i))
#define USB(i) (KCOV_SUBSYSTEM_USB | (uint64_t)(i))
#define SUBSYS(s, i) (((uint64_t)(s) << 56) | (uint64_t)(i))

static int remote_enable(int fd, uint64_t common, unsigned int n,
			 const uint64_t *h)
{
	return t_remote_enable(fd, KCOV_TRACE_PC, 64, common, n, h);
}

static int disable(int fd)
{
	return ukcov_ioctl(fd, KCOV_DISABLE, 0);
}

/* One handle (or common handle) must be refused with errno e, and must leave
 * the descriptor READY: a plain REMOTE_ENABLE on it succeeds afterwards. */
static void expect_handle_err(uint64_t common, uint64_t h, int e)
{
	struct t_kcov k;

	t_kcov_open(&k, 512);
	if (h)
		t_expect_err(remote_enable(k.fd, common, 1, &h), e);
	else
		t_expect_err(remote_enable(k.fd, common, 0, NULL), e);
	t_expect_ok(remote_enable(k.fd, 0, 0, NULL));
	t_expect_ok(disable(k.fd));
	t_kcov_close(&k);
}

static void expect_handle_ok(uint64_t common, uint64_t h)
{
	struct t_kcov k;

	t_kcov_open(&k, 512);
	t_expect_ok(remote_enable(k.fd, common, h ? 1 : 0, &h));
	t_expect_ok(disable(k.fd));
	t_kcov_close(&k);
}

static void bad_pointers(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct kcov_remote_arg *a;
	struct t_kcov k;
	char *m;

	t_kcov_open(&k, 512);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_REMOTE_ENABLE, 0UL), EFAULT);

	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t_assert(m != MAP_FAILED);
	/* The whole argument on a PROT_NONE page. */
	t_assert(!mprotect(m + pg, pg, PROT_NONE));
	t_expect_err(ukcov_ioctl(k.fd, KCOV_REMOTE_ENABLE,
				 (unsigned long)(m + pg)),
		     EFAULT);

	/* Header readable (24 bytes at the end of the page), handles[] not. */
	a = (struct kcov_remote_arg *)(m + pg - sizeof(*a));
	memset(a, 0, sizeof(*a));
	a->trace_mode = KCOV_TRACE_PC;
	a->area_size = 64;
	a->num_handles = 2;
	t_expect_err(ukcov_ioctl(k.fd, KCOV_REMOTE_ENABLE, (unsigned long)a),
		     EFAULT);
	/* ... and the only handle straddling the end (a 4-byte aligned
	 * argument: written bytewise, read by the runtime as bytes). */
	{
		struct kcov_remote_arg hdr = { .trace_mode = KCOV_TRACE_PC,
					       .area_size = 64,
					       .num_handles = 1 };
		char *p = m + pg - sizeof(hdr) - 4;

		memcpy(p, &hdr, sizeof(hdr));
		memset(p + sizeof(hdr), 0, 4);
		t_expect_err(ukcov_ioctl(k.fd, KCOV_REMOTE_ENABLE,
					 (unsigned long)p),
			     EFAULT);
	}
	/* num_handles itself on the PROT_NONE page. */
	a = (struct kcov_remote_arg *)(m + pg - 8);
	t_expect_err(ukcov_ioctl(k.fd, KCOV_REMOTE_ENABLE, (unsigned long)a),
		     EFAULT);
	/* With num_handles = 0 the same header ending at the page is fine. */
	a = (struct kcov_remote_arg *)(m + pg - sizeof(*a));
	memset(a, 0, sizeof(*a));
	a->trace_mode = KCOV_TRACE_PC;
	a->area_size = 64;
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_REMOTE_ENABLE, (unsigned long)a));
	t_expect_ok(disable(k.fd));
	munmap(m, 2 * pg);
	t_kcov_close(&k);
}

static void too_many_handles(void)
{
	static uint64_t h[KCOV_REMOTE_MAX_HANDLES + 1];
	struct t_kcov k;
	unsigned int i;

	for (i = 0; i <= KCOV_REMOTE_MAX_HANDLES; i++)
		h[i] = APP(7, i + 1);
	t_kcov_open(&k, 512);
	t_expect_err(remote_enable(k.fd, 0, KCOV_REMOTE_MAX_HANDLES + 1, h),
		     EINVAL);
	/* Checked before the copy: a huge count with a tiny buffer too. */
	{
		struct kcov_remote_arg hdr = { .trace_mode = KCOV_TRACE_PC,
					       .area_size = 64,
					       .num_handles = 0xffffffffu };

		t_expect_err(ukcov_ioctl(k.fd, KCOV_REMOTE_ENABLE,
					 (unsigned long)&hdr),
			     EINVAL);
	}
	/* Exactly 256 is fine. */
	t_expect_ok(remote_enable(k.fd, 0, KCOV_REMOTE_MAX_HANDLES, h));
	t_expect_ok(disable(k.fd));
	t_kcov_close(&k);
}

static void handle_validation(void)
{
	/* handles[]: COMMON (with or without instance) is refused. */
	expect_handle_err(0, SUBSYS(0, 5), EINVAL);
	expect_handle_err(0, SUBSYS(0, 0xffffffff), EINVAL);
	/* common_handle: global subsystems are refused. */
	expect_handle_err(USB(1), 0, EINVAL);
	expect_handle_err(USB(0), 0, EINVAL);
	expect_handle_err(APP(0, 3), 0, EINVAL);
	expect_handle_err(UKCOV_SUBSYSTEM_SIGNAL | 10, 0, EINVAL);
	/* Reserved bytes 4..6, in handles[] and in common_handle. */
	expect_handle_err(0, USB(1) | (1ull << 32), EINVAL);
	expect_handle_err(0, USB(1) | (1ull << 55), EINVAL);
	expect_handle_err(0, APP(1, 1) | (0xffull << 40), EINVAL);
	expect_handle_err(0, UKCOV_SUBSYSTEM_SIGNAL | (1ull << 48) | 2,
			  EINVAL);
	expect_handle_err((1ull << 40) | 5, 0, EINVAL);
	/* Instance 0 with a reserved bit: not "no common handle". */
	expect_handle_err(0x0000000100000000ull, 0, EINVAL);
	expect_handle_err(0x00ffffff00000000ull, 0, EINVAL);
	/* Subsystems outside ukcov's space. */
	expect_handle_err(0, SUBSYS(0x02, 1), EINVAL);
	expect_handle_err(0, SUBSYS(0x02, 0), EINVAL);
	expect_handle_err(0, SUBSYS(0x3f, 1), EINVAL);
	expect_handle_err(0, SUBSYS(0x41, 1), EINVAL);
	expect_handle_err(0, SUBSYS(0x7f, 1), EINVAL);
	expect_handle_err(SUBSYS(0x02, 1), 0, EINVAL);

	/* Accepted: USB (instance 0 too), signals, application subsystems,
	 * and a COMMON common_handle with a nonzero instance. */
	expect_handle_ok(0, USB(0));
	expect_handle_ok(0, USB(0xffffffff));
	expect_handle_ok(0, UKCOV_SUBSYSTEM_SIGNAL | 10);
	expect_handle_ok(0, APP(0, 0));
	expect_handle_ok(0, APP(127, 0xffffffff));
	expect_handle_ok(SUBSYS(0, 1), 0);
	expect_handle_ok(SUBSYS(0, 0xffffffff), APP(3, 3));
	/* common_handle 0 is "none", whatever else is set. */
	expect_handle_ok(0, 0);
}

static void other_fields(void)
{
	struct kcov_remote_arg *a;
	uint64_t h = APP(2, 1);
	struct t_kcov k;

	t_kcov_open(&k, 512);
	/* trace_mode 2 (and larger) is EINVAL. */
	t_expect_err(t_remote_enable(k.fd, 2, 64, 0, 1, &h), EINVAL);
	t_expect_err(t_remote_enable(k.fd, 0xffffffffu, 64, 0, 1, &h), EINVAL);
	/* area_size 0 and 0xffffffff are accepted. */
	t_expect_ok(t_remote_enable(k.fd, KCOV_TRACE_PC, 0, 0, 1, &h));
	t_expect_ok(disable(k.fd));
	t_expect_ok(t_remote_enable(k.fd, KCOV_TRACE_PC, 0xffffffffu, 0, 1,
				    &h));
	t_expect_ok(disable(k.fd));
	t_expect_ok(t_remote_enable(k.fd, KCOV_TRACE_CMP, 64, 0, 1, &h));
	t_expect_ok(disable(k.fd));
	/* Nothing registered at all is a legal remote enable. */
	t_expect_ok(t_remote_enable(k.fd, KCOV_TRACE_PC, 64, 0, 0, NULL));
	t_expect_ok(disable(k.fd));

	/* The 4 padding bytes after num_handles are ignored. */
	a = calloc(1, sizeof(*a) + sizeof(uint64_t));
	t_assert(a);
	a->trace_mode = KCOV_TRACE_PC;
	a->area_size = 64;
	a->num_handles = 1;
	memset((char *)a + 12, 0xa5, 4);
	a->handles[0] = h;
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_REMOTE_ENABLE, (unsigned long)a));
	t_expect_ok(disable(k.fd));
	free(a);
	t_kcov_close(&k);
}

static void states(void)
{
	struct t_actor other;
	uint64_t h = APP(3, 1);
	struct t_kcov k, k2;
	int fd;

	/* Before INIT_TRACE. */
	fd = ukcov_open();
	t_assert(fd >= 0);
	t_expect_err(remote_enable(fd, 0, 1, &h), EINVAL);
	t_expect_err(remote_enable(fd, SUBSYS(0, 9), 0, NULL), EINVAL);
	close(fd);

	/* On a kcov enabled locally (by this thread, then by another). */
	t_kcov_open(&k, 512);
	t_expect_ok(ukcov_ioctl(k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_err(remote_enable(k.fd, 0, 1, &h), EINVAL);
	t_expect_ok(disable(k.fd));
	t_actor_start(&other);
	t_expect_ok(t_actor_ioctl(&other, k.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_err(remote_enable(k.fd, 0, 1, &h), EINVAL);
	t_expect_ok(t_actor_ioctl(&other, k.fd, KCOV_DISABLE, 0));

	/* On a kcov enabled remotely (by this thread, then by another). */
	t_expect_ok(remote_enable(k.fd, 0, 1, &h));
	t_expect_err(remote_enable(k.fd, 0, 0, NULL), EINVAL);
	t_expect_ok(disable(k.fd));
	t_expect_ok(t_actor_remote_enable(&other, k.fd, KCOV_TRACE_PC, 64, 0,
					  1, &h));
	t_expect_err(remote_enable(k.fd, 0, 0, NULL), EINVAL);

	/* Mode is checked after the state: EINVAL for state wins anyway, and
	 * on READY a bad mode is EINVAL too (after the thread check). */
	t_kcov_open(&k2, 512);
	t_expect_err(t_remote_enable(k2.fd, 2, 64, 0, 1, &h), EINVAL);

	/* From a thread already owning a remote kcov: EBUSY, even for a
	 * handle that kcov owns (the thread check comes first). */
	t_expect_err(t_actor_remote_enable(&other, k2.fd, KCOV_TRACE_PC, 64, 0,
					   1, &h),
		     EBUSY);
	t_expect_err(t_actor_remote_enable(&other, k2.fd, KCOV_TRACE_PC, 64, 0,
					   0, NULL),
		     EBUSY);
	t_expect_err(t_actor_remote_enable(&other, k2.fd, 2, 64, 0, 0, NULL),
		     EBUSY);
	/* From this thread: the handle belongs to the other kcov. */
	t_expect_err(remote_enable(k2.fd, 0, 1, &h), EEXIST);
	t_expect_ok(t_actor_ioctl(&other, k.fd, KCOV_DISABLE, 0));
	/* Freed by the DISABLE: registrable right away, here ... */
	t_expect_ok(remote_enable(k2.fd, 0, 1, &h));
	t_expect_ok(disable(k2.fd));
	/* ... and by the former owner again. */
	t_expect_ok(t_actor_remote_enable(&other, k.fd, KCOV_TRACE_PC, 64, 0,
					  1, &h));
	t_expect_ok(t_actor_ioctl(&other, k.fd, KCOV_DISABLE, 0));
	t_actor_stop(&other);
	t_kcov_close(&k2);
	t_kcov_close(&k);
}

static void eexist(void)
{
	uint64_t c = SUBSYS(0, 0x1234), h[3] = { APP(4, 1), APP(4, 2), 0 };
	struct t_actor owner;
	struct t_kcov k, k2;

	t_kcov_open(&k, 512);
	t_kcov_open(&k2, 512);
	t_actor_start(&owner);
	t_expect_ok(t_actor_remote_enable(&owner, k.fd, KCOV_TRACE_PC, 64, c,
					  2, h));
	/* Each handle owned by another kcov, from this thread. */
	t_expect_err(remote_enable(k2.fd, 0, 1, &h[0]), EEXIST);
	t_expect_err(remote_enable(k2.fd, 0, 1, &h[1]), EEXIST);
	/* The common handle too. */
	t_expect_err(remote_enable(k2.fd, c, 0, NULL), EEXIST);
	t_expect_ok(t_actor_ioctl(&owner, k.fd, KCOV_DISABLE, 0));
	t_actor_stop(&owner);

	/* Listed twice in one array. */
	h[2] = h[0];
	t_expect_err(remote_enable(k2.fd, 0, 3, h), EEXIST);
	h[2] = h[1];
	t_expect_err(remote_enable(k2.fd, 0, 3, h), EEXIST);
	/* The first copy was rolled back: all three free now. */
	t_expect_ok(remote_enable(k2.fd, c, 2, h));
	t_expect_ok(disable(k2.fd));
	t_kcov_close(&k2);
	t_kcov_close(&k);
}

/* REMOTE_ENABLE of h[0..n) by a new kcov on a new thread, then DISABLE:
 * succeeds only if every handle is free. */
static long try_register(struct t_actor *a, uint64_t common, unsigned int n,
			 const uint64_t *h)
{
	struct t_kcov k;
	long r;
	int e;

	t_kcov_open(&k, 512);
	r = t_actor_remote_enable(a, k.fd, KCOV_TRACE_PC, 64, common, n, h);
	e = errno;
	if (!r)
		t_expect_ok(t_actor_ioctl(a, k.fd, KCOV_DISABLE, 0));
	t_kcov_close(&k);
	errno = e;
	return r;
}

static void all_or_nothing(void)
{
	uint64_t h[4] = { APP(5, 1), APP(5, 2), SUBSYS(0x02, 3), APP(5, 4) };
	uint64_t c = SUBSYS(0, 0x5555), h3 = APP(5, 3);
	struct t_actor other, holder;
	struct t_kcov k, kh;

	t_actor_start(&other);
	t_kcov_open(&k, 512);

	/* EINVAL at handle 3 of 4. */
	t_expect_err(remote_enable(k.fd, c, 4, h), EINVAL);
	t_expect_ok(try_register(&other, 0, 2, h));
	t_expect_ok(try_register(&other, c, 1, &h[3]));
	/* The thread is not left bound: another kcov works from it. */
	t_assert(ukcov_common_handle() == 0);

	/* EEXIST at handle 3 of 4 (held by another thread's kcov). */
	t_kcov_open(&kh, 512);
	t_actor_start(&holder);
	t_expect_ok(t_actor_remote_enable(&holder, kh.fd, KCOV_TRACE_PC, 64, 0,
					  1, &h3));
	h[2] = h3;
	t_expect_err(remote_enable(k.fd, c, 4, h), EEXIST);
	t_expect_ok(try_register(&other, 0, 2, h));
	t_expect_ok(try_register(&other, c, 1, &h[3]));
	t_expect_err(try_register(&other, 0, 1, &h3), EEXIST);

	/* Failure on the common handle, after all four globals registered. */
	t_expect_ok(t_actor_ioctl(&holder, kh.fd, KCOV_DISABLE, 0));
	t_expect_err(remote_enable(k.fd, USB(1), 4, h), EINVAL);
	t_expect_ok(try_register(&other, 0, 4, h));
	t_expect_ok(t_actor_remote_enable(&holder, kh.fd, KCOV_TRACE_PC, 64, c,
					  0, NULL));
	t_expect_err(remote_enable(k.fd, c, 4, h), EEXIST);
	t_expect_ok(try_register(&other, 0, 4, h));
	t_expect_ok(t_actor_ioctl(&holder, kh.fd, KCOV_DISABLE, 0));
	t_actor_stop(&holder);
	t_kcov_close(&kh);

	/* The failing descriptor retries successfully, from this thread. */
	t_expect_ok(remote_enable(k.fd, c, 4, h));
	t_assert(ukcov_common_handle() == c);
	t_expect_err(try_register(&other, 0, 1, &h[0]), EEXIST);
	t_expect_err(try_register(&other, c, 0, NULL), EEXIST);
	t_expect_ok(disable(k.fd));
	t_assert(ukcov_common_handle() == 0);
	/* DISABLE freed all of them for immediate re-registration. */
	t_expect_ok(try_register(&other, c, 4, h));
	t_expect_ok(remote_enable(k.fd, c, 4, h));
	t_expect_ok(disable(k.fd));
	t_actor_stop(&other);
	t_kcov_close(&k);
}

static void local_and_remote(void)
{
	uint64_t h = APP(6, 1);
	struct t_kcov l, r, r2;

	t_kcov_open(&l, 512);
	t_kcov_open(&r, 512);
	t_kcov_open(&r2, 512);
	/* Local first, then remote. */
	t_expect_ok(ukcov_ioctl(l.fd, KCOV_ENABLE, KCOV_TRACE_PC));
	t_expect_ok(remote_enable(r.fd, 0, 1, &h));
	/* A second remote on the same thread is EBUSY. */
	t_expect_err(remote_enable(r2.fd, 0, 0, NULL), EBUSY);
	/* A second local too. */
	t_expect_err(ukcov_ioctl(r2.fd, KCOV_ENABLE, KCOV_TRACE_PC), EBUSY);
	t_expect_ok(disable(l.fd));
	t_expect_ok(disable(r.fd));
	/* Remote first, then local. */
	t_expect_ok(remote_enable(r.fd, 0, 1, &h));
	t_expect_ok(ukcov_ioctl(l.fd, KCOV_ENABLE, KCOV_TRACE_CMP));
	t_expect_ok(disable(r.fd));
	t_expect_ok(disable(l.fd));
	t_kcov_close(&r2);
	t_kcov_close(&r);
	t_kcov_close(&l);
}

int main(void)
{
	bad_pointers();
	too_many_handles();
	handle_validation();
	other_fields();
	states();
	eexist();
	all_or_nothing();
	local_and_remote();
	return T_EXIT_PASS;
}
