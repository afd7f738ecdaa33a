#!/bin/sh
# Runs one example binary; it exits non-zero if its result is wrong.
exec "$1"
