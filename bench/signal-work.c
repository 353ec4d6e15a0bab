// SPDX-License-Identifier: MIT
/* The handler's work for bench/signal.c: about n PCs when instrumented. */
volatile int work_sink;

void leaf(void);
void handler_work(int n);

__attribute__((noinline)) void leaf(void)
{
	work_sink++;
}

void handler_work(int n)
{
	int i;

	/* Two PCs per iteration: the loop block and leaf's. */
	for (i = 0; i < n / 2; i++)
		leaf();
}
