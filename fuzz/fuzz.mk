# Fuzzing and stress targets (issue 7).  Included from the top Makefile
# with `-include fuzz/fuzz.mk`.
#
#   make fuzz                       build the libFuzzer harness (clang)
#   make fuzz-run FUZZ_SECONDS=60   run it, time-bounded, one worker
#   make fuzz-cov                   replay the corpus through a coverage
#                                   build and print llvm-cov's report of src/
#   make stress DURATION=30         the stress tests, UKCOV_STRESS_SECONDS=
#                                   DURATION, in the plain, ASan and TSan
#                                   builds
#
# How the harness links the runtime under test.  libFuzzer's runtime defines
# its own __sanitizer_cov_trace_cmp*, switch and trace_pc_guard callbacks
# (and trace_pc_guard_init, which unique.c defines), and the harness
# wants libFuzzer's coverage of ukcov's control code.  So ukcov is not
# linked as a library: its control sources (kcov.c, task.c, remote.c,
# signal.c, autorun.c) are compiled into the harness with
# -fsanitize=fuzzer-no-link plus ASan and UBSan, and src/callbacks.c is
# compiled bare, as the top Makefile compiles it (no coverage, no sanitizer,
# no stack protector), with each __sanitizer_cov_* callback renamed to
# ukcov_test_* by -D on the command line.  The harness generates entries by
# calling the renamed callbacks directly.  ASan's runtime is linked as a
# shared library (-shared-libasan): ukcov interposes pthread_create, close,
# sigaction and the longjmp family and reaches the next definition with
# dlsym(RTLD_NEXT), which must find ASan's interceptors, not libc's.

FUZZ_CC ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
# Extra libFuzzer options for fuzz-run (e.g. FUZZ_ARGS=-seed=1).
FUZZ_ARGS ?=
FUZZ_CORPUS := $(FUZZ_BUILD)/corpus

FUZZ_RTDIR := $(shell $(FUZZ_CC) -print-runtime-dir 2>/dev/null)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -shared-libasan
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Iinclude -D_GNU_SOURCE \
	-DUKCOV_TLS_MODEL='"local-exec"' -Wall -Wextra -Wno-unused-parameter
FUZZ_LDFLAGS := -Wl,-rpath,$(FUZZ_RTDIR) -lpthread -ldl -lm

FUZZ_RENAME := $(foreach c,trace_pc trace_pc_guard trace_pc_guard_init \
	trace_cmp1 trace_cmp2 trace_cmp4 \
	trace_cmp8 trace_const_cmp1 trace_const_cmp2 trace_const_cmp4 \
	trace_const_cmp8 trace_cmpf trace_cmpd trace_switch, \
	-D__sanitizer_cov_$(c)=ukcov_test_$(c))
FUZZ_RT_SRCS := $(filter-out src/callbacks.c,$(LIB_SRCS))
FUZZ_HDRS := src/internal.h include/ukcov.h include/ukcov/kcov.h \
	include/ukcov/file.h

.PHONY: fuzz fuzz-run fuzz-cov stress

fuzz: $(FUZZ_BUILD)/ukcov-fuzz

# The callbacks: bare, renamed (the top Makefile's HOT_FLAGS).
$(FUZZ_BUILD)/callbacks-%.o: src/callbacks.c $(FUZZ_HDRS) fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fvisibility=hidden -fPIE $(HOT_FLAGS) \
		$(FUZZ_RENAME) -c -o $@ $<

# The control code: libFuzzer's coverage (no main), ASan and UBSan.
# Known finding, silenced so that fuzzing goes on past it: remote.c's
# KCOV_REMOTE_ENABLE computes `uarg + offsetof(..., num_handles)` on the
# user's pointer, UB (pointer-overflow) for NULL; empty this to see it.
FUZZ_RT_NOSAN ?= -fno-sanitize=pointer-overflow
FUZZ_RT_OBJS := $(patsubst src/%.c,$(FUZZ_BUILD)/rt-%.o,$(FUZZ_RT_SRCS))
$(FUZZ_BUILD)/rt-%.o: src/%.c $(FUZZ_HDRS) fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(FUZZ_RT_NOSAN) \
		-fsanitize=fuzzer-no-link -fvisibility=hidden -fPIE \
		-D__sanitizer_cov_trace_pc_guard_init=ukcov_test_trace_pc_guard_init \
		-c -o $@ $<

FUZZ_RT_OBJS += $(patsubst src/%.S,$(FUZZ_BUILD)/rt-%.o,$(LIB_ASM))
$(FUZZ_BUILD)/rt-%.o: src/%.S fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fPIE -c -o $@ $<

$(FUZZ_BUILD)/ukcov-fuzz: fuzz/ukcov-fuzz.c $(FUZZ_RT_OBJS) \
		$(FUZZ_BUILD)/callbacks-asan.o include/ukcov.h
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
		-o $@ $< $(FUZZ_RT_OBJS) $(FUZZ_BUILD)/callbacks-asan.o \
		$(FUZZ_RTDIR)/libclang_rt.fuzzer-x86_64.a -lstdc++ \
		$(FUZZ_LDFLAGS)

# A time-bounded run on a working copy of the committed seed corpus (new
# inputs go to $(FUZZ_CORPUS), never into fuzz/corpus).  One worker: the
# machine is shared.
fuzz-run: $(FUZZ_BUILD)/ukcov-fuzz
	@mkdir -p $(FUZZ_CORPUS) $(FUZZ_BUILD)/artifacts
	cp -n fuzz/corpus/* $(FUZZ_CORPUS)/ 2>/dev/null || true
	$(FUZZ_BUILD)/ukcov-fuzz -max_total_time=$(FUZZ_SECONDS) \
		-timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_ARGS) \
		$(FUZZ_CORPUS) fuzz/corpus

# Line coverage of src/ by the corpus: the same harness built with
# -fprofile-instr-generate (no sanitizer), replaying every input once.
$(FUZZ_BUILD)/ukcov-fuzz-cov: fuzz/ukcov-fuzz.c $(FUZZ_RT_SRCS) \
		$(FUZZ_HDRS) $(FUZZ_BUILD)/callbacks-asan.o fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-fprofile-instr-generate -fcoverage-mapping -o $@ \
		fuzz/ukcov-fuzz.c $(FUZZ_RT_SRCS) \
		$(FUZZ_BUILD)/callbacks-asan.o -lpthread -ldl -lm

fuzz-cov: $(FUZZ_BUILD)/ukcov-fuzz-cov
	@mkdir -p $(FUZZ_CORPUS)
	cp -n fuzz/corpus/* $(FUZZ_CORPUS)/ 2>/dev/null || true
	rm -f $(FUZZ_BUILD)/cov-*.profraw
	LLVM_PROFILE_FILE=$(FUZZ_BUILD)/cov-%p.profraw \
		$(FUZZ_BUILD)/ukcov-fuzz-cov -runs=0 $(FUZZ_CORPUS) >/dev/null 2>&1
	llvm-profdata merge -o $(FUZZ_BUILD)/cov.profdata \
		$(FUZZ_BUILD)/cov-*.profraw
	llvm-cov report $(FUZZ_BUILD)/ukcov-fuzz-cov \
		-instr-profile=$(FUZZ_BUILD)/cov.profdata $(FUZZ_RT_SRCS)

# ---- stress (issue 7, item 5; route-stress: issue 10) ------------------
# The stress tests for DURATION seconds each (UKCOV_STRESS_SECONDS; for
# thread-churn UKCOV_CHURN_SECONDS, with up to STRESS_CHURN_THREADS
# threads), in the plain (gcc, shared library), ASan+UBSan and TSan builds.
# Each test's output (its figures) is printed; any failure fails the target
# after all have run.  The timeout per test is 3 * DURATION + 120 s.
DURATION ?= 10
STRESS_CHURN_THREADS ?= 100000
STRESS_TESTS := remote-stress signal-storm threads-isolation thread-churn \
	fork-stress route-stress
stress:
	@fail=0; for b in "build:" "build-asan:SAN=address" \
			"build-tsan:SAN=thread"; do \
		dir=$${b%%:*}; san=$${b#*:}; \
		echo "== stress $$dir ($${san:-plain}), $(DURATION) s per test"; \
		$(MAKE) -s CC=gcc BUILD=$$dir $$san \
			$(patsubst %,$$dir/tests/%.t,$(STRESS_TESTS)) || exit 1; \
		wrap=; [ "$$dir" = build-tsan ] && wrap="setarch $$(uname -m) -R"; \
		for t in $(STRESS_TESTS); do \
			start=$$(date +%s); \
			UKCOV_STRESS_SECONDS=$(DURATION) \
			UKCOV_CHURN_SECONDS=$(DURATION) \
			UKCOV_CHURN_THREADS=$(STRESS_CHURN_THREADS) \
			timeout -k 5 $$(( $(DURATION) * 3 + 120 )) $$wrap \
				$$dir/tests/$$t.t > $$dir/stress-$$t.log 2>&1; \
			rc=$$?; secs=$$(( $$(date +%s) - start )); \
			if [ $$rc -eq 0 ]; then \
				echo "PASS $$dir/$$t ($${secs}s)"; \
			else \
				echo "FAIL $$dir/$$t (exit $$rc, $${secs}s)"; fail=1; \
			fi; \
			sed 's/^/    /' $$dir/stress-$$t.log | tail -n 8; \
		done; \
	done; exit $$fail
