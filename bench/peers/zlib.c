// SPDX-License-Identifier: MIT
/*
 * The zlib driver of `make bench-peers`: a long compression with Debian's
 * zlib (its source built with one kind of coverage instrumentation) under
 * one collector (coll.h).  This file is never instrumented itself.
 *
 * Usage:  zdriver MB [MODE]
 *
 * MB MiB of text-like input, generated deterministically, compressed at
 * level 6 as one stream, fed to deflate() 16 KiB at a time.  Between two
 * deflate() calls an ordered ukcov trace is drained (coll_drop), so it
 * never fills and every callback does the full write; the peers' maps
 * accumulate, as they do within one input; unique mode keeps its bitmap
 * (steady state: the bits are set).  MODE as in driver.c.  Prints one line
 * of key=value pairs: wall and CPU time of the compression, the output's
 * size and checksum (every build must agree), and what the collector read.
 * The output is inflated and compared with the input afterwards, outside
 * the measured part.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zlib.h"

#include "coll.h"

#define CHUNK (16u << 10)	/* input bytes per deflate() call */

/* A deterministic generator: splitmix64. */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Text-like bytes: words of a 48-word vocabulary, the frequent ones more
 * often (the minimum of two draws), sentences with capitals, commas,
 * full stops, numbers now and then, lines of about 70 characters.
 */
static void gen_text(unsigned char *buf, size_t len)
{
	static const char *const w[] = {
		"the", "of", "and", "to", "a", "in", "is", "that", "for", "it",
		"as", "was", "with", "be", "by", "on", "not", "he", "this",
		"are", "or", "his", "from", "at", "which", "but", "have", "an",
		"they", "you", "were", "her", "she", "there", "would", "their",
		"compression", "window", "dictionary", "literal", "distance",
		"stream", "buffer", "coverage", "thread", "kernel", "signal",
		"interrupt",
	};
	const unsigned nw = sizeof(w) / sizeof(w[0]);
	uint64_t s = 0x7a11b000ull;
	size_t i = 0, col = 0;
	int cap = 1;

	while (i < len) {
		uint64_t r = mix(&s);
		unsigned a = r % nw, b = (r >> 8) % nw;
		const char *p = w[a < b ? a : b];
		char num[24];

		if ((r >> 16) % 23 == 0) {
			snprintf(num, sizeof(num), "%u", (unsigned)(r >> 24) % 10000);
			p = num;
		}
		for (; *p && i < len; p++, col++)
			buf[i++] = (unsigned char)(cap && *p >= 'a' && *p <= 'z'
						   ? *p - 32 : *p);
		cap = 0;
		if (i >= len)
			break;
		switch ((r >> 40) % 16) {
		case 0:
			buf[i++] = '.';
			cap = 1;
			break;
		case 1:
			buf[i++] = ',';
			break;
		default:
			break;
		}
		if (i < len) {
			buf[i++] = col > 70 ? '\n' : ' ';
			col = col > 70 ? 0 : col + 1;
		}
	}
}

int main(int argc, char **argv)
{
	size_t mb, len, cap, out_len, k;
	unsigned char *in, *out, *back;
	uint64_t sum = 1469598103934665603ull;
	struct coll c;
	z_stream z;
	double t0, c0, wall, cpu;
	uLongf back_len;
	int rc;

	if (argc < 2 || argc > 3)
		die("usage: zdriver MB [MODE]");
	mb = strtoul(argv[1], NULL, 0);
	if (!mb || mb > 1024)
		die("MB: 1 to 1024");
	if (coll_parse(argc > 2 ? argv[2] : NULL))
		die("unknown collector mode");
	len = mb << 20;
	in = malloc(len);
	back = malloc(len);
	gen_text(in, len);
	memset(&z, 0, sizeof(z));
	if (deflateInit(&z, 6) != Z_OK)
		die("deflateInit");
	cap = deflateBound(&z, len);
	out = malloc(cap);
	if (!in || !out || !back)
		die("malloc");

	coll_init(&c);
	coll_reset(&c);
	MEASURE_TOGGLE();
	t0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_THREAD_CPUTIME_ID);
	z.next_out = out;
	z.avail_out = (uInt)cap;
	for (k = 0; k < len; k += CHUNK) {
		z.next_in = in + k;
		z.avail_in = (uInt)(len - k < CHUNK ? len - k : CHUNK);
		rc = deflate(&z, k + CHUNK >= len ? Z_FINISH : Z_NO_FLUSH);
		coll_drop(&c);
		if (rc != Z_OK && rc != Z_STREAM_END)
			die("deflate");
	}
	cpu = now(CLOCK_THREAD_CPUTIME_ID) - c0;
	wall = now(CLOCK_MONOTONIC) - t0;
	MEASURE_TOGGLE();
	out_len = z.total_out;
	deflateEnd(&z);
	for (k = 0; k < out_len; k++)
		sum = (sum ^ out[k]) * 1099511628211ull;
	printf("coll=%s workload=zlib mb=%zu wall=%.6f cpu=%.6f out=%zu "
	       "sum=%016llx items=%lu maxitems=%lu full=%lu\n",
	       COLL_NAME, mb, wall, cpu, out_len, (unsigned long long)sum,
	       c.items, c.maxitems, c.full);
	fflush(stdout);
	/* Outside the measured part: the stream must round-trip. */
	back_len = len;
	if (uncompress(back, &back_len, out, out_len) != Z_OK ||
	    back_len != len || memcmp(back, in, len))
		die("the compressed stream does not round-trip");
	coll_fini(&c);
	return 0;
}
