#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Make zstd's thread pool run each job as a ukcov section for its submitter.

    bench/fuzz-zstd/patch-pool.py IN OUT

reads zstd's lib/common/pool.c (IN, the Debian source as fetched, never
committed) and writes OUT with four insertions, each guarded by
#ifdef UKCOV_POOL, so that the same file builds for the engines' own
instrumentation (without UKCOV_POOL) exactly as before:

  1. <ukcov.h> is included after zstd's threading header;
  2. the job struct gets a uint64_t handle;
  3. the job is queued with the submitter's handle (ukcov_capture(), in
     the one function both POOL_add and POOL_tryAdd queue through);
  4. the worker runs the job with ukcov_run_captured(handle, fn, arg)
     instead of calling fn(arg).

This is the change ukcov_run_captured(3) asks of any pool.  Each place is
found by a short pattern that must match exactly once; when zstd's source
has changed so that one does not, the script says which and exits 1,
writing nothing.
"""
import re
import sys

TAG = "/* ukcov bench/fuzz-zstd/patch-pool.py */"

# (what, pattern, replacement): the pattern must match exactly once.  A
# replacement keeps what it matched (\g<0>, or the groups) and adds lines.
EDITS = [
    ("the threading include",
     r'(?m)^#include "threading\.h".*\n',
     "\\g<0>#ifdef UKCOV_POOL " + TAG + "\n#include <ukcov.h>\n#endif\n"),
    ("the job struct's last member",
     r"(?m)^([ \t]*)void \*opaque;\n(\} POOL_job;)",
     "\\1void *opaque;\n#ifdef UKCOV_POOL " + TAG + "\n"
     "\\1uint64_t handle;   /* the submitter's common handle */\n"
     "#endif\n\\2"),
    ("the job's set-up when queued",
     r"(?m)^([ \t]*)job\.opaque = opaque;\n",
     "\\g<0>#ifdef UKCOV_POOL " + TAG + "\n"
     "\\1job.handle = ukcov_capture();\n#endif\n"),
    ("the worker's call of the job",
     r"(?m)^([ \t]*)job\.function\(job\.opaque\);\n",
     "#ifdef UKCOV_POOL " + TAG + "\n"
     "\\1ukcov_run_captured(job.handle, job.function, job.opaque);\n"
     "#else\n\\g<0>#endif\n"),
]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: patch-pool.py IN OUT")
    src, dst = sys.argv[1], sys.argv[2]
    try:
        with open(src) as f:
            text = f.read()
    except OSError as e:
        sys.exit("patch-pool: %s: %s" % (src, e.strerror))
    if TAG in text:
        sys.exit("patch-pool: %s is already patched" % src)
    for what, pat, rep in EDITS:
        n = len(re.findall(pat, text))
        if n != 1:
            sys.exit("patch-pool: %s: %s found %d times, want once (a zstd "
                     "this script does not know?)" % (src, what, n))
        text = re.sub(pat, rep, text)
    try:
        with open(dst, "w") as f:
            f.write(text)
    except OSError as e:
        sys.exit("patch-pool: %s: %s" % (dst, e.strerror))


if __name__ == "__main__":
    main()
