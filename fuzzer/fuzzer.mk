# ukcov's feeds for fuzzing engines (fuzzer/, ukcov_fuzzer(3)): included by
# the Makefile.
#   $(BUILD)/libukcov-afl.a        main() for afl-fuzz: forkserver,
#                                  persistent mode, the shared map
#   $(BUILD)/libukcov-libfuzzer.a  main() for libFuzzer: its runtime
#                                  (clang's fuzzer_no_main, copied with
#                                  its coverage callbacks made local) and
#                                  the extra counters
# Both hold the feed (fuzzer/feed.c).  The libFuzzer one needs clang's
# runtime (Debian: libclang-rt-14-dev); without it `make` says so and
# builds the rest.  Never instrumented.

FEED_CFLAGS := $(BASE_CFLAGS) $(SAN_FLAGS) -fPIE -Ifuzzer
FEED_HDRS := fuzzer/feed.h include/ukcov/fuzzer.h include/ukcov.h include/ukcov/kcov.h
FEED_OBJ := $(BUILD)/fuzzer/feed.o
AFL_LIB := $(BUILD)/libukcov-afl.a
LIBFUZZER_LIB := $(BUILD)/libukcov-libfuzzer.a

$(BUILD)/fuzzer/%.o: fuzzer/%.c $(FEED_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(FEED_CFLAGS) -c -o $@ $<

$(AFL_LIB): $(FEED_OBJ) $(BUILD)/fuzzer/afl.o
	rm -f $@
	ar rcs $@ $^

# The callbacks libukcov defines and libFuzzer's runtime defines too
# (its trace-pc ones only abort): made local in the copy, so that the
# program's calls reach ukcov's.  Its handlers of its own instrumentation
# (inline counters, PC tables) too: libfuzzer.c says such a build is
# wrong instead of feeding every thread's counts.
LIBFUZZER_LOCAL := __sanitizer_cov_trace_pc __sanitizer_cov_trace_pc_guard \
	__sanitizer_cov_trace_pc_guard_init \
	__sanitizer_cov_trace_cmp1 __sanitizer_cov_trace_cmp2 \
	__sanitizer_cov_trace_cmp4 __sanitizer_cov_trace_cmp8 \
	__sanitizer_cov_trace_const_cmp1 __sanitizer_cov_trace_const_cmp2 \
	__sanitizer_cov_trace_const_cmp4 __sanitizer_cov_trace_const_cmp8 \
	__sanitizer_cov_trace_cmpf __sanitizer_cov_trace_cmpd \
	__sanitizer_cov_trace_switch \
	__sanitizer_cov_8bit_counters_init __sanitizer_cov_bool_flag_init \
	__sanitizer_cov_pcs_init
FUZZ_CLANG ?= clang
LIBFUZZER_RT := $(wildcard $(shell $(FUZZ_CLANG) -print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer_no_main-$(shell uname -m).a)

ifneq ($(LIBFUZZER_RT),)
lib: $(LIBFUZZER_LIB)
$(LIBFUZZER_LIB): $(LIBFUZZER_RT) $(FEED_OBJ) $(BUILD)/fuzzer/libfuzzer.o fuzzer/fuzzer.mk
	rm -f $@
	objcopy $(addprefix --localize-symbol=,$(LIBFUZZER_LOCAL)) $(LIBFUZZER_RT) $@
	ar rs $@ $(FEED_OBJ) $(BUILD)/fuzzer/libfuzzer.o
else
lib: libfuzzer-missing
.PHONY: libfuzzer-missing
libfuzzer-missing:
	@echo "make: libukcov-libfuzzer.a is not built: it needs clang's libFuzzer (apt-get install libclang-rt-14-dev)"
endif
lib: $(AFL_LIB)

# The feed's test (tests/fuzzer-feed.c): an ordinary test, plus the feed.
$(BUILD)/tests/fuzzer-%.t: tests/fuzzer-%.c $(FEED_OBJ) $(BUILD)/tests/helpers.o $(LIB_DEP) tests/helpers/helpers.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -Itests/helpers -o $@ $< $(FEED_OBJ) \
		$(BUILD)/tests/helpers.o -rdynamic $(LINK_UKCOV) $(LDLIBS) -ldl

# The example harness (examples/fuzzing/): an ordinary target linked with
# each engine's library.  libFuzzer's runtime is C++: the C++ driver of
# the compiler's family links it.
FUZZ_EXAMPLES := $(BUILD)/examples/fuzzing/pool-harness-afl
$(BUILD)/examples/fuzzing/%-afl: examples/fuzzing/%.c $(AFL_LIB) $(LIB_DEP) include/ukcov.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -o $@ $< $(AFL_LIB) -rdynamic \
		$(LINK_UKCOV) $(LDLIBS) -ldl
ifneq ($(LIBFUZZER_RT),)
ifeq ($(SAN),)
FUZZ_EXAMPLES += $(BUILD)/examples/fuzzing/pool-harness-libfuzzer
endif
endif
$(BUILD)/examples/fuzzing/%-libfuzzer: examples/fuzzing/%.c $(LIBFUZZER_LIB) $(LIB_DEP) include/ukcov.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -c -o $@.o $<
	$(CXX_OF_CC) $(CFLAGS) -o $@ $@.o $(LIBFUZZER_LIB) -rdynamic \
		$(LINK_UKCOV) $(LDLIBS) -ldl
	rm -f $@.o
examples: $(FUZZ_EXAMPLES)
