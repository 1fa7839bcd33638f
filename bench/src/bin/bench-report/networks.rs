//! The "By network" section of `docs/benchmarks.md`: teleport on every network at one
//! concurrency, each next to the raw ceiling measured just before it in the same round.
//! Written by `NETWORKS=... scripts/bench.sh` (`bench-report --by-network`) in a run of its
//! own; a run of the main table keeps it as it is.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;

use crate::{median, opt, summarise};
use teleport_bench::row::{Kind, Row, Scenario};

/// The section's heading, which also marks where it starts in the file.
const HEADING: &str = "## By network";

/// A teleport row and the ceiling row measured just before it, if there was one.
type Pair<'a> = (&'a Row, Option<&'a Row>);

/// The section, from the rows of `bench-client --compare --json` runs on several networks.
pub(crate) fn section(rows: &[Row], meta: &[String]) -> Result<String, String> {
    // Teleport rows by network and concurrency, in the order the runs met them, each with
    // the ceiling row measured just before it.
    let mut order: Vec<(String, usize)> = Vec::new();
    let mut paired: BTreeMap<(String, usize), Vec<Pair<'_>>> = BTreeMap::new();
    let mut ceilings: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut previous: Option<&Row> = None;
    // The codec ceiling, measured on tcp and unix, is the main table's: left out here.
    let calls = rows.iter().filter(|r| r.scenario == Scenario::Calls);
    for row in calls.filter(|r| r.kind != Kind::CodecCeiling) {
        match row.kind {
            Kind::Ceiling | Kind::CodecCeiling => {
                ceilings.entry(row.network.clone()).or_default().push(row.throughput);
            }
            Kind::Teleport => {
                let key = (row.network.clone(), row.clients);
                if !order.contains(&key) {
                    order.push(key.clone());
                }
                let ceiling =
                    previous.filter(|c| c.kind == Kind::Ceiling && c.clients == row.clients);
                paired.entry(key).or_default().push((row, ceiling));
            }
        }
        previous = Some(row);
    }
    if order.is_empty() {
        return Err("no teleport call rows in the input".to_owned());
    }

    let mut md = format!("{HEADING}\n\n");
    md.push_str(
        "Teleport on each network, measured in a run of its own (see *This run* below), apart \
         from the table above. Same method and message; in each round the client runs every \
         network in turn, and for each one measures the raw ceiling, then teleport. The raw \
         ceiling has no TLS, QUIC or WebSocket flavour: it is **plain TCP** for `tcp`, `tls`, \
         `quic`, `ws` and `wss` (plain Unix sockets for `unix`), so *vs ceiling* there is \
         what the transport and teleport cost together. `tls`, `quic` and `wss` use a \
         self-signed certificate that the client makes at startup and hands to the server \
         it starts as PEM files. Figures are medians over the rounds; *vs ceiling* is the \
         median of the same-round ratios.\n\n",
    );
    md.push_str(
        "| network | C | throughput (calls/s) | vs ceiling | its ceiling (calls/s) | median (ms) \
         | p99 (ms) | p99.9 (ms) | CPU s/100k: both (server) | RSS/session (KiB) | runs | failed \
         |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for key in &order {
        let pairs = &paired[key];
        let ours: Vec<&Row> = pairs.iter().map(|(row, _)| *row).collect();
        let s = summarise(Kind::Teleport, key.1, &ours);
        let their: Vec<&Row> = pairs.iter().filter_map(|(_, ceiling)| *ceiling).collect();
        let ceiling = match (median(their.iter().map(|r| r.throughput).collect()), their.first()) {
            (Some(throughput), Some(first)) => format!("{throughput:.0} ({})", first.network),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {} | {ceiling} | {:.3} | {:.3} | {:.3} | {} ({}) | {} | {} | {} |",
            key.0,
            key.1,
            s.throughput,
            opt(s.ratio, 2),
            s.median_ms,
            s.p99_ms,
            s.p999_ms,
            opt(s.cpu_per_100k, 2),
            opt(s.server_cpu_per_100k, 2),
            opt(s.rss_per_session_kib, 0),
            s.runs,
            s.failed,
        );
    }
    md.push('\n');
    for (network, values) in &ceilings {
        let (lo, hi) =
            values.iter().fold((f64::MAX, 0.0_f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let _ = writeln!(
            md,
            "Raw ceiling over plain {network} across the whole run: median {:.0} calls/s, \
             {lo:.0}–{hi:.0} over its {} measurements.\n",
            median(values.clone()).unwrap_or(0.0),
            values.len(),
        );
    }
    md.push_str("### This run\n\n");
    for line in meta {
        let _ = writeln!(md, "- {line}");
    }
    Ok(md)
}

/// Where the section of `doc` is: from its heading to the next heading of the same level,
/// or to the end.
fn span(doc: &str) -> Option<Range<usize>> {
    let start = doc.find(&format!("\n{HEADING}\n"))? + 1;
    let body = start + HEADING.len();
    let end = doc[body..].find("\n## ").map_or(doc.len(), |at| body + at + 1);
    Some(start..end)
}

/// The section of `doc`, if it has one.
pub(crate) fn existing(doc: &str) -> Option<&str> {
    span(doc).map(|span| doc[span].trim_end())
}

/// `doc` with its section replaced by `section`, or with `section` appended.
pub(crate) fn replace(doc: &str, section: &str) -> String {
    let section = section.trim_end();
    match span(doc) {
        Some(span) if span.end < doc.len() => {
            format!("{}{section}\n\n{}", &doc[..span.start], &doc[span.end..])
        }
        Some(span) => format!("{}{section}\n", &doc[..span.start]),
        None => format!("{}\n\n{section}\n", doc.trim_end()),
    }
}
