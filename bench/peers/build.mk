# SPDX-License-Identifier: MIT
# bench/peers/build.mk: the SQLite and zlib builds of `make bench-peers`, run by
# bench/peers/run.sh as `make -f bench/peers/build.mk -jN`.  Everything lands
# in build-peers/ (ignored by git) and is kept between runs: only what is
# missing or older than its inputs is rebuilt.
#
# PEERS_HAVE_CLANG / PEERS_HAVE_LF / PEERS_HAVE_AFL / PEERS_HAVE_ZLIB (1 or
# 0) select the peers' columns and the zlib rows; run.sh sets them from what
# it could install and fetch.  The trace-pc-guard builds (unique mode) link
# only against a libukcov that has __sanitizer_cov_trace_pc_guard (since
# issue 11): against an older one their link is said to fail and the rows
# are skipped, not the build.

O := build-peers
SQ := $(O)/src/sqlite3.c
DRV := bench/peers/driver.c
COLL := bench/peers/coll.h
PEERS_HAVE_CLANG ?= 1
PEERS_HAVE_LF ?= 1
PEERS_HAVE_AFL ?= 1
PEERS_HAVE_ZLIB ?= 1
AFL_CC ?= afl-clang-fast

# SQLite's own options: the same for every build.  THREADSAFE=2: one
# connection per thread (workload c); no memory statistics, whose global
# mutex would otherwise be what the thread figures measure.
SQ_DEFS := -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_THREADSAFE=2 \
	-DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_DEPRECATED
SQ_CFLAGS := -O2 -fPIE $(SQ_DEFS) -w
DRV_CFLAGS := -O2 -fPIE -std=gnu11 -Wall -Wextra -Iinclude -I$(O)/src
LIBS := -lpthread -lm -ldl

# Variant = compiler + coverage flags of the SQLite object.
FLAGS_base-gcc := gcc
FLAGS_base-clang := clang
FLAGS_pc-gcc := gcc -fsanitize-coverage=trace-pc
FLAGS_pccmp-gcc := gcc -fsanitize-coverage=trace-pc,trace-cmp
FLAGS_pc-clang := clang -fsanitize-coverage=trace-pc
FLAGS_pccmp-clang := clang -fsanitize-coverage=trace-pc,trace-cmp
FLAGS_guard-clang := clang -fsanitize-coverage=trace-pc-guard
# libFuzzer's full instrumentation (inline-8bit-counters, indirect-calls,
# trace-cmp, pc-table and, on Linux, stack-depth) and its counters alone.
FLAGS_lf := clang -fsanitize=fuzzer-no-link
FLAGS_lf8 := clang -fsanitize-coverage=inline-8bit-counters,pc-table
FLAGS_afl := AFL_QUIET=1 $(AFL_CC)

UK_GCC := $(O)/ukcov-gcc
UK_CLANG := $(O)/ukcov-clang
LF_RT := $(shell clang -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer_no_main-x86_64.a

BINS := $(O)/bin/base-gcc $(O)/bin/pc-gcc-static $(O)/bin/pc-gcc-shared \
	$(O)/bin/pccmp-gcc-static
ifeq ($(PEERS_HAVE_CLANG),1)
BINS += $(O)/bin/base-clang $(O)/bin/pc-clang-static \
	$(O)/bin/pc-clang-shared $(O)/bin/pccmp-clang-static \
	$(O)/bin/guard-clang-static
endif
ifeq ($(PEERS_HAVE_LF),1)
BINS += $(O)/bin/lf-loop $(O)/bin/lf-driver $(O)/bin/lf8-driver
endif
ifeq ($(PEERS_HAVE_AFL),1)
BINS += $(O)/bin/afl-loop
endif

# zlib: Debian's source (run.sh fetches it with apt-get source), the
# library's own files built with each variant's flags into an archive.
ZDIR := $(O)/zlib/src
ZNAMES := adler32 crc32 deflate trees zutil inflate inffast inftrees uncompr \
	compress
Z_CFLAGS := -O2 -fPIE -w -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN
ZDRV := bench/peers/zlib.c
ifeq ($(PEERS_HAVE_ZLIB),1)
BINS += $(O)/bin/zbase-gcc $(O)/bin/zpc-gcc-static $(O)/bin/zpc-gcc-shared
ifeq ($(PEERS_HAVE_CLANG),1)
BINS += $(O)/bin/zbase-clang $(O)/bin/zpc-clang-static \
	$(O)/bin/zpc-clang-shared $(O)/bin/zguard-clang-static
endif
ifeq ($(PEERS_HAVE_LF),1)
BINS += $(O)/bin/zlf-driver $(O)/bin/zlf8-driver
endif
ifeq ($(PEERS_HAVE_AFL),1)
BINS += $(O)/bin/zafl
endif
endif

.PHONY: all
# Keep every object: the SQLite ones are the slow part.
.SECONDARY:
all: $(BINS)

# The SQLite objects: the slow part (make -j builds them side by side).
$(O)/obj/sqlite-%.o: $(SQ)
	@mkdir -p $(dir $@)
	@echo "  CC  sqlite3.c [$*]"
	$(FLAGS_$*) $(SQ_CFLAGS) -c -o $@ $<

# The driver is never instrumented: one object per collector.
$(O)/obj/drv-none-%.o: $(DRV) $(COLL) $(O)/src/sqlite3.h
	@mkdir -p $(dir $@)
	$* $(DRV_CFLAGS) -DCOLL_NONE -c -o $@ $<
$(O)/obj/drv-ukcov-%.o: $(DRV) $(COLL) $(O)/src/sqlite3.h include/ukcov.h
	@mkdir -p $(dir $@)
	$* $(DRV_CFLAGS) -DCOLL_UKCOV -c -o $@ $<
$(O)/obj/drv-lf.o: $(DRV) $(COLL) $(O)/src/sqlite3.h
	@mkdir -p $(dir $@)
	clang $(DRV_CFLAGS) -DCOLL_LF -c -o $@ $<
$(O)/obj/drv-lfloop.o: $(DRV) $(COLL) $(O)/src/sqlite3.h
	@mkdir -p $(dir $@)
	clang $(DRV_CFLAGS) -DCOLL_LF -DLF_OWN_LOOP -c -o $@ $<
$(O)/obj/drv-afl.o: $(DRV) $(COLL) $(O)/src/sqlite3.h
	@mkdir -p $(dir $@)
	clang $(DRV_CFLAGS) -DCOLL_AFL -c -o $@ $<

$(O)/bin/base-%: $(O)/obj/drv-none-%.o $(O)/obj/sqlite-base-%.o
	@mkdir -p $(dir $@)
	$* -pie -o $@ $^ $(LIBS)
# ukcov, static: the archive built -fPIE with local-exec TLS.
$(O)/bin/pc-%-static: $(O)/obj/drv-ukcov-%.o $(O)/obj/sqlite-pc-%.o $(O)/ukcov-%/libukcov.a
	@mkdir -p $(dir $@)
	$* -pie -o $@ $^ $(LIBS)
$(O)/bin/pccmp-%-static: $(O)/obj/drv-ukcov-%.o $(O)/obj/sqlite-pccmp-%.o $(O)/ukcov-%/libukcov.a
	@mkdir -p $(dir $@)
	$* -pie -o $@ $^ $(LIBS)
# ukcov, shared: the same objects, every callback through the PLT.
$(O)/bin/pc-%-shared: $(O)/obj/drv-ukcov-%.o $(O)/obj/sqlite-pc-%.o $(O)/ukcov-%/libukcov.so
	@mkdir -p $(dir $@)
	$* -pie -o $@ $(filter %.o,$^) -L$(O)/ukcov-$* -lukcov \
		-Wl,-rpath,$(abspath $(O)/ukcov-$*) $(LIBS)
# Unique mode with clang's trace-pc-guard: against a libukcov without
# __sanitizer_cov_trace_pc_guard the link fails and the rows are skipped.
$(O)/bin/guard-clang-static: $(O)/obj/drv-ukcov-clang.o $(O)/obj/sqlite-guard-clang.o $(O)/ukcov-clang/libukcov.a
	@mkdir -p $(dir $@)
	@clang -pie -o $@ $^ $(LIBS) 2>$@.log || { rm -f $@; \
		echo "  SKIP $@: libukcov has no __sanitizer_cov_trace_pc_guard ($@.log)"; }
# libFuzzer: its own loop (its main, FuzzerDriver and RunOne), and the
# bench's loop over the same instrumentation with libFuzzer's runtime
# (needed for threads: libFuzzer's loop is single-threaded).
$(O)/bin/lf-loop: $(O)/obj/drv-lfloop.o $(O)/obj/sqlite-lf.o
	@mkdir -p $(dir $@)
	clang++ -fsanitize=fuzzer -o $@ $^ $(LIBS)
$(O)/bin/lf-driver: $(O)/obj/drv-lf.o $(O)/obj/sqlite-lf.o
	@mkdir -p $(dir $@)
	clang++ -o $@ $^ $(LF_RT) $(LIBS)
# AFL++: afl-clang-fast links its runtime (afl-compiler-rt.o).  -S: the
# runtime's DWARF 5 debug information stops valgrind 3.19 (symbols stay).
$(O)/bin/afl-loop: $(O)/obj/drv-afl.o $(O)/obj/sqlite-afl.o
	@mkdir -p $(dir $@)
	AFL_QUIET=1 $(AFL_CC) -o $@ $^ -Wl,-S $(LIBS)
# libFuzzer's counters alone (no trace-cmp), with its runtime, in the
# bench loop.
$(O)/bin/lf8-driver: $(O)/obj/drv-lf.o $(O)/obj/sqlite-lf8.o
	@mkdir -p $(dir $@)
	clang++ -o $@ $^ $(LF_RT) $(LIBS)

# ---------------------------------------------------------------- zlib --
$(O)/zlib/libz-%.a: $(ZNAMES:%=$(ZDIR)/%.c)
	@rm -rf $(O)/zlib/obj-$*
	@mkdir -p $(O)/zlib/obj-$*
	@echo "  CC  zlib [$*]"
	@for f in $(ZNAMES); do \
		$(FLAGS_$*) $(Z_CFLAGS) -c -o $(O)/zlib/obj-$*/$$f.o $(ZDIR)/$$f.c || exit 1; \
	done
	ar rcs $@ $(ZNAMES:%=$(O)/zlib/obj-$*/%.o)

$(O)/obj/zdrv-none-%.o: $(ZDRV) $(COLL) $(ZDIR)/zlib.h
	@mkdir -p $(dir $@)
	$* $(DRV_CFLAGS) -I$(ZDIR) -DCOLL_NONE -c -o $@ $<
$(O)/obj/zdrv-ukcov-%.o: $(ZDRV) $(COLL) $(ZDIR)/zlib.h include/ukcov.h
	@mkdir -p $(dir $@)
	$* $(DRV_CFLAGS) -I$(ZDIR) -DCOLL_UKCOV -c -o $@ $<
$(O)/obj/zdrv-lf.o: $(ZDRV) $(COLL) $(ZDIR)/zlib.h
	@mkdir -p $(dir $@)
	clang $(DRV_CFLAGS) -I$(ZDIR) -DCOLL_LF -c -o $@ $<
$(O)/obj/zdrv-afl.o: $(ZDRV) $(COLL) $(ZDIR)/zlib.h
	@mkdir -p $(dir $@)
	clang $(DRV_CFLAGS) -I$(ZDIR) -DCOLL_AFL -c -o $@ $<

$(O)/bin/zbase-%: $(O)/obj/zdrv-none-%.o $(O)/zlib/libz-base-%.a
	@mkdir -p $(dir $@)
	$* -pie -o $@ $^ $(LIBS)
$(O)/bin/zpc-%-static: $(O)/obj/zdrv-ukcov-%.o $(O)/zlib/libz-pc-%.a $(O)/ukcov-%/libukcov.a
	@mkdir -p $(dir $@)
	$* -pie -o $@ $^ $(LIBS)
$(O)/bin/zpc-%-shared: $(O)/obj/zdrv-ukcov-%.o $(O)/zlib/libz-pc-%.a $(O)/ukcov-%/libukcov.so
	@mkdir -p $(dir $@)
	$* -pie -o $@ $(filter-out %.so,$^) -L$(O)/ukcov-$* -lukcov \
		-Wl,-rpath,$(abspath $(O)/ukcov-$*) $(LIBS)
$(O)/bin/zguard-clang-static: $(O)/obj/zdrv-ukcov-clang.o $(O)/zlib/libz-guard-clang.a $(O)/ukcov-clang/libukcov.a
	@mkdir -p $(dir $@)
	@clang -pie -o $@ $^ $(LIBS) 2>$@.log || { rm -f $@; \
		echo "  SKIP $@: libukcov has no __sanitizer_cov_trace_pc_guard ($@.log)"; }
$(O)/bin/zlf-driver: $(O)/obj/zdrv-lf.o $(O)/zlib/libz-lf.a
	@mkdir -p $(dir $@)
	clang++ -o $@ $^ $(LF_RT) $(LIBS)
$(O)/bin/zlf8-driver: $(O)/obj/zdrv-lf.o $(O)/zlib/libz-lf8.a
	@mkdir -p $(dir $@)
	clang++ -o $@ $^ $(LF_RT) $(LIBS)
$(O)/bin/zafl: $(O)/obj/zdrv-afl.o $(O)/zlib/libz-afl.a
	@mkdir -p $(dir $@)
	AFL_QUIET=1 $(AFL_CC) -o $@ $^ -Wl,-S $(LIBS)
