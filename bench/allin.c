// SPDX-License-Identifier: MIT
/*
 * All-in callback cost: the driver.  bench/cb.c counts a callback's own
 * instructions; what instrumented code pays per callsite is more: the call
 * itself, the PLT jump when libukcov is shared, and the spills and moves
 * the call forces on the caller.  This driver, never instrumented, runs
 * bench/lz.c's compressor (lz_block(), built with -DLZ_NO_MAIN) block by
 * block; bench.py builds that code plain, with trace-pc and with
 * trace-pc,trace-cmp, counts lz_block's instructions with callgrind
 * (--toggle-collect=lz_block: the calls, the callbacks and the PLT stubs
 * are inside it) and divides the difference by the callbacks executed,
 * which this driver counts in the area.
 *
 *   allin plain|off|on|cmp MB
 *
 * plain: built without ukcov; off: callbacks linked, not collecting; on:
 * KCOV_TRACE_PC; cmp: KCOV_TRACE_CMP.  The count is reset before each
 * block and read after it, here, outside the instrumented code, so it
 * counts exactly the callbacks lz_block made (for cmp, the records: one
 * per comparison callback, lz.c has no switch).  Prints the callbacks
 * executed (0 for plain and off) and a checksum every build must agree on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef USE_UKCOV
#include <sys/mman.h>
#include <ukcov.h>
#endif

#define BLOCK 4096		/* as in lz.c */
#define AREA_WORDS (1ul << 22)	/* 32 MiB: room for a block's records */

void lz_generate(unsigned char *buf, size_t len);
size_t lz_block(const unsigned char *in, size_t n, unsigned char *packed,
		unsigned char *back);

int main(int argc, char **argv)
{
	static unsigned char packed[2 * BLOCK + 16], back[BLOCK];
	unsigned long *area = NULL, cap = 0, total = 0;
	uint64_t sum = 1469598103934665603ull;
	const char *mode = argc > 1 ? argv[1] : "";
	size_t len, b, k;
	unsigned char *data;
	int kmode = -1;

	if (argc != 3 || (strcmp(mode, "plain") && strcmp(mode, "off") &&
			  strcmp(mode, "on") && strcmp(mode, "cmp"))) {
		fprintf(stderr, "usage: allin plain|off|on|cmp MB\n");
		return 2;
	}
	len = strtoul(argv[2], NULL, 0) << 20;
	data = malloc(len);
	if (!len || !data) {
		fprintf(stderr, "allin: bad size\n");
		return 2;
	}
	lz_generate(data, len);
	if (!strcmp(mode, "on"))
		kmode = 0;	/* KCOV_TRACE_PC */
	else if (!strcmp(mode, "cmp"))
		kmode = 1;	/* KCOV_TRACE_CMP */
#ifdef USE_UKCOV
	if (kmode >= 0) {
		int fd = ukcov_open();

		if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, AREA_WORDS)) {
			perror("allin: ukcov");
			return 2;
		}
		area = ukcov_mmap(NULL, AREA_WORDS * sizeof(long),
				  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (area == MAP_FAILED ||
		    ukcov_ioctl(fd, KCOV_ENABLE,
				kmode ? KCOV_TRACE_CMP : KCOV_TRACE_PC)) {
			perror("allin: ukcov");
			return 2;
		}
		cap = kmode ? (AREA_WORDS - 1) / KCOV_WORDS_PER_CMP
			    : AREA_WORDS - 1;
	}
#else
	if (kmode >= 0 || strcmp(mode, "plain")) {
		fprintf(stderr, "allin: built without ukcov: plain only\n");
		return 2;
	}
#endif
	for (b = 0; b < len; b += BLOCK) {
		size_t n = len - b < BLOCK ? len - b : BLOCK, c;

		if (area)
			__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
		c = lz_block(data + b, n, packed, back);
		if (!c) {
			fprintf(stderr, "allin: block %zu does not round-trip\n",
				b / BLOCK);
			return 1;
		}
		if (area) {
			/* Pairs with the callbacks' release store of the count. */
			unsigned long got = __atomic_load_n(&area[0],
							    __ATOMIC_ACQUIRE);

			if (got >= cap) {
				fprintf(stderr, "allin: the area filled up\n");
				return 1;
			}
			total += got;
		}
		for (k = 0; k < c; k++)
			sum = (sum ^ packed[k]) * 1099511628211ull;
	}
	printf("callbacks %lu sum %016llx\n", total, (unsigned long long)sum);
	return 0;
}
