#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench`, section 6: a server under ukcov-run (issue 12, Servers).

tests/tools/run-server.c (an acceptor, four workers, a ticking maintenance
thread; gcc -O2, trace-pc, libukcov.a) runs alone and under ukcov-run in
paired, alternated rounds.  Per run: the time from the spawn to the
server's "listening" file (its start), its resident memory once idle, the
CPU time of the server (and of ukcov-run, which waits for it) for a load of
SERVER_CONNS x SERVER_REQS loopback requests from an uncollected client,
and what ukcov-run dropped.  Prints the figures and writes
BENCHMARKS-server.md.  Environment: BENCH_ROUNDS (5), SERVER_CONNS (2),
SERVER_REQS (40000).
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "build-bench", "server")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
CONNS = int(os.environ.get("SERVER_CONNS", "2"))
REQS = int(os.environ.get("SERVER_REQS", "40000"))

# (label, ukcov-run options or None for the server alone, what it includes)
CONFIGS = [
    ("alone", None, "the server, not collected (libukcov linked, idle)"),
    ("ukcov-run (defaults: unique, 256 Ki words)", [],
     "every thread's area and the common handle's, each PC once"),
    ("ukcov-run -m pc", ["-m", "pc"],
     "every execution in order, default 256 Ki-word areas"),
    ("ukcov-run -m pc -s 64M", ["-m", "pc", "-s", "64M"],
     "as above, 64 Mi-word areas (512 MiB of address space each)"),
]


def say(*a):
    print(*a, flush=True)


def build():
    lib = os.path.join(ROOT, "build-bench", "gcc")
    subprocess.run(["make", "-s", "BUILD=" + os.path.relpath(lib), "CC=gcc",
                    "CFLAGS=-O2 -gdwarf-4", "lib", "tools"], check=True)
    os.makedirs(OUT, exist_ok=True)
    prog = os.path.join(OUT, "run-server")
    cmd = ["gcc", "-O2", "-g", "-fsanitize-coverage=trace-pc",
           "-fno-optimize-sibling-calls", "-Iinclude", "-o", prog,
           "tests/tools/run-server.c", os.path.join(lib, "libukcov.a"),
           "-lpthread", "-ldl"]
    subprocess.run(cmd, check=True)
    return prog, os.path.join(lib, "tools", "ukcov-run"), " ".join(cmd)


def server_pid(pid, wrapped):
    """The server's pid: pid itself, or ukcov-run's child."""
    if not wrapped:
        return pid
    for _ in range(1000):
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            pass
        time.sleep(0.001)
    return None


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def one_run(prog, runner, opts):
    ready = os.path.join(OUT, "ready")
    cov = os.path.join(OUT, "server.cov")
    for p in (ready, cov):
        if os.path.exists(p):
            os.unlink(p)
    argv = [prog, "serve", ready]
    if opts is not None:
        argv = [runner, "-q"] + opts + ["-o", cov, "--"] + argv
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    while not os.path.exists(ready):
        if p.poll() is not None:
            sys.exit(f"bench: the server ended: {p.stderr.read().decode()}")
        time.sleep(0.0005)
    start = time.monotonic() - t0
    spid = server_pid(p.pid, opts is not None)
    time.sleep(0.2)  # idle: its threads parked
    rss = rss_kib(spid) if spid else None
    with open(ready) as f:
        port = f.read().strip()
    t1 = time.monotonic()
    subprocess.run([prog, "load", port, str(CONNS), str(REQS)], check=True,
                   stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t1
    err = p.stderr.read().decode()
    p.stderr.close()
    dropped = 0
    for line in err.splitlines():
        if "entries were dropped" in line:
            dropped = int(line.split("warning: ")[1].split()[0])
    if status != 0:
        sys.exit(f"bench: the run failed ({status}): {err}")
    return {"start": start, "rss": rss, "cpu": ru.ru_utime + ru.ru_stime,
            "wall": wall, "dropped": dropped}


def spread(vals):
    return (f"{statistics.median(vals):.2f}x "
            f"[{min(vals):.2f}-{max(vals):.2f}]")


def main():
    say("== 6. a server under ukcov-run "
        f"({CONNS} x {REQS} loopback requests, {ROUNDS} alternated rounds)")
    prog, runner, cmd = build()
    res = {c[0]: [] for c in CONFIGS}
    for r in range(ROUNDS):
        order = CONFIGS if r % 2 == 0 else list(reversed(CONFIGS))
        for label, opts, _ in order:
            res[label].append(one_run(prog, runner, opts))
    base = res[CONFIGS[0][0]]
    rows = []
    for label, opts, what in CONFIGS:
        rs = res[label]
        start_ms = statistics.median(x["start"] for x in rs) * 1e3
        rss = [x["rss"] for x in rs if x["rss"] is not None]
        rss_mib = statistics.median(rss) / 1024 if rss else float("nan")
        cpu_us = statistics.median(x["cpu"] for x in rs) * 1e6 / (CONNS * REQS)
        cpu_r = [a["cpu"] / b["cpu"] for a, b in zip(rs, base)]
        st_r = [a["start"] / b["start"] for a, b in zip(rs, base)]
        wall_r = [a["wall"] / b["wall"] for a, b in zip(rs, base)]
        drop = statistics.median(x["dropped"] for x in rs)
        rows.append((label, what, f"{start_ms:.1f}", spread(st_r),
                     f"{rss_mib:.1f}", f"{cpu_us:.2f}", spread(cpu_r),
                     f"{drop:,.0f}", spread(wall_r)))
        say(f"   {label}: start {start_ms:.1f} ms ({spread(st_r)}), idle "
            f"RSS {rss_mib:.1f} MiB, CPU {cpu_us:.2f} us/request "
            f"({spread(cpu_r)}), dropped {drop:,.0f}; wall {spread(wall_r)}")
    with open("BENCHMARKS-server.md", "w") as f:
        f.write("# A server under ukcov-run\n\n"
                "Written by `make bench` (bench/server.py); do not edit by "
                "hand.\n\n")
        f.write(f"tests/tools/run-server.c: an acceptor, four worker "
                f"threads and a maintenance thread ticking every "
                f"millisecond, built with `{cmd}`.  Each run: the server "
                f"starts (alone or under ukcov-run), idles 0.2 s, serves "
                f"{CONNS} connections of {REQS:,} requests (a quarter "
                f"`set`, the rest `get`) from a client that is not "
                f"collected, then ends; ukcov-run writes its file.  "
                f"{ROUNDS} rounds, the configurations in the table's order "
                f"in even rounds and reversed in odd ones; ratios are the "
                f"median of the per-round ratios against the server alone, "
                f"`median [lowest-highest]`.\n\n"
                "- start: from the spawn to the server's listening file "
                "(ukcov-run's region set-up and the collector's start "
                "included);\n"
                "- idle RSS: the server process's VmRSS after the start "
                "(areas are not faulted in: a page costs when written);\n"
                "- CPU: user + system time of the server and of ukcov-run "
                "waiting for it, per request (ukcov-run's writing of the "
                "file included): the verdict;\n"
                "- wall: the load's duration, beside it, never the "
                "verdict (the client shares the 2 CPUs).\n\n")
        f.write("| run | what it collects | start ms | start x | idle RSS "
                "MiB | CPU us/request | CPU x | entries dropped | wall x |\n")
        f.write("|---|---|---|---|---|---|---|---|---|\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
    say("wrote BENCHMARKS-server.md")


if __name__ == "__main__":
    main()
