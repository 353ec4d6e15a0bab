# ukcov: plain GNU make.  `make` builds the libraries, examples and tests;
# `make check` runs the whole suite (plain, ASan+UBSan, TSan, lints);
# `make demo` runs the demonstration; `make bench` prints the benchmarks.
#
# Variables: CC, CFLAGS, PREFIX, DESTDIR, BUILD (output folder),
# SAN (address | thread: a sanitizer build of tests and runtime).

NAME := ukcov
VERSION := 0.1.0
MAJOR := $(word 1,$(subst ., ,$(VERSION)))

CC ?= cc
BUILD ?= build
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
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
LIB_SRCS := src/callbacks.c src/kcov.c src/task.c src/remote.c src/signal.c src/autorun.c
LIB_CFLAGS := $(BASE_CFLAGS) -fvisibility=hidden -fno-semantic-interposition
HOT_FLAGS := -fno-stack-protector -fno-sanitize=all -fcf-protection=none -fomit-frame-pointer

SO_OBJS := $(patsubst src/%.c,$(BUILD)/pic/%.o,$(LIB_SRCS))
A_OBJS := $(patsubst src/%.c,$(BUILD)/pie/%.o,$(LIB_SRCS))
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
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRCS))

.PHONY: all lib examples tests check runtests check-plain check-asan \
	check-tsan lint install uninstall clean bench demo
all: lib examples tests

lib: $(BUILD)/lib$(NAME).so $(ARCHIVE) $(BUILD)/$(NAME).pc

$(BUILD)/pic/callbacks.o: src/callbacks.c src/internal.h include/ukcov.h include/ukcov/kcov.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(HOT_FLAGS) -fPIC -c -o $@ $<
$(BUILD)/pie/callbacks.o: src/callbacks.c src/internal.h include/ukcov.h include/ukcov/kcov.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(HOT_FLAGS) -fPIE -DUKCOV_TLS_MODEL='"local-exec"' -c -o $@ $<
$(BUILD)/pic/%.o: src/%.c src/internal.h include/ukcov.h include/ukcov/kcov.h include/ukcov/file.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(SAN_FLAGS) -fPIC -DUKCOV_SHARED -c -o $@ $<
$(BUILD)/pie/%.o: src/%.c src/internal.h include/ukcov.h include/ukcov/kcov.h include/ukcov/file.h
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) $(SAN_FLAGS) -fPIE -DUKCOV_TLS_MODEL='"local-exec"' -c -o $@ $<

$(SO): $(SO_OBJS) src/$(NAME).map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=src/$(NAME).map \
		-Wl,-z,defs $(SAN_FLAGS) -o $@ $(SO_OBJS) $(LDLIBS)
$(BUILD)/lib$(NAME).so: $(SO)
	ln -sf lib$(NAME).so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@
$(ARCHIVE): $(A_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/$(NAME).pc: $(NAME).pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

examples: $(EXAMPLES)
$(BUILD)/examples/%: examples/%.c $(LIB_DEP) include/ukcov.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -o $@ $< -rdynamic $(LINK_UKCOV) $(LDLIBS) -ldl

tests: $(TESTS)
$(BUILD)/tests/helpers.o: tests/helpers/helpers.c tests/helpers/helpers.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -Itests/helpers -c -o $@ $<
# Tests are instrumented; tests/helpers is not (it must not pollute traces).
$(BUILD)/tests/%.t: tests/%.c $(BUILD)/tests/helpers.o $(LIB_DEP) tests/helpers/helpers.h
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) $(COV_FLAGS) -Itests/helpers -o $@ $< \
		$(BUILD)/tests/helpers.o -rdynamic $(LINK_UKCOV) $(LDLIBS) -ldl

# The suite of one build.
runtests: all
	BUILD=$(BUILD) SAN=$(SAN) CC=$(CC) SUITE=$(SUITE) tests/runtests.sh $(TESTS)

# The README's test command: every build, every lint.
check:
	tests/check.sh

install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/ukcov \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(SO) $(ARCHIVE) $(DESTDIR)$(LIBDIR)/
	ln -sf lib$(NAME).so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/lib$(NAME).so
	install -m 644 include/ukcov.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 include/ukcov/kcov.h include/ukcov/file.h $(DESTDIR)$(INCLUDEDIR)/ukcov/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    $(NAME).pc.in > $(DESTDIR)$(PKGCONFIGDIR)/$(NAME).pc
	for f in man/*.3; do [ -e "$$f" ] && cp -P $$f $(DESTDIR)$(MANDIR)/man3/; done; true
	for f in man/*.7; do [ -e "$$f" ] && cp -P $$f $(DESTDIR)$(MANDIR)/man7/; done; true

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/lib$(NAME).so* $(DESTDIR)$(LIBDIR)/lib$(NAME).a
	rm -f $(DESTDIR)$(INCLUDEDIR)/ukcov.h $(DESTDIR)$(PKGCONFIGDIR)/$(NAME).pc
	rm -rf $(DESTDIR)$(INCLUDEDIR)/ukcov

bench:
	bench/run.sh

clean:
	rm -rf build build-*

-include bench/bench.mk

# The demonstration: the examples, built and run one after the other.
DEMOS := kcov-trace-pc kcov-trace-cmp remote-worker thread-pool signals
demo: all
	@for d in $(DEMOS); do \
		if [ -x $(BUILD)/examples/$$d ]; then \
			echo "== examples/$$d.c"; \
			$(BUILD)/examples/$$d || exit 1; \
		fi; \
	done
