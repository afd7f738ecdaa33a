#!/usr/bin/env bash
# ./dev bench --micro: weft's own micro-benchmarks (Google Benchmark), the
# contract binaries, and the echo server against the plain epoll baseline;
# prints medians. (./dev bench without --micro runs the comparison suite,
# tools/suite.py.)
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat >&2 <<'USAGE'
usage: ./dev bench --micro [--quick] [--out DIR]
  --quick     fewer repetitions and smaller sizes (under a minute)
  --out DIR   where to write results (default: bench-results/)
USAGE
  exit 2
}

quick=0
out=bench-results
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift ;;
    --help|-h) usage ;;
    *) echo "dev bench: unknown flag '$1'" >&2; usage ;;
  esac
  shift
done
mkdir -p "$out"

# A million fibers alive at once need a million stacks, two memory mappings
# each; Linux's default vm.max_map_count (65530) stops at about 32,000.
want_maps=4194304
have_maps=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 0)
if [ "$have_maps" -lt "$want_maps" ]; then
  if [ "$(id -u)" -eq 0 ] && sysctl -qw vm.max_map_count=$want_maps 2>/dev/null; then
    echo "dev bench: raised vm.max_map_count from $have_maps to $want_maps for fiber-heavy runs" >&2
  else
    echo "dev bench: vm.max_map_count is $have_maps; fiber runs that need more stacks report 'not supported'" >&2
  fi
fi

bazel build --config=opt --noshow_progress --color=no //bench/... >&2
bin=$(bazel info --config=opt bazel-bin 2>/dev/null)

reps=5; min_time=0.2; skynet_size=1000000; spawn_size=1000000; pingpong_size=1000000; sleep_size=100000
echo_secs=3
if [ $quick -eq 1 ]; then
  reps=2; min_time=0.05; skynet_size=100000; spawn_size=100000; pingpong_size=100000; sleep_size=10000; echo_secs=1
fi

echo "== micro-benchmarks (one worker unless named; medians of $reps) =="
"$bin/bench/micro_bench" --benchmark_repetitions=$reps --benchmark_report_aggregates_only=true \
  --benchmark_min_time=$min_time --benchmark_out="$out/micro.json" --benchmark_out_format=json 2>/dev/null |
  grep -E "^Benchmark|median" || true

echo
echo "== contract binaries (median of $reps runs) =="
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$out/contract.txt"
for name in skynet spawn_join pingpong sleep; do
  size=$skynet_size; [ $name = spawn_join ] && size=$spawn_size; [ $name = pingpong ] && size=$pingpong_size
  [ $name = sleep ] && size=$sleep_size
  for kind in coroutine fiber; do
    for workers in 1 2; do
      values=()
      line=""
      for _ in $(seq $reps); do
        rc=0
        line=$(WEFT_TASK=$kind "$bin/bench/contract/$name" $workers $size 2>>"$out/stderr.txt") || rc=$?
        if [ $rc -ne 0 ]; then
          line="name=$name impl=weft-$kind workers=$workers value=nan unit=- exit=$rc"
          values=("not-supported(exit=$rc)")
          echo "$line" >>"$out/contract.txt"
          break
        fi
        echo "$line" >>"$out/contract.txt"
        values+=("$(sed -E 's/.* value=([^ ]+).*/\1/' <<<"$line")")
      done
      unit=$(sed -E 's/.* unit=([^ ]+).*/\1/' <<<"$line")
      printf '%-11s %-10s workers=%s  %10s %s\n' "$name" "$kind" "$workers" \
        "$(printf '%s\n' "${values[@]}" | median)" "$unit"
    done
  done
done
echo
echo "== preemption: a 1 ms sleeper's lateness beside a fiber that spins (hog_latency, 2 workers, median of $reps p99s) =="
: >"$out/hog_latency.txt"
hog_ms=2000; [ $quick -eq 1 ] && hog_ms=500
for preempt in 1 0; do
  values=()
  for _ in $(seq $reps); do
    line=$(WEFT_PREEMPT=$preempt "$bin/bench/contract/hog_latency" 2 $hog_ms 2>>"$out/stderr.txt") || line="value=nan"
    echo "preempt=$preempt $line" >>"$out/hog_latency.txt"
    values+=("$(sed -E 's/.* value=([^ ]+).*/\1/' <<<"$line")")
  done
  label="preemption on (10 ms slice)"; [ $preempt = 0 ] && label="preemption off"
  printf '%-28s p99 lateness %10s us\n' "$label" "$(printf '%s\n' "${values[@]}" | median)"
done
echo
echo "== echo: weft's server on one worker against a plain epoll loop (median of $reps, 32 connections, 64 B) =="
: >"$out/echo.txt"
port=$((20000 + RANDOM % 20000))
echo_run() {  # label, server binary, arguments after the port
  local label=$1 server=$2; shift 2
  local lines=()
  for _ in $(seq $reps); do
    "$server" $port "$@" >/dev/null 2>>"$out/stderr.txt" &
    local spid=$!
    local line
    line=$("$bin/bench/echo_load" $port 32 64 $echo_secs $spid 2>>"$out/stderr.txt") || line="value=nan"
    kill -TERM $spid 2>/dev/null; wait $spid 2>/dev/null || true
    echo "$label $line" >>"$out/echo.txt"
    lines+=("$line")
  done
  local v cpu p99
  v=$(printf '%s\n' "${lines[@]}" | sed -E 's/.* value=([^ ]+).*/\1/' | median)
  cpu=$(printf '%s\n' "${lines[@]}" | sed -nE 's/.*server_cpu_us_per_msg=([^ ]+).*/\1/p' | median)
  p99=$(printf '%s\n' "${lines[@]}" | sed -nE 's/.*p99_us=([^ ]+).*/\1/p' | median)
  printf '%-26s %10s msg/s  server CPU %6s us/msg  p99 %7s us\n' "$label" "$v" "$cpu" "$p99"
}
echo_run "epoll baseline" "$bin/bench/epoll_echo"
weft_echo=$bin/bench/contract/echo_server
echo_run "weft coroutines, io_uring" "$weft_echo" 1
WEFT_TASK=fiber echo_run "weft fibers, io_uring" "$weft_echo" 1
WEFT_IO=epoll echo_run "weft coroutines, epoll" "$weft_echo" 1
echo
echo "results: $out/micro.json, $out/contract.txt, $out/hog_latency.txt, $out/echo.txt"
