//! `bench-report`: turns the JSON rows of `bench-client --json` runs into
//! `docs/benchmarks.md` (medians over the runs) and an SVG chart of throughput and p99 by
//! concurrency, teleport against the raw ceiling.
//!
//! ```text
//! bench-report --out docs/benchmarks.md --svg docs/benchmarks.svg \
//!     --meta "N=1000000" runs.jsonl
//! ```
//!
//! With `--by-network`, it writes only the "By network" section of that file instead, from
//! runs on several networks (`NETWORKS=... scripts/bench.sh`); the main table keeps that
//! section when it is written again.

mod chart;
mod codec;
mod networks;
mod targets;

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use teleport_bench::row::{Kind, Row, Scenario};

const USAGE: &str = "\
usage: bench-report --out FILE.md --svg FILE.svg [--meta TEXT]... RUNS.jsonl...
       bench-report --by-network --out FILE.md [--meta TEXT]... RUNS.jsonl...
  reads the rows printed by bench-client --json; writes the Markdown table and the chart,
  or (--by-network) replaces the \"By network\" section of FILE.md";

/// The medians of the runs of one kind at one concurrency.
pub(crate) struct Summary {
    /// Ceiling or teleport.
    pub(crate) kind: Kind,
    /// Concurrent clients.
    pub(crate) clients: usize,
    runs: usize,
    failed: u64,
    mean_ms: f64,
    median_ms: f64,
    max_ms: f64,
    min_ms: f64,
    /// Median p99, ms.
    pub(crate) p99_ms: f64,
    p999_ms: f64,
    /// Median throughput, calls/s.
    pub(crate) throughput: f64,
    ratio: Option<f64>,
    /// Median of the same-run ratios to the codec ceiling.
    pub(crate) codec_ratio: Option<f64>,
    /// Median CPU seconds of both processes per 100,000 calls.
    pub(crate) cpu_per_100k: Option<f64>,
    server_cpu_per_100k: Option<f64>,
    peak_rss_mib: Option<f64>,
    rss_per_session_kib: Option<f64>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 })
}

fn summarise(kind: Kind, clients: usize, rows: &[&Row]) -> Summary {
    let of = |f: &dyn Fn(&Row) -> f64| median(rows.iter().map(|r| f(r)).collect()).unwrap_or(0.0);
    let maybe =
        |f: &dyn Fn(&Row) -> Option<f64>| median(rows.iter().filter_map(|r| f(r)).collect());
    Summary {
        kind,
        clients,
        runs: rows.len(),
        failed: rows.iter().map(|r| r.failed).sum(),
        mean_ms: of(&|r| r.mean_ms),
        median_ms: of(&|r| r.median_ms),
        max_ms: of(&|r| r.max_ms),
        min_ms: of(&|r| r.min_ms),
        p99_ms: of(&|r| r.p99_ms),
        p999_ms: of(&|r| r.p999_ms),
        throughput: of(&|r| r.throughput),
        ratio: maybe(&|r| r.ratio),
        codec_ratio: maybe(&|r| r.codec_ratio),
        cpu_per_100k: maybe(&|r| r.cpu_per_100k()),
        server_cpu_per_100k: maybe(&|r| Some(r.server_cpu_s? * 100_000.0 / r.calls.max(1) as f64)),
        peak_rss_mib: maybe(&|r| Some(r.server_peak_rss_kib? as f64 / 1024.0)),
        rss_per_session_kib: maybe(&|r| r.rss_per_session_kib()),
    }
}

/// Reads every row of the given files; lines that are not rows are skipped.
fn read_rows(paths: &[PathBuf]) -> Result<Vec<Row>, Box<dyn Error>> {
    let mut rows = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        rows.extend(text.lines().filter_map(|line| serde_json::from_str::<Row>(line).ok()));
    }
    Ok(rows)
}

/// The summaries of the call rows, by concurrency, ceiling first.
fn summaries(rows: &[Row]) -> Vec<Summary> {
    let mut groups: BTreeMap<(usize, Kind), Vec<&Row>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.scenario == Scenario::Calls) {
        groups.entry((row.clients, row.kind)).or_default().push(row);
    }
    groups.iter().map(|(&(clients, kind), rows)| summarise(kind, clients, rows)).collect()
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

fn markdown(summaries: &[Summary], rows: &[Row], meta: &[String], svg: &Path) -> String {
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(
        "Written by `scripts/bench.sh`; do not edit by hand. The method is Teleport's published \
         benchmark: one server and one client process on this machine over loopback TCP; C \
         clients, each with its own session, make 5 warm-up calls then N/C sequential calls \
         to `Hello.Say` (RPC mapper, protobuf, the 581-byte `BenchmarkMessage`). The **raw \
         ceiling** sends the same frame, encoded once by teleport's raw protocol, over plain \
         tokio sockets and echoes it, one read and one write per call. The **codec ceiling** \
         adds to it exactly the protobuf work every call of the benchmark must do, with \
         prost: the client encodes the request and decodes the reply, the server decodes \
         the request, answers it as `Hello.Say` does and encodes the reply, in frames of \
         the sizes teleport writes; no routing, no ids. The ceilings and teleport run \
         interleaved (raw ceiling, codec ceiling, teleport at each C, then again); every \
         figure is the median over the runs, and *vs ceiling* and *vs codec ceiling* are \
         the medians of the same-run ratios.\n\n\
         Latency and throughput cover the timed phase only (after dial and warm-up); p99.9 \
         is what Teleport's own client printed as \"p99\". CPU is user + system seconds of \
         both processes per 100,000 calls; RSS is the server's peak (`VmHWM`).\n\n",
    );
    if let Some(headline) = headline(summaries) {
        md.push_str(&headline);
    }
    md.push_str(
        "| C | kind | mean (ms) | median (ms) | max (ms) | min (ms) | p99 (ms) | p99.9 (ms) \
         | throughput (calls/s) | vs ceiling | vs codec ceiling | CPU s/100k: both (server) \
         | server peak RSS (MiB) | RSS/session (KiB) | runs | failed |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for s in summaries {
        let _ = writeln!(
            md,
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0} | {} | {} | {} ({}) | {} | {} | {} | {} |",
            s.clients,
            s.kind.label(),
            s.mean_ms,
            s.median_ms,
            s.max_ms,
            s.min_ms,
            s.p99_ms,
            s.p999_ms,
            s.throughput,
            opt(s.ratio, 2),
            opt(s.codec_ratio, 2),
            opt(s.cpu_per_100k, 2),
            opt(s.server_cpu_per_100k, 2),
            opt(s.peak_rss_mib, 1),
            opt(s.rss_per_session_kib, 0),
            s.runs,
            s.failed,
        );
    }
    let svg_name = svg.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let _ = write!(md, "\n![throughput and p99 by concurrency]({svg_name})\n\n");
    md.push_str(&codec::section(summaries));
    md.push_str(&targets::sections(summaries, rows));
    md.push_str("## This run\n\n");
    for line in meta {
        let _ = writeln!(md, "- {line}");
    }
    md.push_str(
        "\nWhere the time goes, with profiles and flame graphs: [profiles/README.md](profiles/README.md).\n",
    );
    md
}

/// "At C = 100, teleport: X calls/s, 0.YY of the raw ceiling", from the lowest C.
fn headline(summaries: &[Summary]) -> Option<String> {
    let ours = summaries.iter().find(|s| s.kind == Kind::Teleport)?;
    let ratio = ours.ratio?;
    let codec = ours
        .codec_ratio
        .map_or_else(String::new, |codec| format!(" and **{codec:.2} × the codec ceiling**"));
    Some(format!(
        "**Headline:** at C = {}, teleport makes {:.0} calls/s, **{ratio:.2} × the raw ceiling**\
         {codec} measured in the same runs.\n\n",
        ours.clients, ours.throughput
    ))
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-report: {e}\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let (mut out, mut svg, mut meta, mut inputs) = (None, None, Vec::new(), Vec::new());
    let mut by_network = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            "--svg" => svg = args.next().map(PathBuf::from),
            "--meta" => meta.extend(args.next()),
            "--by-network" => by_network = true,
            _ if arg.starts_with('-') => return Err(format!("unknown flag {arg}").into()),
            _ => inputs.push(PathBuf::from(arg)),
        }
    }
    let rows = read_rows(&inputs)?;
    // What the file holds now: the section of the other kind of run is kept.
    let Some(out) = out else { return Err("--out is needed".into()) };
    let before = std::fs::read_to_string(&out).unwrap_or_default();
    if by_network {
        let section = networks::section(&rows, &meta)?;
        let doc = if before.is_empty() { "# Benchmarks\n" } else { &before };
        std::fs::write(&out, networks::replace(doc, &section))?;
        println!("wrote the by-network section of {}", out.display());
        return Ok(());
    }
    let Some(svg) = svg else { return Err("--svg is needed".into()) };
    let summaries = summaries(&rows);
    if summaries.is_empty() {
        return Err("no call rows in the input".into());
    }
    chart::draw(&svg, &summaries)?;
    let mut md = markdown(&summaries, &rows, &meta, &svg);
    if let Some(section) = networks::existing(&before) {
        md = networks::replace(&md, section);
    }
    std::fs::write(&out, md)?;
    println!("wrote {} and {}", out.display(), svg.display());
    Ok(())
}
