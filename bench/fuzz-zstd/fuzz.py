#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench-fuzz-zstd`: zstd's multi-threaded compression fuzzed with
libFuzzer and AFL++, each with its own instrumentation and with ukcov's feed.

Run by bench/fuzz-zstd/run.sh once the builds in build-fuzz-zstd/bin exist.
One fuzzer at a time (2 cores: never two at once), each from the same seeds:

  a  libFuzzer, -fsanitize=fuzzer (its own counters, trace-cmp, pc-table)
  b  libFuzzer, ukcov's feed (libukcov-libfuzzer.a), trace-pc,trace-cmp
  c  AFL++, afl-clang-fast (pcguard) + libAFLDriver.a, lazy init
  d  AFL++, ukcov's feed (libukcov-afl.a), trace-pc,trace-cmp, eager init
  e  AFL++, ukcov's feed, lazy init (the harness of c)

then, for all rows alike:
  - the coverage yardstick: every final corpus (AFL++'s queue, libFuzzer's
    corpus, both holding the seeds) replayed through one binary
    (build-fuzz-zstd/bin/replay: zstd built as in b, d and e; harness and
    main not instrumented) under ukcov-run -m unique: the distinct PCs of
    zstd that any thread ran, of all coverable ones (ukcov-report);
  - the target's own cost per input: the union of the final corpora run
    once per file by every binary (no fuzzing engine), in alternated
    rounds, CPU time of the process (all its threads) per input; and
    callgrind's count of the feed's instructions per PC it folds;
  - one seed run SHOWMAP_COPIES times in one persistent process by
    afl-showmap -i, for each AFL++ row: the map entries that vary, and for
    ukcov's feed the functions behind them;
  - where runs of one input differ: one seed run VAR_RUNS times under
    ukcov-run -m pc (a process each), the PCs whose hit count varies, per
    area (harness thread, pool threads' own code, the jobs' sections);
  - AFL++'s own driver with the eager harness (the pool made in
    LLVMFuzzerInitialize, which that driver calls before its fork).
Prints the tables and writes the section "## Fuzzing a multi-threaded
target: zstd" of BENCHMARKS-peers.md (replaced, the rest of the file kept).
Never fails on a figure.

Environment: FUZZ_ZSTD_SECS (180: seconds per fuzzer), FUZZ_ZSTD_QUICK (1:
a quick run while iterating: 15 s per fuzzer, fewer repetitions, and the
markdown goes to build-fuzz-zstd/fuzz-zstd-quick.md instead),
FUZZ_ZSTD_ROWS (a,b,c,d,e), FUZZ_ZSTD_VAR_RUNS (40), FUZZ_ZSTD_ROUNDS (7:
rounds of the cost measurement), FUZZ_ZSTD_VG_N (200: inputs of the
callgrind run), FUZZ_ZSTD_SHOWMAP (100: runs of one
input by afl-showmap), FUZZ_ZSTD_OUT (the markdown file),
FZ_HAVE_LF, FZ_HAVE_AFL (1).  Every figure is saved in
build-fuzz-zstd/results.json; FUZZ_ZSTD_RENDER=1 prints the tables and
writes the markdown again from it, without measuring (run fuzz.py
directly: python3 bench/fuzz-zstd/fuzz.py).
"""
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.getcwd()
O = os.path.join(ROOT, "build-fuzz-zstd")
BIN = os.path.join(O, "bin")
TOOLS = os.path.join(O, "ukcov", "tools")


def env_int(name, default, lo, hi):
    v = os.environ.get(name) or str(default)
    if not v.isdigit() or not lo <= int(v) <= hi:
        sys.exit("bench-fuzz-zstd: %s=%s: not a number in [%d, %d]" % (
            name, v, lo, hi))
    return int(v)


QUICK = os.environ.get("FUZZ_ZSTD_QUICK", "0") == "1"
SECS = env_int("FUZZ_ZSTD_SECS", 15 if QUICK else 180, 1, 86400)
VAR_RUNS = env_int("FUZZ_ZSTD_VAR_RUNS", 10 if QUICK else 40, 2, 10000)
ROUNDS = env_int("FUZZ_ZSTD_ROUNDS", 2 if QUICK else 7, 1, 1000)
VG_N = env_int("FUZZ_ZSTD_VG_N", 50 if QUICK else 200, 1, 100000)
SHOWMAP_COPIES = env_int("FUZZ_ZSTD_SHOWMAP", 20 if QUICK else 100, 2, 10000)
QUEUE_SAMPLE = env_int("FUZZ_ZSTD_QUEUE_SAMPLE", 10 if QUICK else 60, 1, 10000)
ROWS = [r for r in os.environ.get("FUZZ_ZSTD_ROWS", "a,b,c,d,e").split(",")
        if r]
if not ROWS or not set(ROWS) <= set("abcde"):
    sys.exit("bench-fuzz-zstd: FUZZ_ZSTD_ROWS=%s: not a list of a, b, c, d, e"
             % os.environ.get("FUZZ_ZSTD_ROWS"))
HAVE_LF = os.environ.get("FZ_HAVE_LF", "1") == "1"
HAVE_AFL = os.environ.get("FZ_HAVE_AFL", "1") == "1"
HEADING = "## Fuzzing a multi-threaded target: zstd"
RESULTS = os.path.join(O, "results.json")
AFL_ENV = {"AFL_NO_UI": "1", "AFL_SKIP_CPUFREQ": "1", "AFL_NO_AFFINITY": "1",
           "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES": "1"}
commands = []     # (what, command line) for the markdown
LAST_CPU = [0.0, 0.0]


def say(*a):
    print(*a, flush=True)


def rel(p):
    return os.path.relpath(p, ROOT)


def shell(cmd, env=None):
    e = " ".join("%s=%s" % (k, v) for k, v in sorted((env or {}).items()))
    return (e + " " if e else "") + " ".join(shlex.quote(rel(c) if c.startswith(ROOT) else c) for c in cmd)


class Row:
    def __init__(self, key, engine, binary, label, build, init):
        self.key, self.engine, self.binary = key, engine, binary
        self.label, self.build, self.init = label, build, init
        self.res = {}        # figures
        self.why = None      # not run: why
        self.corpus = None   # the final corpus directory


ALL_ROWS = [
    Row("a", "libFuzzer", "lf-native", "libFuzzer, its own instrumentation",
        "-fsanitize=fuzzer-no-link, linked -fsanitize=fuzzer",
        "LLVMFuzzerInitialize"),
    Row("b", "libFuzzer", "lf-ukcov", "libFuzzer + ukcov's feed",
        "trace-pc,trace-cmp -DUKCOV_POOL, libukcov-libfuzzer.a",
        "LLVMFuzzerInitialize"),
    Row("c", "AFL++", "afl-native", "AFL++, its own instrumentation",
        "afl-clang-fast (pcguard), libAFLDriver.a",
        "first input (lazy)"),
    Row("d", "AFL++", "afl-ukcov", "AFL++ + ukcov's feed",
        "trace-pc,trace-cmp -DUKCOV_POOL, libukcov-afl.a",
        "LLVMFuzzerInitialize (after the fork)"),
    Row("e", "AFL++", "afl-ukcov-lazy", "AFL++ + ukcov's feed, lazy init",
        "trace-pc,trace-cmp -DUKCOV_POOL, libukcov-afl.a",
        "first input (lazy)"),
]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def busy_jiffies():
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]) - idle, sum(v[:8])


class Others:
    """What else used the CPUs meanwhile: /proc read every 2 s, the CPU time
    of every process that is not ours (this script's descendants, or the
    fuzzed binary itself, named `mine`, whose children may outlive their
    parent for a moment), summed by command name.  A process that lived
    less than 2 s between two reads is missed."""

    def __init__(self, mine=""):
        self.mine = mine[:15]
        self.seen, self.by_comm = {}, {}
        self.hz = os.sysconf("SC_CLK_TCK")
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.scan(first=True)
        self.t.start()

    def scan(self, first=False):
        procs = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            comm = st[st.index("(") + 1:st.rindex(")")]
            f = st[st.rindex(")") + 2:].split()
            procs[int(d)] = (comm, int(f[1]), int(f[11]) + int(f[12]))
        me = os.getpid()
        for pid, (comm, ppid, ticks) in procs.items():
            q, ours = pid, False
            for _ in range(64):
                if q == me:
                    ours = True
                    break
                if q not in procs or q <= 1:
                    break
                q = procs[q][1]
            before = self.seen.get(pid)
            self.seen[pid] = ticks
            if ours or first or comm == self.mine:
                continue
            d = ticks - (before if before is not None else 0)
            if d > 0:
                self.by_comm[comm] = self.by_comm.get(comm, 0) + d

    def loop(self):
        while not self.stop.wait(2):
            self.scan()

    def done(self):
        self.stop.set()
        self.t.join()
        self.scan()
        top = sorted(self.by_comm.items(), key=lambda x: -x[1])
        total = sum(v for k, v in top) / self.hz
        return total, [(k, v / self.hz) for k, v in top[:3]]


def run_measured(cmd, env=None, timeout=None, stdout=None, stderr=None):
    """Run cmd; returns (exit status or None on timeout, wall seconds, CPU
    seconds of the process and the descendants it waited for).  The last
    run's user and system seconds are in LAST_CPU."""
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=e, stdout=stdout or subprocess.DEVNULL,
                         stderr=stderr or subprocess.DEVNULL,
                         start_new_session=True)
    deadline = None if timeout is None else t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if deadline and time.monotonic() > deadline:
            os.killpg(p.pid, 9)
            pid, status, ru = os.wait4(p.pid, 0)
            p.returncode = None
            LAST_CPU[:] = [ru.ru_utime, ru.ru_stime]
            return None, time.monotonic() - t0, ru.ru_utime + ru.ru_stime
        time.sleep(0.05)
    wall = time.monotonic() - t0
    LAST_CPU[:] = [ru.ru_utime, ru.ru_stime]
    code = os.waitstatus_to_exitcode(status)
    return code, wall, ru.ru_utime + ru.ru_stime


# ---- seeds -----------------------------------------------------------------

def write_seeds(d):
    """A few inputs of each shape: byte 0 the plan (flushes = p % 5,
    checksum when (p / 5) is odd, minMatch 4 + (p / 10) % 4), then data."""
    seeds = {
        "flush4-text": bytes([4]) + b"\x10" +
        b"The quick brown fox jumps over the lazy dog. " * 20,
        "oneshot-text": bytes([0]) + b"abcabcabcabd" * 30,
        "flush2-checksum": bytes([7]) + bytes((i * 37) & 0xff
                                              for i in range(700)),
        "flush3-minmatch7": bytes([33]) + b"\x05" + b"z" * 16 + b"\x40" +
        bytes(range(256)) * 2,
        "empty": bytes([2]),
    }
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)
    return sorted(seeds)


# ---- the fuzzers -----------------------------------------------------------

def parse_afl_stats(path):
    st = {}
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                st[k.strip()] = v.strip()
    except OSError:
        return None
    return st


def run_afl(row, seeds):
    d = os.path.join(O, "runs", row.key)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    out = os.path.join(d, "out")
    cmd = ["afl-fuzz", "-V", str(SECS), "-i", seeds, "-o", out, "--",
           os.path.join(BIN, row.binary)]
    commands.append(("(%s) %s" % (row.key, row.label), shell(cmd, AFL_ENV)))
    with open(os.path.join(d, "afl.log"), "wb") as log:
        code, wall, cpu = run_measured(cmd, AFL_ENV, timeout=SECS + 300,
                                       stdout=log, stderr=log)
    st = parse_afl_stats(os.path.join(out, "default", "fuzzer_stats"))
    if not st:
        row.why = "afl-fuzz did not run (%s)" % last_error(
            os.path.join(d, "afl.log"))
        return
    row.corpus = os.path.join(out, "default", "queue")
    row.res["queue"] = row.corpus
    row.res.update({
        "secs": wall, "cpu": cpu,
        "execs": int(st.get("execs_done", "0")),
        "eps": float(st.get("execs_per_sec", "0")),
        "stability": st.get("stability", "?"),
        "var_bytes": st.get("var_byte_count", "?"),
        "corpus": int(st.get("corpus_count", "0")),
        "edges": "%s of %s" % (st.get("edges_found", "?"),
                              st.get("total_edges", "?")),
        "crashes": st.get("saved_crashes", "?"),
        "hangs": st.get("saved_hangs", "?"),
    })


def last_error(log):
    try:
        with open(log, errors="replace") as f:
            lines = [re.sub(r"\x1b\[[0-9;]*m", "", l).strip() for l in f]
    except OSError:
        return "no log"
    bad = [l for l in lines if re.search(r"ABORT|FATAL|ERROR|\[-\]", l)]
    return (bad or lines or ["no output"])[-1][:200]


def run_lf(row, seeds):
    d = os.path.join(O, "runs", row.key)
    shutil.rmtree(d, ignore_errors=True)
    corpus = os.path.join(d, "corpus")
    shutil.copytree(seeds, corpus)
    cmd = [os.path.join(BIN, row.binary), "-max_total_time=%d" % SECS,
           "-print_final_stats=1", "-timeout=10", "-seed=1",
           "-artifact_prefix=%s/" % rel(d), corpus]
    commands.append(("(%s) %s" % (row.key, row.label), shell(cmd)))
    with open(os.path.join(d, "libfuzzer.log"), "wb") as log:
        code, wall, cpu = run_measured(cmd, timeout=SECS + 300,
                                       stdout=log, stderr=log)
    with open(os.path.join(d, "libfuzzer.log"), errors="replace") as f:
        text = f.read()
    done = re.findall(r"^#(\d+)\s+DONE\s+(.*)$", text, re.M)
    stats = dict(re.findall(r"^stat::(\w+):\s*(\d+)", text, re.M))
    if code != 0 or not done:
        row.why = "libFuzzer exited %s: %s" % (
            code, last_error(os.path.join(d, "libfuzzer.log")))
        if not done:
            return
    fields = dict(re.findall(r"(\w+): (\S+)", done[-1][1]))
    row.corpus = corpus
    row.res.update({
        "secs": wall, "cpu": cpu,
        "execs": int(stats.get("number_of_executed_units", done[-1][0])),
        "eps": float(stats.get("average_exec_per_sec", "0")),
        "cov": fields.get("cov", "-"),
        "ft": fields.get("ft", "-"),
        "corpus": len([f for f in os.listdir(corpus)
                       if not f.startswith(".")]),
        "new_units": stats.get("new_units_added", "?"),
    })


# ---- the yardstick ------------------------------------------------------

def replay_pcs(paths, tag):
    """Distinct PCs of zstd run by any thread when the replay binary runs
    every input of paths once, under ukcov-run -m unique."""
    cov = os.path.join(O, "replay-%s.cov" % tag)
    cmd = [os.path.join(TOOLS, "ukcov-run"), "-q", "-m", "unique", "-o", cov,
           "--", os.path.join(BIN, "replay")] + paths
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    n = re.search(r"replay: (\d+) inputs", p.stderr)
    if p.returncode != 0 or not n:
        return None, "replay failed: %s" % (p.stderr.strip().splitlines()
                                            or ["?"])[-1]
    commands.append(("yardstick (%s)" % tag, shell(cmd[:-len(paths)]) + " " +
                     " ".join(rel(x) for x in paths)))
    r = subprocess.run([os.path.join(TOOLS, "ukcov-report"), cov],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    m = re.search(r"all selected areas: (\d+)/(\d+)", r.stdout)
    if not m:
        return None, "ukcov-report gave no total"
    return (int(m.group(1)), int(m.group(2)), int(n.group(1))), None


# ---- the cost per input ---------------------------------------------------

def union_inputs(rows, seeds):
    """Every final corpus's inputs, each content once, in one directory."""
    d = os.path.join(O, "union")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    seen = set()
    for src in [seeds] + [r.corpus for r in rows if r.corpus]:
        for f in sorted(os.listdir(src)):
            p = os.path.join(src, f)
            if f.startswith(".") or not os.path.isfile(p):
                continue
            with open(p, "rb") as fh:
                data = fh.read()
            h = hashlib.sha1(data).hexdigest()
            if h in seen:
                continue
            seen.add(h)
            with open(os.path.join(d, h), "wb") as fh:
                fh.write(data)
    return d, sorted(os.path.join(d, h) for h in seen)


def cost(rows, files):
    """CPU per input of each binary over the same files, run once each with
    no fuzzing engine (libFuzzer and libAFLDriver run file arguments once,
    libukcov-afl.a without __AFL_SHM_ID too), in alternated rounds: per
    binary, per round, [CPU, wall, user, sys] in us per input (None when
    the run failed)."""
    bins = [r for r in rows if not r.why and os.access(
        os.path.join(BIN, r.binary), os.X_OK)]
    per = {r.key: [] for r in bins}
    for i in range(ROUNDS):
        order = bins if i % 2 == 0 else list(reversed(bins))
        for r in order:
            cmd = [os.path.join(BIN, r.binary)] + files
            if r.engine == "libFuzzer":
                cmd = [cmd[0], "-runs=0"] + files
            code, w, c = run_measured(cmd, timeout=600)
            if code != 0:
                say("bench-fuzz-zstd: cost run of %s exited %s" % (r.binary, code))
                per[r.key].append(None)
                continue
            per[r.key].append([x / len(files) * 1e6 for x in
                               (c, w, LAST_CPU[0], LAST_CPU[1])])
    return per


def paired(costs, a, b, i):
    """The median over rounds of b's figure i over a's, and its spread."""
    r = [y[i] / x[i] for x, y in zip(costs.get(a, []), costs.get(b, []))
         if x and y and x[i] > 0]
    return (statistics.median(r), min(r), max(r)) if r else None


def med(costs, k, i):
    v = [x[i] for x in costs.get(k, []) if x]
    return statistics.median(v) if v else None


# ---- instructions (callgrind) -------------------------------------------

def callgrind(rows, files):
    """The feed's own instructions: callgrind over the first VG_N of files
    run by (d)'s binary, which says per input how many PCs it folded
    (UKCOV_AFL_DEBUG).  The instructions in __ukcov_fuzzer_fold (with what
    it calls) per PC folded, and those of __sanitizer_cov_trace_pc per call
    (callgrind counts the calls).  Whole-program totals are not taken:
    valgrind runs one thread at a time, and where zstd's harness thread
    polls for a worker it then polls until valgrind switches threads, which
    makes them vary by orders of magnitude from run to run.  A copy
    without debug information runs (valgrind 3.19 cannot read clang 14's
    DWARF 5)."""
    r = [x for x in rows if x.key == "d" and not x.why]
    if not r or not shutil.which("valgrind") or \
            not shutil.which("callgrind_annotate"):
        return None
    files = files[:VG_N]
    d = os.path.join(O, "vg")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    b = os.path.join(d, r[0].binary)
    if subprocess.run(["objcopy", "--strip-debug",
                       os.path.join(BIN, r[0].binary), b]).returncode:
        return None
    cg = os.path.join(d, "callgrind.out")
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + rel(cg), b]
    commands.append(("callgrind, (d), %d inputs" % len(files),
                     shell(cmd, {"UKCOV_AFL_DEBUG": "1"}) + " FILES..."))
    p = subprocess.run(cmd + files, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, UKCOV_AFL_DEBUG="1"))
    pcs = sum(int(n) for n in re.findall(r"(\d+) PCs", p.stderr))
    if not pcs:
        return None
    part = {}
    for f, incl in (("__ukcov_fuzzer_fold", "yes"),
                    ("__sanitizer_cov_trace_pc", "no")):
        a = subprocess.run(["callgrind_annotate", "--inclusive=" + incl, cg],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True).stdout
        m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*:%s \[" % f, a, re.M)
        part[f] = int(m.group(1).replace(",", "")) if m else 0
    # The callback's calls: the "calls=" lines after each "cfn=" naming it.
    names, calls, callee = {}, 0, None
    with open(cg) as fh:
        for line in fh:
            m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
            if m:
                if m.group(3):
                    names[m.group(2)] = m.group(3).strip()
                callee = m.group(2) if m.group(1) == "cfn" else None
            elif line.startswith("calls=") and callee is not None:
                if names.get(callee) == "__sanitizer_cov_trace_pc":
                    calls += int(line.split()[0][6:])
                callee = None
    if not calls:
        return None
    return {"inputs": len(files), "pcs": pcs, "calls": calls,
            "fold": part["__ukcov_fuzzer_fold"] / pcs,
            "callback": part["__sanitizer_cov_trace_pc"] / calls}


# ---- where runs differ ----------------------------------------------------

def variation(seed):
    """One input, VAR_RUNS processes under ukcov-run -m pc: per area, the
    entries (min-max) and the PCs whose hit count is not always the same;
    the varying PCs of the harness thread, symbolized."""
    d = os.path.join(O, "variation")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    counts = []    # per run: {(area, pc): hits}
    sizes = {}     # area -> [entries per run]
    for i in range(VAR_RUNS):
        cov = os.path.join(d, "run%d.cov" % i)
        subprocess.run([os.path.join(TOOLS, "ukcov-run"), "-q", "-m", "pc",
                        "-o", cov, "--", os.path.join(BIN, "replay"), seed],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r = subprocess.run([os.path.join(TOOLS, "ukcov-report"), "-r", cov],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
        c, area = {}, None
        for line in r.stdout.splitlines():
            m = re.match(r"# (\S+): (\d+) entries", line)
            if m:
                # Pool threads: one kind, whichever thread is which.
                area = re.sub(r"#\d+$", "", m.group(1))
                sizes.setdefault(area, {}).setdefault(i, 0)
                sizes[area][i] += int(m.group(2))
                continue
            if area and line:
                k = (area, line.split()[0])
                c[k] = c.get(k, 0) + 1
        counts.append(c)
    commands.append(("variation (%d runs)" % VAR_RUNS, shell(
        [os.path.join(TOOLS, "ukcov-run"), "-q", "-m", "pc", "-o",
         os.path.join(d, "runN.cov"), "--", os.path.join(BIN, "replay"), seed])))
    keys = set()
    for c in counts:
        keys.update(c)
    varying = {}
    for k in keys:
        v = [c.get(k, 0) for c in counts]
        if min(v) != max(v):
            varying.setdefault(k[0], []).append((k[1], min(v), max(v)))
    rows = []
    for area in sorted(sizes):
        n = [sizes[area].get(i, 0) for i in range(VAR_RUNS)]
        rows.append((area, min(n), max(n), len(varying.get(area, []))))
    # The harness thread's varying PCs, by function and line: each from a
    # run that ran it.
    where = []
    main_var = sorted(varying.get("main", []))
    sym = {}
    for i in sorted({max(range(VAR_RUNS), key=lambda j: counts[j].get(
            ("main", pc), 0)) for pc, lo, hi in main_var}):
        r = subprocess.run([os.path.join(TOOLS, "ukcov-report"), "-r", "-u",
                            "-s", "-a", "main",
                            os.path.join(d, "run%d.cov" % i)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
        for line in r.stdout.splitlines():
            parts = line.split(None, 1)
            if len(parts) == 2 and not line.startswith("#"):
                sym[parts[0]] = re.sub(r"\s+", " ", parts[1])
    for pc, lo, hi in main_var:
        where.append("%s %s: %d to %d" % (pc, sym.get(pc, "?"), lo, hi))
    return rows, where


# ---- AFL++'s view of one input, run again and again ----------------------

M64 = (1 << 64) - 1


def feed_index(pc, size, name=""):
    """The AFL++ map index ukcov's feed gives a PC of the module `name`
    (the program itself: ""): fuzzer/feed.c's key (offset in the module
    XOR the FNV-1a hash of its file name), splitmix64's finaliser, then a
    multiply-high reduction."""
    h = 0xcbf29ce484222325
    for c in name.encode():
        h = ((h ^ c) * 0x100000001b3) & M64
    k = pc ^ h
    k ^= k >> 30
    k = (k * 0xbf58476d1ce4e5b9) & M64
    k ^= k >> 27
    k = (k * 0x94d049bb133111eb) & M64
    k ^= k >> 31
    return ((k >> 32) * size) >> 32


def coverable_pcs(binary):
    """The return addresses of the calls to __sanitizer_cov_trace_pc."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout.splitlines()
    pcs = []
    for i, line in enumerate(out):
        if re.search(r"call\s+[0-9a-f]+ <__sanitizer_cov_trace_pc>", line):
            for nxt in out[i + 1:i + 4]:
                m = re.match(r"\s*([0-9a-f]+):", nxt)
                if m:
                    pcs.append(int(m.group(1), 16))
                    break
    return pcs


def showmap_runs(row, inputs, copies, tag):
    """Each of inputs (bytes) run `copies` times in a row, all in one
    persistent process, by afl-showmap -i: per input, the list of its maps
    ({entry: bucket}), and the exit status."""
    b = os.path.join(BIN, row.binary)
    d = os.path.join(O, "showmap", "%s-%s" % (row.key, tag))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "in"))
    for j, data in enumerate(inputs):
        for i in range(copies):
            with open(os.path.join(d, "in", "in%04d-%03d" % (j, i)), "wb") as f:
                f.write(data)
    cmd = ["afl-showmap", "-i", os.path.join(d, "in"), "-o",
           os.path.join(d, "out"), "--", b]
    env = {"AFL_QUIET": "1", "AFL_NO_AFFINITY": "1"}
    commands.append(("afl-showmap, (%s), %s" % (row.key, tag), shell(cmd, env)))
    code, wall, cpu = run_measured(cmd, env, timeout=600)
    out = []
    for j in range(len(inputs)):
        maps = []
        for i in range(copies):
            try:
                with open(os.path.join(d, "out", "in%04d-%03d" % (j, i))) as f:
                    maps.append(dict(l.strip().split(":") for l in f
                                     if ":" in l))
            except OSError:
                pass
        out.append(maps)
    return out, code


def varying_entries(maps):
    keys = set()
    for m in maps:
        keys.update(m)
    return keys, sorted(int(k) for k in keys
                        if len(set(m.get(k, "0") for m in maps)) > 1)


class FeedMap:
    """ukcov's feed's map entries of a program, traced back to functions:
    fuzzer/feed.c's index computed for every coverable PC.  ok is False
    when some entry of a map is no PC's (the feed's index changed)."""

    def __init__(self, binary, size=65536):
        self.binary, self.by_index = binary, {}
        for pc in coverable_pcs(binary):
            self.by_index.setdefault(feed_index(pc, size), []).append(pc)
        self.ok = True

    def check(self, keys):
        if any(int(k) not in self.by_index for k in keys):
            self.ok = False
        return self.ok

    def functions(self, indices):
        addrs = [pc for ix in indices for pc in self.by_index.get(ix, [])]
        syms = subprocess.run(["addr2line", "-f", "-s", "-e", self.binary] +
                              [hex(a - 1) for a in addrs],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True).stdout.splitlines() if addrs else []
        fn = {a: (syms[2 * j] if 2 * j < len(syms) else "?")
              for j, a in enumerate(addrs)}
        return [" or ".join(sorted(set(fn[a] for a in
                                       self.by_index.get(ix, [])))) or "?"
                for ix in indices]


def showmap_variation(row, seed):
    """The seed run SHOWMAP_COPIES times in one persistent process by
    afl-showmap -i (AFL++'s classified map per run, as calibration sees
    it): the distinct maps, the map entries that are not the same in
    every run, and for ukcov's feed the functions of the PCs behind them
    (a map entry may stand for more than one PC)."""
    with open(seed, "rb") as f:
        data = f.read()
    runs, code = showmap_runs(row, [data], SHOWMAP_COPIES, "seed")
    maps = runs[0]
    if len(maps) < 2:
        return {"why": "afl-showmap gave %d maps (exit %s)" % (len(maps), code)}
    keys, varying = varying_entries(maps)
    res = {"maps": len(maps), "distinct": len(set(
        tuple(sorted(m.items())) for m in maps)), "entries": len(keys),
        "varying": len(varying)}
    if "ukcov" not in row.binary:
        return res
    fm = FeedMap(os.path.join(BIN, row.binary))
    if not fm.check(keys):
        res["why"] = ("map entries that no PC of the program hashes to: "
                      "fuzzer/feed.c's index changed; not symbolized")
        return res
    res["where"] = fm.functions(varying)
    return res


def showmap_queue(row):
    """QUEUE_SAMPLE entries of the row's final queue (every k-th by name),
    each run 10 times in a row in one persistent process: how many varied,
    and behind which functions (ukcov's feed)."""
    q = row.res.get("queue")
    try:
        names = sorted(f for f in os.listdir(q) if f.startswith("id:"))
    except (OSError, TypeError):
        return {"why": "no queue"}
    step = max(1, len(names) // QUEUE_SAMPLE)
    names = names[::step][:QUEUE_SAMPLE]
    inputs = []
    for n in names:
        with open(os.path.join(q, n), "rb") as f:
            inputs.append(f.read())
    runs, code = showmap_runs(row, inputs, 10, "queue")
    fm = FeedMap(os.path.join(BIN, row.binary))
    # An entry that differs in the first run only (the first after another
    # input) is state zstd kept from the input before; one that differs
    # between the later runs, which all follow the same input, is timing.
    varied = {"first": 0, "later": 0}
    fns = {"first": {}, "later": {}}
    for maps in runs:
        if len(maps) < 3:
            continue
        keys, varying = varying_entries(maps)
        fm.check(keys)
        if not varying:
            continue
        _, later = varying_entries(maps[1:])
        first = [ix for ix in varying if ix not in set(later)]
        for kind, ixs in (("first", first), ("later", later)):
            if ixs:
                for w in set(fm.functions(ixs)):
                    fns[kind][w] = fns[kind].get(w, 0) + 1
        varied["later" if later else "first"] += 1
    res = {"inputs": len(inputs), "varied": varied["first"] + varied["later"],
           "first_only": varied["first"], "later": varied["later"]}
    if fm.ok:
        res["where_first"] = sorted(fns["first"].items(), key=lambda t: -t[1])
        res["where_later"] = sorted(fns["later"].items(), key=lambda t: -t[1])
    else:
        res["why"] = ("map entries that no PC of the program hashes to: "
                      "fuzzer/feed.c's index changed; not symbolized")
    return res


# ---- AFL++'s driver with the eager harness ---------------------------------

def eager_check(seeds):
    b = os.path.join(BIN, "afl-native-eager")
    if not os.access(b, os.X_OK):
        return "not built"
    d = os.path.join(O, "runs", "eager")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cmd = ["afl-fuzz", "-V", "10", "-i", seeds, "-o", os.path.join(d, "out"),
           "--", b]
    commands.append(("AFL++'s driver, eager harness", shell(cmd, AFL_ENV)))
    log = os.path.join(d, "afl.log")
    with open(log, "wb") as f:
        code, wall, cpu = run_measured(cmd, AFL_ENV, timeout=120, stdout=f,
                                       stderr=f)
    with open(log, errors="replace") as f:
        text = re.sub(r"\x1b\[[0-9;]*m", "", f.read())
    m = re.search(r"Test case '([^']*)' results in a timeout", text)
    if m:
        return ("afl-fuzz aborted after %.0f s: \"Test case '%s' results in "
                "a timeout\" (the first input that goes through the pool)"
                % (wall, m.group(1)))
    st = parse_afl_stats(os.path.join(d, "out", "default", "fuzzer_stats"))
    if st:
        return ("ran (exit %s): stability %s, %s execs; no hang seen" %
                (code, st.get("stability"), st.get("execs_done")))
    return "exit %s: %s" % (code, last_error(log))


# ---- output ----------------------------------------------------------------

def fmt(v, spec="d"):
    return "-" if v is None else format(v, spec)


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return out


def main():
    t_start = time.time()
    rows = [r for r in ALL_ROWS if r.key in ROWS]
    for r in rows:
        if r.engine == "libFuzzer" and not HAVE_LF:
            r.why = "no libFuzzer runtime (libclang-rt-14-dev)"
        elif r.engine == "AFL++" and not HAVE_AFL:
            r.why = "no AFL++ (afl++)"
        elif not os.access(os.path.join(BIN, r.binary), os.X_OK):
            r.why = "%s not built" % r.binary
    machine = "%s, %d CPUs, %s" % (cpu_model(), os.cpu_count(),
                                   platform.platform())
    say("bench-fuzz-zstd: %s; load average %s" % (machine, loadavg()))
    say("bench-fuzz-zstd: %d s per fuzzer, rows %s%s" % (
        SECS, ",".join(r.key for r in rows), " (quick)" if QUICK else ""))
    seeds = os.path.join(O, "seeds")
    seed_names = write_seeds(seeds)

    eager = eager_check(seeds) if HAVE_AFL else "AFL++ not installed"
    say("bench-fuzz-zstd: AFL++'s driver with the eager harness: " + eager)

    for r in rows:
        if r.why:
            say("bench-fuzz-zstd: (%s) skipped: %s" % (r.key, r.why))
            continue
        say("bench-fuzz-zstd: (%s) %s, %d s ..." % (r.key, r.label, SECS))
        r.res["load0"] = loadavg()
        j0 = busy_jiffies()
        others = Others(r.binary)
        (run_lf if r.engine == "libFuzzer" else run_afl)(r, seeds)
        r.res["others"] = others.done()
        j1 = busy_jiffies()
        r.res["load1"] = loadavg()
        if j0 and j1 and j1[1] > j0[1]:
            r.res["busy"] = (j1[0] - j0[0]) / (j1[1] - j0[1]) * os.cpu_count()
        if r.why:
            say("bench-fuzz-zstd: (%s) %s" % (r.key, r.why))
        else:
            say("bench-fuzz-zstd: (%s) %s" % (r.key, ", ".join(
                "%s %s" % (k, (format(v, ".1f") if isinstance(v, float) else v))
                for k, v in r.res.items())))

    say("bench-fuzz-zstd: replaying the corpora (ukcov-run -m unique)")
    base, err = replay_pcs([seeds], "seeds")
    for r in rows:
        if r.corpus:
            v, err = replay_pcs([r.corpus], r.key)
            r.res["pcs"] = v
            if err:
                say("bench-fuzz-zstd: (%s) %s" % (r.key, err))

    say("bench-fuzz-zstd: cost per input, %d alternated rounds" % ROUNDS)
    udir, files = union_inputs(rows, seeds)
    costs = cost(rows, files) if files else {}

    say("bench-fuzz-zstd: the feed's instructions per PC (callgrind, %d "
        "inputs)" % VG_N)
    vg = callgrind(rows, files) if files else None

    say("bench-fuzz-zstd: one input %d times in one process (afl-showmap)"
        % SHOWMAP_COPIES)
    showmap = {}
    for r in rows:
        if r.engine == "AFL++" and not r.why:
            showmap[r.key] = showmap_variation(
                r, os.path.join(seeds, "flush4-text"))
    queue_var = None
    if "d" in showmap:
        say("bench-fuzz-zstd: %d entries of (d)'s queue, 10 times each "
            "(afl-showmap)" % QUEUE_SAMPLE)
        queue_var = showmap_queue([r for r in rows if r.key == "d"][0])

    # The PCs the feed folds for that seed (libukcov-afl.a's reproducer).
    folded = None
    if os.access(os.path.join(BIN, "afl-ukcov"), os.X_OK):
        seed = os.path.join(seeds, "flush4-text")
        p = subprocess.run([os.path.join(BIN, "afl-ukcov"), seed, seed],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, env=dict(os.environ, UKCOV_AFL_DEBUG="1"))
        n = re.findall(r"(\d+) PCs", p.stderr)
        folded = int(n[-1]) if n else None

    say("bench-fuzz-zstd: variation of one input, %d runs" % VAR_RUNS)
    var_rows, var_where = variation(os.path.join(seeds, "flush4-text"))
    # The pool patch at work: the jobs ran as sections for the submitter.
    if not [1 for a, lo, hi, n in var_rows if a == "common" and lo > 0]:
        say("bench-fuzz-zstd: ERROR: no job of the replay ran as a section "
            "(no common area entries): patch-pool.py's change did not take")
        var_where.insert(0, "ERROR: no job ran as a section: the pool "
                         "patch did not take")

    data = {
        "rows": {r.key: {"res": r.res, "why": r.why} for r in rows},
        "machine": machine, "seed_names": seed_names, "base": base,
        "eager": eager, "costs": costs, "vg": vg, "showmap": showmap,
        "folded": folded, "queue_var": queue_var,
        "var_rows": var_rows,
        "var_where": var_where, "nunion": len(files),
        "took": time.time() - t_start, "commands": commands, "secs": SECS,
        "quick": QUICK, "var_runs": VAR_RUNS, "rounds": ROUNDS,
        "vg_n": VG_N, "showmap_copies": SHOWMAP_COPIES,
        "queue_sample": QUEUE_SAMPLE,
    }
    with open(RESULTS, "w") as f:
        json.dump(data, f, indent=1)
    render(data)


def render(data):
    """The tables and the markdown, from what main() measured (saved in
    build-fuzz-zstd/results.json: FUZZ_ZSTD_RENDER=1 renders it again)."""
    global SECS, QUICK, VAR_RUNS, ROUNDS, VG_N, SHOWMAP_COPIES
    SECS, QUICK = data["secs"], data["quick"]
    VAR_RUNS, ROUNDS = data["var_runs"], data["rounds"]
    VG_N = data.get("vg_n", VG_N)
    SHOWMAP_COPIES = data.get("showmap_copies", SHOWMAP_COPIES)
    commands[:] = [tuple(c) for c in data["commands"]]
    rows = [r for r in ALL_ROWS if r.key in data["rows"]]
    for r in rows:
        r.res = data["rows"][r.key]["res"]
        r.why = data["rows"][r.key]["why"]
    machine, seed_names = data["machine"], data["seed_names"]
    base, eager, costs = data["base"], data["eager"], data["costs"]
    vg = data.get("vg")
    showmap = dict(data.get("showmap") or {})
    if data.get("queue_var"):
        showmap["d-queue"] = data["queue_var"]
    var_rows, var_where = data["var_rows"], data["var_where"]

    # ---- the tables ----
    t1 = []
    for r in rows:
        x = r.res
        pcs = x.get("pcs")
        yard = "%d of %d (%d inputs)" % tuple(pcs) if pcs else "-"
        if r.why and not x:
            t1.append([r.key, r.label, "not run: " + r.why] + [""] * 8)
            continue
        if r.engine == "AFL++":
            sig = "stability %s, %s var bytes; edges %s" % (
                x["stability"], x["var_bytes"], x["edges"])
        else:
            sig = "cov %s, ft %s, %s new units" % (x["cov"], x["ft"],
                                                  x["new_units"])
        busy = x.get("busy")
        oth = x.get("others")
        if oth:
            oth = "%.0f CPU s%s" % (oth[0], "".join(
                "%s %s %.0f s" % (", " if i else ": ", c, t)
                for i, (c, t) in enumerate(oth[1]) if t >= 1))
        t1.append([r.key, r.label, r.init, "%.0f" % x["secs"],
                   "{:,}".format(x["execs"]), "%.0f" % x["eps"], sig,
                   x["corpus"], yard,
                   "%s / %s; %s CPUs busy; others %s" % (
                       x["load0"], x["load1"], fmt(busy, ".2f"), oth or "?")])
    h1 = ["", "fuzzer", "pool made at", "s", "execs", "execs/s",
          "engine's own signal", "corpus", "zstd PCs reached (yardstick)",
          "load avg start / end; machine busy; what else ran"]
    t2 = []
    nat = {"libFuzzer": "a", "AFL++": "c"}
    for r in rows:
        if med(costs, r.key, 0) is None:
            continue
        v = [x[0] for x in costs[r.key] if x]
        n = nat[r.engine]
        if r.key == n:
            ratio = wr = "1"
        else:
            p = paired(costs, n, r.key, 0)
            q = paired(costs, n, r.key, 1)
            ratio = "%.2f (%.2f-%.2f)" % p if p else "-"
            wr = "%.2f" % q[0] if q else "-"
        t2.append([r.key, r.label, "%.0f" % med(costs, r.key, 0),
                   "%.0f-%.0f" % (min(v), max(v)),
                   "%.0f / %.0f" % (med(costs, r.key, 2),
                                    med(costs, r.key, 3)), ratio, wr])
    h2 = ["", "binary", "CPU us/input (median)", "lowest-highest",
          "user / sys us", "CPU vs the engine's own build (paired)",
          "wall, the same"]
    t3 = [[a, "%d-%d" % (lo, hi), n] for a, lo, hi, n in var_rows]
    h3 = ["area (ukcov-run)", "entries per run", "PCs whose hit count varies"]

    for line in table(h1, t1) + [""] + table(h2, t2) + [""] + table(h3, t3):
        say(line)
    for w in var_where:
        say("  " + w)
    say("bench-fuzz-zstd: AFL++'s driver with the eager harness: " + eager)

    md = section(machine, rows, seed_names, base, eager, h1, t1, h2, t2, h3,
                 t3, var_where, data["nunion"], data["took"], costs, var_rows,
                 vg, showmap, data.get("folded"))
    write_md(md)


def section(machine, rows, seed_names, base, eager, h1, t1, h2, t2, h3, t3,
            var_where, nunion, took, costs, var_rows, vg, showmap, folded):
    afl_ver = subprocess.run(["afl-fuzz", "-h"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True).stdout if HAVE_AFL else ""
    m = re.search(r"afl-fuzz\+\+(\S+)", re.sub(r"\x1b\[[0-9;]*m", "", afl_ver))
    clang = subprocess.run(["clang", "--version"], stdout=subprocess.PIPE,
                           text=True).stdout.splitlines()[0]
    try:
        with open(os.path.join(O, "zstd-version")) as f:
            zver = f.read().strip()
    except OSError:
        zver = "libzstd (version unknown)"
    md = [HEADING, "",
          "Issue 14, item 5: a real library that does its work on worker "
          "threads, fuzzed with libFuzzer and AFL++, each with its own "
          "instrumentation and with ukcov's feed (`make bench-fuzz-zstd`, "
          "bench/fuzz-zstd/; not part of `make check` or CI).  Written by "
          "bench/fuzz-zstd/fuzz.py%s." % (
              " in quick mode: not the figures to quote" if QUICK else ""),
          "",
          "- Machine: %s.  %s; AFL++ %s.  The fuzzers ran one at a time, "
          "each for %d s; the last column of the table gives the load "
          "average at its start and end, how many of the CPUs the whole "
          "machine kept busy meanwhile (the fuzzer included), and the CPU "
          "time of every other process meanwhile, with the three largest "
          "by command name (/proc read every 2 s): other engineers' builds "
          "and test suites share this machine." % (
              machine, clang, m.group(1) if m else "?", SECS),
          "- Target: %s, Debian's source (`apt-get source libzstd`, "
          "through tests/helpers/debian-source.sh), lib/ built with clang "
          "-O2 -g, -DZSTD_MULTITHREAD, without its x86-64 assembly "
          "(-DZSTD_DISABLE_ASM); lib/common/pool.c patched at build time "
          "by bench/fuzz-zstd/patch-pool.py: under -DUKCOV_POOL a job "
          "captures its submitter's handle when queued (ukcov_capture) and "
          "runs as a section for it (ukcov_run_captured); without it the "
          "file builds as before." % zver,
          "- Harness: bench/fuzz-zstd/zstd_mt.c.  One ZSTD_CCtx for the "
          "process, ZSTD_c_nbWorkers = 2; per input: the input in chunks "
          "whose sizes come from it, each handed to ZSTD_compressStream2 "
          "with ZSTD_e_continue and then flushed with ZSTD_e_flush and no "
          "new input (each flush is a job on the pool, and the harness "
          "thread blocks until the job says it is done), the rest with "
          "ZSTD_e_end the same way, then ZSTD_decompressDCtx and a "
          "comparison (abort on a mismatch).  Level 3 (double-fast) with a "
          "1 KiB window and 2^11/2^10-entry tables whatever the input, the "
          "input picking the number of flushes (0-4), the checksum and "
          "minMatch.  Its header says why each of these choices (a flush "
          "without new input, no flush for empty data, tables that no "
          "job's size changes) keeps the harness thread's own path and "
          "zstd's state the same from run to run of an input.  Seeds: %s "
          "(byte 0 the plan, then the data)." % ", ".join(seed_names),
          "- The rows.  (a) libFuzzer with its own instrumentation "
          "(-fsanitize=fuzzer: inline 8-bit counters on every thread, "
          "trace-cmp for its comparison-guided mutations, pc-table).  (b) "
          "libFuzzer with ukcov's feed: trace-pc,trace-cmp, "
          "libukcov-libfuzzer.a, the per-input PCs of the harness thread "
          "and of its jobs' sections hashed into 64 KiB of extra counters; "
          "the trace-cmp callbacks are ukcov's, so libFuzzer gets no "
          "comparison operands.  (c) AFL++ with afl-clang-fast (pcguard "
          "edges, every thread into one map) and AFL++'s libAFLDriver.a, "
          "with the harness's lazy init: that driver calls "
          "LLVMFuzzerInitialize before its forkserver forks, so a pool "
          "made there does not exist in the children (checked below).  (d) "
          "AFL++ with ukcov's feed (libukcov-afl.a, persistent mode, its "
          "map 64 KiB): LLVMFuzzerInitialize runs in the child, after the "
          "fork.  (e) as (d) with the lazy harness of (c): what lazy init "
          "costs on its own.",
          "- AFL++ ran with %s (AFL_NO_AFFINITY: the target has three "
          "threads; bound to one CPU, the pool would share it with the "
          "harness thread)." % ", ".join(
              "%s=%s" % kv for kv in sorted(AFL_ENV.items())),
          "- edges_found and ft are each engine's count in its own map: "
          "not comparable across instrumentations (pcguard edges, "
          "libFuzzer's counters with buckets, ukcov's hashed PCs with "
          "buckets).  The common yardstick is the last but one column: "
          "every final corpus (AFL++'s queue, libFuzzer's corpus "
          "directory, seeds included) replayed once through one binary, "
          "build-fuzz-zstd/bin/replay (zstd built as for (b), (d), (e); "
          "harness and main() not instrumented, so every PC counted is "
          "zstd's), under `ukcov-run -m unique`: the distinct PCs "
          "(trace-pc call sites) that any thread ran (harness thread, "
          "pool threads, the jobs' sections), of all coverable PCs of the "
          "binary (ukcov-report's total).  The replay frees the context "
          "before it exits (zstd joins the pool's threads): a job says it "
          "is done before its section ends, and a section still open when "
          "the process exits is lost (the last job of the last input, in "
          "2 of 40 runs before this was done).  Chosen over libFuzzer's "
          "`-runs=0` count because it counts zstd alone, exactly, on "
          "every thread, with no hash or bucket; the seeds alone reach "
          "%s." % ("%d of %d" % tuple(base[:2]) if base else "?"),
          "", ] + table(h1, t1) + [
          "",
          "Stability is AFL++'s: the share of the map's set bytes that "
          "never changed when it re-ran an input (calibration, 8 runs or "
          "more).  var bytes: those that did.", ""]
    md += ["### The target's cost per input", "",
           "The %d distinct inputs of all final corpora and the seeds, each "
           "run once by each binary with no fuzzing engine around it "
           "(libFuzzer and libAFLDriver.a run file arguments once, "
           "libukcov-afl.a does without __AFL_SHM_ID, with the feed's "
           "begin, wait and fold), %d rounds alternated (A B ... then ... B "
           "A): CPU time of the process, all its threads, per input.  The "
           "ratio to the engine's own build is taken within each round, "
           "then the median of the rounds (lowest-highest); wall-clock only "
           "as a ratio beside it." % (nunion, ROUNDS), ""]
    md += table(h2, t2)
    if vg:
        md += ["", "The feed's own instructions (callgrind, (d)'s binary "
               "over the first %d of those inputs): %.1f per PC folded in "
               "__ukcov_fuzzer_fold (%s PCs), %.1f per call of "
               "__sanitizer_cov_trace_pc (%s calls).  Whole-program "
               "instruction counts are not given: valgrind runs one thread "
               "at a time, and where zstd's harness thread polls for a "
               "worker it polls until valgrind switches threads, so totals "
               "for the same inputs varied a hundredfold between runs." % (
                   vg["inputs"], vg["fold"], "{:,}".format(vg["pcs"]),
                   vg["callback"], "{:,}".format(vg["calls"]))]
    md += ["", "### One input, again and again, as AFL++ sees it", "",
           "The seed flush4-text (4 flushes: 5 jobs) run %d times in one "
           "persistent process by `afl-showmap -i` (each run's map "
           "classified into AFL++'s hit-count buckets, as calibration "
           "compares them): how many different maps, how many map entries "
           "in all and how many were not the same in every run; for "
           "ukcov's feed the functions whose PCs the varying entries stand "
           "for (fuzzer/feed.c's index computed for every coverable PC of "
           "the program; an entry may stand for two PCs, one of them never "
           "reached)." % SHOWMAP_COPIES, ""]
    sm_rows = []
    for r in rows:
        x = showmap.get(r.key)
        if not x:
            continue
        if "maps" not in x:
            sm_rows.append([r.key, r.label, x.get("why", "?"), "", "", ""])
            continue
        where = ""
        if x.get("where"):
            cnt = {}
            for w in x["where"]:
                cnt[w] = cnt.get(w, 0) + 1
            where = ", ".join("%s%s" % (w, " (%d)" % n if n > 1 else "")
                              for w, n in sorted(cnt.items(),
                                                 key=lambda t: -t[1])[:8])
            if len(cnt) > 8:
                where += ", and %d more" % (len(cnt) - 8)
        elif x.get("why"):
            where = x["why"]
        sm_rows.append([r.key, r.label, "%d of %d" % (x["distinct"], x["maps"]),
                        x["entries"], x["varying"], where or "-"])
    md += table(["", "fuzzer", "different maps", "map entries",
                 "entries that varied", "what they stand for (ukcov's feed)"],
                sm_rows)
    qv = showmap.get("d-queue")
    if qv and "inputs" in qv:
        def fl(ws):
            return ", ".join("%s (%d input%s)" % (w, n, "" if n == 1 else "s")
                             for w, n in ws) or "-"
        md += ["", "And %d entries of (d)'s final queue (every k-th by "
               "name), each run 10 times in a row in one process: %d of "
               "them varied.  In %d only the first run differed, the "
               "first after another input (state zstd kept from that "
               "input), in map entries standing for %s; in %d the later "
               "runs, which all follow a run of the same input, differed "
               "too (timing), in entries standing for %s.%s" % (
                   qv["inputs"], qv["varied"], qv.get("first_only", 0),
                   fl(qv.get("where_first", [])), qv.get("later", 0),
                   fl(qv.get("where_later", [])),
                   "  (%s)" % qv["why"] if qv.get("why") else "")]
    md += ["", "### Where runs of one input differ, per thread", "",
           "The seed flush4-text (4 flushes: 5 jobs) run %d times, a "
           "process each, by the replay binary under `ukcov-run -m pc` "
           "(hit counts): per area, the entries and the PCs whose hit "
           "count was not the same in every run.  main is the harness "
           "thread, thread:POOL_thread the pool threads' own code (their "
           "queue loop; both threads together), common the jobs' sections "
           "(what ukcov's feed adds to the harness thread's)." % VAR_RUNS,
           ""]
    md += table(h3, t3)
    if var_where:
        md += ["", "The harness thread's varying PCs (hit counts, lowest "
               "to highest):", ""] + ["- `%s`" % w for w in var_where]
    md += ["", "### AFL++'s own driver with the eager harness", "",
           "The harness of (a), (b), (d) (the pool made in "
           "LLVMFuzzerInitialize) linked with libAFLDriver.a and run by "
           "afl-fuzz for 10 s: %s." % eager, ""]
    md += ["### Reading", ""] + reading(rows, costs, var_rows, vg,
                                         showmap, folded) + [""]
    md += ["### Command lines", "", "```",
           "make bench-fuzz-zstd    # FUZZ_ZSTD_SECS=%d%s" % (
               SECS, " FUZZ_ZSTD_QUICK=1" if QUICK else "")]
    md += ["# %s\n%s" % (w, c) for w, c in commands]
    md += ["```", "", "The builds: `make -n -B -f bench/fuzz-zstd/build.mk`; "
           "the whole run took %.0f minutes." % (took / 60), ""]
    return md


def why_not_100(showmap, rows):
    """The reading's sentence on what is left of the instability of (d)."""
    d = showmap.get("d") or {}
    q = showmap.get("d-queue") or {}
    r = {x.key: x for x in rows}
    vb = r["d"].res.get("var_bytes") if "d" in r else None
    if "maps" not in d or "inputs" not in q:
        return "- (d) was not run again by afl-showmap."
    later = set(w for w, n in q.get("where_later", []))
    # What differed in first runs only and never between later runs.
    first = set(w for w, n in q.get("where_first", [])) - later
    text = ("- What is left with ukcov's feed: %s variable bytes in AFL++'s "
            "calibrations (d); %s; %d of %d queue entries varied over 10 "
            "runs.  " % (
                vb or "?", "the seed gave the same map in all %d runs" %
                d["maps"] if d["distinct"] == 1 else
                "the seed gave %d different maps in %d runs" % (
                    d["distinct"], d["maps"]), q["varied"], q["inputs"]))
    if not later:
        text += "Between runs that follow the same input, nothing varied.  "
    elif later <= {"ZSTDMT_compressStream_generic"}:
        text += ("Between runs that follow the same input, only zstd's wait "
                 "for a job on the harness thread varied: a job done before "
                 "the harness thread reaches ZSTDMT_flushProduced's wait "
                 "loop (inlined into ZSTDMT_compressStream_generic) skips "
                 "the loop's body (the harness's header says how it keeps "
                 "that rare).  ")
    else:
        text += ("Between runs that follow the same input, %s varied: "
                 "not only zstd's wait for a job; the others need a look.  "
                 % ", ".join(sorted(later)))
    if first:
        text += ("The first run after another input also differed in %s: "
                 "state that zstd's long-lived context keeps from one input "
                 "to the next (where the last job's data lay, for "
                 "ZSTD_window_update), which AFL++ meets because it "
                 "calibrates an input right after a different one.  " %
                 ", ".join(sorted(first)))
    text += ("Both are the code of the thread that runs the input or of "
             "its jobs, which any feed must count: no attribution makes "
             "them repeat, only a change in zstd (or a harness that "
             "rebuilds its context per input) would.")
    return text


def reading(rows, costs, var_rows, vg, showmap, folded):
    """The reading: sentences from the figures, then what makes them."""
    r = {x.key: x for x in rows}
    out = []

    def res(k, f):
        return r[k].res.get(f) if k in r else None

    if res("c", "stability") and res("d", "stability"):
        out.append("- Stability (AFL++): %s with AFL++'s own map (c), %s "
                   "with ukcov's feed (d), %s with ukcov's feed and lazy "
                   "init (e)." % (res("c", "stability"), res("d", "stability"),
                                 res("e", "stability") or "-"))
    sm = [(k, showmap[k]) for k in "cde" if "maps" in (showmap.get(k) or {})]
    if sm:
        out.append("- One input run %d times in one process (afl-showmap): "
                   % sm[0][1]["maps"] + ", ".join(
                       "(%s) %d distinct map%s, %d of %d entries varying" % (
                           k, x["distinct"], "" if x["distinct"] == 1 else "s",
                           x["varying"], x["entries"])
                       for k, x in sm) + ".")
    for a, b in (("a", "b"), ("c", "d")):
        if res(a, "eps") and res(b, "eps"):
            out.append("- execs/s while fuzzing, %s: %.0f with its own "
                       "instrumentation, %.0f with ukcov's feed (%.2fx)." % (
                           r[a].engine, res(a, "eps"), res(b, "eps"),
                           res(b, "eps") / res(a, "eps")))
    for a, b in (("a", "b"), ("c", "d"), ("c", "e")):
        p = paired(costs, a, b, 0)
        if p:
            out.append("- The target's CPU per input on the same inputs: "
                       "(%s) %.0f us, (%s) %.0f us (%.2fx, paired rounds)." % (
                           a, med(costs, a, 0), b, med(costs, b, 0), p[0]))
    if vg and vg.get("callback"):
        out.append("- The feed's instructions (callgrind): %.1f per PC in "
                   "the fold, %.1f per call of the PC callback; every PC "
                   "recorded for the input costs both." % (
                       vg["fold"], vg["callback"]))
    pcs = [(k, res(k, "pcs")) for k in "abcde" if res(k, "pcs")]
    if pcs:
        out.append("- zstd PCs reached (yardstick): " + ", ".join(
            "(%s) %d" % (k, v[0]) for k, v in pcs) + ".")
    var = {a: n for a, lo, hi, n in var_rows}
    out += [
        "",
        "What makes these figures:",
        "",
        "- What ukcov's feed takes away.  AFL++'s own map (c) takes the "
        "code of every thread while the input runs: the pool threads' "
        "own queue loop (POOL_thread: how often it goes round depends on "
        "when the threads wake; %s of its PCs varied above), and what a "
        "worker runs after its job has told the harness thread it is done "
        "(the rest of the job and the pool's bookkeeping): that code lands "
        "in this input's map or, once AFL++ has read the map, in the next "
        "input's.  ukcov's feed "
        "(d) takes the harness thread's code and the jobs' sections, and "
        "waits for every section still open (ukcov_remote_wait) before it "
        "folds: %s." % (var.get("thread:POOL_thread", "?"),
                      "the sections did not vary at all above (0 varying "
                      "PCs in common)" if var.get("common") == 0 else
                      "yet %s PCs of the sections varied above" %
                      var.get("common", "?")),
        why_not_100(showmap, rows),
        "- Lazy init (e against d).  The first input of each process "
        "made the context and the pool: its map held that code once, the "
        "next runs of the same input did not, and AFL++ counts every byte "
        "that ever differed in calibration as variable for the rest of the "
        "run.  Row (c) pays the same, and must: AFL++'s own driver calls "
        "LLVMFuzzerInitialize before its fork (see above).",
        "- execs/s while fuzzing depends on the inputs each fuzzer kept "
        "and mutated (a corpus of long inputs runs slower), so it is not "
        "like against like; the cost table is.  What the feed costs "
        "there: a call of the trace-pc callback per basic block on every "
        "thread where the engines increment an inline counter, the "
        "section per job (start, stop, the copy into the harness thread's "
        "area), the wait for the sections still open, and the fold (a "
        "hash per recorded PC: %s for the seed flush4-text, 902 bytes and "
        "4 flushes): %s, where the engines' own instrumentation "
        "increments a counter inline.  Much of "
        "every build's time per input is the kernel's (the sys column): "
        "the three threads hand each job over and back through futexes, "
        "the same in every build; and when a worker is preempted while "
        "zstd's harness thread polls for it, the poll lasts as long, so "
        "these figures move with the machine's load." % (
            "{:,}".format(folded) if folded else "?",
            "callgrind counts %.0f instructions per PC in the fold and %.0f "
            "per call of the callback" % (vg["fold"], vg["callback"])
            if vg else "callgrind was not run"),
        "- libFuzzer with ukcov's feed gets no comparison operands (the "
        "trace-cmp callbacks are ukcov's): its CMP-guided mutations, which "
        "(a) has, are missing; AFL++ ran without CmpLog in every row.",
    ]
    return out


def write_md(md):
    OUT = os.environ.get("FUZZ_ZSTD_OUT") or (
        os.path.join(O, "fuzz-zstd-quick.md") if QUICK else
        os.path.join(ROOT, "BENCHMARKS-peers.md"))
    text = "\n".join(md).rstrip("\n") + "\n"
    if OUT.endswith("BENCHMARKS-peers.md") and os.path.exists(OUT):
        with open(OUT) as f:
            old = f.read()
        i = old.find("\n" + HEADING + "\n")
        head = old if i < 0 else old[:i + 1]
        text = head.rstrip("\n") + "\n\n" + text
    with open(OUT, "w") as f:
        f.write(text)
    say("bench-fuzz-zstd: wrote %s" % rel(OUT))


if __name__ == "__main__":
    if os.environ.get("FUZZ_ZSTD_RENDER", "0") == "1":
        try:
            with open(RESULTS) as f:
                render(json.load(f))
        except (OSError, ValueError) as e:
            sys.exit("bench-fuzz-zstd: cannot render %s: %s" % (rel(RESULTS), e))
    else:
        main()
