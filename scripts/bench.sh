#!/usr/bin/env bash
# Teleport's benchmark (BENCH.md) against the raw and codec ceilings; writes
# docs/benchmarks.md, the chart docs/benchmarks.svg and the rows behind them,
# docs/benchmarks.jsonl.
#
# Builds the benchmark's programs (the teleport-bench crate, bench/) in release mode, then
# runs the ceilings and teleport interleaved (raw ceiling, codec ceiling, teleport at each
# C) RUNS times and reports the medians. The codec ceiling is the raw one plus the protobuf
# work of each call (bench/src/ceiling.rs).
#
#   scripts/bench.sh                  # N = 1,000,000 calls per row, as Teleport published
#   N=2000 scripts/bench.sh           # a quick run (CI)
#   NETWORKS=tcp,unix,tls,quic,ws,wss N=200000 RUNS=2 scripts/bench.sh
#
# With NETWORKS, it measures teleport on each of those networks instead (C = 100 unless
# CLIENTS says otherwise), every network in turn in each of the RUNS rounds, each after its
# raw ceiling (plain TCP; Unix sockets for unix), and writes only the "By network" section
# of docs/benchmarks.md and its rows, docs/networks.jsonl; the main table, its chart and rows
# stay as they are (and a main run keeps that section).
#
# Each round of a main run also measures the multiplexed scenario (C = MUX_CLIENTS callers
# over MUX_SESSIONS sessions), each shape right after its pipelined raw ceiling (as many
# plain sockets, each keeping C / S frames in flight), and the push scenario (C = 100 and
# 1000 sessions); SCENARIOS=0 skips them.
#
# Environment: N (calls per row, default 1000000), RUNS (default 3), CLIENTS (default
# 100,500,1000), NETWORKS (see above), OUT (output folder, default docs), BENCH_ARGS (more
# bench-client flags, e.g. "--threads 1"), SCENARIOS (default 1), MUX_CLIENTS (default
# 100,1000), MUX_SESSIONS (default 4), BENCH_COMMIT (the commit to name when not run from
# a git checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-1000000}"
RUNS="${RUNS:-3}"
NETWORKS="${NETWORKS:-}"
if [[ -n "$NETWORKS" ]]; then
    CLIENTS="${CLIENTS:-100}"
else
    CLIENTS="${CLIENTS:-100,500,1000}"
fi
OUT="${OUT:-docs}"
BENCH_ARGS="${BENCH_ARGS:-}"
SCENARIOS="${SCENARIOS:-1}"
MUX_CLIENTS="${MUX_CLIENTS:-100,1000}"
MUX_SESSIONS="${MUX_SESSIONS:-4}"

# C = 1000 needs a thousand sockets in each process, plus the runtime's own descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

cargo build --release -p teleport-bench --bin bench-client --bin bench-server --bin bench-report
bin="${CARGO_TARGET_DIR:-target}/release"

mkdir -p "$OUT"
rows="$(mktemp)"
trap 'rm -f "$rows"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u +'%Y-%m-%d %H:%M UTC')"
for run in $(seq 1 "$RUNS"); do
    if [[ -n "$NETWORKS" ]]; then
        for network in ${NETWORKS//,/ }; do
            echo "run $run of $RUNS: $network, C = $CLIENTS, N = $N" >&2
            # shellcheck disable=SC2086 # BENCH_ARGS holds several flags
            "$bin/bench-client" --network "$network" -c "$CLIENTS" -n "$N" --compare --json \
                $BENCH_ARGS >>"$rows"
        done
    else
        echo "run $run of $RUNS: C = $CLIENTS, N = $N" >&2
        # shellcheck disable=SC2086 # BENCH_ARGS holds several flags
        "$bin/bench-client" -c "$CLIENTS" -n "$N" --compare --json $BENCH_ARGS >>"$rows"
        if [[ "$SCENARIOS" != 0 ]]; then
            echo "run $run of $RUNS: multiplexed C = $MUX_CLIENTS over $MUX_SESSIONS sessions" \
                "against the pipelined ceiling; pushes to C = 100,1000" >&2
            # shellcheck disable=SC2086
            "$bin/bench-client" -c "$MUX_CLIENTS" --sessions "$MUX_SESSIONS" -n "$N" --compare \
                --json $BENCH_ARGS >>"$rows"
            # shellcheck disable=SC2086
            "$bin/bench-client" -c 100,1000 --push -n "$N" --json $BENCH_ARGS >>"$rows"
        fi
    fi
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
meta=(
    --meta "command: \`${NETWORKS:+NETWORKS=$NETWORKS }N=$N RUNS=$RUNS CLIENTS=$CLIENTS${BENCH_ARGS:+ BENCH_ARGS=\"$BENCH_ARGS\"} scripts/bench.sh\`"
    --meta "started $started; load average before $load_before, after $load_after"
    --meta "machine: $(nproc) cores (${cpu:-unknown CPU}), $(uname -sr); $(rustc --version)"
)
commit="${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
if [[ -n "$NETWORKS" ]]; then
    cat "$rows" >"$OUT/networks.jsonl"
    "$bin/bench-report" --by-network --out "$OUT/benchmarks.md" "${meta[@]}" \
        --meta "commit $commit; rows in [networks.jsonl](networks.jsonl)" "$OUT/networks.jsonl"
else
    cat "$rows" >"$OUT/benchmarks.jsonl"
    "$bin/bench-report" --out "$OUT/benchmarks.md" --svg "$OUT/benchmarks.svg" "${meta[@]}" \
        --meta "commit $commit; rows in [benchmarks.jsonl](benchmarks.jsonl)" \
        "$OUT/benchmarks.jsonl"
fi
