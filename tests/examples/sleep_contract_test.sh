#!/bin/sh
# sleep <workers> [tasks] prints one contract line whose value is at least
# the 10 ms every task sleeps, and how much of it the spawning took.
set -eu
for task in coroutine fiber; do
  line=$(WEFT_TASK=$task "$1" 2 2000)
  echo "$line"
  echo "$line" | grep -Eq "^name=sleep impl=weft-$task workers=2 value=[0-9.]+ unit=ms tasks=2000 spawn_ms=[0-9.]+$" ||
    { echo "bad contract line"; exit 1; }
  value=$(echo "$line" | sed -E 's/.* value=([0-9.]+).*/\1/')
  awk -v v="$value" 'BEGIN { exit !(v >= 10) }' || { echo "value $value below the 10 ms sleep"; exit 1; }
  spawn=$(echo "$line" | sed -E 's/.* spawn_ms=([0-9.]+)$/\1/')
  awk -v s="$spawn" -v v="$value" 'BEGIN { exit !(s <= v) }' || { echo "spawn_ms $spawn above value $value"; exit 1; }
done
if "$1" 0 2>/dev/null; then echo "workers=0 accepted"; exit 1; fi
