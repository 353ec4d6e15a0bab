# SPDX-License-Identifier: MIT
# bench/fuzz-zstd/build.mk: the builds of `make bench-fuzz-zstd`, run by
# bench/fuzz-zstd/run.sh as `make -f bench/fuzz-zstd/build.mk -jN ZSRC=DIR`.
# ZSRC is zstd's source as Debian ships it (libzstd, fetched by run.sh with
# tests/helpers/debian-source.sh, never committed); its lib/common/pool.c
# is compiled from a copy patched by bench/fuzz-zstd/patch-pool.py.  The
# libukcov archives come from run.sh too ($(O)/ukcov, built with clang).
# Everything lands in build-fuzz-zstd/ (ignored by git) and is kept between
# runs: only what is missing or older than its inputs is rebuilt.
#
# One zstd library per instrumentation, with the harness compiled with the
# same flags (clang, -O2 -g):
#   lf     -fsanitize=fuzzer-no-link (libFuzzer's own, linked -fsanitize=fuzzer)
#   uk     -fsanitize-coverage=trace-pc,trace-cmp -DUKCOV_POOL (ukcov's feeds
#          and the coverage replay)
#   afl    afl-clang-fast (AFL++'s default, trace-pc-guard edges), linked
#          with AFL++'s own driver /usr/lib/afl/libAFLDriver.a
# FZ_HAVE_LF / FZ_HAVE_AFL (1 or 0) select the libFuzzer and AFL++ builds.

O := build-fuzz-zstd
ZSRC ?= $(O)/debian-src/libzstd/src
UK := $(O)/ukcov
FZ_HAVE_LF ?= 1
FZ_HAVE_AFL ?= 1
AFL_CC ?= afl-clang-fast
AFL_DRIVER ?= /usr/lib/afl/libAFLDriver.a

ZNAMES := $(sort $(basename $(notdir $(wildcard $(ZSRC)/lib/common/*.c \
	$(ZSRC)/lib/compress/*.c $(ZSRC)/lib/decompress/*.c))))
# zstd's build for a multi-threaded library, without its x86-64 assembly
# (Huffman decoding), which no compiler flag instruments.
Z_CFLAGS := -O2 -g -pthread -DZSTD_MULTITHREAD -DZSTD_DISABLE_ASM \
	-I$(ZSRC)/lib -I$(ZSRC)/lib/common -Iinclude -w
H_CFLAGS := -O2 -g -pthread -std=gnu11 -Wall -Wextra -I$(ZSRC)/lib
LIBS := -lpthread -ldl
UKCOV_A := -Wl,--whole-archive $(UK)/libukcov.a -Wl,--no-whole-archive

FLAGS_lf := clang -fsanitize=fuzzer-no-link
FLAGS_uk := clang -fsanitize-coverage=trace-pc,trace-cmp -DUKCOV_POOL
FLAGS_afl := AFL_QUIET=1 $(AFL_CC)
FLAGS_plain := clang

VARIANTS := uk
BINS := $(O)/bin/replay
ifeq ($(FZ_HAVE_LF),1)
VARIANTS += lf
BINS += $(O)/bin/lf-native $(O)/bin/lf-ukcov
endif
ifeq ($(FZ_HAVE_AFL),1)
VARIANTS += afl
BINS += $(O)/bin/afl-native $(O)/bin/afl-native-eager $(O)/bin/afl-ukcov \
	$(O)/bin/afl-ukcov-lazy
endif

.PHONY: all
.SECONDARY:
all: $(BINS)

# zstd's pool, patched (bench/fuzz-zstd/patch-pool.py).
$(O)/src/pool.c: $(ZSRC)/lib/common/pool.c bench/fuzz-zstd/patch-pool.py
	@mkdir -p $(dir $@)
	python3 bench/fuzz-zstd/patch-pool.py $< $@

zsrc = $(if $(filter pool,$(1)),$(O)/src/pool.c,$(wildcard $(ZSRC)/lib/*/$(1).c))

# The library of one variant: an object per file, then the archive.
define ZVARIANT
$(O)/obj/$(1)/%.o: $$$$(call zsrc,$$$$*)
	@mkdir -p $$(dir $$@)
	$$(FLAGS_$(1)) $$(Z_CFLAGS) -c -o $$@ $$<
$(O)/lib/libzstd-$(1).a: $(ZNAMES:%=$(O)/obj/$(1)/%.o)
	@mkdir -p $$(dir $$@)
	rm -f $$@
	ar rcs $$@ $$^
endef
.SECONDEXPANSION:
$(foreach v,$(VARIANTS),$(eval $(call ZVARIANT,$(v))))

# The harness: eager (LLVMFuzzerInitialize makes the pool) and lazy
# (-DHARNESS_LAZY_INIT: the first input makes it), per variant; and the
# replay's, uninstrumented and without the warm-up.
HARNESS := bench/fuzz-zstd/zstd_mt.c
$(O)/obj/harness-%-eager.o: $(HARNESS)
	@mkdir -p $(dir $@)
	$(FLAGS_$*) $(H_CFLAGS) -c -o $@ $<
$(O)/obj/harness-%-lazy.o: $(HARNESS)
	@mkdir -p $(dir $@)
	$(FLAGS_$*) $(H_CFLAGS) -DHARNESS_LAZY_INIT -c -o $@ $<
$(O)/obj/harness-replay.o: $(HARNESS)
	@mkdir -p $(dir $@)
	$(FLAGS_plain) $(H_CFLAGS) -DHARNESS_NO_WARMUP -c -o $@ $<
$(O)/obj/replay.o: bench/fuzz-zstd/replay.c
	@mkdir -p $(dir $@)
	$(FLAGS_plain) $(H_CFLAGS) -c -o $@ $<

# (a) libFuzzer, its own instrumentation and main.
$(O)/bin/lf-native: $(O)/obj/harness-lf-eager.o $(O)/lib/libzstd-lf.a
	@mkdir -p $(dir $@)
	clang++ -fsanitize=fuzzer -o $@ $^ $(LIBS)
# (b) libFuzzer with ukcov's feed (libukcov-libfuzzer.a: main, libFuzzer's
# runtime, the extra counters).
$(O)/bin/lf-ukcov: $(O)/obj/harness-uk-eager.o $(O)/lib/libzstd-uk.a $(UK)/libukcov-libfuzzer.a $(UK)/libukcov.a
	@mkdir -p $(dir $@)
	clang++ -o $@ $(filter %.o,$^) $(O)/lib/libzstd-uk.a \
		$(UK)/libukcov-libfuzzer.a $(UKCOV_A) $(LIBS)
# (c) AFL++, its own instrumentation and driver; the lazy harness (the
# eager one hangs under this driver: see the harness's comment, and
# run.sh's check).
$(O)/bin/afl-native: $(O)/obj/harness-afl-lazy.o $(O)/lib/libzstd-afl.a
	@mkdir -p $(dir $@)
	AFL_QUIET=1 $(AFL_CC) -o $@ $^ $(AFL_DRIVER) $(LIBS)
$(O)/bin/afl-native-eager: $(O)/obj/harness-afl-eager.o $(O)/lib/libzstd-afl.a
	@mkdir -p $(dir $@)
	AFL_QUIET=1 $(AFL_CC) -o $@ $^ $(AFL_DRIVER) $(LIBS)
# (d) and (e) AFL++ with ukcov's feed (libukcov-afl.a: main, forkserver,
# persistent mode), eager and lazy.
$(O)/bin/afl-ukcov: $(O)/obj/harness-uk-eager.o $(O)/lib/libzstd-uk.a $(UK)/libukcov-afl.a $(UK)/libukcov.a
	@mkdir -p $(dir $@)
	clang -o $@ $(filter %.o,$^) $(O)/lib/libzstd-uk.a $(UK)/libukcov-afl.a \
		$(UKCOV_A) $(LIBS)
$(O)/bin/afl-ukcov-lazy: $(O)/obj/harness-uk-lazy.o $(O)/lib/libzstd-uk.a $(UK)/libukcov-afl.a $(UK)/libukcov.a
	@mkdir -p $(dir $@)
	clang -o $@ $(filter %.o,$^) $(O)/lib/libzstd-uk.a $(UK)/libukcov-afl.a \
		$(UKCOV_A) $(LIBS)
# The coverage replay: zstd as in (b) (d) (e), harness and main bare.
$(O)/bin/replay: $(O)/obj/replay.o $(O)/obj/harness-replay.o $(O)/lib/libzstd-uk.a $(UK)/libukcov.a
	@mkdir -p $(dir $@)
	clang -o $@ $(filter %.o,$^) $(O)/lib/libzstd-uk.a $(UKCOV_A) $(LIBS)
