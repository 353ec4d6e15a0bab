/* SPDX-License-Identifier: MIT */
/*
 * Force-include this header (-include ukcov-noplt.h) together with -fno-plt
 * when building a target with clang against libukcov.so.
 *
 * clang's -fno-plt marks every external function the translation unit
 * declares "nonlazybind", so its calls go through the GOT; but the coverage
 * pass inserts its callbacks after that, with no such attribute, and clang 14
 * calls them through the PLT anyway.  Once the callback is declared and
 * referenced here, the pass reuses this declaration, and every instrumented
 * call becomes `call *__sanitizer_cov_trace_pc@GOTPCREL(%rip)`.  gcc honours
 * -fno-plt for the callbacks without it (and ignores what it adds).
 */
#ifndef UKCOV_NOPLT_H
#define UKCOV_NOPLT_H
void __sanitizer_cov_trace_pc(void);
static void (*const ukcov_noplt_trace_pc_)(void)
	__attribute__((used)) = __sanitizer_cov_trace_pc;
#endif
