#!/usr/bin/env bash
# Instructions per call, by layer, of teleport against the codec ceiling (or the raw ceiling),
# counted by valgrind's callgrind in both processes: for machines where perf cannot count
# instructions (in a VM, `perf stat -e instructions` says "not supported"). Callgrind counts
# user-space instructions only, exactly and whatever else the machine runs; system calls
# (the kernel's part of a call) are not in its figures.
#
#   scripts/callgrind.sh                        # teleport, C = 100
#   KIND=codec C=1000 scripts/callgrind.sh      # the codec ceiling at C = 1000
#   scripts/callgrind_breakdown.py --compare target/callgrind/callgrind-teleport-c100.tsv \
#       target/callgrind/callgrind-codec-c100.tsv   # what teleport adds, function by function
#
# Each kind runs twice, with N and 2N calls, and the difference is divided by the N calls
# it adds: what dial, warm-up, start-up and shut-down cost falls out. Both processes run
# with one worker thread (callgrind runs one thread at a time anyway).
#
# With CACHE=1, callgrind also simulates the caches and the report ends with the data
# cache misses per call (first level, and last level: those that go to memory), which is
# where the cost of touching more memory per call shows (it takes about twice as long).
#
# Environment: KIND (teleport, codec or raw), C (default 100), N (calls, default 20000),
# CACHE (0 or 1), LL (with CACHE: the last level to simulate), OUT (default docs/profiles),
# PORT (default 8199), KEEP (1 keeps the raw callgrind files in OUT).
set -euo pipefail
cd "$(dirname "$0")/.."

KIND="${KIND:-teleport}"
C="${C:-100}"
N="${N:-20000}"
OUT="${OUT:-docs/profiles}"
ADDR="127.0.0.1:${PORT:-8199}"
CACHE="${CACHE:-0}"
name="callgrind-$KIND-c$C"
sim=()
# The last level callgrind simulates is this machine's last cache unless LL says otherwise
# (size,associativity,line size: LL=2097152,16,64 for a 2 MiB level, the size of an L2).
[ "$CACHE" = 1 ] && sim=(--cache-sim=yes ${LL:+--LL=$LL}) && name="$name-cache"
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
    # A stale "listening" of the previous server must not be read as this one's.
    rm -f "$tmp/server.out"
    valgrind -q --tool=callgrind "${sim[@]}" --callgrind-out-file="$tmp/$calls.server" \
        "$bin/bench-server" -s "$ADDR" --threads 1 "${flags[@]}" >"$tmp/server.out" &
    server_pid=$!
    until grep -q listening "$tmp/server.out" 2>/dev/null; do sleep 0.5; done
    valgrind -q --tool=callgrind "${sim[@]}" --callgrind-out-file="$tmp/$calls.client" \
        "$bin/bench-client" -s "$ADDR" -c "$C" -n "$calls" --threads 1 "${flags[@]}" >/dev/null
    stop_server
}
measure "$N"
measure "$((2 * N))"
mkdir -p "$OUT"
for side in server client; do
    for run in "$N" "$((2 * N))"; do
        callgrind_annotate --auto=no --threshold=100 --show=Ir "$tmp/$run.$side" \
            >"$tmp/$run.$side.txt" 2>/dev/null
    done
done
# Every function's cost per call, for `scripts/callgrind_breakdown.py --compare`.
tsv="${CARGO_TARGET_DIR:-target}/callgrind/$name.tsv"
mkdir -p "$(dirname "$tsv")"
scripts/callgrind_breakdown.py "$KIND, C = $C" "$((N / C * C))" \
    "$tmp/$N.server.txt" "$tmp/$((2 * N)).server.txt" \
    "$tmp/$N.client.txt" "$tmp/$((2 * N)).client.txt" "$tsv" | tee "$OUT/$name.txt"
if [ "$CACHE" = 1 ]; then
    # The PROGRAM TOTALS line of each run, its counts in the order of --show.
    totals() {
        callgrind_annotate --auto=no --show=D1mr,D1mw,DLmr,DLmw "$1" 2>/dev/null |
            awk '/PROGRAM TOTALS/ {gsub(",", ""); gsub(/\([^)]*\)/, ""); print $1, $2, $3, $4; exit}'
    }
    for side in server client; do
        read -r a1 a2 a3 a4 <<<"$(totals "$tmp/$N.$side")"
        read -r b1 b2 b3 b4 <<<"$(totals "$tmp/$((2 * N)).$side")"
        awk -v side="$side" -v calls="$((N / C * C))" -v d1="$((b1 + b2 - a1 - a2))" \
            -v ll="$((b3 + b4 - a3 - a4))" 'BEGIN {
                printf "%s: %.1f first-level data misses, %.1f last-level misses per call\n",
                    side, d1 / calls, ll / calls }'
    done | tee -a "$OUT/$name.txt"
    echo "(last level simulated: ${LL:-the last cache of the machine})" | tee -a "$OUT/$name.txt"
    for side in server client; do
        echo "last-level misses per call by function, $side:"
        for run in "$N" "$((2 * N))"; do
            callgrind_annotate --auto=no --threshold=100 --show=DLmr,DLmw "$tmp/$run.$side" \
                >"$tmp/$run.$side.misses" 2>/dev/null
        done
        scripts/callgrind_breakdown.py --misses "$((N / C * C))" "$tmp/$N.$side.misses" \
            "$tmp/$((2 * N)).$side.misses"
    done | tee -a "$OUT/$name.txt"
fi
# KEEP=1 keeps the larger run's callgrind files in $OUT, for callgrind_annotate --tree=caller.
if [ "${KEEP:-0}" = 1 ]; then
    for side in server client; do cp "$tmp/$((2 * N)).$side" "$OUT/$name.$side.out"; done
fi
echo "per function: $tsv (compare two with scripts/callgrind_breakdown.py --compare)"
