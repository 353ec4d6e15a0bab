// SPDX-License-Identifier: MIT
/*
 * A library as libraries are: linked against libc alone (its references
 * are sigaction@GLIBC_2.2.5 and friends), not instrumented, not linked
 * with libukcov.  tests/route-handlers.c loads it with dlopen and has it
 * install the test's handlers, to check that ukcov sees that route too.
 */
#include <signal.h>
#include <string.h>

int route_lib_sigaction(int sig, void (*h)(int), void (**old)(int));
int route_lib_sigaction(int sig, void (*h)(int), void (**old)(int))
{
	struct sigaction a, o;

	memset(&a, 0, sizeof(a));
	a.sa_handler = h;
	sigemptyset(&a.sa_mask);
	if (sigaction(sig, &a, &o))
		return -1;
	*old = o.sa_handler;
	return 0;
}

void (*route_lib_signal(int sig, void (*h)(int)))(int);
void (*route_lib_signal(int sig, void (*h)(int)))(int)
{
	return signal(sig, h);
}
