// SPDX-License-Identifier: MIT
/* The fixture's plugin: instrumented code that main.c opens with dlopen,
 * and whose callbacks must bind to the executable's runtime. */
#include "fixture.h"

int fixture_plugin_score(int x);

int fixture_plugin_score(int x)
{
	switch (x) {
	case 1:
		return 10;
	case 2:
		return 20;
	default:
		return x > 7 ? 70 : 0;
	}
}
