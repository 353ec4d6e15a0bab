// SPDX-License-Identifier: MIT
/* tests/lint/runtime-copies.sh: an instrumented plugin. */
int plugin_fn(int x);
int plugin_fn(int x)
{
	return x > 3 ? x * 2 : x + 1;
}
