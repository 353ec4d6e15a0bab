// SPDX-License-Identifier: MIT
/*
 * bench/fuzz-zstd/zstd_mt.c: a fuzzing harness for zstd's multi-threaded
 * compression (`make bench-fuzz-zstd`, issue 14 item 5).  An ordinary
 * LLVMFuzzerTestOneInput: linked with libFuzzer, AFL++'s libAFLDriver.a,
 * libukcov-libfuzzer.a or libukcov-afl.a, or bench/fuzz-zstd/replay.c.
 *
 * One compression context for the process, with 2 workers
 * (ZSTD_c_nbWorkers = 2): zstd hands each job of a frame to the pool of
 * that context (lib/common/pool.c), whose 2 threads live as long as the
 * context.  Per input, the harness thread:
 *   - hands zstd the input in chunks with ZSTD_compressStream2, each chunk
 *     with ZSTD_e_continue (zstd only buffers it), then ZSTD_e_flush with
 *     no new input: zstd posts the chunk as a job to the pool and blocks
 *     until the job says it is done (the job signals completion from inside
 *     itself, then finishes on its thread);
 *   - ends the frame the same way with ZSTD_e_end (the rest of the input:
 *     one more job, or none when nothing is left);
 *   - decompresses the frame with ZSTD_decompressDCtx and compares it with
 *     the input: a difference, or an error where none is possible, aborts.
 * An input with no flush is compressed in one ZSTD_e_end call: its size is
 * known and small, so zstd compresses it on the harness thread, without
 * the pool.
 *
 * An input: byte 0 is the plan, the rest the data.  Plan p: (p % 5)
 * flushes, a checksum when (p / 5) is odd, ZSTD_c_minMatch 4 + (p / 10) % 4
 * (zstd's double-fast match finder has a variant per minimum match).  The
 * chunk before flush i runs from the current position for 1 + (its first
 * byte) bytes, at most what is left.  Inputs over 64 KiB are ignored.
 *
 * Three choices keep the harness thread's own path the same from run to
 * run of one input (a fuzzer counts its code whatever feeds the map):
 *   - the flush comes with no new input.  Given the chunk and the flush in
 *     one call, zstd posts the job, asks once without blocking whether it
 *     has output, then blocks: whether the job was already done at the
 *     first question changed how often ZSTD_compressStream2,
 *     ZSTDMT_compressStream_generic and ZSTDMT_flushProduced ran (8 PCs
 *     of the harness thread, one pass more or less).  Without new input
 *     zstd blocks at once; only a job done before the harness thread
 *     reaches the wait still changes it;
 *   - empty data is compressed without a flush: a frame whose only job has
 *     0 bytes makes zstd's caller poll instead of wait
 *     (ZSTDMT_flushProduced returns at once for a job with nothing to
 *     consume, and ZSTD_compressStream2 calls it again until the worker is
 *     done), so that input's coverage would be the length of that wait:
 *     256 to 360,584 PCs in six runs of one such input;
 *   - the parameters that size zstd's tables never change with the input,
 *     nor with a job's size: level 3 (double-fast) with the smallest
 *     window zstd has (1 KiB) and tables no larger than it allows for that
 *     window (2^11 and 2^10 entries).  zstd fits a job's parameters to the
 *     job's size, and frees and allocates again a workspace that has been
 *     more than 3 times too large for over 128 uses (zstd_cwksp.h,
 *     ZSTD_WORKSPACETOOLARGE_MAXDURATION): with a 64 KiB window and 2^12
 *     entries, 100 runs of one input in one process also differed inside
 *     the jobs (ZSTD_resetCCtx_internal, ZSTD_customMalloc,
 *     ZSTD_cwksp_clean_tables), whatever fed the map; with these they do
 *     not.  Every input finds zstd's buffers as the previous one left
 *     them, and each job stays small (its tables are cleared per job).
 *
 * The context, and so the pool, is made in LLVMFuzzerInitialize, which also
 * compresses a warm-up frame of each kind (the pool's threads and zstd's
 * buffers exist before the first input, as in a long-running program).
 * With -DHARNESS_LAZY_INIT this happens at the first input instead: AFL++'s
 * own driver (libAFLDriver.a) calls LLVMFuzzerInitialize before its
 * forkserver forks, and a fork keeps only the forking thread: the pool's
 * threads would not exist in the children, and the first job would wait
 * for ever.  -DHARNESS_NO_WARMUP leaves the warm-up out (the coverage
 * replay, which counts what the inputs reach).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void harness_free(void);

#define MAX_DATA (64u * 1024)	/* bytes of data; longer inputs are ignored */
#define MAX_FLUSHES 4
#define WORKERS 2

static ZSTD_CCtx *cctx;
static ZSTD_DCtx *dctx;
static uint8_t *cbuf, *dbuf;
static size_t ccap;	/* bytes of cbuf */

static void die(const char *what, size_t code)
{
	fprintf(stderr, "zstd_mt: %s: %s\n", what,
		code ? ZSTD_getErrorName(code) : "mismatch");
	abort();
}

static void set(ZSTD_cParameter p, int v)
{
	size_t r = ZSTD_CCtx_setParameter(cctx, p, v);

	if (ZSTD_isError(r))
		die("ZSTD_CCtx_setParameter", r);
}

/* Hand in[pos, size) to zstd without asking for output: it only buffers it
 * (each chunk is far below a job's target size). */
static void load(ZSTD_outBuffer *out, ZSTD_inBuffer *in)
{
	while (in->pos < in->size) {
		size_t r = ZSTD_compressStream2(cctx, out, in, ZSTD_e_continue);

		if (ZSTD_isError(r))
			die("ZSTD_compressStream2(ZSTD_e_continue)", r);
	}
}

/* Flush or end with no new input: zstd posts what it buffered as a job
 * and waits for it at once. */
static void finish(ZSTD_outBuffer *out, ZSTD_inBuffer *in, ZSTD_EndDirective op)
{
	size_t r;

	do {
		r = ZSTD_compressStream2(cctx, out, in, op);
		if (ZSTD_isError(r))
			die(op == ZSTD_e_end ? "ZSTD_compressStream2(ZSTD_e_end)" :
			    "ZSTD_compressStream2(ZSTD_e_flush)", r);
	} while (r != 0 && out->pos < out->size);
	if (r != 0)
		die("ZSTD_compressStream2: output full", 0);
}

/* One frame of data[0, n) per the plan; returns the compressed size. */
static size_t compress(uint8_t plan, const uint8_t *data, size_t n)
{
	ZSTD_outBuffer out = { cbuf, ccap, 0 };
	ZSTD_inBuffer in = { data, 0, 0 };
	/* No data: no flush (see the top of the file). */
	unsigned int flushes = n ? plan % (MAX_FLUSHES + 1) : 0;

	set(ZSTD_c_checksumFlag, (plan / 5) & 1);
	set(ZSTD_c_minMatch, 4 + (plan / 10) % 4);
	if (flushes == 0) {
		/* All at once: zstd knows the size, and compresses on this
		 * thread. */
		in.size = n;
		finish(&out, &in, ZSTD_e_end);
		return out.pos;
	}
	for (unsigned int i = 0; i < flushes; i++) {
		size_t len = in.size < n ? 1 + (size_t)data[in.size] : 0;

		if (len > n - in.size)
			len = n - in.size;
		in.size += len;
		load(&out, &in);
		finish(&out, &in, ZSTD_e_flush);
	}
	in.size = n;
	load(&out, &in);
	finish(&out, &in, ZSTD_e_end);
	return out.pos;
}

static void round_trip(uint8_t plan, const uint8_t *data, size_t n)
{
	size_t c = compress(plan, data, n);
	size_t d = ZSTD_decompressDCtx(dctx, dbuf, MAX_DATA, cbuf, c);

	if (ZSTD_isError(d))
		die("ZSTD_decompressDCtx", d);
	if (d != n || (n && memcmp(dbuf, data, n) != 0))
		die("round trip", 0);
}

static void setup(void)
{
	cctx = ZSTD_createCCtx();
	dctx = ZSTD_createDCtx();
	/* Each flush may add a block header and the frame its header and
	 * checksum: room for all of them beside the bound. */
	ccap = ZSTD_compressBound(MAX_DATA) + 64 * (MAX_FLUSHES + 2);
	cbuf = malloc(ccap);
	dbuf = malloc(MAX_DATA);
	if (!cctx || !dctx || !cbuf || !dbuf) {
		fprintf(stderr, "zstd_mt: out of memory\n");
		abort();
	}
	set(ZSTD_c_compressionLevel, 3);
	set(ZSTD_c_windowLog, 10);
	set(ZSTD_c_hashLog, 11);
	set(ZSTD_c_chainLog, 10);
	set(ZSTD_c_nbWorkers, WORKERS);
#ifndef HARNESS_NO_WARMUP
	{
		/* A frame through the pool (its first job creates it), then
		 * one on this thread: both kinds' buffers exist from now on. */
		static uint8_t warm[4096];

		for (size_t i = 0; i < sizeof(warm); i++)
			warm[i] = (uint8_t)(i * 7 / 13);
		round_trip(MAX_FLUSHES, warm, sizeof(warm));
		round_trip(0, warm, sizeof(warm));
	}
#endif
}

/*
 * Free the contexts; zstd joins the pool's threads, so every job has
 * ended, section and all, when this returns (bench/fuzz-zstd/replay.c
 * calls it before exiting: a job's section lands after the job has said
 * it is done, and one still open when the process exits is lost).
 */
void harness_free(void)
{
	ZSTD_freeCCtx(cctx);
	ZSTD_freeDCtx(dctx);
	free(cbuf);
	free(dbuf);
	cctx = NULL;
	dctx = NULL;
	cbuf = dbuf = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
#ifndef HARNESS_LAZY_INIT
	setup();
#endif
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef HARNESS_LAZY_INIT
	static bool ready;

	if (!ready) {
		setup();
		ready = true;
	}
#endif
	if (size < 1 || size - 1 > MAX_DATA)
		return 0;
	round_trip(data[0], data + 1, size - 1);
	return 0;
}
