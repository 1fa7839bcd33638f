#!/usr/bin/env bash
# Instructions per call, by layer, of teleport against the codec ceiling (or the raw ceiling),
# counted by valgrind's callgrind in both processes: for machines where perf cannot count
# instructions (in a VM, `perf stat -e instructions` says "not supported"). Callgrind counts
# user-space instructions only, exactly and whatever else the machine runs; system calls
# (the kernel's part of a call) are not in its figures.
#
#   scripts/callgrind.sh                        # teleport, C = 100
#   KIND=codec C=1000 scripts/callgrind.sh      # the codec ceiling at C = 1000
#
# Each kind runs twice, with N and 2N calls, and the difference is divided by the N calls
# it adds: what dial, warm-up, start-up and shut-down cost falls out. Both processes run
# with one worker thread (callgrind runs one thread at a time anyway).
#
# Environment: KIND (teleport, codec or raw), C (default 100), N (calls, default 20000),
# OUT (default docs/profiles), PORT (default 8199).
set -euo pipefail
cd "$(dirname "$0")/.."

KIND="${KIND:-teleport}"
C="${C:-100}"
N="${N:-20000}"
OUT="${OUT:-docs/profiles}"
ADDR="127.0.0.1:${PORT:-8199}"
name="callgrind-$KIND-c$C"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

cargo build --release -p teleport-bench --bin bench-client --bin bench-server
bin="${CARGO_TARGET_DIR:-target}/release"
flags=()
case "$KIND" in
    teleport) ;;
    codec) flags=(--codec-ceiling) ;;
    raw) flags=(--raw) ;;
    *) echo "KIND is teleport, codec or raw" >&2; exit 2 ;;
esac
tmp="$(mktemp -d)"
server_pid=""
stop_server() {
    [ -n "$server_pid" ] && kill -INT "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    server_pid=""
}
trap 'stop_server; rm -rf "$tmp"' EXIT

# One measure of `calls` timed calls; callgrind's files in $tmp/<calls>.{server,client}.
measure() {
    local calls="$1"
    valgrind -q --tool=callgrind --callgrind-out-file="$tmp/$calls.server" \
        "$bin/bench-server" -s "$ADDR" --threads 1 "${flags[@]}" >"$tmp/server.out" &
    server_pid=$!
    until grep -q listening "$tmp/server.out" 2>/dev/null; do sleep 0.5; done
    valgrind -q --tool=callgrind --callgrind-out-file="$tmp/$calls.client" \
        "$bin/bench-client" -s "$ADDR" -c "$C" -n "$calls" --threads 1 "${flags[@]}" >/dev/null
    stop_server
}
measure "$N"
measure "$((2 * N))"
mkdir -p "$OUT"
for side in server client; do
    callgrind_annotate --threshold=100 "$tmp/$N.$side" >"$tmp/$N.$side.txt"
    callgrind_annotate --threshold=100 "$tmp/$((2 * N)).$side" >"$tmp/$((2 * N)).$side.txt"
done
scripts/callgrind_breakdown.py "$KIND, C = $C" "$((N / C * C))" \
    "$tmp/$N.server.txt" "$tmp/$((2 * N)).server.txt" \
    "$tmp/$N.client.txt" "$tmp/$((2 * N)).client.txt" | tee "$OUT/$name.txt"
