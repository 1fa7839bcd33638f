//! The sections of `docs/benchmarks.md` after the main table: the multiplexed and push
//! scenarios, and each target of the benchmark checked against this run's medians.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::{Summary, median, opt};
use teleport_bench::row::{Kind, Row, Scenario};

/// Throughput at every C, as a share of the ceiling's.
const MIN_RATIO: f64 = 0.8;
/// CPU per call, as a multiple of the ceiling's.
const MAX_CPU: f64 = 1.3;
/// Throughput at C = 100 and 1000, as a share of the codec ceiling's.
const MIN_CODEC_RATIO: f64 = 0.9;
/// CPU per call at C = 100 and 1000, as a multiple of the codec ceiling's.
const MAX_CODEC_CPU: f64 = 1.15;
/// Server peak RSS at C = 1000, MiB.
const MAX_RSS_MIB: f64 = 32.0;
/// Multiplexed throughput, as a share of the pipelined ceiling of the same shape.
const MIN_PIPELINED_RATIO: f64 = 0.3;

/// The medians of the multiplexed or push runs of one shape (the pipelined ceiling is the
/// ceiling's multiplexed shape).
struct ScenarioSummary {
    kind: Kind,
    scenario: Scenario,
    clients: usize,
    sessions: usize,
    runs: usize,
    failed: u64,
    throughput: f64,
    p99_ms: f64,
    cpu_per_100k: Option<f64>,
    peak_rss_mib: Option<f64>,
    /// Median of the same-run ratios to the pipelined ceiling.
    ratio: Option<f64>,
    packets_per_call: Option<f64>,
}

fn scenario_summaries(rows: &[Row]) -> Vec<ScenarioSummary> {
    let mut groups: BTreeMap<(Scenario, usize, usize, Kind), Vec<&Row>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.scenario != Scenario::Calls) {
        groups.entry((row.scenario, row.clients, row.sessions, row.kind)).or_default().push(row);
    }
    groups
        .into_iter()
        .map(|((scenario, clients, sessions, kind), rows)| {
            let of = |f: &dyn Fn(&Row) -> Option<f64>| {
                median(rows.iter().filter_map(|r| f(r)).collect())
            };
            ScenarioSummary {
                kind,
                scenario,
                clients,
                sessions,
                runs: rows.len(),
                failed: rows.iter().map(|r| r.failed).sum(),
                throughput: of(&|r| Some(r.throughput)).unwrap_or(0.0),
                p99_ms: of(&|r| Some(r.p99_ms)).unwrap_or(0.0),
                cpu_per_100k: of(&|r| r.cpu_per_100k()),
                peak_rss_mib: of(&|r| Some(r.server_peak_rss_kib? as f64 / 1024.0)),
                ratio: of(&|r| r.ratio),
                packets_per_call: of(&|r| r.packets_per_call),
            }
        })
        .collect()
}

/// The "Other scenarios" and "Targets" sections; empty when the run had neither.
pub(crate) fn sections(summaries: &[Summary], rows: &[Row]) -> String {
    let scenarios = scenario_summaries(rows);
    let mut md = String::new();
    if !scenarios.is_empty() {
        md.push_str(
            "## Other scenarios\n\n*Multiplexed*: the C clients share S sessions, so many calls \
             are in flight on one connection. Its **pipelined ceiling** has the same shape over \
             plain tokio sockets: S connections, each keeping C/S frames in flight, writing \
             after each read as many frames as came back, in one write; it runs just before \
             the multiplexed row, and *vs ceiling* is the median of the same-run ratios. \
             *Packets/call*: TCP segments the machine sent over the timed phase, per call \
             (loopback counts both directions). *Push*: the server pushes the message to every \
             one of the C sessions, round after round, as fast as the slowest session takes \
             them; the figures count pushes received. Medians over the runs.\n\n\
             | scenario | C | sessions | throughput (/s) | vs ceiling | packets/call | p99 (ms) \
             | CPU s/100k: both | server peak RSS (MiB) | runs | failed |\n\
             |---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for s in &scenarios {
            let name = match (s.kind, s.scenario) {
                (_, Scenario::Calls) => "calls",
                (Kind::Ceiling | Kind::CodecCeiling, Scenario::Multiplexed) => {
                    "raw pipelined ceiling"
                }
                (Kind::Teleport, Scenario::Multiplexed) => "multiplexed calls",
                (_, Scenario::Push) => "pushes",
            };
            // A push has no reply, so no latency.
            let p99 = (s.scenario != Scenario::Push).then_some(s.p99_ms);
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
                s.clients,
                s.sessions,
                s.throughput,
                opt(s.ratio, 2),
                opt(s.packets_per_call, 2),
                opt(p99, 3),
                opt(s.cpu_per_100k, 2),
                opt(s.peak_rss_mib, 1),
                s.runs,
                s.failed
            );
        }
        md.push('\n');
    }
    md.push_str(&targets(summaries, &scenarios, rows));
    md
}

fn targets(summaries: &[Summary], scenarios: &[ScenarioSummary], rows: &[Row]) -> String {
    let find = |kind: Kind, clients: usize| {
        summaries.iter().find(|s| s.kind == kind && s.clients == clients)
    };
    let verdict = |met: bool| if met { "met" } else { "**not met**" };
    let mut md = String::from(
        "## Targets\n\nEach target of the benchmark against this run's medians (CPU: the ratio \
         of the medians).\n\n| target | measured | |\n|---|---|---|\n",
    );
    let mut clients: Vec<usize> = summaries.iter().map(|s| s.clients).collect();
    clients.dedup();
    for &c in &clients {
        let (Some(ours), Some(ceiling)) = (find(Kind::Teleport, c), find(Kind::Ceiling, c)) else {
            continue;
        };
        if let Some(ratio) = ours.ratio {
            let _ = writeln!(
                md,
                "| C = {c}: throughput ≥ {MIN_RATIO} × the ceiling | {ratio:.2} × ({:.0} against {:.0} calls/s) | {} |",
                ours.throughput,
                ceiling.throughput,
                verdict(ratio >= MIN_RATIO)
            );
        }
        if let (Some(cpu), Some(base)) = (ours.cpu_per_100k, ceiling.cpu_per_100k) {
            let times = cpu / base;
            let _ = writeln!(
                md,
                "| C = {c}: CPU per call ≤ {MAX_CPU} × the ceiling's | {times:.2} × ({cpu:.2} against {base:.2} s/100k) | {} |",
                verdict(times <= MAX_CPU)
            );
        }
        let Some(codec) = find(Kind::CodecCeiling, c).filter(|_| [100, 1000].contains(&c)) else {
            continue;
        };
        if let Some(ratio) = ours.codec_ratio {
            let _ = writeln!(
                md,
                "| C = {c}: throughput ≥ {MIN_CODEC_RATIO} × the codec ceiling | {ratio:.2} × ({:.0} against {:.0} calls/s) | {} |",
                ours.throughput,
                codec.throughput,
                verdict(ratio >= MIN_CODEC_RATIO)
            );
        }
        if let (Some(cpu), Some(base)) = (ours.cpu_per_100k, codec.cpu_per_100k) {
            let times = cpu / base;
            let _ = writeln!(
                md,
                "| C = {c}: CPU per call ≤ {MAX_CODEC_CPU} × the codec ceiling's | {times:.2} × ({cpu:.2} against {base:.2} s/100k) | {} |",
                verdict(times <= MAX_CODEC_CPU)
            );
        }
    }
    let multiplexed = |clients: usize| {
        scenarios.iter().find(|s| {
            (s.kind, s.scenario, s.clients, s.sessions)
                == (Kind::Teleport, Scenario::Multiplexed, clients, 4)
        })
    };
    if let Some(ratio) = multiplexed(100).and_then(|m| m.ratio) {
        let _ = writeln!(
            md,
            "| multiplexed C = 100 over 4 sessions ≥ {MIN_PIPELINED_RATIO} × the pipelined ceiling | {ratio:.2} × | {} |",
            verdict(ratio >= MIN_PIPELINED_RATIO)
        );
    }
    let multiplexed = multiplexed(1000);
    if let (Some(m), Some(c100)) = (multiplexed, find(Kind::Teleport, 100)) {
        let _ = writeln!(
            md,
            "| multiplexed C = 1000 over 4 sessions ≥ C = 100 over 100 sessions | {:.0} against {:.0} calls/s | {} |",
            m.throughput,
            c100.throughput,
            verdict(m.throughput >= c100.throughput)
        );
    }
    if let Some(rss) = find(Kind::Teleport, 1000).and_then(|s| s.peak_rss_mib) {
        let _ = writeln!(
            md,
            "| server peak RSS at C = 1000 ≤ {MAX_RSS_MIB} MiB | {rss:.1} MiB | {} |",
            verdict(rss <= MAX_RSS_MIB)
        );
    }
    let failed: u64 = rows.iter().map(|r| r.failed).sum();
    let _ = writeln!(
        md,
        "| no call fails | {failed} failed in {} runs | {} |",
        rows.len(),
        verdict(failed == 0)
    );
    md.push('\n');
    md
}
