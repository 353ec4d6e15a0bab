// SPDX-License-Identifier: MIT
/* The fixture's shared library: instrumented code in a -shared object. */
#include "fixture.h"

int fixture_lib_classify(int x)
{
	if (x < 0)
		return -1;
	if (x > 100)
		return 2;
	return x % 2;
}
