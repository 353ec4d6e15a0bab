// SPDX-License-Identifier: MIT
/*
 * UKCOV_IRQ_AREA_SIZE sizes the interrupt areas of sections opened in
 * signal handlers.  Child processes (this program re-executed with
 * "--child-trunc" or "--child-default") open one handler section of
 * several hundred PCs (measured: irq_work(1000)) for an owner thread:
 *   - with 0x80 the section is truncated to 127 PCs, silently;
 *   - with garbage, an empty value, 0x7f or 0x1000001 the runtime prints
 *     one warning line naming UKCOV_IRQ_AREA_SIZE and uses the default
 *     size (nothing truncated);
 *   - unset or 0x1000 (valid): no warning, nothing truncated.
 * ukcov_irq_sections_skipped() stays 0 in these runs.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "helpers.h"

#define WORDS 65536
#define ITERS 1000

static const uint64_t HI = UKCOV_SUBSYSTEM_APP(25) | 1;

volatile long sink;
volatile int handled;

__attribute__((noinline)) void irq_work(int n);
__attribute__((noinline)) void irq_work(int n)
{
	int i;

	for (i = 0; i < n; i++)
		sink += (i & 1) ? i : 1;
}

__attribute__((noinline)) void irq_handler(int sig);
__attribute__((noinline)) void irq_handler(int sig)
{
	(void)sig;
	ukcov_remote_start(HI);
	irq_work(ITERS);
	ukcov_remote_stop();
	handled++;
}

static int child(bool trunc)
{
	struct t_actor o;
	struct t_kcov k;
	struct sigaction sa;
	unsigned long n, full;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = irq_handler;
	sigemptyset(&sa.sa_mask);
	t_expect_ok(sigaction(SIGUSR1, &sa, NULL));
	/* The PCs of the whole section's work (compilers differ): must be
	 * more than a 0x80-word area holds, for the truncation to show. */
	full = t_sig_pcs_of(irq_work, ITERS);
	if (full <= 127)
		t_fail("irq_work(%d) records only %lu PCs", ITERS, full);
	t_actor_start(&o);
	t_kcov_open(&k, WORDS);
	t_expect_ok(t_actor_remote_enable(&o, k.fd, KCOV_TRACE_PC, 4096, 0, 1,
					  &HI));
	raise(SIGUSR1);
	t_assert(handled == 1);
	n = t_count(&k);
	if (trunc && n != 127)
		t_fail("UKCOV_IRQ_AREA_SIZE=0x80: section of %lu PCs, want 127",
		       n);
	if (!trunc && t_count_in(&k, t_range_of(irq_work)) != full)
		t_fail("section truncated to %lu PCs of irq_work, want %lu",
		       t_count_in(&k, t_range_of(irq_work)), full);
	/* A second section, after the first area went back. */
	t_set_count(&k, 0);
	raise(SIGUSR1);
	t_assert(t_count(&k) == (trunc ? 127 : n));
	t_assert(ukcov_irq_sections_skipped() == 0);
	t_expect_ok(t_actor_ioctl(&o, k.fd, KCOV_DISABLE, 0));
	t_actor_stop(&o);
	t_kcov_close(&k);
	return T_EXIT_PASS;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void run(const char *value, bool trunc, bool warn)
{
	char err[4096];
	int rc;

	rc = t_sig_run_self(trunc ? "--child-trunc" : "--child-default",
			    "UKCOV_IRQ_AREA_SIZE", value, err, sizeof(err));
	if (rc != 0)
		t_fail("UKCOV_IRQ_AREA_SIZE=%s: child exited %d:\n%s",
		       value ? value : "(unset)", rc, err);
	if (warn) {
		if (!strstr(err, "UKCOV_IRQ_AREA_SIZE") || lines(err) != 1)
			t_fail("UKCOV_IRQ_AREA_SIZE=\"%s\": want one warning "
			       "line naming the variable, got:\n%s", value,
			       err);
	} else if (err[0]) {
		t_fail("UKCOV_IRQ_AREA_SIZE=%s: unexpected stderr:\n%s",
		       value ? value : "(unset)", err);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--child-trunc"))
		return child(true);
	if (argc > 1 && !strcmp(argv[1], "--child-default"))
		return child(false);
	if (t_func_size(irq_work) == 0)
		t_fail("no symbol size for irq_work");

	run("0x80", true, false);
	run("128", true, false);
	run(NULL, false, false);
	run("0x1000", false, false);
	run("garbage", false, true);
	run("", false, true);
	run("0x7f", false, true);
	run("0x1000001", false, true);
	run("-1", false, true);
	run("0x80x", false, true);
	t_assert(ukcov_irq_sections_skipped() == 0);
	return T_EXIT_PASS;
}
