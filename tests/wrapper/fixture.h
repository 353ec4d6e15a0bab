/* SPDX-License-Identifier: MIT */
/*
 * The wrapper's fixture (tests/wrapper/): a shared library, a dlopen'ed
 * plugin and the programs that use them, built by a project's own build
 * system (configure + make, cmake, meson) with CC=ukcov-cc CXX=ukcov-c++.
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#ifdef __cplusplus
extern "C" {
#endif

/* libfixture.so (lib.c), linked with -z defs. */
int fixture_lib_classify(int x);

/* plugin.so (plugin.c), opened with dlopen: its one entry point. */
typedef int (*fixture_plugin_fn)(int x);
#define FIXTURE_PLUGIN_ENTRY "fixture_plugin_score"

#ifdef __cplusplus
}
#endif
#endif
