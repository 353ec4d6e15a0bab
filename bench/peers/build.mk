# SPDX-License-Identifier: MIT
# bench/peers/build.mk: the SQLite builds of `make bench-peers`, run by
# bench/peers/run.sh as `make -f bench/peers/build.mk -jN`.  Everything lands
# in build-peers/ (ignored by git) and is kept between runs: only what is
# missing or older than its inputs is rebuilt.
#
# PEERS_HAVE_CLANG / PEERS_HAVE_LF / PEERS_HAVE_AFL (1 or 0) select the peers' columns;
# run.sh sets them from what it could install.

O := build-peers
SQ := $(O)/src/sqlite3.c
DRV := bench/peers/driver.c
PEERS_HAVE_CLANG ?= 1
PEERS_HAVE_LF ?= 1
PEERS_HAVE_AFL ?= 1
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
FLAGS_lf := clang -fsanitize=fuzzer-no-link
FLAGS_afl := AFL_QUIET=1 $(AFL_CC)

UK_GCC := $(O)/ukcov-gcc
UK_CLANG := $(O)/ukcov-clang
LF_RT := $(shell clang -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer_no_main-x86_64.a

BINS := $(O)/bin/base-gcc $(O)/bin/pc-gcc-static $(O)/bin/pc-gcc-shared \
	$(O)/bin/pccmp-gcc-static
ifeq ($(PEERS_HAVE_CLANG),1)
BINS += $(O)/bin/base-clang $(O)/bin/pc-clang-static \
	$(O)/bin/pc-clang-shared $(O)/bin/pccmp-clang-static
endif
ifeq ($(PEERS_HAVE_LF),1)
BINS += $(O)/bin/lf-loop $(O)/bin/lf-driver
endif
ifeq ($(PEERS_HAVE_AFL),1)
BINS += $(O)/bin/afl-loop
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
$(O)/obj/drv-none-%.o: $(DRV) $(O)/src/sqlite3.h
	@mkdir -p $(dir $@)
	$* $(DRV_CFLAGS) -DCOLL_NONE -c -o $@ $<
$(O)/obj/drv-ukcov-%.o: $(DRV) $(O)/src/sqlite3.h include/ukcov.h
	@mkdir -p $(dir $@)
	$* $(DRV_CFLAGS) -DCOLL_UKCOV -c -o $@ $<
$(O)/obj/drv-lf.o: $(DRV) $(O)/src/sqlite3.h
	@mkdir -p $(dir $@)
	clang $(DRV_CFLAGS) -DCOLL_LF -c -o $@ $<
$(O)/obj/drv-lfloop.o: $(DRV) $(O)/src/sqlite3.h
	@mkdir -p $(dir $@)
	clang $(DRV_CFLAGS) -DCOLL_LF -DLF_OWN_LOOP -c -o $@ $<
$(O)/obj/drv-afl.o: $(DRV) $(O)/src/sqlite3.h
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
