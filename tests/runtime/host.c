// SPDX-License-Identifier: MIT
/* tests/lint/runtime-copies.sh: loads the plugin argv[1] and calls it. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	void *h = argc > 1 ? dlopen(argv[1], RTLD_NOW) : NULL;
	int (*fn)(int);

	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 2;
	}
	fn = (int (*)(int))dlsym(h, "plugin_fn");
	return fn && fn(5) == 10 ? 0 : 2;
}
