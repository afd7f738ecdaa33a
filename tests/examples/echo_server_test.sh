#!/bin/sh
# The echo server example and the //bench/contract:echo_server contract:
# each echoes bytes on several connections, for both task kinds and both
# reactors, and exits 0 on SIGTERM.
set -eu
example=$1
contract=$2
check() {  # port, then the server command
  port=$1; shift
  "$@" >/dev/null 2>"${TEST_TMPDIR:-/tmp}/server.err" &
  pid=$!
  python3 - "$port" <<'PY' || { cat "${TEST_TMPDIR:-/tmp}/server.err"; kill $pid 2>/dev/null; exit 1; }
import socket, sys, time
port = int(sys.argv[1])
for _ in range(300):
    try:
        conns = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(3)]
        break
    except OSError:
        time.sleep(0.01)
else:
    sys.exit("server never listened on %d (its stderr follows)" % port)
for i, c in enumerate(conns):
    msg = (b"hello %d " % i) * (1000 * (i + 1))
    c.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = c.recv(65536)
        if not chunk:
            sys.exit("connection closed early")
        got += chunk
    if got != msg:
        sys.exit("echo differs")
for c in conns:
    c.close()
PY
  kill -TERM $pid
  rc=0; wait $pid || rc=$?
  [ $rc -eq 0 ] || { echo "server exited $rc after SIGTERM: $*"; cat "${TEST_TMPDIR:-/tmp}/server.err"; exit 1; }
}
# A port the kernel just handed out and nobody holds: a fixed range could
# collide with another test's ephemeral ports or a concurrent run.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
for io in uring epoll; do
  for task in coroutine fiber; do
    port=$(free_port)
    WEFT_IO=$io WEFT_TASK=$task check $port "$contract" $port 2
    port=$(free_port)
    WEFT_IO=$io check $port "$example" --port $port --workers 2 --task $task
  done
done
# Bad arguments: a usage message and a non-zero exit, never a crash.
if "$contract" notaport 2 2>/dev/null; then echo "bad port accepted"; exit 1; fi
if "$example" --task goroutine 2>/dev/null; then echo "bad flag accepted"; exit 1; fi
echo "echo servers checked"
