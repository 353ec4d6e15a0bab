#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ukcov's benchmarks: builds, measures, prints, writes BENCHMARKS.md.

Run by bench/run.sh (`make bench`), from the top of the work tree.  Prints
figures and never fails on a timing: a budget that is missed is printed as
OVER.  Environment: BENCH_CCS (default "gcc clang"), BENCH_ROUNDS (5),
BENCH_MB (8, the workload's input), BENCH_N (1000000, callbacks per
callgrind run), HAVE_VALGRIND / HAVE_STRACE (set by run.sh: 0 skips);
section 5 (bench/report.py): BENCH_AREAS (1000000), BENCH_DIFF_PCS
(1000000), BENCH_MODULES (100000).
"""
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import report

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "build-bench")
CCS = os.environ.get("BENCH_CCS", "gcc clang").split()
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
MB = int(os.environ.get("BENCH_MB", "8"))
N = int(os.environ.get("BENCH_N", "1000000"))
NREM = 100000
HAVE_VG = os.environ.get("HAVE_VALGRIND", "1") == "1"
HAVE_STRACE = os.environ.get("HAVE_STRACE", "1") == "1"

BUDGET = {"pc-off": 4, "pc-on": 12, "cmp4-on": 20}
# Unique mode (issue 11): a site already seen <= 8 static, <= 10 shared; a
# first hit <= 20.  By state and library ("a" static, "so" shared).
UNIQUE_BUDGET = {("seen", "a"): 8, ("seen", "so"): 10,
                 ("first", "a"): 20, ("first", "so"): 20}


def budget_of(state, link):
    if state.startswith(("guard-", "pc-uniq-")):
        return UNIQUE_BUDGET.get((state.rsplit("-", 1)[1], link))
    return BUDGET.get(state)
commands = []  # (what, command line) for BENCHMARKS.md
md = []        # BENCHMARKS.md body


def say(*a):
    print(*a, flush=True)


def rel(p):
    return os.path.relpath(p, ROOT)


def show(cmd):
    """cmd as one shell line to run from the top of the work tree."""
    out = []
    for c in cmd:
        c = c.replace(ROOT + "/", "$PWD/")
        if c.startswith("$PWD/") and "-out-file" not in c:
            c = c[len("$PWD/"):]
        if re.search(r"[\s'\"]", c):
            c = '"' + c + '"'
        out.append(c)
    return " ".join(out)


def run(cmd, record=None, **kw):
    """Run cmd (a list); return stdout.  Exits on failure."""
    if record:
        commands.append((record, show(cmd)))
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, **kw)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        sys.exit("bench: command failed: " + " ".join(cmd))
    return p.stdout + p.stderr


# ---------------------------------------------------------------- builds --

def lib_dir(cc):
    return os.path.join(OUT, cc)


def build_all(cc):
    """Libraries and every program of one compiler; returns {name: path}."""
    B = lib_dir(cc)
    run(["make", "-s", "BUILD=" + rel(B), "CC=" + cc,
         "CFLAGS=-O2 -gdwarf-4", "lib"], record=f"libraries ({cc})")
    bins = os.path.join(B, "bench")
    os.makedirs(bins, exist_ok=True)
    inc = ["-Iinclude"]
    so = ["-L" + B, "-lukcov", "-Wl,-rpath," + B, "-lpthread"]
    ar = [os.path.join(B, "libukcov.a"), "-lpthread"]
    # clang links its UBSan runtime into every -fsanitize-coverage program;
    # that runtime's weak no-op __sanitizer_cov_trace_cmp* would preempt
    # libukcov.so's.  -fno-sanitize-link-runtime keeps it out.
    nort = ["-fno-sanitize-link-runtime"] if cc == "clang" else []
    out = {}

    def cc_(name, flags, src, link, what):
        path = os.path.join(bins, name)
        run([cc] + flags + inc + ["-o", path, src] + link,
            record=f"{what} ({cc})")
        out[name] = path

    dbg = ["-O2", "-gdwarf-4"]
    cc_("cb-so", dbg, "bench/cb.c", so, "callback driver, shared")
    cc_("cb-a", dbg, "bench/cb.c", ar, "callback driver, static")
    cc_("remote-so", dbg, "bench/remote.c", so, "remote driver, shared")
    cc_("remote-a", dbg, "bench/remote.c", ar, "remote driver, static")
    cov = ["-O2", "-DUSE_UKCOV", "-fsanitize-coverage=trace-pc"] + nort
    cc_("lz-plain", ["-O2"], "bench/lz.c", [], "workload, uninstrumented")
    cc_("lz-so", cov, "bench/lz.c", so, "workload, libukcov.so (PLT)")
    cc_("lz-noplt", cov + ["-fno-plt"], "bench/lz.c", so,
        "workload, libukcov.so -fno-plt")
    if cc == "clang":
        cc_("lz-nopltd", cov + ["-fno-plt", "-include",
                                "bench/ukcov-noplt.h"], "bench/lz.c", so,
            "workload, libukcov.so -fno-plt + ukcov-noplt.h")
    cc_("lz-a", cov, "bench/lz.c", ar, "workload, libukcov.a")
    # Signal delivery: the same handler without ukcov and through it.
    cc_("signal-plain", ["-O2"], "bench/signal.c",
        ["bench/signal-work.c"], "signal delivery, without ukcov")
    work = os.path.join(bins, "signal-work.o")
    run([cc, "-O2", "-fsanitize-coverage=trace-pc", "-c", "-o", work,
         "bench/signal-work.c"], record=f"signal handler work ({cc})")
    cc_("signal-a", ["-O2", "-DUSE_UKCOV"], "bench/signal.c",
        [work] + ar + ["-ldl"], "signal delivery, through libukcov.a")
    # All-in callback cost: lz.c's compressor built plain, trace-pc and
    # trace-pc,trace-cmp, under the uninstrumented bench/allin.c driver.
    for k, fl in ALLIN_FLAVOURS:
        o = os.path.join(bins, "lzw-%s.o" % k)
        run([cc, "-O2", "-gdwarf-4", "-DLZ_NO_MAIN"] + fl + ["-c", "-o", o,
                                                           "bench/lz.c"],
            record=f"all-in: lz_block, {k} ({cc})")
        if k == "plain":
            cc_("allin-plain", dbg, "bench/allin.c", [o],
                "all-in driver, uninstrumented code")
            continue
        cc_("allin-%s-so" % k, dbg + ["-DUSE_UKCOV"], "bench/allin.c",
            [o] + so, "all-in driver, shared")
        cc_("allin-%s-a" % k, dbg + ["-DUSE_UKCOV"], "bench/allin.c",
            [o] + ar, "all-in driver, static")
    return out


ALLIN_FLAVOURS = [("plain", []),
                  ("pc", ["-fsanitize-coverage=trace-pc"]),
                  ("pccmp", ["-fsanitize-coverage=trace-pc,trace-cmp"])]


def objdump_fn(path, fn):
    """[(addr, mnemonic, operands)] of function fn in path."""
    txt = run(["objdump", "-d", "--no-show-raw-insn", path])
    m = re.search(r"^[0-9a-f]+ <" + re.escape(fn) + r">:\n(.*?)(?:\n\n|\Z)",
                  txt, re.S | re.M)
    if not m:
        return []
    ins = []
    for line in m.group(1).splitlines():
        mm = re.match(r"\s*([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if mm:
            ins.append((int(mm.group(1), 16), mm.group(2), mm.group(3)))
    return ins


def is_store(mn, ops):
    """An instruction writing memory: AT&T destination last, in parens."""
    return (mn.startswith("mov") or mn.startswith("add") or
            mn.startswith("inc")) and re.search(r",\s*[^,]*\)\s*$", ops)


def paths(ins):
    """Entry-to-ret paths of a callback (it has no loops): (len, taken
    jumps) of the not-collecting one, the shortest, and of the recording
    one, the path with the most stores (the count and the entry), the
    shortest of those."""
    idx = {a: i for i, (a, _, _) in enumerate(ins)}
    res = []

    def walk(i, n, taken, stores, seen):
        if i is None or i >= len(ins) or i in seen:
            return
        a, mn, ops = ins[i]
        n += 1
        stores += 1 if is_store(mn, ops) else 0
        seen = seen | {i}
        if mn.startswith("ret"):
            res.append((n, taken, stores))
            return
        tgt = None
        mt = re.match(r"([0-9a-f]+) <", ops)
        if mt:
            tgt = idx.get(int(mt.group(1), 16))
        if mn == "jmp":
            walk(tgt, n, taken + 1, stores, seen)
        elif mn.startswith("j"):
            walk(i + 1, n, taken, stores, seen)
            walk(tgt, n, taken + 1, stores, seen)
        else:
            walk(i + 1, n, taken, stores, seen)

    walk(0, 0, 0, 0, frozenset())
    if not res:
        return None
    short = min(res)
    rec = min(res, key=lambda r: (-r[2], r[0]))
    return short[:2], rec[:2]


def fmt_dis(ins):
    return "\n".join(f"  {a:x}: {mn} {ops}".rstrip() for a, mn, ops in ins
                     if not mn.startswith("nop") and mn != "cs" and
                     not (mn == "xchg" and ops == "%ax,%ax"))


# -------------------------------------------------- 1. callback counts --

def callgrind(binary, args, toggles, extra=(), record=None):
    outf = binary + ".cg." + "-".join(args)
    cmd = (["valgrind", "--tool=callgrind", "--callgrind-out-file=" + outf]
           + ["--toggle-collect=" + t for t in toggles] + list(extra)
           + [binary] + list(args))
    txt = run(cmd, record=record)
    m = re.search(r"Collected : (\d+)", txt)
    return int(m.group(1)), outf


def plt_cost(binary, args):
    """Ir of the hottest PLT stub (callgrind --skip-plt=no)."""
    outf = binary + ".plt.cg"
    run(["valgrind", "--tool=callgrind", "--skip-plt=no",
         "--callgrind-out-file=" + outf, binary] + list(args),
        record="PLT stub count (shared builds)")
    ann = run(["callgrind_annotate", "--threshold=100", "--auto=no", outf])
    best = 0
    for line in ann.splitlines():
        # The per-function (self cost) lines only: "Ir (pct%)  ???:0x.. [PLT]"
        m = re.match(r"\s*([\d,]+) \([\d.]+%\)\s+\S+ \[PLT\]", line)
        if m:
            best = max(best, int(m.group(1).replace(",", "")))
    return best


def plt_stub_dis(binary, fn):
    txt = run(["objdump", "-d", "--no-show-raw-insn", binary])
    m = re.search(r"<" + re.escape(fn) + r"@plt>:\n(.*?)(?:\n\n|\n[0-9a-f]+ <)",
                  txt, re.S)
    return m.group(1).strip().splitlines() if m else []


def bench_callbacks(progs):
    rows, dis, plt_rows = [], [], []
    for cc in CCS:
        for link in ("so", "a"):
            b = progs[cc]["cb-" + link]
            lib = "libukcov.so" if link == "so" else "libukcov.a"
            where = b if link == "a" else os.path.join(lib_dir(cc),
                                                       "libukcov.so")
            for fn, states in (("__sanitizer_cov_trace_pc",
                                ("pc-off", "pc-on")),
                               ("__sanitizer_cov_trace_cmp4",
                                ("cmp4-off", "cmp4-on")),
                               ("__sanitizer_cov_trace_pc_guard",
                                ("guard-first", "guard-seen")),
                               ("__sanitizer_cov_trace_pc",
                                ("pc-uniq-first", "pc-uniq-seen"))):
                ins = objdump_fn(where, fn)
                p = paths(ins)
                if not any(d[2] == fn and d[1] == lib and d[0] == cc
                           for d in dis):
                    dis.append((cc, lib, fn, ins, p))
                for st in states:
                    ir, _ = callgrind(b, [st, str(N)], [fn], record=(
                        "callback instructions (every build and state)"))
                    per = ir / N
                    if st.endswith("-first"):
                        first = per
                    elif st.endswith("-seen"):
                        # The first of the N calls was a first hit (the
                        # figure just measured): the other N - 1 are seen.
                        per = (ir - first) / (N - 1)
                    # The objdump paths are the ordered modes' (not
                    # collecting, recording); unique mode's have none.
                    sp = ((p[0] if st.endswith("off") else p[1])
                          if st[:4] in ("pc-o", "cmp4") else (None, None))
                    bud = budget_of(st, link)
                    rows.append(dict(cc=cc, lib=lib, state=st, ir=ir,
                                     per=per, objdump=sp[0], taken=sp[1],
                                     budget=bud))
                    verdict = ("" if bud is None else
                               ("OK" if per <= bud else "OVER"))
                    say(f"  {cc:5} {lib:11} {st:13} {per:6.2f} instr/call "
                        + (f"(objdump path {sp[0]}, {sp[1]} taken jumps)"
                           if sp[0] is not None else "")
                        + (f"  budget {bud}: {verdict}" if bud else ""))
            if link == "so":
                ir = plt_cost(b, ["pc-off", str(N)])
                stub = plt_stub_dis(b, "__sanitizer_cov_trace_pc")
                plt_rows.append(dict(cc=cc, ir=ir, per=ir / N, stub=stub))
                say(f"  {cc:5} PLT stub: {ir / N:.6f} instr/call "
                    f"({ir} for {N} calls, the excess is lazy binding); "
                    f"stub: {stub[0].split(':', 1)[1].strip() if stub else '?'}")
    return rows, dis, plt_rows


# --------------------------------------------- 1b. all-in callback cost --

ALLIN_MB = 1
# Budgets of the all-in figure: spec section 5's budgets for the callback's
# body (4 not collecting, 12 collecting, 20 a comparison record), plus the
# call (1), the PLT jump when shared (1) and at most 2 instructions of
# spills and moves the call forces on the caller.
ALLIN_BUDGET = {("pc-off", "a"): 7, ("pc-off", "so"): 8,
                ("pc-on", "a"): 15, ("pc-on", "so"): 16,
                ("cmp-on", "a"): 23, ("cmp-on", "so"): 24}


def bench_allin(progs, cb_rows):
    """Ir of lz_block per build (callgrind --toggle-collect=lz_block) and
    the callbacks it executed (counted by bench/allin.c in the area)."""
    rows = []
    body = {(r["cc"], r["lib"], r["state"]): r["per"] for r in cb_rows or []}

    def ir_and_count(prog, mode):
        ir, _ = callgrind(prog, [mode, str(ALLIN_MB)], ["lz_block"],
                          record="all-in: instructions of lz_block")
        out = run([prog, mode, str(ALLIN_MB)])
        m = re.search(r"callbacks (\d+) sum (\w+)", out)
        return ir, int(m.group(1)), m.group(2)

    for cc in CCS:
        p = progs[cc]
        plain, _, sum0 = ir_and_count(p["allin-plain"], "plain")
        for link, lib in (("a", "libukcov.a"), ("so", "libukcov.so")):
            r = dict(cc=cc, lib=lib, link=link, plain=plain)
            r["pc_off"], _, s1 = ir_and_count(p["allin-pc-" + link], "off")
            r["pc_on"], r["n_pc"], s2 = ir_and_count(p["allin-pc-" + link],
                                                     "on")
            r["cmp_off"], _, s3 = ir_and_count(p["allin-pccmp-" + link],
                                               "off")
            r["cmp_on"], r["n_cmp"], s4 = ir_and_count(
                p["allin-pccmp-" + link], "cmp")
            # The comparison build must run the same trace-pc callbacks.
            _, r["n_pc_cmpbuild"], s5 = ir_and_count(
                p["allin-pccmp-" + link], "on")
            if len({sum0, s1, s2, s3, s4, s5}) != 1:
                say(f"  {cc} {lib}: WARNING: the builds disagree on the "
                    f"output")
            n, m = r["n_pc"], r["n_cmp"]
            r["all"] = {
                "pc-off": (r["pc_off"] - plain) / n,
                "pc-on": (r["pc_on"] - plain) / n,
                "cmp-off": (r["cmp_off"] - r["pc_off"]) / m,
                "cmp-on": (r["cmp_on"] - r["pc_off"]) / m,
            }
            r["body"] = {
                "pc-off": body.get((cc, lib, "pc-off")),
                "pc-on": body.get((cc, lib, "pc-on")),
                "cmp-off": body.get((cc, lib, "cmp4-off")),
                "cmp-on": body.get((cc, lib, "cmp4-on")),
            }
            rows.append(r)
            say(f"  {cc:5} {lib:11} {n:,} trace-pc callbacks, {m:,} "
                f"comparison records; all-in instr/callback: " +
                ", ".join(f"{k} {v:.2f}" for k, v in r["all"].items()) +
                ("" if r["n_pc_cmpbuild"] == n else
                 f" (WARNING: the trace-cmp build runs "
                 f"{r['n_pc_cmpbuild']:,} trace-pc callbacks)"))
    return rows


# ------------------------------------------------------ 2. remote pairs --

def strace_total(binary, args):
    outf = binary + ".strace"
    run(["strace", "-f", "-c", "-o", outf, binary] + list(args),
        record="system calls (strace -f -c)")
    total, per = 0, {}
    with open(outf) as f:
        for line in f:
            p = line.split()
            if len(p) >= 5 and p[-1] == "total":
                total = int(p[3])
            elif len(p) >= 5 and re.match(r"[\d.]+$", p[0]):
                per[p[-1]] = int(p[3])
    return total, per


def bench_remote(progs):
    rows = []
    for cc in CCS:
        for link in ("so", "a"):
            b = progs[cc]["remote-" + link]
            lib = "libukcov.so" if link == "so" else "libukcov.a"
            r = dict(cc=cc, lib=lib)
            if HAVE_VG:
                for h in ("h0", "unreg"):
                    ir, _ = callgrind(b, ["pairs", str(NREM), h],
                                      ["ukcov_remote_start",
                                       "ukcov_remote_stop"],
                                      record="remote pair instructions")
                    r["ir_" + h] = ir / NREM
            if HAVE_STRACE:
                for h in ("h0", "unreg"):
                    lo, _ = strace_total(b, ["pairs", "1000", h])
                    hi, _ = strace_total(b, ["pairs", "100000", h])
                    r["sys_" + h] = (lo, hi)
                lo, _ = strace_total(b, ["pairs", "1000", "reg"])
                hi, per = strace_total(b, ["pairs", "2000", "reg"])
                r["sys_reg"] = (hi - lo) / 1000
                r["sys_reg_names"] = ", ".join(
                    f"{k} {v}" for k, v in sorted(per.items(),
                                                  key=lambda kv: -kv[1])[:2])
            t = run([b, "time"], record="remote pair wall time")
            for line in t.splitlines():
                k, wall, cpu = line.split()
                r[k] = float(wall)
                r[k.replace("_ns", "_cpu")] = float(cpu)
            rows.append(r)
            ir = (f"h0 {r['ir_h0']:.1f}, unregistered {r['ir_unreg']:.1f} "
                  f"instr/pair" if HAVE_VG else "(no valgrind)")
            sc = (f"; syscalls at 1e3/1e5 pairs: h0 {r['sys_h0'][0]}/"
                  f"{r['sys_h0'][1]}, unreg {r['sys_unreg'][0]}/"
                  f"{r['sys_unreg'][1]}; registered: "
                  f"{r['sys_reg']:.1f}/pair" if HAVE_STRACE else "")
            say(f"  {cc:5} {lib:11} {ir}{sc}")
            for kind, suf in (("wall", "_ns"), ("cpu ", "_cpu")):
                say(f"  {'':5} {'':11} {kind}: h0 {r['h0' + suf]:.1f} ns, "
                    f"unreg {r['unreg' + suf]:.1f} ns, registered empty "
                    f"{r['reg_empty' + suf]:.0f} ns (budget < 1000: "
                    f"{'OK' if r['reg_empty' + suf] < 1000 else 'OVER'}), "
                    f"registered 1,000 PCs {r['reg_1000pc' + suf]:.0f} ns; "
                    f"4 pthread_sigmask() alone {r['sigmask4' + suf]:.0f} ns")
    return rows


# ------------------------------------------------------ 4. signal delivery --

def per_delivery(fn, binary):
    """fn(binary, n) at 1,000 and 2,000 deliveries: the cost of one."""
    return (fn(binary, 2000) - fn(binary, 1000)) / 1000


def bench_signal(progs):
    rows = []
    for cc in CCS:
        r = dict(cc=cc)
        for kind in ("plain", "a"):
            b = progs[cc]["signal-" + kind]
            if HAVE_STRACE:
                r["sys_" + kind] = per_delivery(
                    lambda x, n: strace_total(x, ["count", str(n)])[0], b)
            if HAVE_VG:
                # An empty handler: what the delivery path itself costs.
                r["ir_" + kind] = per_delivery(
                    lambda x, n: callgrind(x, ["count", str(n), "0"], [],
                                           record="signal delivery "
                                           "instructions")[0], b)
            t = run([b, "time"], record="signal delivery time")
            for line in t.splitlines():
                f = line.split()
                if f[0] == "pcs_per_section":
                    r["pcs"] = float(f[1])
                else:
                    r[f"{f[0]}_{kind}"] = (float(f[1]), float(f[2]))
        rows.append(r)
        w0, c0 = r["no_section_plain"]
        w1, c1 = r["no_section_a"]
        w2, c2 = r["section_a"]
        sc = (f"system calls per delivery {r['sys_plain']:.2f} without, "
              f"{r['sys_a']:.2f} through ukcov (budget: none added: "
              f"{'OK' if r['sys_a'] <= r['sys_plain'] + 0.01 else 'OVER'})"
              if HAVE_STRACE else "(no strace)")
        ir = (f"; user instructions per delivery (empty handler) "
              f"{r['ir_plain']:.0f} "
              f"without, {r['ir_a']:.0f} through ukcov "
              f"(+{r['ir_a'] - r['ir_plain']:.0f})" if HAVE_VG else "")
        say(f"  {cc:5} {sc}{ir}")
        say(f"  {'':5} ns per delivery, wall / CPU: without ukcov "
            f"{w0:.0f} / {c0:.0f}; through ukcov, no section {w1:.0f} / "
            f"{c1:.0f} (ratio {w1 / w0:.2f} / {c1 / c0:.2f}); with a "
            f"section moving {r['pcs']:.0f} PCs {w2:.0f} / {c2:.0f} "
            f"(ratio {w2 / w0:.2f} / {c2 / c0:.2f})")
    return rows


# --------------------------------------------------------- 3. workload --

LZ_CONFIGS = [("lz-plain", "off"), ("lz-so", "off"), ("lz-so", "on"),
              ("lz-noplt", "off"), ("lz-noplt", "on"),
              ("lz-nopltd", "off"), ("lz-nopltd", "on"),
              ("lz-a", "off"), ("lz-a", "on")]
LZ_LABEL = {"lz-plain": "uninstrumented -O2",
            "lz-so": "libukcov.so (PLT)",
            "lz-noplt": "libukcov.so, -fno-plt",
            "lz-nopltd": "libukcov.so, -fno-plt -include ukcov-noplt.h",
            "lz-a": "libukcov.a (static)"}


def call_kinds(binary):
    """Call sites (call or tail jmp) of __sanitizer_cov_trace_pc outside the
    PLT: (through the PLT, through the GOT, direct)."""
    txt = run(["objdump", "-d", "--no-show-raw-insn", binary])
    plt = got = direct = 0
    in_plt = False
    for line in txt.splitlines():
        m = re.match(r"[0-9a-f]+ <(.*)>:$", line)
        if m:
            in_plt = m.group(1).endswith("@plt")
            continue
        if in_plt or not re.search(r"\s(call|jmp)\s", line):
            continue
        if "<__sanitizer_cov_trace_pc@plt>" in line:
            plt += 1
        elif re.search(r"(call|jmp)\s+\*.*<__sanitizer_cov_trace_pc", line):
            got += 1
        elif re.search(r"(call|jmp)\s+[0-9a-f]+ <__sanitizer_cov_trace_pc>",
                       line):
            direct += 1
    return plt, got, direct


def bench_workload(progs):
    res = {}
    for cc in CCS:
        cfgs = [(p, m) for p, m in LZ_CONFIGS if p in progs[cc]]
        times = {c: [] for c in cfgs}
        cpus = {c: [] for c in cfgs}
        sums, fills = set(), {}
        commands.append((f"workload runs ({cc})",
                         " ; ".join(f"{rel(progs[cc][p])} {m} {MB}"
                                    for p, m in cfgs)))
        for rnd in range(ROUNDS):
            for c in cfgs:
                out = run([progs[cc][c[0]], c[1], str(MB)])
                m = re.search(r"time ([\d.]+) cpu ([\d.]+) .* sum (\w+) "
                              r"max_fill (\d+)", out)
                times[c].append(float(m.group(1)))
                cpus[c].append(float(m.group(2)))
                sums.add(m.group(3))
                fills[c] = int(m.group(4))
        if len(sums) != 1:
            say(f"  {cc}: WARNING: the builds disagree on the output: {sums}")
        base = statistics.median(times[("lz-plain", "off")])
        cbase = statistics.median(cpus[("lz-plain", "off")])
        rows = []
        for c in cfgs:
            med = statistics.median(times[c])
            cmed = statistics.median(cpus[c])
            kinds = call_kinds(progs[cc][c[0]])
            rows.append(dict(prog=c[0], mode=c[1], med=med, ratio=med / base,
                             cmed=cmed, cratio=cmed / cbase,
                             times=times[c], kinds=kinds, fill=fills[c]))
            say(f"  {cc:5} {LZ_LABEL[c[0]]:45} {c[1]:3} wall "
                f"{med * 1000:7.1f} ms ratio {med / base:5.2f} | cpu "
                f"{cmed * 1000:7.1f} ms ratio {cmed / cbase:5.2f} | "
                f"calls plt/got/direct {kinds[0]}/{kinds[1]}/{kinds[2]}")
        res[cc] = rows
    return res


# ------------------------------------------------------------- report --

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=30).stdout.strip()
    except Exception:
        return "?"


def cpu_model():
    """The machine's CPU model: `model name` in /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown (no model name in /proc/cpuinfo)"


def machine():
    model = cpu_model()
    return [
        f"- CPU: {model} (`model name` in /proc/cpuinfo), "
        f"{os.cpu_count()} logical CPUs",
        f"- kernel: {platform.release()}; "
        f"Debian {sh('cat /etc/debian_version')}",
        f"- {sh('gcc --version | head -1')}",
        f"- {sh('clang --version | head -1')}" if "clang" in CCS else "",
        f"- {sh('valgrind --version')}" if HAVE_VG else "- valgrind: absent",
        f"- {sh('strace -V | head -1')}" if HAVE_STRACE else "- strace: absent",
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- load average (1, 5, 15 min) when `make bench` started: "
        f"{LOAD[0]}; when it ended: {LOAD[-1]}.  Wall times are only as "
        f"good as the machine was quiet; the CPU-time columns are less "
        f"sensitive to other load, callgrind's counts not at all.",
    ]


LOAD = []


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def main():
    t0 = time.time()
    LOAD.append(loadavg())
    say(f"CPU: {cpu_model()}, {os.cpu_count()} CPUs; load average at "
        f"start: {LOAD[0]}")
    progs = {}
    say("== building (build-bench/)")
    for cc in CCS:
        progs[cc] = build_all(cc)
    cb_rows = dis = plt_rows = None
    if HAVE_VG:
        say(f"== 1. instructions per callback (callgrind, {N} calls each; "
            "ret included, PLT stub apart)")
        cb_rows, dis, plt_rows = bench_callbacks(progs)
    else:
        say("== 1. skipped: no valgrind")
    allin = None
    if HAVE_VG:
        say(f"== 1b. all-in cost per callback (callgrind, lz_block over "
            f"{ALLIN_MB} MiB)")
        allin = bench_allin(progs, cb_rows)
    else:
        say("== 1b. skipped: no valgrind")
    say("== 2. remote sections")
    rem = bench_remote(progs)
    say(f"== 3. workload: LZ77 over {MB} MiB in 4 KiB blocks, "
        f"median of {ROUNDS} alternated rounds")
    lz = bench_workload(progs)
    say("== 4. signal delivery (raise(SIGUSR1), handler ~100 PCs of work)")
    sig = bench_signal(progs)
    say(f"== 5. ukcov-report at scale ({report.AREAS:,} areas, "
        f"{report.DIFF_PCS:,}-PC --diff, {report.MODULES:,} modules)")
    rep = None
    if os.path.exists("/usr/include/elfutils/libdw.h"):
        rep = report.bench_report(OUT, "gcc", run, say)
    else:
        say("   skipped: the tools need libdw-dev")
    LOAD.append(loadavg())
    say(f"== done in {time.time() - t0:.0f} s; load average at the end: "
        f"{LOAD[1]}")
    write_md(cb_rows, dis, plt_rows, rem, lz, sig, allin, rep)
    say("wrote BENCHMARKS.md")


def write_md(cb_rows, dis, plt_rows, rem, lz, sig, allin, rep):
    o = []
    o.append("# ukcov benchmarks\n")
    o.append("Written by `make bench` (bench/run.sh, bench/bench.py); every "
             "figure below is from its last run.  Budgets are those of the "
             "specification's §5.  Timings are printed, never asserted.\n")
    o.append("## Machine\n")
    o += [l for l in machine() if l]
    o.append("")
    o.append("## 1. Instructions per callback\n")
    if cb_rows is None:
        o.append("Skipped: valgrind is not installed (run `make bench` as "
                 "root to have it installed).\n")
    else:
        o.append(f"`valgrind --tool=callgrind --toggle-collect=CALLBACK` over "
                 f"a driver (bench/cb.c, not instrumented) that calls the "
                 f"callback {N:,} times in one state and nothing else; the "
                 f"figure is the Ir collected divided by {N:,}: the "
                 f"callback's own instructions, `ret` included, the caller's "
                 f"`call` and the PLT stub excluded.  \"objdump path\" "
                 f"is the length of the same path counted in the "
                 f"disassembly (the shortest entry-to-`ret` path when not "
                 f"collecting; collecting, the path that stores the most, "
                 f"i.e. the count and the entry) and the jumps taken on "
                 f"it.  Collecting: the area never fills "
                 f"(the driver checks that all {N:,} entries were "
                 f"recorded).  Unique mode (KCOV_UNIQUE_ENABLE, a bitmap "
                 f"that holds every index handed out, so a first hit also "
                 f"sets its bit there; the guard numbered by "
                 f"`__sanitizer_cov_trace_pc_guard_init` as a module's): "
                 f"\"site seen\" calls one site {N:,} times, the first "
                 f"call setting its byte (the driver checks that one entry "
                 f"was appended), and the figure is (Ir − the first hit's "
                 f"figure) / ({N:,} − 1); \"first hit\" calls it {N:,} times with "
                 f"a KCOV_RESET_TRACE after every call, outside the "
                 f"callback and not counted (the driver checks that every "
                 f"call appended one entry).  Budgets of unique mode "
                 f"(issue 11): a site seen ≤ 8 static, ≤ 10 shared; a "
                 f"first hit ≤ 20.\n")
        o.append("| compiler | library | callback, state | instr/call | "
                 "objdump path (taken jumps) | budget | |")
        o.append("|---|---|---|---|---|---|---|")
        names = {"pc-off": "trace_pc, not collecting",
                 "pc-on": "trace_pc, collecting",
                 "cmp4-off": "trace_cmp4, not collecting",
                 "cmp4-on": "trace_cmp4 record, collecting",
                 "guard-seen": "trace_pc_guard, unique, site seen",
                 "guard-first": "trace_pc_guard, unique, first hit",
                 "pc-uniq-seen": "trace_pc, unique, site seen",
                 "pc-uniq-first": "trace_pc, unique, first hit"}
        for r in cb_rows:
            b = r["budget"]
            o.append(f"| {r['cc']} | {r['lib']} | {names[r['state']]} | "
                     f"{r['per']:.2f} | "
                     + (f"{r['objdump']} ({r['taken']})"
                        if r['objdump'] is not None else "—") + " | "
                     f"{'≤ ' + str(b) if b else '—'} | "
                     f"{('OK' if r['per'] <= b else 'OVER') if b else ''} |")
        o.append("")
        o.append("PLT stub, counted apart (shared builds; callgrind "
                 "`--skip-plt=no`, the stub's Ir over the same "
                 f"{N:,} calls; the few extra instructions are the one "
                 "lazy-binding pass):\n")
        o.append("| compiler | PLT instr/call | stub (objdump) |")
        o.append("|---|---|---|")
        for p in plt_rows:
            st = "; ".join(s.split(":", 1)[1].strip() for s in p["stub"])
            o.append(f"| {p['cc']} | {p['per']:.6f} ({p['ir']:,} Ir) | "
                     f"`{st}` |")
        o.append("")
        o.append("The first instruction of the stub, `jmp *GOT(%rip)`, is "
                 "all that runs once the symbol is bound: one instruction, "
                 "but an indirect jump through memory on every callback.\n")
    o.append("## 1b. All-in cost per callback in instrumented code\n")
    if not allin:
        o.append("Skipped: valgrind is not installed.\n")
    else:
        o.append(
            "Section 1 counts the callback's body.  Instrumented code pays "
            "more per callsite: the `call`, the PLT jump when libukcov is "
            "shared, and the spills and register moves the call forces on "
            "the caller.  bench/lz.c's compressor (`lz_block()`, one 4 KiB "
            "block compressed, decompressed and compared) is built three "
            "times, `-O2` plain, with `-fsanitize-coverage=trace-pc` and "
            "with `trace-pc,trace-cmp`, and run by an uninstrumented "
            f"driver (bench/allin.c) over {ALLIN_MB} MiB; callgrind counts "
            "the instructions of `lz_block` and everything it calls "
            "(`--toggle-collect=lz_block`), and the driver counts the "
            "callbacks it executed in the area (reset before each block, "
            "read after it).  All-in per callback: trace-pc = (Ir of the "
            "trace-pc build − Ir of the plain build) / trace-pc callbacks; "
            "trace-cmp = (Ir of the trace-pc,trace-cmp build − Ir of the "
            "trace-pc build not collecting) / comparison records (one per "
            "comparison callback: lz.c has no `switch`); \"on\" collects "
            "KCOV_TRACE_PC, \"cmp\" KCOV_TRACE_CMP, \"off\" does not "
            "collect.  \"body\" is section 1's figure for the same build "
            "(trace_cmp4 for the comparisons, which here are of every "
            "size); all-in − body is what the callsite adds.  Budget of the "
            "all-in figure: section 1's budget for the body (4, 12, 20) + "
            "the call (1) + the PLT jump when shared (1) + at most 2 "
            "instructions of spills and moves.\n")
        o.append("| compiler | library | callbacks (trace-pc / cmp records) "
                 "| trace-pc off: all-in (body) | trace-pc on: all-in (body) "
                 "| trace-cmp off: all-in (body) | trace-cmp record: all-in "
                 "(body) | budget off / on / record | |")
        o.append("|---|---|---|---|---|---|---|---|---|")
        for r in allin:
            a, b = r["all"], r["body"]
            buds = [ALLIN_BUDGET[(k, r["link"])]
                    for k in ("pc-off", "pc-on", "cmp-on")]
            ok = all(a[k] <= lim for k, lim in
                     zip(("pc-off", "pc-on", "cmp-on"), buds))

            def cell(k):
                return (f"{a[k]:.2f} ({b[k]:.2f}, +{a[k] - b[k]:.2f})"
                        if b[k] is not None else f"{a[k]:.2f}")
            o.append(f"| {r['cc']} | {r['lib']} | {r['n_pc']:,} / "
                     f"{r['n_cmp']:,} | {cell('pc-off')} | {cell('pc-on')} "
                     f"| {cell('cmp-off')} | {cell('cmp-on')} | "
                     f"≤ {buds[0]} / ≤ {buds[1]} / ≤ {buds[2]} | "
                     f"{'OK' if ok else 'OVER'} |")
        o.append("")
        o.append("Instructions of `lz_block` (callgrind Ir), for the "
                 "record:\n")
        o.append("| compiler | library | plain | trace-pc off | trace-pc on "
                 "| trace-pc,trace-cmp off | trace-pc,trace-cmp, cmp on |")
        o.append("|---|---|---|---|---|---|---|")
        for r in allin:
            o.append(f"| {r['cc']} | {r['lib']} | {r['plain']:,} | "
                     f"{r['pc_off']:,} | {r['pc_on']:,} | {r['cmp_off']:,} | "
                     f"{r['cmp_on']:,} |")
        o.append("")
    o.append("## 2. Remote sections\n")
    o.append("bench/remote.c: a helper thread opens a kcov and registers "
             "`ukcov_remote_handle(UKCOV_SUBSYSTEM_APP(0), 1)` with "
             "KCOV_REMOTE_ENABLE (area_size 2048 words) and stays alive; the "
             "main thread runs `ukcov_remote_start(h); ukcov_remote_stop();` "
             "pairs.  Instructions: callgrind with `--toggle-collect` on "
             "both functions (everything they call included), "
             f"{NREM:,} pairs.  System calls: `strace -f -c` of the whole "
             "process at 1,000 and at 100,000 pairs (the setup's own calls "
             "and a few futex wake-ups are the rest; a pair that made a "
             "system call would add 99,000).  Wall time: median of 7 timed "
             "loops (1,000,000 pairs for h = 0 and unregistered, 100,000 "
             "for an empty registered section, 5,000 sections that record "
             "1,000 PCs each and move them into the owner's area, whose "
             "count the loop resets); each time cell is wall / the "
             "thread's CPU time (CLOCK_THREAD_CPUTIME_ID), the latter "
             "steadier when other processes share the CPUs.\n")
    o.append("| compiler | library | instr/pair h=0 | instr/pair unregistered "
             "(budget < 100) | syscalls h=0 @1e3/1e5 | syscalls unregistered "
             "@1e3/1e5 | syscalls/pair registered | ns/pair h=0 | "
             "ns/pair unregistered | ns/pair registered, empty (budget < "
             "1000) | ns/section registered, 1,000 PCs | ns for 4 "
             "pthread_sigmask() |")
    o.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rem:
        def ok(v, lim):
            return f"{'OK' if v < lim else 'OVER'}"
        i0 = f"{r['ir_h0']:.1f} {ok(r['ir_h0'], 100)}" if HAVE_VG else "—"
        iu = (f"{r['ir_unreg']:.1f} {ok(r['ir_unreg'], 100)}"
              if HAVE_VG else "—")
        if HAVE_STRACE:
            s0 = (f"{r['sys_h0'][0]}/{r['sys_h0'][1]} "
                  f"{'OK' if r['sys_h0'][1] <= r['sys_h0'][0] + 10 else 'GROWS'}")
            su = (f"{r['sys_unreg'][0]}/{r['sys_unreg'][1]} "
                  f"{'OK' if r['sys_unreg'][1] <= r['sys_unreg'][0] + 10 else 'GROWS'}")
            sr = (f"{r['sys_reg']:.1f} (whole run of 2,000 pairs: "
                  f"{r['sys_reg_names']})")
        else:
            s0 = su = sr = "— (no strace)"
        o.append(f"| {r['cc']} | {r['lib']} | {i0} | {iu} | {s0} | {su} | "
                 f"{sr} | {r['h0_ns']:.1f} / {r['h0_cpu']:.1f} | "
                 f"{r['unreg_ns']:.1f} / {r['unreg_cpu']:.1f} | "
                 f"{r['reg_empty_ns']:.0f} {ok(r['reg_empty_ns'], 1000)} / "
                 f"{r['reg_empty_cpu']:.0f} {ok(r['reg_empty_cpu'], 1000)} | "
                 f"{r['reg_1000pc_ns']:.0f} / {r['reg_1000pc_cpu']:.0f} | "
                 f"{r['sigmask4_ns']:.0f} / {r['sigmask4_cpu']:.0f} |")
    o.append("")
    o.append("A registered section takes the owner's lock twice (open and "
             "close) with `__ukcov_klock` (src/kcov.c), which leaves the "
             "signal mask alone: the registered column counts no system "
             "call.  The last column times the four `pthread_sigmask` "
             "calls that blocking signals around those two lock holds "
             "would cost (the first design did): they alone would take "
             "most of the 1 µs budget.\n")
    o.append("## 4. Signal delivery\n")
    o.append("bench/signal.c: `raise(SIGUSR1)` in a loop, the handler "
             "calling bench/signal-work.c (instrumented in the ukcov "
             "build).  \"without\" is the same program not linked with "
             "libukcov (libc's sigaction, the handler called directly); "
             "\"through ukcov\" links libukcov.a, so the handler runs "
             "through ukcov's wrapper.  System calls and user-space "
             "instructions are per delivery: the difference between 2,000 "
             "and 1,000 deliveries, divided by 1,000 (strace -f -c; "
             "callgrind, which does not see the kernel).  Times: best of 5 "
             "runs.  \"with a section\": another thread registered "
             "`ukcov_remote_handle(UKCOV_SUBSYSTEM_SIGNAL, SIGUSR1)`, so "
             "each delivery is a section in an interrupt area, appended to "
             "the owner at the handler's return.\n")
    o.append("| compiler | syscalls/delivery without / through ukcov "
             "(budget: none added) | user instructions/delivery, empty "
             "handler, without / through | ns wall without | ns wall through, no section "
             "(ratio) | ns wall with a section (ratio) | PCs per section |")
    o.append("|---|---|---|---|---|---|---|")
    for r in sig:
        w0 = r["no_section_plain"][0]
        w1 = r["no_section_a"][0]
        w2 = r["section_a"][0]
        sys_ = (f"{r['sys_plain']:.2f} / {r['sys_a']:.2f} "
                f"{'OK' if r['sys_a'] < r['sys_plain'] + 0.01 else 'OVER'}"
                if HAVE_STRACE else "—")
        ir = (f"{r['ir_plain']:.0f} / {r['ir_a']:.0f}" if HAVE_VG else "—")
        o.append(f"| {r['cc']} | {sys_} | {ir} | {w0:.0f} | {w1:.0f} "
                 f"({w1 / w0:.2f}) | {w2:.0f} ({w2 / w0:.2f}) | "
                 f"{r['pcs']:.0f} |")
    o.append("")
    o.append("## 3. PLT cost on a CPU-bound program\n")
    o.append(f"bench/lz.c: an LZ77 compressor (hash chains, lazy matching) "
             f"and decompressor over {MB} MiB of generated pseudo-text, in "
             f"independent 4 KiB blocks; every block round-trips and every "
             f"build must print the same checksum.  Instrumented builds use "
             f"`-fsanitize-coverage=trace-pc`; \"on\" enables KCOV_TRACE_PC "
             f"and resets the count before each block, like a fuzzing loop "
             f"(the largest block trace is shown; the 8 MiB area never "
             f"fills).  Wall time of the work proper, median of {ROUNDS} "
             f"rounds that alternate all builds; ratio = median / median of "
             f"the uninstrumented build.  \"calls\" counts the call sites "
             f"to `__sanitizer_cov_trace_pc` in the binary by kind.\n")
    for cc, rows in lz.items():
        o.append(f"### {cc}\n")
        o.append("| build | collecting | wall ms (median) | wall ratio | "
                 "CPU ms (median) | CPU ratio | calls PLT / GOT / direct | "
                 "largest block trace | all runs, wall ms |")
        o.append("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            k = r["kinds"]
            o.append(f"| {LZ_LABEL[r['prog']]} | "
                     f"{'—' if r['prog'] == 'lz-plain' else r['mode']} | "
                     f"{r['med'] * 1000:.1f} | **{r['ratio']:.2f}** | "
                     f"{r['cmed'] * 1000:.1f} | {r['cratio']:.2f} | "
                     f"{k[0]} / {k[1]} / {k[2]} | "
                     f"{r['fill'] if r['mode'] == 'on' else ''} | "
                     f"{' '.join(f'{t * 1000:.0f}' for t in r['times'])} |")
        o.append("")
        by = {(r["prog"], r["mode"]): r for r in rows}

        def d(p, m):
            x, y = by[(p, m)], by[("lz-a", m)]
            return (f"{x['ratio'] - y['ratio']:+.2f} wall, "
                    f"{x['cratio'] - y['cratio']:+.2f} CPU")
        for m in ("off", "on"):
            if ("lz-so", m) not in by or ("lz-a", m) not in by:
                continue
            o.append(f"- {cc}, {'collecting' if m == 'on' else 'not collecting'}"
                     f", ratio minus the static build's: PLT {d('lz-so', m)}"
                     + (f"; -fno-plt {d('lz-noplt', m)}"
                        if ("lz-noplt", m) in by else "")
                     + (f"; -fno-plt + ukcov-noplt.h {d('lz-nopltd', m)}"
                        if ("lz-nopltd", m) in by else "") + ".")
        o.append("")
    o += report.markdown(rep)
    o.append(HOWTO)
    if dis:
        o.append("## Appendix: the callbacks' code\n")
        o.append("`objdump -d` of each build (shared: from libukcov.so; "
                 "static: as linked into bench/cb.c's driver), padding "
                 "`nop`s left out.\n")
        for cc, lib, fn, ins, p in dis:
            o.append(f"{cc}, {lib}, `{fn}` ({len([i for i in ins if not i[1].startswith('nop')])} "
                     f"instructions; paths "
                     + (f"{p[0][0]} and {p[1][0]}" if p else "?") + "):\n")
            o.append("```\n" + fmt_dis(ins) + "\n```\n")
    o.append("## Command lines\n")
    o.append("Run from the top of the work tree; `build-bench/CC/` holds "
             "the libraries (`make BUILD=build-bench/CC CC=CC "
             "CFLAGS='-O2 -gdwarf-4' lib`) and `build-bench/CC/bench/` the "
             "programs.  One example of each kind:\n")
    seen = set()
    o.append("```")
    for what, cmd in commands:
        if what in seen:
            continue
        seen.add(what)
        o.append(f"# {what}\n{cmd}")
    o.append("```\n")
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(o))


HOWTO = """## Avoiding the PLT

A target linked against `libukcov.so` calls every callback through the
PLT by default: `call __sanitizer_cov_trace_pc@plt`, then `jmp *GOT(%rip)`,
an indirect jump through memory on each of the millions of calls.  It is
one instruction in section 1, and far more than one instruction's worth of
time in section 3.  Besides the PLT, the shared library's callbacks load
the thread state's TLS offset (initial-exec) on every call, one
instruction the static library does without.  In order of preference:

1. **Link the target with the static library**: `libukcov.a` on the link
   line, or `-Wl,-Bstatic -lukcov -Wl,-Bdynamic` (`pkg-config --static`
   does not do this by itself).  The calls are direct, and the callbacks
   reach the thread state with local-exec TLS, one `%fs`-relative access.
   The archive's objects are `-fPIE`, so the target may be PIE or not; they
   belong in the executable (local-exec TLS cannot go into a shared
   object).  This is the fastest build in every row of section 3.
2. **gcc: `-fno-plt`** on the instrumented code.  gcc then emits
   `call *__sanitizer_cov_trace_pc@GOTPCREL(%rip)`: no stub, but still an
   indirect call, and still the TLS-offset load; the GOT slot is filled
   when the program is loaded.  Section 3 shows how much of the PLT's cost
   that recovers on this machine (little: the indirect call remains).
3. **clang: `-fno-plt -include ukcov-noplt.h`** (bench/ukcov-noplt.h).
   clang 14 ignores `-fno-plt` for the coverage callbacks: its coverage
   pass declares them after `-fno-plt` has marked the file's declarations,
   and every call still goes through the PLT (the "calls" column of
   section 3).  Declaring and referencing the callback in the translation
   unit makes the pass reuse that declaration, which `-fno-plt` has marked
   `nonlazybind`, and the calls go through the GOT as with gcc.  (The
   header changes how clang lays out the call sites, not how many run: the
   largest block trace is the same.)

Also for clang: a program built with `-fsanitize-coverage` and no
`-fsanitize=` gets clang's UBSan runtime linked in, which defines weak,
empty `__sanitizer_cov_trace_cmp*`, `__sanitizer_cov_trace_switch` and
friends in the executable.  Against `libukcov.so` those empty ones win and
KCOV_TRACE_CMP records nothing (`__sanitizer_cov_trace_pc` is not among
them, so trace-pc works).  Link such targets with
`-fno-sanitize-link-runtime` (these benchmarks do), or statically with
`libukcov.a`, whose definitions take precedence over the runtime's weak
ones.
"""

if __name__ == "__main__":
    main()
