#!/bin/sh
set -eu
exec python3 tests/bench/check_suite_output.py tools/suite.py bench/suite/suite_cell "${TEST_TMPDIR:-/tmp}/suite-out"
