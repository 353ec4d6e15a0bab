# SPDX-License-Identifier: MIT
# The compiler wrapper (ukcov-cc(1)).  Included from the top Makefile.
#
#   $(BUILD)/tools/ukcov-cc        the wrapper; ukcov-c++, ukcov-clang and
#                                  ukcov-clang++ are links to it (the name
#                                  picks the compiler)
#   $(BUILD)/ukcov.dynlist         the runtime's symbols, which the wrapper
#                                  exports from executables linked with
#                                  libukcov.a (generated from src/ukcov.map)
#
# The wrapper is an ordinary program, never instrumented, and never used to
# build ukcov itself.  It has the install paths compiled in (and the build
# tree's, which it uses when it runs from there); a stamp holding them makes
# `make install PREFIX=...` rebuild it for that PREFIX.

WRAPPER := $(BUILD)/tools/ukcov-cc
WRAPPER_LINKS := ukcov-c++ ukcov-clang ukcov-clang++
WRAPPER_PATHS := $(BINDIR) $(LIBDIR) $(INCLUDEDIR) $(abspath $(BUILD)) $(abspath include)
WRAPPER_DEFS := -DUKCOV_BINDIR='"$(BINDIR)"' -DUKCOV_LIBDIR='"$(LIBDIR)"' \
	-DUKCOV_INCLUDEDIR='"$(INCLUDEDIR)"' \
	-DUKCOV_BUILD_DIR='"$(abspath $(BUILD))"' \
	-DUKCOV_SOURCE_INCLUDEDIR='"$(abspath include)"'

.PHONY: wrapper install-wrapper uninstall-wrapper ukcov-force
all: wrapper
tools: wrapper
lib: $(BUILD)/$(NAME).dynlist
wrapper: $(WRAPPER) $(addprefix $(BUILD)/tools/,$(WRAPPER_LINKS)) \
	$(BUILD)/$(NAME).dynlist

$(BUILD)/tools/wrapper-paths: ukcov-force
	@mkdir -p $(dir $@)
	@printf '%s\n' $(WRAPPER_PATHS) | cmp -s - $@ || \
		printf '%s\n' $(WRAPPER_PATHS) > $@
$(WRAPPER): tools/ukcov-cc.c $(BUILD)/tools/wrapper-paths
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) $(WRAPPER_DEFS) -o $@ $<
$(addprefix $(BUILD)/tools/,$(WRAPPER_LINKS)): $(WRAPPER)
	ln -sf ukcov-cc $@

# Every function libukcov.so exports (its API, the callbacks and the libc
# routes it interposes), for --dynamic-list: a dlopen'ed plugin's calls
# then bind to the executable's copy.
$(BUILD)/$(NAME).dynlist: $(BUILD)/lib$(NAME).so
	@mkdir -p $(dir $@)
	{ echo '/* The functions of libukcov.so, exported by executables that'; \
	  echo ' * ukcov-cc links with libukcov.a. */'; \
	  echo '{'; \
	  nm -D --defined-only $< | awk '$$2 ~ /^[TW]$$/ { print "\t" $$3 ";" }' | \
		sed 's/@.*;/;/' | sort -u; \
	  echo '};'; } > $@

install: install-wrapper
install-wrapper: wrapper
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/$(NAME)
	install -m 755 $(WRAPPER) $(DESTDIR)$(BINDIR)/
	for n in $(WRAPPER_LINKS); do ln -sf ukcov-cc $(DESTDIR)$(BINDIR)/$$n; done
	install -m 644 $(BUILD)/$(NAME).dynlist $(BUILD)/$(NAME)-static.ldflags \
		$(DESTDIR)$(LIBDIR)/$(NAME)/

uninstall: uninstall-wrapper
uninstall-wrapper:
	rm -f $(DESTDIR)$(BINDIR)/ukcov-cc $(addprefix $(DESTDIR)$(BINDIR)/,$(WRAPPER_LINKS))
	rm -rf $(DESTDIR)$(LIBDIR)/$(NAME)
