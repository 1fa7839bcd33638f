//! The "Against the codec ceiling" section of `docs/benchmarks.md`: at each C, the CPU per
//! call of the raw ceiling, the codec ceiling and teleport, and teleport's CPU split into
//! what the codec ceiling spends (sockets plus protobuf) and what the framework adds.

use std::fmt::Write as _;

use crate::{Summary, opt};
use teleport_bench::row::Kind;

/// The section; empty when the run measured no codec ceiling.
pub(crate) fn section(summaries: &[Summary]) -> String {
    let find = |kind: Kind, clients: usize| {
        summaries.iter().find(|s| s.kind == kind && s.clients == clients)
    };
    let mut lines = String::new();
    for ours in summaries.iter().filter(|s| s.kind == Kind::Teleport) {
        let c = ours.clients;
        let (Some(raw), Some(codec)) = (find(Kind::Ceiling, c), find(Kind::CodecCeiling, c)) else {
            continue;
        };
        // s per 100k calls is µs per call times 10.
        let us = |s: &Summary| s.cpu_per_100k.map(|cpu| cpu * 10.0);
        let (raw_us, codec_us, ours_us) = (us(raw), us(codec), us(ours));
        let share = |part: Option<f64>| {
            let (part, whole) = (part?, ours_us.filter(|&us| us > 0.0)?);
            Some(format!("{part:.2} ({:.0} %)", 100.0 * part / whole))
        };
        let framework = ours_us.zip(codec_us).map(|(ours, codec)| ours - codec);
        let times = ours_us.zip(codec_us.filter(|&us| us > 0.0)).map(|(ours, codec)| ours / codec);
        let _ = writeln!(
            lines,
            "| {c} | {} | {} | {} | {} | {} | {} | {} |",
            opt(raw_us, 2),
            opt(codec_us, 2),
            opt(ours_us, 2),
            share(codec_us).unwrap_or_else(|| "–".to_owned()),
            share(framework).unwrap_or_else(|| "–".to_owned()),
            opt(ours.codec_ratio, 2),
            opt(times, 2),
        );
    }
    if lines.is_empty() {
        return lines;
    }
    format!(
        "## Against the codec ceiling\n\nCPU per call (µs, user + system of both processes) of \
         each kind, from the medians above, and teleport's CPU split into the codec ceiling's \
         share (the sockets plus the protobuf work no implementation can skip) and the \
         framework's (everything teleport adds: framing of ids, routing, sessions, tasks, \
         plugins). Where the framework's share goes: [profiles/README.md](profiles/README.md).\n\n\
         | C | raw ceiling µs/call | codec ceiling µs/call | teleport µs/call | codec ceiling's \
         share | framework's share | throughput vs codec ceiling | CPU vs codec ceiling |\n\
         |---|---|---|---|---|---|---|---|\n{lines}\n"
    )
}
