#!/usr/bin/env bash
# Where the time of one benchmark call goes: counts syscalls, context switches, wake-ups and
# allocations per call in the server and the client (perf stat), then samples both with
# perf record and draws flame graphs (inferno) into docs/profiles/.
#
#   scripts/profile.sh                      # teleport at C = 100
#   KIND=raw scripts/profile.sh             # the raw ceiling
#   KIND=codec scripts/profile.sh           # the codec ceiling
#   THREADS=1 scripts/profile.sh            # one worker thread per process
#
# Needs perf (Debian: linux-perf), and inferno (cargo install inferno) for the flame graphs.
# Environment: KIND (teleport, raw or codec), C (default 100), N (calls, default 400000), THREADS
# (default 0: one per core), OUT (default docs/profiles).
set -euo pipefail
cd "$(dirname "$0")/.."

KIND="${KIND:-teleport}"
C="${C:-100}"
N="${N:-400000}"
THREADS="${THREADS:-0}"
OUT="${OUT:-docs/profiles}"
ADDR="127.0.0.1:${PORT:-8199}"
name="$KIND-c$C-t$THREADS"

cargo build --release -p teleport-bench --bin bench-client --bin bench-server
bin="${CARGO_TARGET_DIR:-target}/release"
raw=()
[ "$KIND" = raw ] && raw=(--raw)
[ "$KIND" = codec ] && raw=(--codec-ceiling)
mkdir -p "$OUT"

# Allocations are counted with uprobes on libc's allocator (Rust's default allocator).
libc="$(ldd "$bin/bench-server" | awk '/libc.so/ {print $3}')"
for fn in malloc calloc realloc; do
    perf probe -q -x "$libc" "$fn" 2>/dev/null || true
done
events="task-clock,context-switches,cpu-migrations,raw_syscalls:sys_enter"
events+=",syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_write"
events+=",syscalls:sys_enter_writev,syscalls:sys_enter_sendto,syscalls:sys_enter_epoll_wait"
events+=",syscalls:sys_enter_futex,syscalls:sys_enter_sched_yield"
events+=",probe_libc:malloc,probe_libc:calloc,probe_libc:realloc"

server_pid=""
stop_server() {
    [ -n "$server_pid" ] && kill -INT "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    server_pid=""
}
trap stop_server EXIT
start_server() {
    "$bin/bench-server" -s "$ADDR" --threads "$THREADS" "${raw[@]}" >/dev/null &
    server_pid=$!
    sleep 0.5
}
client() {
    "$@" "$bin/bench-client" -s "$ADDR" --server-pid "$server_pid" -c "$C" -n "$N" \
        --threads "$THREADS" "${raw[@]}"
}

# 1. Counts per call. The totals include dial and warm-up (5 calls per client).
calls=$((N / C * C + 5 * C))
start_server
perf stat -x, -e "$events" -p "$server_pid" -o "$OUT/$name.server.stat" &
stat_pid=$!
client perf stat -x, -e "$events" -o "$OUT/$name.client.stat"
kill -INT "$stat_pid"
wait "$stat_pid" || true
stop_server
for side in server client; do
    echo "== $side, per call ($calls calls)"
    awk -F, -v calls="$calls" '$1 ~ /^[0-9.]+$/ {printf "%12.3f  %s\n", $1 / calls, $3}' \
        "$OUT/$name.$side.stat"
done | tee "$OUT/$name.per-call.txt"

# 2. Samples, flame graphs and the cost of each step per call.
start_server
perf record -q -F 1999 --call-graph dwarf,32768 -p "$server_pid" -o "/tmp/$name.server.data" &
record_pid=$!
client perf record -q -F 1999 --call-graph dwarf,32768 -o "/tmp/$name.client.data"
kill -INT "$record_pid"
wait "$record_pid" || true
stop_server
for side in server client; do
    perf script -i "/tmp/$name.$side.data" 2>/dev/null | inferno-collapse-perf >"/tmp/$name.$side.folded"
    inferno-flamegraph --minwidth 0.2 --title "$KIND $side, C = $C, threads = $THREADS" \
        <"/tmp/$name.$side.folded" >"$OUT/$name.$side.svg"
    echo "wrote $OUT/$name.$side.svg (folded stacks: /tmp/$name.$side.folded)"
    scripts/profile_breakdown.py "/tmp/$name.$side.folded" "$calls" | tee "$OUT/$name.$side.steps.txt"
done
