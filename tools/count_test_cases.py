#!/usr/bin/env python3
"""Counts test cases in Bazel's JUnit XML outputs for ./dev test.

  count_test_cases.py TESTLOGS LABEL BAZEL_RC TARGETS_FILE
                                                -> prints "LABEL passed failed skipped"
  count_test_cases.py --total COUNTS_FILE       -> prints the summary; the last
                                                   line is "N passed, N failed"
A Bazel run that failed without any failing test case (a build error) counts
as one failed case, so a broken build can never print "0 failed".
"""
import os
import sys
import xml.etree.ElementTree as ET


def xml_paths(testlogs, targets_file):
    """test.xml of each current test target (the tree also keeps stale ones)."""
    with open(targets_file) as fh:
        for label in fh:
            label = label.strip()
            if not label.startswith("//"):
                continue
            package, _, name = label[2:].partition(":")
            yield label, os.path.join(testlogs, package, name, "test.xml")


def count(testlogs, targets_file):
    passed = failed = skipped = 0
    for label, path in xml_paths(testlogs, targets_file):
        if not os.path.exists(path):
            print(f"dev: no results for {label}", file=sys.stderr)
            failed += 1
            continue
        try:
            tree = ET.parse(path)
        except ET.ParseError:
            failed += 1
            continue
        for case in tree.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
            elif case.get("result") == "skipped" or case.find("skipped") is not None or case.get("status") == "notrun":
                skipped += 1
            else:
                passed += 1
    return passed, failed, skipped


def main(argv):
    if argv[1] == "--total":
        p = f = s = 0
        with open(argv[2]) as fh:
            for line in fh:
                label, a, b, c = line.split()
                print(f"dev: {label}: {a} passed, {b} failed, {c} skipped", file=sys.stderr)
                p, f, s = p + int(a), f + int(b), s + int(c)
        print(f"{p} passed, {f} failed, {s} skipped")
        return 1 if f else 0
    testlogs, label, rc, targets = argv[1], argv[2], int(argv[3]), argv[4]
    p, f, s = count(testlogs, targets) if testlogs and os.path.isdir(testlogs) else (0, 1, 0)
    if rc != 0 and f == 0:
        f = 1  # bazel failed (build error, or a target that could not run)
    print(f"{label} {p} {f} {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
