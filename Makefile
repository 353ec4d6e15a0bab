# ukcov: plain GNU make.  `make` builds the libraries, examples and tests;
# `make check` runs the whole suite (plain, ASan+UBSan, TSan, lints);
# `make demo` runs the demonstration; `make bench` prints the benchmarks.
#
# Variables: CC, CFLAGS, PREFIX, DESTDIR, BUILD (output folder),
# SAN (address | thread: a sanitizer build of tests and runtime).

NAME := ukcov
VERSION := 0.1.0
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
# The date of the man pages: with "ukcov $(VERSION)", what every page's .TH
# line carries (`make man-th` writes both into man/; tests/lint/man-lint.sh
# checks them).  Change it with any change to a page.
MAN_DATE := 2026-11-30

CC ?= cc
BUILD ?= build
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
BINDIR ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=gnu11 $(WARN) -Iinclude -D_GNU_SOURCE $(CFLAGS)

# Sanitizer builds: everything but the callbacks, which must stay bare.
ifeq ($(SAN),address)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else ifeq ($(SAN),thread)
SAN_FLAGS := -fsanitize=thread
else
SAN_FLAGS :=
endif

# The runtime: never -fsanitize-coverage.  The callbacks additionally get no
# stack protector, no sanitizer and no instrumentation of any kind.
LIB_SRCS := src/callbacks.c src/kcov.c src/task.c src/routes.c src/remote.c \
	src/signal.c src/autorun.c src/unique.c
LIB_ASM := $(wildcard src/routes-$(shell uname -m).S)
LIB_CFLAGS := $(BASE_CFLAGS) -fvisibility=hidden -fno-semantic-interposition
# -fexceptions: the cleanups that end a handler frame or a captured section
# run when a C++ exception, pthread_exit or a cancellation unwinds through.
CTL_FLAGS := -fexceptions
HOT_FLAGS := -fno-stack-protector -fno-sanitize=all -fcf-protection=none -fomit-frame-pointer

SO_OBJS := $(patsubst src/%.c,$(BUILD)/pic/%.o,$(LIB_SRCS)) \
	$(patsubst src/%.S,$(BUILD)/pic/%.o,$(LIB_ASM))
A_OBJS := $(patsubst src/%.c,$(BUILD)/pie/%.o,$(LIB_SRCS)) \
	$(patsubst src/%.S,$(BUILD)/pie/%.o,$(LIB_ASM))
SONAME := lib$(NAME).so.$(MAJOR)
SO := $(BUILD)/lib$(NAME).so.$(VERSION)
ARCHIVE := $(BUILD)/lib$(NAME).a

# Instrumented code (tests, examples, benchmarks, the demo).
COV_FLAGS := -fsanitize-coverage=trace-pc,trace-cmp
USER_CFLAGS := $(BASE_CFLAGS) $(SAN_FLAGS)
# Sanitizer runtimes define coverage callbacks of their own: link such
# builds with the static library so that ukcov's win.
ifeq ($(SAN),)
LINK_UKCOV := -L$(BUILD) -l$(NAME) -Wl,-rpath,$(abspath $(BUILD))
LIB_DEP := $(BUILD)/lib$(NAME).so
else
LINK_UKCOV := $(ARCHIVE)
LIB_DEP := $(ARCHIVE)
endif
LDLIBS := -lpthread
# clang links its UBSan runtime, with weak comparison callbacks, into any
# program built with -fsanitize-coverage and no sanitizer: that copy would
# shadow the shared library's.
ifneq ($(shell $(CC) --version 2>/dev/null | grep -c clang),0)
ifeq ($(SAN),)
LDLIBS += -fno-sanitize-link-runtime
endif
endif

TEST_SRCS := $(sort $(wildcard tests/*.c))
TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%.t,$(TEST_SRCS))
# C++ tests (the routes that are C++: exceptions), with the C++ compiler
# of the same family: g++ for gcc, clang++ for clang.
CXX_OF_CC = $(if $(findstring clang,$(notdir $(CC))),$(subst clang,clang++,$(CC)),$(if $(findstring gcc,$(notdir $(CC))),$(subst gcc,g++,$(CC)),c++))
TEST_CXX := $(CXX_OF_CC)
USER_CXXFLAGS := -std=gnu++17 -Wall -Wextra -Wshadow -Iinclude -D_GNU_SOURCE \
	$(CFLAGS) $(SAN_FLAGS)
TEST_CXX_SRCS := $(sort $(wildcard tests/*.cc))
TESTS += $(patsubst tests/%.cc,$(BUILD)/tests/%.t,$(TEST_CXX_SRCS))
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRCS))

.PHONY: all lib examples tests check runtests check-plain check-asan \
	check-tsan lint install uninstall clean bench demo
all: lib examples tests

lib: $(BUILD)/lib$(NAME).so $(ARCHIVE) $(BUILD)/$(NAME).pc \
	$(BUILD)/$(NAME)-uninstalled.pc $(BUILD)/$(NAME)-static.ldflags

# What a fully static program links with libukcov.a besides: -u options
# that pull in libc.a's own functions behind ukcov's routes (routes.c,
# UKCOV_DECLARE_FALLBACK), and libc.a's exit (its member, through another
# of its names: ukcov's weak exit would satisfy exit itself).  ukcov-cc adds
# them to -static links.
STATIC_ANCHORS := __pthread_create_2_1 __pthread_exit __new_quick_exit \
	__libc_longjmp __run_exit_handlers __dlclose __pthread_setname_np
$(BUILD)/$(NAME)-static.ldflags: Makefile
	@mkdir -p $(dir $@)
	echo "$(foreach s,$(STATIC_ANCHORS),-Wl,-u,$(s))" > $@

$(BUILD)/pic/callbacks.o: src/callbacks.c src/internal.h include/ukcov.h include/ukcov/kcov.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(HOT_FLAGS) -fPIC -c -o $@ $<
$(BUILD)/pie/callbacks.o: src/callbacks.c src/internal.h include/ukcov.h include/ukcov/kcov.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(HOT_FLAGS) -fPIE -DUKCOV_TLS_MODEL='"local-exec"' -c -o $@ $<
$(BUILD)/pic/%.o: src/%.c src/internal.h include/ukcov.h include/ukcov/kcov.h include/ukcov/file.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(CTL_FLAGS) $(SAN_FLAGS) -fPIC -DUKCOV_SHARED -c -o $@ $<
$(BUILD)/pie/%.o: src/%.c src/internal.h include/ukcov.h include/ukcov/kcov.h include/ukcov/file.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(CTL_FLAGS) $(SAN_FLAGS) -fPIE -DUKCOV_TLS_MODEL='"local-exec"' -c -o $@ $<
$(BUILD)/pic/%.o: src/%.S
	@mkdir -p $(dir $@)
	$(CC) -fPIC -DUKCOV_SHARED -c -o $@ $<
$(BUILD)/pie/%.o: src/%.S
	@mkdir -p $(dir $@)
	$(CC) -fPIE -c -o $@ $<

# -z defs: nothing undefined but what libc and libpthread provide; not in
# sanitizer builds, whose objects call into the program's runtime.
$(SO): $(SO_OBJS) src/$(NAME).map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/$(NAME).map \
		$(if $(SAN),,-Wl,-z,defs) $(SAN_FLAGS) -o $@ $(SO_OBJS) $(LDLIBS)
$(BUILD)/lib$(NAME).so: $(SO)
	ln -sf lib$(NAME).so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@
$(ARCHIVE): $(A_OBJS)
	rm -f $@
	ar rcs $@ $^

include fuzzer/fuzzer.mk

$(BUILD)/$(NAME).pc: $(NAME).pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# The build tree's own: `PKG_CONFIG_PATH=$(BUILD) pkg-config ukcov` reads
# it (pkg-config prefers NAME-uninstalled.pc), before any `make install`.
$(BUILD)/$(NAME)-uninstalled.pc: $(NAME)-uninstalled.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@BUILDDIR@|$(abspath $(BUILD))|' -e 's|@INCLUDEDIR@|$(abspath include)|' \
	    -e 's|@VERSION@|$(VERSION)|' $< > $@

examples: $(EXAMPLES)
$(BUILD)/examples/%: examples/%.c $(LIB_DEP) include/ukcov.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -o $@ $< -rdynamic $(LINK_UKCOV) $(LDLIBS) -ldl

# Libraries the tests load: uninstrumented, linked against libc alone.
TEST_LIB_SRCS := $(sort $(wildcard tests/lib/*.c))
TEST_LIBS := $(patsubst tests/lib/%.c,$(BUILD)/tests/lib%.so,$(TEST_LIB_SRCS))
$(BUILD)/tests/lib%.so: tests/lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -fPIC -shared -o $@ $<

# clang's trace-pc-guard: the unique-mode tests again, with the other index
# scheme (guards numbered at init instead of PC ranges).  gcc has no guards.
ifneq ($(shell $(CC) --version 2>/dev/null | grep -c clang),0)
GUARD_TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%-guard.t,$(sort $(wildcard tests/unique-*.c)))
TESTS += $(GUARD_TESTS)
$(BUILD)/tests/%-guard.t: tests/%.c $(BUILD)/tests/helpers.o $(LIB_DEP) tests/helpers/helpers.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -fsanitize-coverage=trace-pc-guard,trace-cmp -DT_GUARD \
		-Itests/helpers -o $@ $< $(BUILD)/tests/helpers.o -rdynamic \
		$(LINK_UKCOV) $(LDLIBS) -ldl
endif

# Instrumented plugins the unique-mode tests dlopen: one source, two
# modules of the same layout (tests/cov-lib/plugin.c).  Their callbacks
# resolve to the program's libukcov when they are loaded.
COV_PLUGINS := $(BUILD)/tests/libcov-a.so $(BUILD)/tests/libcov-b.so
$(BUILD)/tests/libcov-a.so: tests/cov-lib/plugin.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -DVARIANT=1 -fPIC -shared -o $@ $<
$(BUILD)/tests/libcov-b.so: tests/cov-lib/plugin.c
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -DVARIANT=2 -fPIC -shared -o $@ $<

tests: $(TESTS) $(TEST_LIBS) $(COV_PLUGINS)
$(BUILD)/tests/helpers.o: tests/helpers/helpers.c tests/helpers/helpers.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itests/helpers -c -o $@ $<
# Tests are instrumented; tests/helpers is not (it must not pollute traces).
$(BUILD)/tests/%.t: tests/%.c $(BUILD)/tests/helpers.o $(LIB_DEP) tests/helpers/helpers.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -Itests/helpers -o $@ $< \
		$(BUILD)/tests/helpers.o -rdynamic $(LINK_UKCOV) $(LDLIBS) -ldl

# -fnon-call-exceptions: a C++ exception may be thrown from a handler of a
# fault, as libraries that turn faults into exceptions do.
$(BUILD)/tests/%.t: tests/%.cc $(BUILD)/tests/helpers.o $(LIB_DEP) tests/helpers/helpers.h
	@mkdir -p $(dir $@)
	$(TEST_CXX) $(USER_CXXFLAGS) -fnon-call-exceptions $(COV_FLAGS) \
		-Itests/helpers -o $@ $< $(BUILD)/tests/helpers.o -rdynamic \
		$(LINK_UKCOV) $(LDLIBS) -ldl

# The tools' tests (tests/tools/*.sh) run in every suite, against that
# build's tools: under ASan+UBSan in the asan suite.
TOOL_TESTS := $(sort $(wildcard tests/tools/*.sh))

# The suite of one build.
runtests: all
	BUILD=$(BUILD) SAN=$(SAN) CC=$(CC) SUITE=$(SUITE) tests/runtests.sh \
		$(TESTS) $(TOOL_TESTS)

# The README's test command: every build, every lint.
check:
	tests/check.sh

install: lib tools
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/ukcov \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(SO) $(ARCHIVE) $(AFL_LIB) $(DESTDIR)$(LIBDIR)/
	[ ! -e $(LIBFUZZER_LIB) ] || install -m 644 $(LIBFUZZER_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf lib$(NAME).so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/lib$(NAME).so
	install -m 644 include/ukcov.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 include/ukcov/kcov.h include/ukcov/file.h include/ukcov/fuzzer.h \
		$(DESTDIR)$(INCLUDEDIR)/ukcov/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    $(NAME).pc.in > $(DESTDIR)$(PKGCONFIGDIR)/$(NAME).pc
	for f in man/*.3; do [ -e "$$f" ] && cp -P $$f $(DESTDIR)$(MANDIR)/man3/; done; true
	for f in man/*.7; do [ -e "$$f" ] && cp -P $$f $(DESTDIR)$(MANDIR)/man7/; done; true
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BINDIR)
	install -m 755 $(BUILD)/tools/ukcov-run $(BUILD)/tools/ukcov-report $(DESTDIR)$(BINDIR)/
	for f in man/*.1; do [ -e "$$f" ] && cp -P $$f $(DESTDIR)$(MANDIR)/man1/; done; true
	for f in man/*.5; do [ -e "$$f" ] && cp -P $$f $(DESTDIR)$(MANDIR)/man5/; done; true

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/lib$(NAME).so* $(DESTDIR)$(LIBDIR)/lib$(NAME).a \
		$(DESTDIR)$(LIBDIR)/lib$(NAME)-afl.a $(DESTDIR)$(LIBDIR)/lib$(NAME)-libfuzzer.a
	rm -f $(DESTDIR)$(INCLUDEDIR)/ukcov.h $(DESTDIR)$(PKGCONFIGDIR)/$(NAME).pc
	rm -rf $(DESTDIR)$(INCLUDEDIR)/ukcov
	rm -f $(DESTDIR)$(BINDIR)/ukcov-run $(DESTDIR)$(BINDIR)/ukcov-report
	rm -f $(DESTDIR)$(MANDIR)/man1/ukcov-*.1 $(DESTDIR)$(MANDIR)/man5/ukcov-*.5 \
		$(DESTDIR)$(MANDIR)/man3/ukcov_*.3 $(DESTDIR)$(MANDIR)/man7/ukcov.7

bench:
	bench/run.sh

# Stamp every man page's .TH line with MAN_DATE and VERSION (the manual's
# name, the fifth field, is left as it is).  Alias pages are symbolic links.
.PHONY: man-th
man-th:
	for f in man/*.[1-8]; do \
		[ -L "$$f" ] || sed -i -E '1,3s/^(\.TH [^ ]+ [1-8]) [^ ]+ "[^"]*"/\1 $(MAN_DATE) "ukcov $(VERSION)"/' "$$f"; \
	done

clean:
	rm -rf build build-*

-include bench/bench.mk

# ---- tools and demo (ukcov-run, ukcov-report, `make demo`) ----------------
# ukcov-run and ukcov-report are ordinary programs (never instrumented),
# built with the sanitizer of the build (SAN) like the tests.  They read
# ELF and DWARF with elfutils' libelf and libdw (Debian: libdw-dev, which
# brings libelf-dev): without them `make` builds the rest and says so, and
# `make tools` stops with that line.
HAVE_ELFUTILS := $(shell test -e /usr/include/elfutils/libdw.h && \
	test -e /usr/include/gelf.h && echo 1)
TOOLS_NEED := elfutils' libelf and libdw (apt-get install libdw-dev)
TOOLS_CFLAGS := $(BASE_CFLAGS) $(SAN_FLAGS)
TOOLS_LIBS := -ldw -lelf
TOOLS := $(BUILD)/tools/ukcov-run $(BUILD)/tools/ukcov-report
TOOLS_HDRS := tools/ukcov-file.h tools/ukcov-elf.h include/ukcov.h \
	include/ukcov/kcov.h include/ukcov/file.h
TOOLS_OBJS := $(BUILD)/tools/ukcov-file.o $(BUILD)/tools/ukcov-elf.o

.PHONY: tools
ifeq ($(HAVE_ELFUTILS),1)
all: tools
tools: $(TOOLS)
else
all: tools-missing
.PHONY: tools-missing
tools-missing:
	@echo "make: ukcov-run and ukcov-report are not built: they need $(TOOLS_NEED)"
tools:
	@echo "make: ukcov-run and ukcov-report need $(TOOLS_NEED)"; exit 1
endif
$(BUILD)/tools/%.o: tools/%.c $(TOOLS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -c -o $@ $<
$(BUILD)/tools/ukcov-run: $(BUILD)/tools/ukcov-run.o $(TOOLS_OBJS)
	$(CC) $(TOOLS_CFLAGS) -o $@ $^ $(TOOLS_LIBS)
$(BUILD)/tools/ukcov-report: $(BUILD)/tools/ukcov-report.o $(TOOLS_OBJS)
	$(CC) $(TOOLS_CFLAGS) -o $@ $^ $(TOOLS_LIBS)

# The demo program: like every example, plus -fno-optimize-sibling-calls so
# that gcc never turns a function's last coverage callback into a tail jump,
# whose recorded PC would then be the caller's (see ukcov-report(1)).
$(BUILD)/examples/demo-server: examples/demo-server.c $(LIB_DEP) include/ukcov.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -fno-optimize-sibling-calls -o $@ $< \
		-rdynamic $(LINK_UKCOV) $(LDLIBS) -ldl

# `make demo`: the README's main command.  Installs libdw-dev and lcov with
# apt-get when root and they are missing (else goes on without them), builds
# everything, runs examples/demo-server.c under ukcov-run and reports.
DEMO_DIR := $(BUILD)/demo
DEMO_HANDLES := 0x8100000000000001,0x8100000000000002
demo:
	@need=; \
	test -e /usr/include/elfutils/libdw.h -a -e /usr/include/gelf.h || \
		need="$$need libdw-dev"; \
	command -v genhtml >/dev/null 2>&1 || need="$$need lcov"; \
	if [ -n "$$need" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "demo: installing$$need (apt-get)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq $$need; } >/dev/null 2>&1 || \
			echo "demo: could not install$$need; going on without"; \
	fi
	@$(MAKE) -s lib tools $(BUILD)/examples/demo-server
	@mkdir -p $(DEMO_DIR)
	@echo
	@echo "== ukcov-run --handle $(DEMO_HANDLES) --signal ALRM,CHLD -o $(DEMO_DIR)/demo.cov -- $(BUILD)/examples/demo-server"
	@$(BUILD)/tools/ukcov-run --handle $(DEMO_HANDLES) --signal ALRM,CHLD \
		-o $(DEMO_DIR)/demo.cov -- $(BUILD)/examples/demo-server
	@echo
	@echo "== ukcov-report $(DEMO_DIR)/demo.cov"
	@$(BUILD)/tools/ukcov-report $(DEMO_DIR)/demo.cov
	@echo
	@echo "How to read it: each thread's own trace is a 'thread:' area (main, the"
	@echo "early-exiting config thread, the pool threads, the clients).  The pool"
	@echo "runs every job as a section for the submitter's common handle"
	@echo "(ukcov_capture/ukcov_run_captured): under ukcov-run all threads share one,"
	@echo "so 'common' holds the pool's work for everybody (serve, account, and the"
	@echo "main thread's stats job).  To tell the clients apart, each request body"
	@echo "runs in a nested section for its client's own global handle, which"
	@echo "ukcov-run collected with --handle: handle:app1:1 is client-0's GETs,"
	@echo "handle:app1:2 client-1's PUTs.  signal:SIGALRM and signal:SIGCHLD are"
	@echo "the handlers, kept out of the interrupted threads' traces.  COVERED"
	@echo "PCS: of the program's coverable PCs (the call sites of the coverage"
	@echo "callback), how many each area ran; the totals, the files and the HTML"
	@echo "report show what no area reached (ukcov-report --uncovered lists it)."
	@echo
	@if ! command -v genhtml >/dev/null 2>&1; then \
		$(BUILD)/tools/ukcov-report -L $(DEMO_DIR)/demo.info $(DEMO_DIR)/demo.cov; \
		echo "demo: no HTML report: genhtml is not installed (apt-get install lcov)"; \
	else \
		$(BUILD)/tools/ukcov-report -L $(DEMO_DIR)/demo.info $(DEMO_DIR)/demo.cov 2>/dev/null && \
		rm -rf $(DEMO_DIR)/html && \
		genhtml -q --show-details --legend -t "ukcov demo-server" \
			-o $(DEMO_DIR)/html $(DEMO_DIR)/demo.info >/dev/null 2>$(DEMO_DIR)/genhtml.log && \
		echo "HTML report (one test per area; 'details' splits it): $(DEMO_DIR)/html/index.html" || \
		{ echo "demo: genhtml failed, see $(DEMO_DIR)/genhtml.log"; exit 1; }; \
	fi
# ---- end of tools and demo ------------------------------------------------
include tools/wrapper.mk
-include fuzz/fuzz.mk
