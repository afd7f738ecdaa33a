#!/usr/bin/env python3
"""weft's comparison suite (issue 7): processes, threads, a thread pool, weft
coroutines and weft fibers on the same five workloads.

Runs each cell (model x workload) in its own process (bench/suite/main.cc),
shows progress, prints a table, and writes results.csv, results.json and
chart.svg (gnuplot) to --out. See `./dev bench --help`.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

WORKLOADS = {
    # name: (standard size, unit, what one unit is)
    "spawn": (100000, "unit", "create a unit, keep all alive, join all"),
    "pingpong": (100000, "round trip", "two units pass a token back and forth"),
    "sleep": (10000, "unit", "units that each sleep 10 ms, all at once"),
    "cpu": (256, "unit", "units that each compute fib(24), split over the cores"),
    "echo": (20000, "round trip", "64-byte TCP echo round trips over loopback connections"),
}

# Sizes beyond which a model cannot run, or would take minutes: the cell
# runs at the cap and says so.
TIME_CAPS = {
    ("process", "spawn"): 1000, ("thread", "spawn"): 2000,
    ("process", "pingpong"): 20000, ("thread", "pingpong"): 20000, ("pool", "pingpong"): 20000,
    ("process", "sleep"): 500, ("thread", "sleep"): 2000, ("pool", "sleep"): 100,
    ("process", "echo"): 5000, ("thread", "echo"): 10000, ("pool", "echo"): 10000,
}


def read_int(path, default):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def limit_caps(model, workload):
    """The machine's own limits, as (size, reason) or None."""
    if workload not in ("spawn", "sleep"):
        return None
    if model == "fiber":
        # Each live fiber's stack is two mappings (stack + guard page).
        maps = read_int("/proc/sys/vm/max_map_count", 65530)
        return maps // 2 - 2000, "vm.max_map_count"
    if model in ("process", "thread"):
        import resource
        soft = resource.getrlimit(resource.RLIMIT_NPROC)[0]
        tmax = read_int("/proc/sys/kernel/threads-max", 100000)
        pid_max = read_int("/proc/sys/kernel/pid_max", 32768)
        n = min(x for x in (soft if soft > 0 else 10**9, tmax, pid_max) if x > 0)
        return n // 4, "process/thread limits"
    return None


def plan_size(model, workload, requested):
    size, note = requested, ""
    cap = TIME_CAPS.get((model, workload))
    if cap is not None and size > cap:
        size, note = cap, "capped: takes minutes at full size"
    lim = limit_caps(model, workload)
    if lim is not None and size > lim[0]:
        size, note = max(1, lim[0]), "capped: " + lim[1]
    return size, note


def variants(models, workers):
    out = []
    for m in models:
        if m in ("process", "thread"):
            out.append((m, m, workers))
        elif m == "pool":
            out.append(("pool", "pool-%d" % workers, workers))
        else:
            out.append((m, m + "-1", 1))
            if workers > 1:
                out.append((m, "%s-%d" % (m, workers), workers))
    return out


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "date": datetime.datetime.now().isoformat(timespec="seconds")}


class Progress:
    """One line on stderr: rewritten in place on a terminal, appended otherwise."""

    def __init__(self, total, quiet):
        self.total, self.done, self.t0, self.quiet = total, 0, time.time(), quiet
        self.tty = sys.stderr.isatty()

    def show(self, label):
        if self.quiet:
            return
        el = int(time.time() - self.t0)
        line = "[%2d/%d] %d:%02d  %s" % (self.done + 1, self.total, el // 60, el % 60, label)
        sys.stderr.write("\r\033[K" + line if self.tty else line + "\n")
        sys.stderr.flush()

    def finish(self):
        if not self.quiet and self.tty:
            sys.stderr.write("\r\033[K")


def run_cell(binary, model, label, workers, workload, requested, reps, timeout):
    size, note = plan_size(model, workload, requested)
    row = {"workload": workload, "model": label, "workers": workers, "requested_size": requested, "size": size,
           "capped": bool(note), "note": note, "reps": reps, "median_ns": None, "min_ns": None, "max_ns": None,
           "peak_rss_kb": None, "cpu_s": None, "bytes_per_unit": None, "status": "ok"}
    cmd = [binary, model, workload, str(size), str(workers), str(reps)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        row["status"] = "timeout after %ds" % timeout
        return row
    if p.returncode != 0:
        row["status"] = "failed (exit %d): %s" % (p.returncode, p.stderr.strip().splitlines()[-1:] or "")
        return row
    try:
        r = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        row["status"] = "failed: unreadable output"
        return row
    ns = r["ns_per_unit"]
    row.update(median_ns=statistics.median(ns), min_ns=min(ns), max_ns=max(ns),
               peak_rss_kb=max(r["peak_rss_kb"], r.get("child_peak_rss_kb", 0)), cpu_s=r["cpu_s"],
               bytes_per_unit=r.get("bytes_per_unit"))
    return row


def fmt_ns(ns):
    if ns is None:
        return "-"
    for unit, div in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= div:
            return "%.3g %s" % (ns / div, unit)
    return "%.3g ns" % ns


def print_table(rows, out):
    out.write("\n%-9s %-12s %9s %11s %11s %11s %9s %8s %10s  %s\n" % (
        "workload", "model", "size", "median", "min", "max", "peak RSS", "CPU s", "mem/unit", "note"))
    for r in rows:
        mem = "-" if r["bytes_per_unit"] is None else "%.0f B" % r["bytes_per_unit"]
        rss = "-" if r["peak_rss_kb"] is None else "%.0f MB" % (r["peak_rss_kb"] / 1024)
        cpu = "-" if r["cpu_s"] is None else "%.2f" % r["cpu_s"]
        note = r["note"] if r["status"] == "ok" else r["status"]
        out.write("%-9s %-12s %9d %11s %11s %11s %9s %8s %10s  %s\n" % (
            r["workload"], r["model"], r["size"], fmt_ns(r["median_ns"]), fmt_ns(r["min_ns"]),
            fmt_ns(r["max_ns"]), rss, cpu, mem, note))


FIELDS = ["workload", "model", "workers", "requested_size", "size", "capped", "note", "reps", "median_ns",
          "min_ns", "max_ns", "peak_rss_kb", "cpu_s", "bytes_per_unit", "status"]


def write_files(rows, outdir, meta):
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in FIELDS})
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"machine": meta, "workloads": {k: {"standard_size": v[0], "unit": v[1], "what": v[2]}
                                                 for k, v in WORKLOADS.items()}, "results": rows}, f, indent=1)


def draw_chart(rows, outdir, meta, gnuplot):
    """One panel per workload: median time per unit by model, log scale."""
    workloads = [w for w in WORKLOADS if any(r["workload"] == w and r["median_ns"] for r in rows)]
    if not workloads:
        return None
    for w in workloads:
        with open(os.path.join(outdir, "chart_%s.dat" % w), "w") as f:
            for i, r in enumerate(x for x in rows if x["workload"] == w and x["median_ns"]):
                label = r["model"].replace("coroutine", "coro").replace("process", "proc")  # fits unrotated
                f.write('%d "%s" %g %g %g\n' % (i, label + ("*" if r["capped"] else ""),
                                               r["median_ns"] / 1e3, r["min_ns"] / 1e3, r["max_ns"] / 1e3))
    cols = min(3, len(workloads))
    nrows = (len(workloads) + cols - 1) // cols
    svg = os.path.join(outdir, "chart.svg")
    title = "weft comparison suite: %s, %s CPUs (* = smaller size)" % (meta["cpu"], meta["cpus"])
    script = ['set terminal svg size %d,%d dynamic font "sans,11"' % (460 * cols, 380 * nrows + 40),
              'set output "%s"' % svg, 'set multiplot layout %d,%d title "%s"' % (nrows, cols, title.replace('"', "'")),
              "set logscale y", "set style fill solid 0.6", "set boxwidth 0.7", "set grid ytics",
              "set xtics nomirror font \",10\"", 'set ylabel "microseconds per unit (median)"', "unset key"]
    for w in workloads:
        dat = os.path.join(outdir, "chart_%s.dat" % w)
        script.append('set title "%s: %s"' % (w, WORKLOADS[w][2]))
        script.append('plot "%s" using 1:3:xtic(2) with boxes lc rgb "#4878a8", '
                      '"" using 1:3:4:5 with yerrorbars lc rgb "black" pt -1' % dat)
    script.append("unset multiplot")
    p = subprocess.run([gnuplot], input="\n".join(script) + "\n", text=True, capture_output=True)
    for w in workloads:
        os.remove(os.path.join(outdir, "chart_%s.dat" % w))
    if p.returncode != 0:
        sys.stderr.write("suite: gnuplot failed: %s\n" % p.stderr.strip())
        return None
    return svg


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="./dev bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="sizes / 10 and 3 repetitions (under a minute)")
    ap.add_argument("--out", default="bench-results", help="output folder (default: bench-results)")
    ap.add_argument("--models", default="process,thread,pool,coroutine,fiber",
                    help="comma-separated: process,thread,pool,coroutine,fiber")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated: " + ",".join(WORKLOADS))
    ap.add_argument("--scale", type=float, default=None, help="multiply every standard size by this")
    ap.add_argument("--size", action="append", default=[], metavar="WORKLOAD=N",
                    help="this size for one workload (repeatable; wins over --scale)")
    ap.add_argument("--reps", type=int, default=None, help="repetitions per cell (default 5, --quick 3)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="threads for the N-worker variants and the pool (default: CPUs)")
    ap.add_argument("--timeout", type=int, default=300, help="seconds before a cell is abandoned")
    ap.add_argument("--cell-binary", default=None, help="a prebuilt suite_cell (default: build it with bazel)")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)
    models = [m for m in a.models.split(",") if m]
    bad = [m for m in models if m not in ("process", "thread", "pool", "coroutine", "fiber")]
    bad += [w for w in a.workloads.split(",") if w and w not in WORKLOADS]
    sizes = {}
    for item in a.size:
        name, _, value = item.partition("=")
        if name not in WORKLOADS or not value.isdigit() or int(value) < 1:
            bad.append("--size " + item)
        else:
            sizes[name] = int(value)
    if bad or not models:
        ap.print_usage(sys.stderr)
        sys.stderr.write("%s: unknown model, workload or size: %s\n" % (ap.prog, ", ".join(bad) or "(none given)"))
        sys.exit(2)
    if (a.scale is not None and a.scale <= 0) or (a.reps is not None and not 1 <= a.reps <= 100) or a.workers < 1:
        ap.print_usage(sys.stderr)
        sys.stderr.write("%s: --scale must be > 0, --reps 1..100, --workers >= 1\n" % ap.prog)
        sys.exit(2)
    a.models = models
    a.sizes = sizes
    a.workloads = [w for w in a.workloads.split(",") if w]
    a.scale = a.scale if a.scale is not None else (0.1 if a.quick else 1.0)
    a.reps = a.reps or (3 if a.quick else 5)
    return a


def build_cell():
    flags = ["--config=opt", "--noshow_progress", "--color=no"]
    subprocess.run(["bazel", "build"] + flags + ["//bench/suite:suite_cell"], check=True)
    bin_dir = subprocess.run(["bazel", "info"] + flags + ["bazel-bin"], check=True, capture_output=True,
                             text=True).stdout.strip()
    return os.path.join(bin_dir, "bench/suite/suite_cell")


def main(argv):
    a = parse_args(argv)
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        sys.stderr.write("suite: gnuplot not found (./dev bench installs gnuplot-nox)\n")
        return 2
    binary = a.cell_binary or build_cell()
    os.makedirs(a.out, exist_ok=True)
    cells = [(w, v) for w in a.workloads for v in variants(a.models, a.workers)]
    progress = Progress(len(cells), a.no_progress)
    rows = []
    for workload, (model, label, workers) in cells:
        requested = a.sizes.get(workload) or max(2, int(WORKLOADS[workload][0] * a.scale))
        progress.show("%s x %s (%d %ss, %d reps)" % (workload, label, requested, WORKLOADS[workload][1], a.reps))
        rows.append(run_cell(binary, model, label, workers, workload, requested, a.reps, a.timeout))
        progress.done += 1
    progress.finish()
    meta = machine()
    write_files(rows, a.out, meta)
    chart = draw_chart(rows, a.out, meta, gnuplot)
    print_table(rows, sys.stdout)
    print("\nmachine: %s, %s CPUs, %s GiB, Linux %s" % (meta["cpu"], meta["cpus"], meta["memory_gib"], meta["kernel"]))
    print("files: %s, %s%s" % (os.path.join(a.out, "results.csv"), os.path.join(a.out, "results.json"),
                              ", " + chart if chart else " (no chart)"))
    failed = [r for r in rows if r["status"] != "ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
