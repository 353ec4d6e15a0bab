// SPDX-License-Identifier: MIT
/*
 * kcov's trace-cmp example, ported to ukcov: collect the comparison
 * operands of one call into instrumented code and print each record.  Under
 * Linux the traced work is a system call; here it is check_header(), built
 * with -fsanitize-coverage=trace-cmp.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <ukcov.h>

#define COVER_SIZE (64 << 10)	/* words */

/* The code under test: is buf a "UK" header of version 1 or 2? */
static __attribute__((noinline)) int check_header(const char *buf, size_t len)
{
	if (len < 4 || buf[0] != 'U' || buf[1] != 'K')
		return 0;
	switch (buf[2]) {
	case '1': case '2':
		return buf[3] == '!';
	default:
		return 0;
	}
}

volatile int result;	/* keeps the call from being optimised away */

int main(int argc, char **argv)
{
	const char *input = argc > 1 ? argv[1] : "UK2?";
	uint64_t *cover, n, i;
	int fd;

	fd = ukcov_open();
	if (fd == -1)
		perror("ukcov_open"), exit(1);
	if (ukcov_ioctl(fd, KCOV_INIT_TRACE, COVER_SIZE))
		perror("KCOV_INIT_TRACE"), exit(1);
	cover = ukcov_mmap(NULL, COVER_SIZE * sizeof(unsigned long),
			   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED)
		perror("ukcov_mmap"), exit(1);
	/* Comparison records instead of PCs. */
	if (ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_CMP))
		perror("KCOV_ENABLE"), exit(1);
	__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);
	result = check_header(input, strlen(input));
	/* Word 0 counts records of KCOV_WORDS_PER_CMP words each. */
	n = __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		uint64_t *rec = &cover[1 + i * KCOV_WORDS_PER_CMP];
		uint64_t type = rec[0], arg1 = rec[1], arg2 = rec[2];
		uint64_t ip = rec[3];
		/* Operand size in bytes, and whether arg1 is a constant. */
		unsigned size = 1u << ((type & KCOV_CMP_MASK) >> 1);
		int is_const = !!(type & KCOV_CMP_CONST);

		printf("type %#llx (size %u%s%s) arg1 %#llx arg2 %#llx"
		       " ip %#llx\n", (unsigned long long)type, size,
		       is_const ? ", const" : "",
		       type & UKCOV_CMP_FLOAT ? ", float" : "",
		       (unsigned long long)arg1, (unsigned long long)arg2,
		       (unsigned long long)ip);
	}
	if (ukcov_ioctl(fd, KCOV_DISABLE, 0))
		perror("KCOV_DISABLE"), exit(1);
	if (munmap(cover, COVER_SIZE * sizeof(unsigned long)))
		perror("munmap"), exit(1);
	if (close(fd))
		perror("close"), exit(1);
	return n > 0 ? 0 : 1;
}
