#!/usr/bin/env bash
# Teleport's benchmark (BENCH.md) against the raw ceiling; writes docs/benchmarks.md, the chart
# docs/benchmarks.svg and the rows behind them, docs/benchmarks.jsonl.
#
# Builds the bench examples in release mode, then runs the ceiling and teleport interleaved
# (ceiling, teleport at each C) RUNS times and reports the medians.
#
#   scripts/bench.sh                  # N = 1,000,000 calls per row, as Teleport published
#   N=2000 scripts/bench.sh           # a quick run (CI)
#
# Environment: N (calls per row, default 1000000), RUNS (default 3), CLIENTS (default
# 100,500,1000), OUT (output folder, default docs), BENCH_ARGS (more bench-client flags,
# e.g. "--threads 1"), BENCH_COMMIT (the commit to name when not run from a git checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-1000000}"
RUNS="${RUNS:-3}"
CLIENTS="${CLIENTS:-100,500,1000}"
OUT="${OUT:-docs}"
BENCH_ARGS="${BENCH_ARGS:-}"

# C = 1000 needs a thousand sockets in each process, plus the runtime's own descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

cargo build --release --example bench-client --example bench-server --example bench-report
bin="${CARGO_TARGET_DIR:-target}/release/examples"

mkdir -p "$OUT"
rows="$(mktemp)"
trap 'rm -f "$rows"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(date -u +'%Y-%m-%d %H:%M UTC')"
for run in $(seq 1 "$RUNS"); do
    echo "run $run of $RUNS: C = $CLIENTS, N = $N" >&2
    # shellcheck disable=SC2086 # BENCH_ARGS holds several flags
    "$bin/bench-client" -c "$CLIENTS" -n "$N" --compare --json $BENCH_ARGS >>"$rows"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
cat "$rows" >"$OUT/benchmarks.jsonl"

cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
"$bin/bench-report" --out "$OUT/benchmarks.md" --svg "$OUT/benchmarks.svg" \
    --meta "command: \`N=$N RUNS=$RUNS CLIENTS=$CLIENTS${BENCH_ARGS:+ BENCH_ARGS=\"$BENCH_ARGS\"} scripts/bench.sh\`" \
    --meta "started $started; load average before $load_before, after $load_after" \
    --meta "machine: $(nproc) cores (${cpu:-unknown CPU}), $(uname -sr); $(rustc --version)" \
    --meta "commit ${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}; rows in [benchmarks.jsonl](benchmarks.jsonl)" \
    "$OUT/benchmarks.jsonl"
