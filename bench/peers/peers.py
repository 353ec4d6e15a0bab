#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench-peers`: ukcov against libFuzzer and AFL++ on SQLite.

Run by bench/peers/run.sh once the builds in build-peers/bin exist.  Prints
every figure, one table at the end with the budgets, and writes
BENCHMARKS-peers.md.  Never fails on a timing: a missed budget is printed
as MISSED with its reason.  Environment: PEERS_ROUNDS (5: alternated runs of
each workload, medians), PEERS_ROWS (100000, workload a), PEERS_N (3000,
workload b), PEERS_TN (1000 inputs per thread, workload c), PEERS_VG_N (100,
inputs per callgrind run), PEERS_VG_ROWS (5000), HAVE_VALGRIND (1).
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
ROUNDS = int(os.environ.get("PEERS_ROUNDS", "5"))
ROWS = int(os.environ.get("PEERS_ROWS", "100000"))
N = int(os.environ.get("PEERS_N", "3000"))
TN = int(os.environ.get("PEERS_TN", "1000"))
VG_N = int(os.environ.get("PEERS_VG_N", "100"))
VG_ROWS = int(os.environ.get("PEERS_VG_ROWS", "5000"))
HAVE_VG = os.environ.get("HAVE_VALGRIND", "1") == "1"
THREADS = [1, 2, 4]
commands = []


def say(*a):
    print(*a, flush=True)


def have(b):
    return os.access(os.path.join(BIN, b), os.X_OK)


# A build of the table: label, binary, "on" (ukcov collection), compiler,
# kind (base / ukcov / peer) and a short description.
class V:
    def __init__(self, key, label, binary, on, cc, kind, what):
        self.key, self.label, self.binary, self.on = key, label, binary, on
        self.cc, self.kind, self.what = cc, kind, what

    def cmd(self, workload, *args):
        c = [os.path.join(BIN, self.binary), workload] + [str(a) for a in args]
        if self.on:
            c.append("on")
        return c


ALL = []
for cc in ("gcc", "clang"):
    ALL += [
        V("base-" + cc, "uninstrumented -O2 (%s)" % cc, "base-" + cc, False,
          cc, "base", "no coverage"),
        V("pc-off-" + cc, "ukcov trace-pc, static, off (%s)" % cc,
          "pc-%s-static" % cc, False, cc, "ukcov", "collection off"),
        V("pc-on-" + cc, "ukcov trace-pc, static, on (%s)" % cc,
          "pc-%s-static" % cc, True, cc, "ukcov", "collection on"),
        V("pcso-off-" + cc, "ukcov trace-pc, shared (PLT), off (%s)" % cc,
          "pc-%s-shared" % cc, False, cc, "ukcov", "collection off"),
        V("pcso-on-" + cc, "ukcov trace-pc, shared (PLT), on (%s)" % cc,
          "pc-%s-shared" % cc, True, cc, "ukcov", "collection on"),
        V("pccmp-on-" + cc, "ukcov trace-pc,trace-cmp, static, on (%s)" % cc,
          "pccmp-%s-static" % cc, True, cc, "ukcov",
          "collection on (KCOV_TRACE_PC)"),
    ]
ALL += [
    V("lf-loop", "libFuzzer: its own loop (clang)", "lf-loop", False, "clang",
      "peer", "FuzzerDriver/RunOne"),
    V("lf", "libFuzzer instrumentation + runtime (clang)", "lf-driver", False,
      "clang", "peer", "bench loop, libFuzzer's reset/collect"),
    V("afl", "AFL++ afl-clang-fast + runtime (clang)", "afl-loop", False,
      "clang", "peer", "bench loop, afl-fuzz's classify/compare"),
]
VS = [v for v in ALL if have(v.binary)]
BY = {v.key: v for v in VS}
MISSING = [v for v in ALL if not have(v.binary)]


def rel(p):
    return os.path.relpath(p, ROOT) if p.startswith(ROOT) else p


def run(cmd, env=None):
    """Run cmd; return its key=value line as a dict, or None on failure."""
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=e)
    out = p.stdout.strip().splitlines()
    if p.returncode != 0 or not out:
        say("  FAILED: %s\n%s" % (" ".join(cmd), (p.stdout + p.stderr)[-2000:]))
        return None
    return dict(kv.split("=", 1) for kv in out[-1].split() if "=" in kv)


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
        if workload != "fuzz":
            return None, None
        return lf_loop_cmd(args[0])
    return v.cmd(workload, *args), None


# ------------------------------------------------------------ measure --

def alternated(name, variants, workload, args, fields):
    """ROUNDS rounds, each running every variant once.  Returns the medians
    of each of fields ({field: {key: median}}) and each variant's last line."""
    res = {f: {v.key: [] for v in variants} for f in fields}
    extra = {}
    for v in variants:
        c, env = wl_cmd(v, workload, *args)
        if c:
            record("%s: %s" % (name, v.label), c, env)
    for r in range(ROUNDS):
        for v in variants:
            c, env = wl_cmd(v, workload, *args)
            if not c:
                continue
            d = run(c, env)
            if not d:
                continue
            for f in fields:
                if f in d:
                    res[f][v.key].append(float(d[f]))
            extra[v.key] = d
        say("  round %d/%d done" % (r + 1, ROUNDS))
    return ({f: {k: statistics.median(x) for k, x in res[f].items() if x}
             for f in fields}, extra)


def callgrind(v, workload, args):
    """Total Ir and a per-function breakdown (self Ir) of one run."""
    c, env = wl_cmd(v, workload, *args)
    if not c:
        return None
    out = os.path.join(O, "cg", "%s-%s.out" % (v.key, workload))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    vc = ["valgrind", "--tool=callgrind", "--skip-plt=no", "--collect-atstart=no",
          "--callgrind-out-file=" + out] + c
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(vc, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=e)
    if p.returncode != 0:
        say("  callgrind FAILED: %s\n%s" % (" ".join(vc), p.stderr[-1500:]))
        return None
    record("callgrind %s: %s" % (workload, v.label), vc, env)
    a = subprocess.run(["callgrind_annotate", "--threshold=100", out],
                       stdout=subprocess.PIPE, text=True).stdout
    total, funcs = 0, {}
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
    return total, funcs


def breakdown(funcs, total):
    """Instruction classes of one run, in Ir."""
    cb = sum(n for f, n in funcs.items()
             if f.startswith(("__sanitizer_cov", "fuzzer::", "__afl_")))
    coll = sum(n for f, n in funcs.items()
               if f in ("coll_read", "coll_reset", "coll_drop"))
    memset = sum(n for f, n in funcs.items() if "memset" in f)
    plt = funcs.get("[plt]", 0)
    return {"total": total, "callbacks": cb, "collector": coll,
            "memset": memset, "PLT stubs": plt,
            "rest (SQLite, libc, driver)": total - cb - coll - memset - plt}


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


LOAD_START = ""


def main():
    global LOAD_START
    t_start = time.time()
    LOAD_START = sh("cut -d' ' -f1-3 /proc/loadavg")
    if not VS:
        sys.exit("bench-peers: nothing built in build-peers/bin")
    say("bench-peers: %d builds; rounds=%d rows=%d n=%d tn=%d" %
        (len(VS), ROUNDS, ROWS, N, TN))
    for v in MISSING:
        say("bench-peers: skipped (not built): %s" % v.label)
    base_of = {"gcc": "base-gcc", "clang": "base-clang"}

    # (a) the CPU-bound run.
    a_vs = [v for v in VS if v.key != "lf-loop"]
    say("== (a) CPU-bound: %d rows in memory" % ROWS)
    m, a_extra = alternated("(a)", a_vs, "cpu", [ROWS], ["wall", "cpu"])
    a_wall, a_cpu = m["wall"], m["cpu"]
    for v in a_vs:
        if v.key in a_wall:
            say("  %-52s %8.3f s wall %8.3f s CPU  %s" % (v.label, a_wall[v.key], a_cpu[v.key],
                                         "PCs read %s (most per step %s, area full %s)" %
                                         (a_extra[v.key].get("items"), a_extra[v.key].get("maxitems"),
                                          a_extra[v.key].get("full"))
                                         if v.on else ""))

    # (b) the fuzzing loop.
    say("== (b) fuzzing loop: %d inputs, fresh in-memory database each" % N)
    b_vs = [v for v in VS if not v.key.startswith("pcso-off")]
    m, b_extra = alternated("(b)", b_vs, "fuzz", [N], ["execs", "cpu"])
    b_exec = m["execs"]
    b_cexec = {k: N / c for k, c in m["cpu"].items() if c > 0}
    for v in b_vs:
        if v.key in b_exec:
            d = b_extra[v.key]
            say("  %-52s %9.0f exec/s %9.0f exec/CPU-s  %s" % (
                v.label, b_exec[v.key], b_cexec.get(v.key, 0),
                "signal: first pass %s, measured pass %s; items %s, most PCs/input %s, full %s" %
                (d.get("news"), d.get("news2"), d.get("items"), d.get("maxitems"), d.get("full"))
                if "news" in d else "first pass %s exec/s" % d.get("first_pass_execs")))

    # (c) threads.
    c_keys = ["base-gcc", "base-clang", "pc-on-gcc", "pc-on-clang", "lf", "afl"]
    c_vs = [BY[k] for k in c_keys if k in BY]
    c_exec, c_cpu = {}, {}
    for t in THREADS:
        say("== (c) %d thread(s), %d inputs each" % (t, TN))
        m, _ = alternated("(c) %d threads" % t, c_vs, "threads", [t, TN],
                          ["execs", "cpu_per_exec_us"])
        for v in c_vs:
            c_exec[(v.key, t)] = m["execs"].get(v.key)
            c_cpu[(v.key, t)] = m["cpu_per_exec_us"].get(v.key)
    for t in THREADS:
        for v in c_vs:
            if c_exec.get((v.key, t)) is not None:
                say("  %-44s %d thr %9.0f exec/s  %7.1f us CPU/exec/thread" % (
                    v.label, t, c_exec[(v.key, t)], c_cpu[(v.key, t)] or 0))

    # callgrind.
    cg_a, cg_b = {}, {}
    if HAVE_VG:
        say("== callgrind: (a) with %d rows, (b) with %d inputs" % (VG_ROWS, VG_N))
        for v in VS:
            if v.key != "lf-loop":
                r = callgrind(v, "cpu", [VG_ROWS])
                if r:
                    cg_a[v.key] = r
            if not v.key.startswith("pcso-off"):
                r = callgrind(v, "fuzz", [VG_N])
                if r:
                    cg_b[v.key] = r
            say("  %-52s (a) %s Ir  (b) %s Ir/input" % (
                v.label, fmt(cg_a[v.key][0] if v.key in cg_a else None, ","),
                fmt(cg_b[v.key][0] // VG_N if v.key in cg_b else None, ",")))
    else:
        say("== callgrind: skipped (no valgrind)")

    report(base_of, a_wall, a_cpu, b_exec, b_cexec, c_vs, c_exec, c_cpu,
           cg_a, cg_b, time.time() - t_start)


def ratio(x, y):
    return None if x is None or y in (None, 0) else x / y


def report(base_of, a_wall, a_cpu, b_exec, b_cexec, c_vs, c_exec, c_cpu,
           cg_a, cg_b, elapsed):
    rows = []
    hdr = ["build", "(a) wall x", "(a) CPU x", "(a) Ir x", "(b) exec/s",
           "(b) exec/CPU-s", "(b) CPU x", "(b) Ir/input"] + \
          ["(c) exec/s %dT" % t for t in THREADS] + \
          ["(c) CPU us/exec/thr %dT" % t for t in THREADS]
    for v in VS:
        b = base_of[v.cc]
        aw = ratio(a_wall.get(v.key), a_wall.get(b))
        ac = ratio(a_cpu.get(v.key), a_cpu.get(b))
        ai = ratio(cg_a[v.key][0] if v.key in cg_a else None,
                   cg_a[b][0] if b in cg_a else None)
        bx = ratio(b_cexec.get(b), b_cexec.get(v.key))
        bi = cg_b[v.key][0] // VG_N if v.key in cg_b else None
        r = [v.label, fmt(aw, ".2f"), fmt(ac, ".2f"), fmt(ai, ".2f"),
             fmt(b_exec.get(v.key), ".0f"), fmt(b_cexec.get(v.key), ".0f"),
             fmt(bx, ".2f"), fmt(bi, ",")]
        r += [fmt(c_exec.get((v.key, t)), ".0f") for t in THREADS]
        r += [fmt(c_cpu.get((v.key, t)), ".1f") for t in THREADS]
        rows.append(r)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(hdr)]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    table = [line(hdr), "|" + "|".join("-" * (w + 2) if i == 0 else
                                       "-" * (w + 1) + ":" for i, w in enumerate(widths)) + "|"]
    table += [line(r) for r in rows]

    # Budgets: judged on each measure separately.
    bud = []

    def verdict(ok):
        return "-" if ok is None else "met" if ok else "MISSED"

    def le(x, lim):
        return None if x is None else x <= lim

    for cc in ("gcc", "clang"):
        for k, what in (("pc-on-" + cc, "collection on"),
                        ("pc-off-" + cc, "collection off"),
                        ("pcso-on-" + cc, "shared library, collection on")):
            b = base_of[cc]
            aw = ratio(a_wall.get(k), a_wall.get(b))
            ac = ratio(a_cpu.get(k), a_cpu.get(b))
            ai = ratio(cg_a[k][0] if k in cg_a else None,
                       cg_a[b][0] if b in cg_a else None)
            if aw is None and ai is None:
                continue
            bud.append("(a) ukcov trace-pc, %s (%s), budget 1.4x: wall %sx %s, "
                       "CPU %sx %s, Ir %sx %s" % (
                           what, cc, fmt(aw, ".2f"), verdict(le(aw, 1.4)),
                           fmt(ac, ".2f"), verdict(le(ac, 1.4)),
                           fmt(ai, ".2f"), verdict(le(ai, 1.4))))
    peers = []
    if "lf-loop" in b_exec:
        peers.append(("lf-loop", "libFuzzer's own loop", 1.0, ">"))
    if "lf" in b_exec:
        peers.append(("lf", "libFuzzer's runtime in the bench loop", 1.0, ">"))
    if "afl" in b_exec:
        peers.append(("afl", "AFL++", 0.8, ">="))
    for cc in ("gcc", "clang"):
        k = "pc-on-" + cc
        if k not in b_exec:
            continue
        for pk, pname, lim, op in peers:
            w = b_exec[k] / b_exec[pk]
            c = ratio(b_cexec.get(k), b_cexec.get(pk))
            ok = (lambda x: x > lim) if op == ">" else (lambda x: x >= lim)
            bud.append("(b) ukcov static on (%s) against %s, budget %s %.1f: "
                       "wall %.0f vs %.0f exec/s = %.2fx %s; CPU %s vs %s "
                       "exec/CPU-s = %sx %s" % (
                           cc, pname, op, lim, b_exec[k], b_exec[pk], w,
                           verdict(ok(w)), fmt(b_cexec.get(k), ".0f"),
                           fmt(b_cexec.get(pk), ".0f"), fmt(c, ".2f"),
                           verdict(None if c is None else ok(c))))
    # Per-thread cost, also relative to the uninstrumented build's own
    # change (the machine's: time-sharing 4 threads on its CPUs, caches).
    for v in c_vs:
        c1, c2, c4 = (c_cpu.get((v.key, t)) for t in (1, 2, 4))
        e1, e2, e4 = (c_exec.get((v.key, t)) for t in (1, 2, 4))
        b = base_of[v.cc]
        b1, b2, b4 = (c_cpu.get((b, t)) for t in (1, 2, 4))
        if c1 and c2 and c4:
            s = ("(c) %s: per-thread CPU per input at 2 and 4 threads %.2fx and "
                 "%.2fx of 1 thread" % (v.label, c2 / c1, c4 / c1))
            norm = None
            if v.kind != "base" and b1 and b2 and b4:
                norm = max(c2 / c1 / (b2 / b1), c4 / c1 / (b4 / b1))
                s += " (%.2fx and %.2fx of the uninstrumented build's own change)" % (
                    c2 / c1 / (b2 / b1), c4 / c1 / (b4 / b1))
            s += "; total exec/s %s, %s, %s" % (fmt(e1, ".0f"), fmt(e2, ".0f"),
                                                fmt(e4, ".0f"))
            if v.kind == "ukcov" and norm is not None:
                s += " (budget: flat, within 1.15x of the uninstrumented build's change): %s" % verdict(norm <= 1.15)
            bud.append(s)

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
                "rest (SQLite, libc, driver)"]
        bd.append("| build | " + " | ".join(cols) + " |")
        bd.append("|---|" + "---:|" * len(cols))
        for v in VS:
            if v.key in cg:
                b = breakdown(cg[v.key][1], cg[v.key][0])
                bd.append("| %s | %s |" % (v.label, " | ".join(
                    format(b[c] // per, ",") for c in cols)))

    say("")
    say("== bench-peers: the table")
    for l in table:
        say(l)
    say("")
    for l in bud:
        say(l)
    for l in bd:
        say(l)
    write_md(table, bud, bd, elapsed)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True).stdout.strip()
    except OSError:
        return "?"


def write_md(table, bud, bd, elapsed):
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    sqv = sh("grep -m1 '#define SQLITE_VERSION ' build-peers/src/sqlite3.c | "
             "awk '{print $3}'").strip('"')
    md = ["# ukcov against its peers: SQLite under coverage", "",
          "Written by `make bench-peers` (bench/peers/); do not edit by hand.",
          "Run on %s, %s." % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                              "%.0f s of measuring" % elapsed), "",
          "## Machine and tools", "",
          "- machine: %s, %s, %d CPUs (`nproc`); load average (1, 5, 15 min) "
          "at the start %s, at the end %s: other work on the machine shows in "
          "the wall and CPU figures, not in the Ir ones" % (
              platform.platform(), cpu, os.cpu_count(), LOAD_START,
              sh("cut -d' ' -f1-3 /proc/loadavg")),
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
          "(fetched with `npm pack`, never committed)" % sqv, "",
          "## Workloads", "",
          "- (a) CPU-bound: one in-memory database of %d rows (two indexes) built "
          "in one transaction, then %d range aggregates, %d ordered range scans, "
          "%d point updates and %d LIKE scans.  ukcov \"on\" drains the area "
          "(count reset to 0) after every step, so every callback writes." % (
              ROWS, ROWS // 50, ROWS // 20, ROWS // 4, ROWS // 100),
          "- (b) fuzzing loop: %d small generated SQL scripts (create, insert, one "
          "or two statements of ten shapes), each in a fresh in-memory "
          "database.  Per input: reset coverage, run, read and derive signal: "
          "ukcov stores 0 in word 0, then hashes adjacent PCs as syzkaller's "
          "executor does (pc ^ hash(prev & 0xfff) & 0xfff) and marks the low 21 bits of each signal in a 2 MiB byte map; "
          "libFuzzer (bench loop) memsets its 8-bit counters, then scans them "
          "word by word and looks each non-zero counter's feature (index * 8 + "
          "bucket) up in a 2^21-bit set; AFL++ memsets its map (as "
          "__afl_persistent_loop does), then classifies 64-bit words with "
          "AFL's 16-bit bucket table and compares them with the virgin map.  "
          "\"libFuzzer: its own loop\" is libFuzzer's main (FuzzerDriver, "
          "mutation, RunOne, feature collection) calling "
          "LLVMFuzzerTestOneInput, which runs the same inputs in order." % N,
          "- (c) threads: 1, 2, 4 threads each run the (b) loop over %d inputs "
          "on databases of their own at once.  ukcov: one kcov per thread.  "
          "The peers have one map for the process, shared by every thread: "
          "each thread still resets and scans it per input (its coverage "
          "then mixes the other threads' and is lost to their resets: the "
          "figure is the cost, not a usable signal).  \"CPU us/exec/thr\" is "
          "each thread's CPU time (CLOCK_THREAD_CPUTIME_ID) per input; this "
          "machine has %d CPUs, so 4 threads time-share and only the CPU "
          "figure can stay flat." % (TN, os.cpu_count()), "",
          "Wall-clock figures are medians of %d alternated rounds (every build "
          "once per round); the CPU columns are medians of the same runs' "
          "CPU time (process CPU time for (a), the loop thread's for (b)), "
          "less disturbed by other work on the machine.  The Ir columns are callgrind instruction counts "
          "of shorter runs ((a) with %d rows, (b) with %d inputs): they do not "
          "move with the machine's load.  Ratios (\"x\") are to the "
          "uninstrumented build of the same compiler; the peers are clang "
          "builds." % (ROUNDS, VG_ROWS, VG_N), "",
          "## The table", ""] + table + ["", "## Budgets", ""] + \
        ["- " + b for b in bud] + bd + ["", "## Command lines", "", "```"]
    md += [c for c in BUILD_CMDS] + ["```", "", "```"]
    md += ["# %s\n%s" % (w, c) for w, c in commands] + ["```", ""]
    with open(os.path.join(ROOT, "BENCHMARKS-peers.md"), "w") as f:
        f.write("\n".join(md))
    say("bench-peers: wrote BENCHMARKS-peers.md")


def build_cmds():
    p = subprocess.run(["make", "--no-print-directory", "-f",
                        "bench/peers/build.mk", "-n", "-B", "all"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                       env=dict(os.environ))
    return [l for l in p.stdout.splitlines()
            if l and not l.startswith(("mkdir", "echo"))]


BUILD_CMDS = build_cmds()

if __name__ == "__main__":
    main()
