#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench-peers`: ukcov against libFuzzer and AFL++ on SQLite and zlib.

Run by bench/peers/run.sh once the builds in build-peers/bin exist.  Prints
every figure, the tables and the budgets, and writes BENCHMARKS-peers.md.
Never fails on a timing: a missed budget is printed as MISSED.

Verdicts are judged on CPU time from paired, alternated rounds and on
callgrind instruction counts; wall-clock ratios are printed beside them,
never as the verdict.  A round runs every build once, in the table's order
in even rounds and in the reverse order in odd ones (A B ... B A ...): the
ratio of two builds is taken within each round (a pair), and the median
of those per-round ratios is reported with its spread (lowest - highest).

Environment: PEERS_ROUNDS (6), PEERS_ROWS (100000, workload a), PEERS_N
(3000, workload b), PEERS_TN (1000 inputs per thread, workload c),
PEERS_VG_N (100, inputs per callgrind run), PEERS_VG_ROWS (5000),
PEERS_BITMAP_KIB (64,4096: unique-mode bitmap sizes, KiB), PEERS_ZLIB_MB
(8, the zlib input), PEERS_ZLIB_VG_MB (2, under callgrind), PEERS_VERIFY_N
(100: inputs of the unique-mode check against the ordered trace),
HAVE_VALGRIND (1), PEERS_HAVE_ZLIB (1).
"""
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.getcwd()
O = os.path.join(ROOT, "build-peers")
BIN = os.path.join(O, "bin")
ROUNDS = int(os.environ.get("PEERS_ROUNDS", "6"))
ROWS = int(os.environ.get("PEERS_ROWS", "100000"))
N = int(os.environ.get("PEERS_N", "3000"))
TN = int(os.environ.get("PEERS_TN", "1000"))
VG_N = int(os.environ.get("PEERS_VG_N", "100"))
VG_ROWS = int(os.environ.get("PEERS_VG_ROWS", "5000"))
BITMAP_KIB = [int(x) for x in
              os.environ.get("PEERS_BITMAP_KIB", "64,4096").split(",") if x]
ZMB = int(os.environ.get("PEERS_ZLIB_MB", "8"))
ZVG_MB = int(os.environ.get("PEERS_ZLIB_VG_MB", "2"))
VERIFY_N = int(os.environ.get("PEERS_VERIFY_N", "100"))
HAVE_VG = os.environ.get("HAVE_VALGRIND", "1") == "1"
HAVE_ZLIB = os.environ.get("PEERS_HAVE_ZLIB", "1") == "1"
THREADS = [1, 2, 4]
commands = []
SKIPPED = {}   # key: why the row has no figures


def say(*a):
    print(*a, flush=True)


def have(b):
    return os.access(os.path.join(BIN, b), os.X_OK)


def kib(k):
    return "%d MiB" % (k // 1024) if k % 1024 == 0 else "%d KiB" % k


# A row of the tables: label, binary, collector mode (the driver's last
# argument), compiler, kind (base / ukcov / peer), and what it includes:
# the instrumentation, the per-input reset and read, the signal.
class V:
    def __init__(self, key, label, binary, mode, cc, kind, instr, coll, sig,
                 wl=("cpu", "fuzz")):
        self.key, self.label, self.binary, self.mode = key, label, binary, mode
        self.cc, self.kind, self.instr, self.coll, self.sig = \
            cc, kind, instr, coll, sig
        self.wl = wl

    def cmd(self, workload, *args):
        c = [os.path.join(BIN, self.binary), workload] + [str(a) for a in args]
        if self.mode:
            c.append(self.mode)
        return c


EDGES = ("edges: adjacent PCs hashed as syzkaller's executor does, "
         "deduplicated in a 2 MiB byte map; no hit counts")
BUCKETS = ("edges as above, each with its hit count in this input classed "
           "in AFL's 8 buckets: (edge, bucket)")
RESET0 = "store 0 in word 0; read every entry"
ALL = []
for cc in ("gcc", "clang"):
    ALL += [
        V("base-" + cc, "uninstrumented -O2 (%s)" % cc, "base-" + cc, None,
          cc, "base", "none", "none", "none"),
        V("pc-off-" + cc, "ukcov trace-pc, static, off (%s)" % cc,
          "pc-%s-static" % cc, "off", cc, "ukcov", "trace-pc",
          "none (callbacks linked, thread not collecting)", "none"),
        V("pc-on-" + cc, "ukcov trace-pc, static, on (%s)" % cc,
          "pc-%s-static" % cc, "on", cc, "ukcov", "trace-pc",
          "KCOV_TRACE_PC: " + RESET0, EDGES),
        V("pcbk-" + cc, "ukcov trace-pc, static, on, buckets (%s)" % cc,
          "pc-%s-static" % cc, "buckets", cc, "ukcov", "trace-pc",
          "KCOV_TRACE_PC: " + RESET0 + ", count per edge, clear the "
          "touched counts", BUCKETS, wl=("fuzz",)),
        V("pcso-off-" + cc, "ukcov trace-pc, shared (PLT), off (%s)" % cc,
          "pc-%s-shared" % cc, "off", cc, "ukcov", "trace-pc",
          "none (callbacks linked, thread not collecting)", "none",
          wl=("cpu",)),
        V("pcso-on-" + cc, "ukcov trace-pc, shared (PLT), on (%s)" % cc,
          "pc-%s-shared" % cc, "on", cc, "ukcov", "trace-pc",
          "KCOV_TRACE_PC: " + RESET0, EDGES),
        V("pccmp-on-" + cc,
          "ukcov trace-pc,trace-cmp, static, on, PCs (%s)" % cc,
          "pccmp-%s-static" % cc, "on", cc, "ukcov", "trace-pc,trace-cmp",
          "KCOV_TRACE_PC: " + RESET0 + " (the comparison callbacks run, "
          "not recording)", EDGES),
        V("pccmp-cmp-" + cc,
          "ukcov trace-pc,trace-cmp, static, on, comparisons (%s)" % cc,
          "pccmp-%s-static" % cc, "cmp", cc, "ukcov", "trace-pc,trace-cmp",
          "KCOV_TRACE_CMP: store 0 in word 0; read every 4-word record "
          "(the PC callbacks run, not recording)",
          "comparison operands: (arg1, arg2) hashed into a 2 MiB byte map; "
          "no PC signal (kcov traces PCs or comparisons, not both)"),
    ]
    for i, k in enumerate(BITMAP_KIB):
        w = k * 1024 // 8
        wl = ("cpu", "fuzz") if i == 0 else ("fuzz",)
        uniq = ("KCOV_UNIQUE_ENABLE(%d words): KCOV_RESET_TRACE; read the "
                "trace of new PCs at area[%d]" % (w, w))
        psig = ("PCs, each once per input (no edges, no hit counts), "
                "deduplicated in a 2 MiB byte map")
        if cc == "clang":
            ALL.append(V("guard-%d" % k,
                         "ukcov unique (trace-pc-guard, clang), bitmap %s"
                         % kib(k), "guard-clang-static", "unique=%d" % w,
                         cc, "ukcov", "trace-pc-guard", uniq, psig, wl=wl))
        ALL.append(V("uniq-%s-%d" % (cc, k),
                     "ukcov unique (trace-pc, %s), bitmap %s" % (cc, kib(k)),
                     "pc-%s-static" % cc, "unique=%d" % w, cc, "ukcov",
                     "trace-pc", uniq, psig, wl=wl))
LF_FEAT = ("libFuzzer's features: counter index * 8 + bucket of its count, "
           "in a 2^21-bit set")
LF_RESET = ("memset the counters; scan them 8 bytes at a time, each "
            "non-zero one a feature")
AFL_RESET = ("memset the map (as __afl_persistent_loop does); classify "
             "64-bit words, compare with the virgin map")
ALL += [
    V("lf-loop", "libFuzzer: its own loop, with mutation and corpus work "
      "(fuzzer-no-link)", "lf-loop", None, "clang", "peer",
      "-fsanitize=fuzzer-no-link (inline-8bit-counters, indirect-calls, "
      "trace-cmp, pc-table, stack-depth)",
      "libFuzzer's main: FuzzerDriver, mutation, RunOne (reset, run, "
      "collect features), corpus updates; the input run is the bench's",
      LF_FEAT + "; plus its comparison table (trace-cmp)", wl=("fuzz",)),
    V("lf", "libFuzzer fuzzer-no-link + runtime, bench loop (clang)",
      "lf-driver", None, "clang", "peer",
      "-fsanitize=fuzzer-no-link (inline-8bit-counters, indirect-calls, "
      "trace-cmp, pc-table, stack-depth)", LF_RESET,
      LF_FEAT + "; its trace-cmp hooks fill its comparison table"),
    V("lf8", "libFuzzer inline-8bit-counters + runtime, bench loop (clang)",
      "lf8-driver", None, "clang", "peer",
      "-fsanitize-coverage=inline-8bit-counters,pc-table (no trace-cmp)",
      LF_RESET, LF_FEAT),
    V("lf8-nb", "libFuzzer inline-8bit-counters, no buckets (clang)",
      "lf8-driver", "nobuckets", "clang", "peer",
      "-fsanitize-coverage=inline-8bit-counters,pc-table (no trace-cmp)",
      LF_RESET, "counter index only (edges, no hit counts), in a 2^21-bit "
      "set", wl=("fuzz",)),
    V("afl", "AFL++ afl-clang-fast + runtime, bench loop (clang)",
      "afl-loop", None, "clang", "peer",
      "afl-clang-fast (PCGUARD: inline edge counters, no trace-cmp)",
      AFL_RESET, "edges with AFL's hit-count buckets (bits of the "
      "virgin map)"),
    V("afl-nb", "AFL++ afl-clang-fast, no buckets (clang)", "afl-loop",
      "nobuckets", "clang", "peer",
      "afl-clang-fast (PCGUARD: inline edge counters, no trace-cmp)",
      AFL_RESET.replace("classify", "class every non-zero count as 1 in"),
      "edges only (every non-zero count classed as 1)", wl=("fuzz",)),
]
VS = [v for v in ALL if have(v.binary)]
BY = {v.key: v for v in VS}
for v in ALL:
    if not have(v.binary):
        SKIPPED[v.key] = "not built (%s)" % (
            "libukcov has no __sanitizer_cov_trace_pc_guard: the link "
            "failed, see build-peers/bin/%s.log" % v.binary
            if v.binary.startswith("guard") else "build-peers/bin/" + v.binary)

# zlib rows: the same collectors around one long compression.
ZALL = []
for cc in ("gcc", "clang"):
    ZALL += [
        V("z-base-" + cc, "uninstrumented -O2 (%s)" % cc, "zbase-" + cc,
          None, cc, "base", "none", "none", "none"),
        V("z-pc-off-" + cc, "ukcov trace-pc, static, off (%s)" % cc,
          "zpc-%s-static" % cc, "off", cc, "ukcov", "trace-pc", "", ""),
        V("z-pc-on-" + cc, "ukcov trace-pc, static, on (%s)" % cc,
          "zpc-%s-static" % cc, "on", cc, "ukcov", "trace-pc", "", ""),
        V("z-pcso-off-" + cc, "ukcov trace-pc, shared (PLT), off (%s)" % cc,
          "zpc-%s-shared" % cc, "off", cc, "ukcov", "trace-pc", "", ""),
        V("z-pcso-on-" + cc, "ukcov trace-pc, shared (PLT), on (%s)" % cc,
          "zpc-%s-shared" % cc, "on", cc, "ukcov", "trace-pc", "", ""),
    ]
    w = BITMAP_KIB[0] * 1024 // 8 if BITMAP_KIB else 8192
    if cc == "clang":
        ZALL.append(V("z-guard", "ukcov unique (trace-pc-guard, clang), "
                      "static, bitmap %s" % kib(w * 8 // 1024),
                      "zguard-clang-static", "unique=%d" % w, cc, "ukcov",
                      "trace-pc-guard", "", ""))
    ZALL.append(V("z-uniq-" + cc, "ukcov unique (trace-pc, %s), static, "
                  "bitmap %s" % (cc, kib(w * 8 // 1024)), "zpc-%s-static" % cc,
                  "unique=%d" % w, cc, "ukcov", "trace-pc", "", ""))
ZALL += [
    V("z-lf", "libFuzzer fuzzer-no-link + runtime (clang)", "zlf-driver",
      None, "clang", "peer", "", "", ""),
    V("z-lf8", "libFuzzer inline-8bit-counters + runtime (clang)",
      "zlf8-driver", None, "clang", "peer", "", "", ""),
    V("z-afl", "AFL++ afl-clang-fast + runtime (clang)", "zafl", None,
      "clang", "peer", "", "", ""),
]
ZVS = [v for v in ZALL if HAVE_ZLIB and have(v.binary)]
for v in ZALL:
    if not (HAVE_ZLIB and have(v.binary)):
        SKIPPED[v.key] = ("no zlib source (apt-get source zlib failed, see "
                          "run.sh's message)" if not HAVE_ZLIB else
                          "not built (%s)" % (
                              "libukcov has no __sanitizer_cov_trace_pc_guard"
                              if v.binary.startswith("zguard") else
                              "build-peers/bin/" + v.binary))


def rel(p):
    return os.path.relpath(p, ROOT) if p.startswith(ROOT) else p


def run(cmd, env=None):
    """Run cmd; return its key=value line as a dict, {"skip": why} for a
    collector that is not available (exit 77), or None on failure."""
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=e)
    out = p.stdout.strip().splitlines()
    d = dict(kv.split("=", 1) for kv in (out[-1].split() if out else [])
             if "=" in kv)
    if p.returncode == 77:
        return {"skip": d.get("skip", "exit 77")}
    if p.returncode != 0 or not out:
        say("  FAILED: %s\n%s" % (" ".join(cmd), (p.stdout + p.stderr)[-2000:]))
        return None
    return d


def lf_loop_cmd(n):
    # libFuzzer's own main: no corpus, deterministic seed, no output files.
    return ([os.path.join(BIN, "lf-loop"), "-seed=1", "-max_len=64",
             "-print_final_stats=0", "-rss_limit_mb=0", "-timeout=0",
             # Entropic scheduling would charge every input for features
             # that its (ignored) mutated bytes did not bring: its
             # UpdateFeatureFrequency then takes 96% of the run.
             "-entropic=0",
             "-runs=%d" % (2 * n + 10)], {"PEERS_N": str(n)})


def record(what, cmd, env=None):
    pre = " ".join("%s=%s" % kv for kv in (env or {}).items())
    commands.append((what, (pre + " " if pre else "") +
                     " ".join(shlex.quote(rel(c)) for c in cmd)))


def wl_cmd(v, workload, *args):
    if v.key == "lf-loop":
        return lf_loop_cmd(args[0])
    if workload == "zlib":
        return [os.path.join(BIN, v.binary), str(args[0])] + (
            [v.mode] if v.mode else []), None
    return v.cmd(workload, *args), None


# ------------------------------------------------------------ measure --

UNIQ_CHECK = []   # lines: unique mode against the ordered trace
NOTES = []        # sentences for the notes of BENCHMARKS-peers.md


def verify_unique():
    """`driver verify`: each of the first VERIFY_N inputs of (b) runs under
    an ordered trace, in unique mode and under an ordered trace again (a
    heap of the driver's that makes SQLite's paths repeatable); unique
    mode must append exactly the distinct PCs of the ordered trace, each
    once."""
    for b, what in (("guard-clang-static", "trace-pc-guard, clang"),
                    ("pc-clang-static", "trace-pc, clang"),
                    ("pc-gcc-static", "trace-pc, gcc")):
        if not have(b):
            continue
        for k in BITMAP_KIB:
            w = k * 1024 // 8
            c = [os.path.join(BIN, b), "verify", str(VERIFY_N), str(w)]
            record("unique check: %s, bitmap %s" % (what, kib(k)), c)
            d = run(c)
            if not d or "equal" not in d:
                UNIQ_CHECK.append("%s, bitmap %s: the check did not run "
                                  "(%s)" % (what, kib(k), " ".join(
                                      shlex.quote(rel(x)) for x in c)))
                continue
            ok = int(d["equal"]) == VERIFY_N and d["dups"] == "0"
            UNIQ_CHECK.append(
                "%s, bitmap %s: %s of %d inputs: unique mode's trace is "
                "exactly the distinct PCs of the ordered trace (%s PCs per "
                "input on average); %s differ (%s PCs missing from unique "
                "mode's trace, %s extra), %s repeated within one input's "
                "trace; not compared: %s (the two ordered runs disagreed), "
                "%s (an area filled): %s" % (
                    what, kib(k), d["equal"], VERIFY_N, d["pcs_per_input"],
                    d["differ"], d["missing"], d["extra"], d["dups"],
                    d["nondet"], d["full"], "exact" if ok else "NOT EXACT"))
            say("  " + UNIQ_CHECK[-1])

def rounds(name, variants, workload, args):
    """ROUNDS rounds; each runs every variant once, the order reversed in
    odd rounds.  Returns {key: [the run's dict, or None, per round]}."""
    per = {v.key: [None] * ROUNDS for v in variants}
    for v in variants:
        c, env = wl_cmd(v, workload, *args)
        record("%s: %s" % (name, v.label), c, env)
    for r in range(ROUNDS):
        for v in (variants if r % 2 == 0 else variants[::-1]):
            if v.key in SKIPPED:
                continue
            c, env = wl_cmd(v, workload, *args)
            d = run(c, env)
            if d and "skip" in d:
                SKIPPED[v.key] = "%s: %s" % (" ".join(
                    shlex.quote(rel(x)) for x in c), d["skip"])
                say("  skipped: %s (%s)" % (v.label, d["skip"]))
                continue
            per[v.key][r] = d
        say("  round %d/%d done" % (r + 1, ROUNDS))
    return per


def vals(per, k, f):
    return [float(d[f]) for d in per.get(k, []) if d and f in d]


def med(per, k, f):
    x = vals(per, k, f)
    return statistics.median(x) if x else None


def last(per, k):
    x = [d for d in per.get(k, []) if d]
    return x[-1] if x else {}


def pair(per, a, b, f, inv=False):
    """Per-round ratios a/b of field f (b/a with inv): (median, lo, hi)."""
    rs = []
    for da, db in zip(per.get(a, []), per.get(b, [])):
        if da and db and f in da and f in db:
            x, y = float(da[f]), float(db[f])
            if inv:
                x, y = y, x
            if y > 0:
                rs.append(x / y)
    if not rs:
        return None
    return statistics.median(rs), min(rs), max(rs)


def fr(p, spec=".2f"):
    """A paired ratio as 'median [lo-hi]'."""
    if p is None:
        return "-"
    return "%s [%s-%s]" % (format(p[0], spec), format(p[1], spec),
                           format(p[2], spec))


def callgrind(v, workload, args):
    """Total Ir and a per-function breakdown (self Ir) of one run."""
    if v.key in SKIPPED:
        return None
    c, env = wl_cmd(v, workload, *args)
    out = os.path.join(O, "cg", "%s-%s.out" % (v.key, workload))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    vc = ["valgrind", "--tool=callgrind", "--skip-plt=no", "--collect-atstart=no",
          "--callgrind-out-file=" + out] + c
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(vc, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=e)
    if p.returncode == 77:
        SKIPPED[v.key] = p.stdout.strip()
        return None
    if p.returncode != 0:
        say("  callgrind FAILED: %s\n%s" % (" ".join(vc), p.stderr[-1500:]))
        return None
    record("callgrind %s: %s" % (workload, v.label), vc, env)
    a = subprocess.run(["callgrind_annotate", "--threshold=100", out],
                       stdout=subprocess.PIPE, text=True).stdout
    total, funcs, incl = 0, {}, {}
    # Inclusive cost of the collector's steps (the runtime they call in).
    ai = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                         "--threshold=100", out],
                        stdout=subprocess.PIPE, text=True).stdout
    for line in ai.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*?:?(coll_reset|coll_read) ",
                     line)
        if m:
            incl[m.group(2)] = int(m.group(1).replace(",", ""))
    for line in a.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$", line)
        if not m:
            continue
        n, what = int(m.group(1).replace(",", "")), m.group(2)
        if "PROGRAM TOTALS" in what:
            total = n
        elif "[PLT]" in what:
            funcs["[plt]"] = funcs.get("[plt]", 0) + n
        else:
            # "file:function [object]": the file has no colon, C++ names do.
            fn = what.split(":", 1)[-1].rsplit(" [", 1)[0].split("'")[0]
            funcs[fn] = funcs.get(fn, 0) + n
    return total, funcs, incl


def breakdown(funcs, total):
    """Instruction classes of one run, in Ir."""
    cb = sum(n for f, n in funcs.items()
             if f.startswith(("__sanitizer_cov", "fuzzer::", "__afl_")))
    coll = sum(n for f, n in funcs.items()
               if f in ("coll_read", "coll_reset", "coll_drop", "read_edges",
                        "read_edge_buckets", "read_cmps", "read_pcs",
                        "coll_count"))
    memset = sum(n for f, n in funcs.items() if "memset" in f)
    plt = funcs.get("[plt]", 0)
    return {"total": total, "callbacks": cb, "collector": coll,
            "memset": memset, "PLT stubs": plt,
            "rest (target, libc, driver)": total - cb - coll - memset - plt}


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown (no model name in /proc/cpuinfo)"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


LOAD = []


def main():
    t_start = time.time()
    LOAD.append(loadavg())
    if not VS:
        sys.exit("bench-peers: nothing built in build-peers/bin")
    say("bench-peers: %s, %d CPUs; load average %s" % (
        cpu_model(), os.cpu_count(), LOAD[0]))
    say("bench-peers: %d builds; rounds=%d rows=%d n=%d tn=%d zlib=%d MiB" %
        (len(VS) + len(ZVS), ROUNDS, ROWS, N, TN, ZMB))
    for k, why in SKIPPED.items():
        say("bench-peers: skipped %s: %s" % (k, why))

    say("== unique mode against the ordered trace: %d inputs of (b)" %
        VERIFY_N)
    verify_unique()

    # (a) the CPU-bound run.
    a_vs = [v for v in VS if "cpu" in v.wl and v.key != "lf-loop"]
    say("== (a) CPU-bound: %d rows in memory" % ROWS)
    pa = rounds("(a)", a_vs, "cpu", [ROWS])
    for v in a_vs:
        if v.key in SKIPPED:
            continue
        b = "base-" + v.cc
        d = last(pa, v.key)
        say("  %-58s CPU x %s  wall x %s%s" % (
            v.label, fr(pair(pa, v.key, b, "cpu")),
            fr(pair(pa, v.key, b, "wall")),
            "  entries read %s (most per step %s, area full %s)" % (
                d.get("items"), d.get("maxitems"), d.get("full"))
            if v.kind == "ukcov" and v.mode != "off" else ""))

    # (b) the fuzzing loop.
    say("== (b) fuzzing loop: %d inputs, fresh in-memory database each" % N)
    b_vs = [v for v in VS if "fuzz" in v.wl]
    pb = rounds("(b)", b_vs, "fuzz", [N])
    for v in b_vs:
        if v.key in SKIPPED:
            continue
        d = last(pb, v.key)
        c = med(pb, v.key, "cpu")
        say("  %-58s %9.0f exec/CPU-s  CPU x %s  %s" % (
            v.label, N / c if c else 0,
            fr(pair(pb, v.key, "base-" + v.cc, "cpu")),
            "signal: first pass %s, measured pass %s; entries %s, most per "
            "input %s, full %s" % (d.get("news"), d.get("news2"),
                                   d.get("items"), d.get("maxitems"),
                                   d.get("full"))
            if "news" in d else "first pass %s exec/s" %
            d.get("first_pass_execs")))

    # (c) threads.
    c_keys = ["base-gcc", "base-clang", "pc-on-gcc", "pc-on-clang",
              "guard-%d" % BITMAP_KIB[0] if BITMAP_KIB else "", "lf8", "lf",
              "afl"]
    c_vs = [BY[k] for k in c_keys if k in BY and k not in SKIPPED]
    pc = {}
    for t in THREADS:
        say("== (c) %d thread(s), %d inputs each" % (t, TN))
        pc[t] = rounds("(c) %d threads" % t, c_vs, "threads", [t, TN])
        for v in c_vs:
            if v.key not in SKIPPED:
                say("  %-50s %d thr %9.0f exec/s  %7.1f us CPU/exec/thread" % (
                    v.label, t, med(pc[t], v.key, "execs") or 0,
                    med(pc[t], v.key, "cpu_per_exec_us") or 0))

    # zlib.
    pz = {}
    if ZVS:
        say("== zlib: compressing %d MiB of text at level 6" % ZMB)
        pz = rounds("zlib", ZVS, "zlib", [ZMB])
        sums = {}
        for v in ZVS:
            if v.key in SKIPPED:
                continue
            d = last(pz, v.key)
            sums.setdefault(d.get("sum"), []).append(v.label)
            say("  %-58s CPU x %s  wall x %s  out %s  entries %s full %s" % (
                v.label, fr(pair(pz, v.key, "z-base-" + v.cc, "cpu")),
                fr(pair(pz, v.key, "z-base-" + v.cc, "wall")), d.get("out"),
                d.get("items"), d.get("full")))
        if len(sums) > 1:
            say("  WARNING: the zlib builds disagree on the output: %s" % sums)
    else:
        say("== zlib: skipped (%s)" % (SKIPPED.get("z-base-gcc") or
                                       "no zlib builds"))

    # callgrind.
    cg_a, cg_b, cg_z = {}, {}, {}
    if HAVE_VG:
        say("== callgrind: (a) with %d rows, (b) with %d inputs, zlib with "
            "%d MiB" % (VG_ROWS, VG_N, ZVG_MB))
        for v in VS:
            if "cpu" in v.wl and v.key != "lf-loop":
                r = callgrind(v, "cpu", [VG_ROWS])
                if r:
                    cg_a[v.key] = r
            if "fuzz" in v.wl:
                r = callgrind(v, "fuzz", [VG_N])
                if r:
                    cg_b[v.key] = r
            if v.key not in SKIPPED:
                say("  %-58s (a) %s Ir  (b) %s Ir/input" % (
                    v.label, fmt(cg_a[v.key][0] if v.key in cg_a else None, ","),
                    fmt(cg_b[v.key][0] // VG_N if v.key in cg_b else None, ",")))
        for v in ZVS:
            r = callgrind(v, "zlib", [ZVG_MB])
            if r:
                cg_z[v.key] = r
                say("  zlib %-53s %s Ir" % (v.label, format(r[0], ",")))
    else:
        say("== callgrind: skipped (no valgrind)")
    LOAD.append(loadavg())
    report(pa, pb, pc, c_vs, pz, cg_a, cg_b, cg_z, time.time() - t_start)


def ratio(x, y):
    return None if x is None or y in (None, 0) else x / y


def md_table(hdr, rows, text=False):
    """A Markdown table: figures right-aligned after the first column, or
    every column left-aligned (text)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(hdr)]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i == 0 or text else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    return [line(hdr), "|" + "|".join("-" * (w + 2) if i == 0 or text else
                                      "-" * (w + 1) + ":"
                                      for i, w in enumerate(widths)) + "|"] + \
        [line(r) for r in rows]


def report(pa, pb, pc, c_vs, pz, cg_a, cg_b, cg_z, elapsed):
    def ir_a(k):
        return cg_a[k][0] if k in cg_a else None

    def ir_b(k):
        return cg_b[k][0] // VG_N if k in cg_b else None

    def ir_z(k):
        return cg_z[k][0] if k in cg_z else None

    # What each row is.
    rows_t = []
    for v in VS + [v for v in ALL if v not in VS]:
        d = last(pb, v.key)
        sig = d.get("news") if "news" in d else (
            "-" if v.key != "lf-loop" else "(not printed)")
        rows_t.append([v.label, v.instr, v.coll, v.sig,
                       sig if v.key not in SKIPPED else "skipped"])
    what = md_table(["build", "instrumentation", "per input: reset / read",
                     "fuzzer-side signal", "signals found (b)"], rows_t,
                    text=True)

    # The main table.
    rows = []
    for v in VS:
        if v.key in SKIPPED:
            continue
        b = "base-" + v.cc
        c = med(pb, v.key, "cpu")
        r = [v.label,
             fr(pair(pa, v.key, b, "cpu")),
             fmt(ratio(ir_a(v.key), ir_a(b)), ".2f"),
             fmt(pair(pa, v.key, b, "wall") and pair(pa, v.key, b, "wall")[0],
                 ".2f"),
             fmt(N / c if c else None, ".0f"),
             fr(pair(pb, v.key, b, "cpu")),
             fmt(ir_b(v.key), ","),
             fmt(pair(pb, v.key, b, "wall") and pair(pb, v.key, b, "wall")[0],
                 ".2f")]
        r += [fmt(med(pc[t], v.key, "cpu_per_exec_us"), ".1f")
              if v in c_vs else "-" for t in THREADS]
        rows.append(r)
    table = md_table(["build", "(a) CPU x", "(a) Ir x", "(a) wall x",
                      "(b) exec/CPU-s", "(b) CPU x", "(b) Ir/input",
                      "(b) wall x"] +
                     ["(c) CPU us/exec/thr %dT" % t for t in THREADS], rows)

    # zlib table.
    ztable = []
    if pz:
        zr = []
        for v in ZVS:
            if v.key in SKIPPED:
                continue
            b = "z-base-" + v.cc
            d = last(pz, v.key)
            zr.append([v.label, fmt(med(pz, v.key, "cpu"), ".3f"),
                       fr(pair(pz, v.key, b, "cpu")),
                       fmt(ratio(ir_z(v.key), ir_z(b)), ".2f"),
                       fmt(ir_z(v.key), ","),
                       fmt(pair(pz, v.key, b, "wall") and
                           pair(pz, v.key, b, "wall")[0], ".2f"),
                       d.get("items", "-") if v.kind == "ukcov" else "-",
                       d.get("sum", "-")])
        ztable = md_table(["build", "CPU s", "CPU x", "Ir x",
                           "Ir (%d MiB)" % ZVG_MB, "wall x",
                           "entries read", "output checksum"], zr)

    # Budgets: CPU from the pairs and Ir decide; the wall ratio is shown.
    bud = []

    def verdict(ok):
        return "-" if ok is None else "met" if ok else "MISSED"

    def wall_of(p):
        return "wall %sx (not judged)" % fmt(p and p[0], ".2f")

    for cc in ("gcc", "clang"):
        b = "base-" + cc
        for k, what_ in (("pc-on-" + cc, "collection on"),
                         ("pc-off-" + cc, "collection off"),
                         ("pcso-on-" + cc, "shared library, collection on")):
            if k in SKIPPED or k not in BY:
                continue
            c = pair(pa, k, b, "cpu")
            i = ratio(ir_a(k), ir_a(b))
            bud.append("(a) ukcov trace-pc, %s (%s), budget <= 1.4x: CPU %s %s; "
                       "Ir %sx %s; %s" % (
                           what_, cc, fr(c), verdict(c and c[0] <= 1.4),
                           fmt(i, ".2f"), verdict(None if i is None else i <= 1.4),
                           wall_of(pair(pa, k, b, "wall"))))

    def vs(k, pk, lim, op, what_, ir_rule=False):
        """k's exec/CPU-s over pk's, from the pairs; budget op lim."""
        if k in SKIPPED or pk in SKIPPED or k not in BY or pk not in BY:
            miss = k if (k in SKIPPED or k not in BY) else pk
            bud.append("%s: skipped (%s)" % (what_, SKIPPED.get(
                miss, "not built")))
            return
        c = pair(pb, k, pk, "cpu", inv=True)
        w = pair(pb, k, pk, "wall", inv=True)
        ck, cp = med(pb, k, "cpu"), med(pb, pk, "cpu")
        ok = None
        if c and op:
            ok = c[0] > lim if op == ">" else c[0] >= lim
        s = "%s: %s vs %s exec/CPU-s, paired ratio %s%s" % (
            what_, fmt(N / ck if ck else None, ".0f"),
            fmt(N / cp if cp else None, ".0f"), fr(c),
            " (budget %s %.1f) %s" % (op, lim, verdict(ok)) if op else
            " (no budget)")
        if ir_rule:
            ik, ip = ir_b(k), ir_b(pk)
            s += "; Ir/input %s vs %s (budget: fewer) %s" % (
                fmt(ik, ","), fmt(ip, ","),
                verdict(None if ik is None or ip is None else ik < ip))
        else:
            s += "; Ir/input %s vs %s" % (fmt(ir_b(k), ","), fmt(ir_b(pk), ","))
        bud.append(s + "; " + wall_of(w))

    for cc in ("gcc", "clang"):
        vs("pc-on-" + cc, "lf8-nb", 1.0, ">",
           "(b) ukcov trace-pc on (%s, edges) vs libFuzzer "
           "inline-8bit-counters without buckets" % cc)
        vs("pcbk-" + cc, "lf8", 1.0, ">",
           "(b) ukcov trace-pc on + buckets (%s) vs libFuzzer "
           "inline-8bit-counters (features with buckets)" % cc)
        vs("pccmp-on-" + cc, "lf", 1.0, ">",
           "(b) ukcov trace-pc,trace-cmp, PCs (%s) vs libFuzzer "
           "fuzzer-no-link (trace-cmp)" % cc)
        vs("pccmp-cmp-" + cc, "lf", 1.0, ">",
           "(b) ukcov trace-pc,trace-cmp, comparisons (%s) vs libFuzzer "
           "fuzzer-no-link (trace-cmp)" % cc)
        vs("pccmp-on-" + cc, "lf-loop", 0, None,
           "(b) ukcov trace-pc,trace-cmp, PCs (%s) vs libFuzzer's own loop "
           "(fuzzer-no-link; includes mutation and corpus work: not like "
           "for like)" % cc)
        vs("pc-on-" + cc, "afl-nb", 0.8, ">=",
           "(b) ukcov trace-pc on (%s, edges) vs AFL++ edges without "
           "buckets" % cc)
        vs("pcbk-" + cc, "afl", 0.8, ">=",
           "(b) ukcov trace-pc on + buckets (%s) vs AFL++ with buckets" % cc)
    # Unique mode (issue 11): PCs once per input; its equal-strength peers
    # are the rows without hit counts.
    for k in BITMAP_KIB:
        # (issue 11: trace-pc-guard >= 1.2x AFL++ and libFuzzer's counters
        # and fewer Ir than AFL++; gcc >= 1.0x AFL++; clang trace-pc has
        # no budget of its own, shown for the record)
        for key, name, lim in (("guard-%d" % k, "trace-pc-guard, clang", 1.2),
                               ("uniq-clang-%d" % k, "trace-pc, clang", 0),
                               ("uniq-gcc-%d" % k, "trace-pc, gcc", 1.0)):
            what_ = "(b) ukcov unique (%s, static, bitmap %s)" % (name, kib(k))
            if key in SKIPPED or key not in BY:
                bud.append("%s: skipped (%s)" % (what_, SKIPPED.get(
                    key, "not built")))
                continue
            vs(key, "afl-nb", lim, ">=" if lim else None, what_ +
               " vs AFL++ (clang) edges without buckets", ir_rule=lim > 1.0)
            vs(key, "afl", 0, None, what_ + " vs AFL++ (clang) with buckets")
            if lim > 1.0 or not lim:
                vs(key, "lf8-nb", lim, ">=" if lim else None, what_ + " vs libFuzzer "
                   "inline-8bit-counters without buckets")
                vs(key, "lf8", 0, None, what_ + " vs libFuzzer "
                   "inline-8bit-counters with buckets")
    # Unique mode's per-input reset and read at each bitmap size: the
    # runtime clears what was set since the last reset, so the figures
    # should not follow the bitmap's size.
    def steps(k):
        if k not in cg_b:
            return None, None
        inc = cg_b[k][2]
        return (inc.get("coll_reset", 0) // VG_N, inc.get("coll_read", 0) // VG_N)

    for name, fmt_key in (("trace-pc-guard, clang", "guard-%d"),
                          ("trace-pc, clang", "uniq-clang-%d"),
                          ("trace-pc, gcc", "uniq-gcc-%d")):
        ks = [fmt_key % k for k in BITMAP_KIB]
        have_ = [k for k in ks if k in cg_b and k not in SKIPPED]
        if not have_:
            continue
        parts = []
        for k, kk in zip(BITMAP_KIB, ks):
            r_, rd = steps(kk)
            if r_ is None:
                continue
            d = last(pb, kk)
            ni = d.get("items")
            parts.append("bitmap %s: reset %s Ir, read %s Ir, whole input "
                         "%s Ir (%s new PCs per input in the measured "
                         "pass)" % (kib(k), format(r_, ","), format(rd, ","),
                                    fmt(ir_b(kk), ","),
                                    fmt(int(ni) / N if ni else None, ".0f")))
        s_ = ("(b) unique (%s): per-input KCOV_RESET_TRACE and read "
              "(callgrind, inclusive Ir of the collector's reset and read "
              "per input): %s" % (name, "; ".join(parts)))
        if len(ks) >= 2 and all(k in BY and k not in SKIPPED for k in ks[:2]):
            c = pair(pb, ks[1], ks[0], "cpu")
            s_ += ("; CPU per input, bitmap %s over %s (paired): %s "
                   "(equal: 1.00)" % (kib(BITMAP_KIB[1]), kib(BITMAP_KIB[0]),
                                      fr(c)))
        bud.append(s_)

    # Hit counts (issue 11, item 4): what the buckets cost over edges.
    for cc in ("gcc", "clang"):
        kb, ke = "pcbk-" + cc, "pc-on-" + cc
        if kb in SKIPPED or ke in SKIPPED or kb not in BY or ke not in BY:
            continue
        ib, ie = ir_b(kb), ir_b(ke)
        c = pair(pb, kb, ke, "cpu")
        sb, se = last(pb, kb).get("news"), last(pb, ke).get("news")
        NOTES.append(
            "Hit counts (%s): counting the ordered trace per edge and "
            "classing the counts in AFL's 8 buckets costs %s Ir per input "
            "over plain edges (%s against %s, %s) and their CPU time per "
            "input times %s (paired: median [lowest-highest]), for %s signals "
            "instead of %s." % (
                cc, fmt(None if ib is None or ie is None else ib - ie, "+,"),
                fmt(ib, ","), fmt(ie, ","),
                "+%.0f%%" % (100.0 * (ib - ie) / ie) if ib and ie else "-",
                fr(c), sb, se))

    # Per-thread cost, also relative to the uninstrumented build's own
    # change (the machine's: time-sharing 4 threads on its CPUs, caches).
    for v in c_vs:
        if v.key in SKIPPED:
            continue
        c1, c2, c4 = (med(pc[t], v.key, "cpu_per_exec_us") for t in THREADS)
        e1, e2, e4 = (med(pc[t], v.key, "execs") for t in THREADS)
        b = "base-" + v.cc
        b1, b2, b4 = (med(pc[t], b, "cpu_per_exec_us") for t in THREADS)
        if c1 and c2 and c4:
            s = ("(c) %s: per-thread CPU per input at 2 and 4 threads %.2fx and "
                 "%.2fx of 1 thread" % (v.label, c2 / c1, c4 / c1))
            norm = None
            if v.kind != "base" and b1 and b2 and b4:
                norm = max(c2 / c1 / (b2 / b1), c4 / c1 / (b4 / b1))
                s += " (%.2fx and %.2fx of the uninstrumented build's own change)" % (
                    c2 / c1 / (b2 / b1), c4 / c1 / (b4 / b1))
            s += "; total exec/s %s, %s, %s (wall, not judged)" % (
                fmt(e1, ".0f"), fmt(e2, ".0f"), fmt(e4, ".0f"))
            if v.kind == "ukcov" and norm is not None:
                s += " (budget: flat, within 1.15x of the uninstrumented build's change): %s" % verdict(norm <= 1.15)
            bud.append(s)
    # zlib.
    for k, lim, what_ in (("z-pc-on-gcc", 1.4, "ukcov trace-pc, static, on (gcc)"),
                          ("z-pc-on-clang", 1.4, "ukcov trace-pc, static, on (clang)"),
                          ("z-guard", 1.4, "ukcov unique (trace-pc-guard, clang), static"),
                          ("z-uniq-clang", 1.4, "ukcov unique (trace-pc, clang), static")):
        if k in SKIPPED or not pz:
            bud.append("zlib %s: skipped (%s)" % (what_, SKIPPED.get(k, "no zlib rows")))
            continue
        b = "z-base-" + ("gcc" if k.endswith("gcc") else "clang")
        c = pair(pz, k, b, "cpu")
        i = ratio(ir_z(k), ir_z(b))
        bud.append("zlib %s, budget <= %.1fx: CPU %s %s; Ir %sx %s; %s" % (
            what_, lim, fr(c), verdict(c and c[0] <= lim), fmt(i, ".2f"),
            verdict(None if i is None else i <= lim),
            wall_of(pair(pz, k, b, "wall"))))

    # Instruction breakdowns of (a) and (b).
    bd = []
    for name, cg, per in (("(a) %d rows" % VG_ROWS, cg_a, 1),
                          ("(b) per input, %d inputs" % VG_N, cg_b, VG_N)):
        if not cg:
            continue
        bd.append("")
        bd.append("Instruction breakdown, %s (callgrind Ir, self cost; "
                  "callbacks: __sanitizer_cov_* and the peers' runtimes "
                  "(fuzzer::*, __afl_*); collector: the bench's reset and "
                  "read of coverage; memset: SQLite's and the peers' map "
                  "clears):" % name)
        bd.append("")
        cols = ["total", "callbacks", "collector", "memset", "PLT stubs",
                "rest (target, libc, driver)"]
        bd.append("| build | " + " | ".join(cols) + " |")
        bd.append("|---|" + "---:|" * len(cols))
        for v in VS:
            if v.key in cg:
                b = breakdown(cg[v.key][1], cg[v.key][0])
                bd.append("| %s | %s |" % (v.label, " | ".join(
                    format(b[c] // per, ",") for c in cols)))

    skipped = ["- %s: %s" % (k, why) for k, why in SKIPPED.items()]
    say("")
    say("== bench-peers: the rows")
    for l in what:
        say(l)
    say("")
    say("== bench-peers: the table")
    for l in table:
        say(l)
    if ztable:
        say("")
        say("== zlib")
        for l in ztable:
            say(l)
    say("")
    for l in bud:
        say(l)
    for l in NOTES:
        say(l)
    for l in bd:
        say(l)
    if skipped:
        say("")
        say("skipped rows:")
        for l in skipped:
            say(l)
    write_md(what, table, ztable, bud, bd, skipped, elapsed)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True).stdout.strip()
    except OSError:
        return "?"


def sizes_note():
    """What a unique-mode bitmap must cover: the guards of the
    trace-pc-guard build, the trace-pc callsites and text of the others."""
    out = []
    g = os.path.join(O, "obj", "sqlite-guard-clang.o")
    if os.path.exists(g):
        n = 0
        for line in sh("readelf -SW %s" % shlex.quote(g)).splitlines():
            m = re.search(r"__sancov_guards\s+\S+\s+\S+\s+\S+\s+([0-9a-f]+)",
                          line)
            if m:
                n += int(m.group(1), 16) // 4
        out.append("SQLite's trace-pc-guard build has %s guards (bits)" %
                   format(n, ","))
    for cc in ("gcc", "clang"):
        b = os.path.join(BIN, "pc-%s-static" % cc)
        if os.path.exists(b):
            calls = sh("objdump -d --no-show-raw-insn %s | grep -c "
                       "'<__sanitizer_cov_trace_pc>$'" % shlex.quote(b))
            text = sh("size -A %s | awk '$1 == \".text\" {print $2}'" %
                      shlex.quote(b))
            out.append("its trace-pc build (%s) %s callsites in %s bytes "
                       "of .text" % (cc, format(int(calls or 0), ","),
                                     format(int(text or 0), ",")))
    if not out:
        return ""
    return ("The bitmap sizes run (PEERS_BITMAP_KIB): %s, that is %s "
            "bits; %s." % (", ".join(kib(k) for k in BITMAP_KIB),
                           ", ".join(format(k * 8192, ",")
                                     for k in BITMAP_KIB), "; ".join(out)))


def write_md(what, table, ztable, bud, bd, skipped, elapsed):
    sqv = sh("grep -m1 '#define SQLITE_VERSION ' build-peers/src/sqlite3.c | "
             "awk '{print $3}'").strip('"')
    zv = sh("cat build-peers/zlib/version 2>/dev/null") or "not fetched"
    md = ["# ukcov against its peers: SQLite and zlib under coverage", "",
          "Written by `make bench-peers` (bench/peers/); do not edit by hand.",
          "Run on %s, %s." % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                              "%.0f s of measuring" % elapsed),
          "Knobs set for this run (bench/peers/peers.py has the defaults): "
          "%s." % (", ".join("`%s=%s`" % kv for kv in sorted(
              os.environ.items()) if kv[0].startswith("PEERS_") and
              not kv[0].startswith("PEERS_HAVE_")) or "none, the defaults"),
          "",
          "## Machine and tools", "",
          "- CPU: %s (`model name` in /proc/cpuinfo), %d CPUs (`nproc`); %s" % (
              cpu_model(), os.cpu_count(), platform.platform()),
          "- load average (1, 5, 15 min) at the start %s, at the end %s: "
          "other work on the machine shows in the wall figures, less in the "
          "CPU ones, not in the Ir ones" % (LOAD[0], LOAD[-1]),
          "- gcc: %s" % sh("gcc --version | head -1"),
          "- clang: %s" % sh("clang --version | head -1"),
          "- AFL++: %s" % (sh("dpkg-query -W -f='${Package} ${Version}' afl++ 2>/dev/null")
                           or "not installed"),
          "- libFuzzer runtime: %s" % (sh("dpkg-query -S libclang_rt.fuzzer_no_main-x86_64.a "
                                          "2>/dev/null | cut -d: -f1 | head -1; "
                                          "dpkg-query -W -f='${Version}' libclang-rt-14-dev 2>/dev/null")
                                       .replace("\n", " ") or "not installed"),
          "- valgrind: %s" % (sh("valgrind --version") if HAVE_VG else "not used"),
          "- libukcov: built from %s" % ", ".join(
              "%s: %s" % (cc, {"worktree": "the work tree", "head": "a snapshot of git HEAD "
                               "(the work tree did not build)"}.get(
                  sh("cat build-peers/ukcov-%s/.source 2>/dev/null" % cc), "?"))
              for cc in ("gcc", "clang")) + ", `-O2 -g -gdwarf-4`",
          "- SQLite %s, the amalgamation of the npm package better-sqlite3@12 "
          "(fetched with `npm pack`, never committed)" % sqv,
          "- zlib: Debian's source package %s (`apt-get source zlib` through "
          "a deb-src list under build-peers/apt, never committed), its "
          "library files built with each row's flags" % zv, "",
          "## Workloads", "",
          "- (a) CPU-bound: one in-memory database of %d rows (two indexes) built "
          "in one transaction, then %d range aggregates, %d ordered range scans, "
          "%d point updates and %d LIKE scans.  ukcov \"on\" drains the area "
          "(count reset to 0) after every step, so every callback writes; "
          "unique mode keeps its bitmap for the whole run." % (
              ROWS, ROWS // 50, ROWS // 20, ROWS // 4, ROWS // 100),
          "- (b) fuzzing loop: %d small generated SQL scripts (create, insert, one "
          "or two statements of ten shapes), each in a fresh in-memory "
          "database.  Per input: reset coverage, run, read it and derive the "
          "signal, as the table of rows below says.  A first pass over the "
          "inputs finds their signal (\"signals found\"); the second, "
          "measured pass is a fuzzer's steady state.  \"libFuzzer: its own "
          "loop\" is libFuzzer's main (FuzzerDriver, mutation, RunOne, "
          "feature collection and corpus updates) calling "
          "LLVMFuzzerTestOneInput, which runs the same inputs in order: its "
          "figure includes mutation and corpus work that no other row does." % N,
          "- (c) threads: 1, 2, 4 threads each run the (b) loop over %d inputs "
          "on databases of their own at once.  ukcov: one kcov per thread.  "
          "The peers have one map for the process, shared by every thread: "
          "each thread still resets and scans it per input (its coverage "
          "then mixes the other threads' and is lost to their resets: the "
          "figure is the cost, not a usable signal).  \"CPU us/exec/thr\" is "
          "each thread's CPU time (CLOCK_THREAD_CPUTIME_ID) per input; this "
          "machine has %d CPUs, so 4 threads time-share and only the CPU "
          "figure can stay flat." % (TN, os.cpu_count()),
          "- zlib: %d MiB of generated text-like input (words of a small "
          "vocabulary, sentences, numbers, lines) compressed at level 6 as "
          "one stream, 16 KiB per deflate() call (bench/peers/zlib.c); ukcov "
          "\"on\" drains the area after every call; the output is checked "
          "(the same checksum for every build, and it inflates back)." % ZMB,
          "",
          "How to read the figures: the CPU columns (\"CPU x\": the build's "
          "CPU time over the uninstrumented build's of the same compiler; "
          "\"exec/CPU-s\": inputs per CPU-second of the loop thread) come "
          "from %d paired, alternated rounds: every build runs once per "
          "round, in the table's order in even rounds and in reverse in odd "
          "ones, and a ratio is the median of the per-round ratios, shown "
          "as `median [lowest-highest]`.  The Ir columns are callgrind "
          "instruction counts of shorter runs ((a) with %d rows, (b) with %d "
          "inputs, zlib with %d MiB), which do not move with the machine's "
          "load.  Budgets are judged on those two; the wall ratio (median "
          "of the per-round wall ratios) is printed beside them, never as "
          "the verdict.  The peers are clang builds, compared with the "
          "uninstrumented clang build." % (ROUNDS, VG_ROWS, VG_N, ZVG_MB),
          "",
          "Compare like with like: rows without comparison hooks (trace-pc, "
          "trace-pc-guard, inline-8bit-counters, AFL++) with each other, "
          "trace-cmp rows (ukcov trace-pc,trace-cmp; libFuzzer "
          "fuzzer-no-link) with each other, and signals of equal strength: "
          "ukcov's edges without hit counts against AFL++ and libFuzzer "
          "without buckets, ukcov with buckets against them with buckets.",
          "", sizes_note(), "", "## The rows", ""] + what + ["", "## The table", ""] + table
    if ztable:
        md += ["", "## zlib", ""] + ztable
    md += ["", "## Budgets", ""] + ["- " + b for b in bud] + bd
    if UNIQ_CHECK or NOTES:
        md += ["", "## Notes", ""]
    if UNIQ_CHECK:
        md += ["Unique mode checked against the ordered trace (`driver "
               "verify N WORDS`): each of the first %d inputs of (b) runs "
               "under KCOV_TRACE_PC, then in unique mode "
               "(KCOV_UNIQUE_ENABLE, KCOV_RESET_TRACE, run, read the trace "
               "at area[WORDS]), then under KCOV_TRACE_PC again, SQLite "
               "allocating from a heap of the driver's that never reuses "
               "memory (with glibc's, realloc moves or grows in place "
               "depending on the heap, and two runs of one input differ by "
               "a few PCs):" % VERIFY_N, ""] + ["- " + l for l in UNIQ_CHECK]
    if NOTES:
        md += [""] + NOTES
    if skipped:
        md += ["", "## Skipped rows", ""] + skipped
    md += ["", "## Command lines", "", "```"]
    md += [c for c in BUILD_CMDS] + ["```", "", "```"]
    md += ["# %s\n%s" % (w, c) for w, c in commands] + ["```", ""]
    # The zstd fuzzing section (bench/fuzz-zstd/fuzz.py writes it, last in
    # the file) is kept as it is.
    path = os.path.join(ROOT, "BENCHMARKS-peers.md")
    kept = ""
    try:
        with open(path) as f:
            old = f.read()
        i = old.find("\n## Fuzzing a multi-threaded target: zstd\n")
        if i >= 0:
            kept = old[i:]
    except OSError:
        pass
    with open(path, "w") as f:
        f.write("\n".join(md).rstrip("\n") + "\n" + kept)
    say("bench-peers: wrote BENCHMARKS-peers.md")


def build_cmds():
    p = subprocess.run(["make", "--no-print-directory", "-f",
                        "bench/peers/build.mk", "-n", "-B", "all",
                        "PEERS_HAVE_ZLIB=" + ("1" if HAVE_ZLIB else "0")],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       env=dict(os.environ))
    return [l for l in p.stdout.splitlines()
            if l and not l.startswith(("mkdir", "echo", "rm -rf"))]


BUILD_CMDS = build_cmds()

if __name__ == "__main__":
    main()
