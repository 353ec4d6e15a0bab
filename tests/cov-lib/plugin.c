// SPDX-License-Identifier: MIT
/*
 * An instrumented plugin (trace-pc) for the unique-mode tests: built twice,
 * as libcov-a.so and libcov-b.so, from this one file with VARIANT 1 and 2,
 * so that the two have the same layout (their PCs at the same offsets) but
 * are different modules (other build ids).
 */
#ifndef VARIANT
#define VARIANT 1
#endif

volatile long plugin_sink;

__attribute__((noinline)) int plugin_work(int n);
__attribute__((noinline)) int plugin_work(int n)
{
	for (int i = 0; i < n; i++) {
		if (i % 3 == VARIANT)
			plugin_sink += i;
		else
			plugin_sink -= VARIANT;
	}
	return (int)plugin_sink;
}
