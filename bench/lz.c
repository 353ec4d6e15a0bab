// SPDX-License-Identifier: MIT
/*
 * A self-contained CPU-bound workload: an LZ77 compressor (hash chains,
 * lazy matching) and its decompressor over a generated, deterministic
 * pseudo-text, cut into independent blocks as a fuzzer would feed small
 * inputs.  Every block is compressed, decompressed and checked.
 *
 *   lz [off|on] [MB]
 *
 * Built with -DLZ_NO_MAIN, the file provides lz_generate() and lz_block()
 * to bench/allin.c, an uninstrumented driver that measures the all-in cost
 * of a callback in this code.
 *
 * Built plain (no ukcov at all) or with -fsanitize-coverage=trace-pc and
 * -DUSE_UKCOV.  "on" opens a kcov, enables KCOV_TRACE_PC and resets the
 * count before each block, like a fuzzing loop; "off" runs with the
 * callbacks linked but the thread not collecting.  Prints the elapsed and
 * the thread's CPU time of the work proper (generation excluded), a
 * checksum that every build
 * must agree on, and with "on" the largest per-block count (the area is
 * sized so that it never fills: a full area would take a cheaper path).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef USE_UKCOV
#include <sys/mman.h>
#include <ukcov.h>
#endif

#define BLOCK 4096		/* bytes per independent block */
#define HASH_BITS 12
#define MIN_MATCH 4
#define MAX_MATCH 255
#define MAX_CHAIN 24
#define AREA_WORDS (1ul << 20)	/* 8 MiB: room for a block's trace */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

void lz_generate(unsigned char *buf, size_t len);
size_t lz_block(const unsigned char *in, size_t n, unsigned char *packed,
		unsigned char *back);

/* Words from a small vocabulary, with now and then a repeated phrase. */
void lz_generate(unsigned char *buf, size_t len)
{
	static const char *const words[] = {
		"the", "kernel", "coverage", "thread", "area", "handle",
		"remote", "section", "buffer", "trace", "compare", "fuzzer",
		"input", "signal", "map", "of", "and", "to", "a", "in",
		"callback", "record", "count", "instruction", "branch",
	};
	const size_t nw = sizeof(words) / sizeof(words[0]);
	size_t i = 0;

	while (i < len) {
		uint32_t r = next_rand();

		if (r % 8 == 0 && i > 64) {
			/* Copy an earlier phrase: long matches. */
			size_t back = 1 + (next_rand() % (i < 2048 ? i : 2048));
			size_t n = 8 + next_rand() % 48;

			for (size_t k = 0; k < n && i < len; k++, i++)
				buf[i] = buf[i - back];
		} else {
			const char *w = words[r % nw];

			while (*w && i < len)
				buf[i++] = (unsigned char)*w++;
			if (i < len)
				buf[i++] = (r >> 16) % 11 ? ' ' : '\n';
		}
	}
}

static inline uint32_t hash4(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return (v * 2654435761u) >> (32 - HASH_BITS);
}

static size_t match_len(const unsigned char *a, const unsigned char *b,
			size_t max)
{
	size_t n = 0;

	while (n < max && a[n] == b[n])
		n++;
	return n;
}

struct match {
	size_t len, dist;
};

static int16_t head[1 << HASH_BITS];
static int16_t prev[BLOCK];

static struct match longest(const unsigned char *in, size_t pos, size_t len)
{
	struct match best = { 0, 0 };
	size_t max = len - pos;
	int cand, chain = MAX_CHAIN;

	if (max < MIN_MATCH)
		return best;
	if (max > MAX_MATCH)
		max = MAX_MATCH;
	for (cand = head[hash4(in + pos)]; cand >= 0 && chain--;
	     cand = prev[cand]) {
		size_t n;

		if (in[cand + best.len] != in[pos + best.len])
			continue;
		n = match_len(in + cand, in + pos, max);
		if (n > best.len) {
			best.len = n;
			best.dist = pos - (size_t)cand;
			if (n == max)
				break;
		}
	}
	if (best.len < MIN_MATCH)
		best.len = 0;
	return best;
}

static void insert(const unsigned char *in, size_t pos, size_t len)
{
	uint32_t h;

	if (pos + 4 > len)
		return;
	h = hash4(in + pos);
	prev[pos] = head[h];
	head[h] = (int16_t)pos;
}

/*
 * Output: a literal run is 0x00, n, then n bytes (n <= 255); a match is
 * length (4..255), then the distance in two bytes, little-endian.
 */
static size_t flush_literals(unsigned char *out, size_t o,
			     const unsigned char *lit, size_t n)
{
	while (n) {
		size_t k = n > 255 ? 255 : n;

		out[o++] = 0;
		out[o++] = (unsigned char)k;
		memcpy(out + o, lit, k);
		o += k;
		lit += k;
		n -= k;
	}
	return o;
}

static size_t compress(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t pos = 0, o = 0, lit_start = 0;

	memset(head, 0xff, sizeof(head));
	while (pos < len) {
		struct match m = longest(in, pos, len);

		/* Lazy matching: a longer match one byte on wins. */
		if (m.len && pos + 1 < len) {
			struct match m2;

			insert(in, pos, len);
			m2 = longest(in, pos + 1, len);
			if (m2.len > m.len + 1) {
				pos++;
				m = m2;
			}
		} else {
			insert(in, pos, len);
		}
		if (!m.len) {
			pos++;
			continue;
		}
		o = flush_literals(out, o, in + lit_start, pos - lit_start);
		out[o++] = (unsigned char)m.len;
		out[o++] = (unsigned char)m.dist;
		out[o++] = (unsigned char)(m.dist >> 8);
		for (size_t k = 1; k < m.len; k++)
			insert(in, pos + k, len);
		pos += m.len;
		lit_start = pos;
	}
	return flush_literals(out, o, in + lit_start, pos - lit_start);
}

static size_t decompress(const unsigned char *in, size_t len,
			 unsigned char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = in[i++];

		if (n == 0) {
			n = in[i++];
			if (o + n > cap || i + n > len)
				return (size_t)-1;
			memcpy(out + o, in + i, n);
			i += n;
			o += n;
		} else {
			size_t dist = in[i] | (size_t)in[i + 1] << 8;

			i += 2;
			if (dist == 0 || dist > o || o + n > cap)
				return (size_t)-1;
			for (size_t k = 0; k < n; k++, o++)
				out[o] = out[o - dist];
		}
	}
	return o;
}

/*
 * One block: compressed into packed, decompressed into back and compared.
 * Returns the packed size, or 0 when the block does not round-trip.  Out of
 * line, so that callgrind can count exactly this (--toggle-collect).
 */
__attribute__((noinline)) size_t lz_block(const unsigned char *in, size_t n,
					  unsigned char *packed,
					  unsigned char *back)
{
	size_t c = compress(in, n, packed);

	if (decompress(packed, c, back, BLOCK) != n || memcmp(back, in, n))
		return 0;
	return c;
}

#ifndef LZ_NO_MAIN
static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	int on = argc > 1 && !strcmp(argv[1], "on");
	size_t mb = argc > 2 ? strtoul(argv[2], NULL, 0) : 8;
	size_t len = mb << 20, total_out = 0;
	unsigned char *data = malloc(len), *packed = malloc(2 * BLOCK + 16);
	unsigned char *back = malloc(BLOCK);
	unsigned long *area = NULL, max_fill = 0;
	uint64_t sum = 1469598103934665603ull;
	double t0, t1, c0, c1;

	if (!data || !packed || !back)
		return 2;
	lz_generate(data, len);
#ifdef USE_UKCOV
	if (on) {
		int fd = ukcov_open();

		if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, AREA_WORDS)) {
			perror("ukcov");
			return 2;
		}
		area = ukcov_mmap(NULL, AREA_WORDS * sizeof(long),
				  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (area == MAP_FAILED || ukcov_ioctl(fd, KCOV_ENABLE,
						      KCOV_TRACE_PC)) {
			perror("ukcov");
			return 2;
		}
	}
#else
	if (on) {
		fprintf(stderr, "lz: built without ukcov\n");
		return 2;
	}
#endif
	t0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	for (size_t b = 0; b < len; b += BLOCK) {
		size_t n = len - b < BLOCK ? len - b : BLOCK, c;

		if (area)
			__atomic_store_n(&area[0], 0, __ATOMIC_RELAXED);
		c = lz_block(data + b, n, packed, back);
		if (!c) {
			fprintf(stderr, "lz: block %zu does not round-trip\n",
				b / BLOCK);
			return 1;
		}
		if (area) {
			unsigned long fill = __atomic_load_n(&area[0],
							     __ATOMIC_RELAXED);

			if (fill > max_fill)
				max_fill = fill;
		}
		for (size_t k = 0; k < c; k++)
			sum = (sum ^ packed[k]) * 1099511628211ull;
		total_out += c;
	}
	c1 = now_s(CLOCK_THREAD_CPUTIME_ID);
	t1 = now_s(CLOCK_MONOTONIC);
	if (area && max_fill >= AREA_WORDS - 1) {
		fprintf(stderr, "lz: the area filled up\n");
		return 1;
	}
	printf("time %.6f cpu %.6f ratio %.3f sum %016llx max_fill %lu\n",
	       t1 - t0, c1 - c0, (double)total_out / (double)len,
	       (unsigned long long)sum, max_fill);
	return 0;
}
#endif /* LZ_NO_MAIN */
