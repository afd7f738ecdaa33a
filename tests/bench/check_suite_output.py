#!/usr/bin/env python3
"""Runs the comparison suite at tiny sizes and checks what it wrote by
parsing it: results.csv (csv), results.json (json) and chart.svg (XML).
usage: check_suite_output.py <suite.py> <suite_cell> <out dir>"""
import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

MODELS = {"process", "thread", "pool-2", "coroutine-1", "coroutine-2", "fiber-1", "fiber-2"}
WORKLOADS = {"spawn", "pingpong", "sleep", "cpu", "echo"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    suite, cell, out = sys.argv[1:4]
    cmd = [sys.executable, suite, "--quick", "--scale", "0.001", "--size", "echo=40", "--reps", "2", "--workers", "2",
           "--out", out, "--cell-binary", cell, "--no-progress"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    print(p.stdout)
    if p.returncode != 0:
        fail("suite exited %d: %s" % (p.returncode, p.stderr))

    with open(os.path.join(out, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    cells = {(r["workload"], r["model"]) for r in rows}
    want = {(w, m) for w in WORKLOADS for m in MODELS}
    if cells != want:
        fail("CSV cells differ: missing %s, extra %s" % (sorted(want - cells), sorted(cells - want)))
    for r in rows:
        if r["status"] != "ok":
            fail("cell %s/%s: %s" % (r["workload"], r["model"], r["status"]))
        lo, med, hi = float(r["min_ns"]), float(r["median_ns"]), float(r["max_ns"])
        if not 0 < lo <= med <= hi:
            fail("cell %s/%s: min/median/max out of order: %s" % (r["workload"], r["model"], (lo, med, hi)))
        if int(r["size"]) > int(r["requested_size"]) or (r["capped"] == "True") != (r["note"] != ""):
            fail("cell %s/%s: size/cap bookkeeping wrong" % (r["workload"], r["model"]))
        if float(r["cpu_s"]) < 0 or int(r["peak_rss_kb"]) <= 0:
            fail("cell %s/%s: bad CPU or RSS" % (r["workload"], r["model"]))

    with open(os.path.join(out, "results.json")) as f:
        doc = json.load(f)
    if set(doc["workloads"]) != WORKLOADS or len(doc["results"]) != len(rows):
        fail("JSON workloads or result count differ from the CSV")
    if not doc["machine"].get("cpus"):
        fail("JSON lacks the machine description")
    by_cell = {(r["workload"], r["model"]): r for r in doc["results"]}
    for r in rows:
        j = by_cell[(r["workload"], r["model"])]
        if abs(j["median_ns"] - float(r["median_ns"])) > 1e-6 * j["median_ns"]:
            fail("JSON and CSV disagree for %s/%s" % (r["workload"], r["model"]))
    spawn = [r for r in doc["results"] if r["workload"] == "spawn" and r["model"] != "pool-2"]
    if any(r["bytes_per_unit"] is None for r in spawn):
        fail("spawn cells must report memory per unit")

    svg = ET.parse(os.path.join(out, "chart.svg")).getroot()
    if not svg.tag.endswith("svg"):
        fail("chart.svg is not an SVG document")
    text = " ".join("".join(t.itertext()) for t in svg.iter() if t.tag.endswith("text"))
    for name in WORKLOADS | {"fiber-2", "coro-1", "proc"}:
        if name not in text:
            fail("chart lacks the label %r" % name)

    echo = [r for r in rows if r["workload"] == "echo" and r["model"] == "coroutine-1"][0]
    if int(echo["requested_size"]) != 40:
        fail("--size echo=40 was not honoured")
    for flags in (["--models", "goroutine"], ["--size", "echo=0"], ["--frobnicate"], ["--reps", "0"]):
        bad = subprocess.run([sys.executable, suite] + flags + ["--cell-binary", cell], capture_output=True, text=True)
        if bad.returncode == 0 or "usage" not in bad.stderr:
            fail("bad flags %s must print usage and exit non-zero" % flags)
    print("suite output checked: %d cells" % len(rows))


if __name__ == "__main__":
    main()
