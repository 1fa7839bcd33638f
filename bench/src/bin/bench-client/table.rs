//! How `bench-client` shows its rows: a Markdown table (on stdout, or on stderr when the
//! JSON lines take stdout) and a progress bar while a row runs.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};

use teleport_bench::cli::Network;
use teleport_bench::row::{Kind, Row, Scenario};

/// The table's header, BENCH.md's columns first.
const HEADER: &str = "\
| kind | clients | sessions | mean (ms) | median (ms) | max (ms) | min (ms) | p99 (ms) | p99.9 (ms) | throughput (/s) | vs ceiling | vs codec ceiling | CPU s/100k srv+cli | srv peak RSS (MiB) | packets/call | failed |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

/// Prints rows as they are measured.
pub(crate) struct Table {
    json: bool,
    network: Network,
    rows: usize,
    ceilings: usize,
}

impl Table {
    /// A table of a run on `network`; with `json`, each row is also printed as one JSON
    /// line on stdout.
    pub(crate) fn new(json: bool, network: Network) -> Self {
        Table { json, network, rows: 0, ceilings: 0 }
    }

    /// Prints one row (after the header, for the first).
    pub(crate) fn print(&mut self, row: &Row) -> std::io::Result<()> {
        let mut text = String::new();
        if self.rows == 0 {
            text.push_str(HEADER);
            text.push('\n');
        }
        text.push_str(&line(row, self.network != Network::Tcp));
        text.push('\n');
        self.rows += 1;
        self.ceilings += usize::from(row.kind == Kind::Ceiling);
        if self.json {
            eprint!("{text}");
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer(&mut stdout, row)?;
            writeln!(stdout)?;
            stdout.flush()
        } else {
            print!("{text}");
            std::io::stdout().flush()
        }
    }

    /// Prints what the figures mean, after the last row.
    pub(crate) fn finish(&self) {
        let mut note = "\nLatency and throughput cover the timed phase only, after dial and 5 \
                        warm-up calls per client\n(Teleport's own client counted both in its wall \
                        time and printed p99.9 as \"p99\"). Push rows count pushes received."
            .to_owned();
        let (network, ceiling) = (self.network, self.network.ceiling());
        if self.ceilings > 0 && ceiling != network {
            note.push_str(&format!(
                "\nThe raw ceiling has no {network} flavour: it is plain {ceiling}, and \"vs \
                 ceiling\" compares\nteleport over {network} with plain {ceiling} measured just \
                 before it."
            ));
        }
        if self.json {
            eprintln!("{note}");
        } else {
            println!("{note}");
        }
    }
}

/// One row; with `named`, the kind names the row's network.
fn line(row: &Row, named: bool) -> String {
    let ms =
        |v: f64| if row.scenario == Scenario::Push { "-".to_owned() } else { format!("{v:.3}") };
    let ratio = |r: Option<f64>| r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}"));
    let cpu = match (row.server_cpu_s, row.cpu_per_100k()) {
        (Some(server), Some(total)) => {
            let per = 100_000.0 / row.calls.max(1) as f64;
            format!("{total:.2} ({:.2}+{:.2})", server * per, row.client_cpu_s * per)
        }
        _ => format!("? (cli {:.2})", row.client_cpu_s * 100_000.0 / row.calls.max(1) as f64),
    };
    let rss = match (row.server_peak_rss_kib, row.rss_per_session_kib()) {
        (Some(peak), Some(per)) => format!("{:.1} ({per:.0} KiB/session)", peak as f64 / 1024.0),
        (Some(peak), None) => format!("{:.1}", peak as f64 / 1024.0),
        (None, _) => "?".to_owned(),
    };
    let mut kind = match row.scenario {
        Scenario::Calls => row.kind.label().to_owned(),
        Scenario::Multiplexed if row.kind == Kind::Ceiling => "raw pipelined ceiling".to_owned(),
        Scenario::Multiplexed => format!("{} multiplexed", row.kind.label()),
        Scenario::Push => format!("{} push", row.kind.label()),
    };
    if named {
        kind.push_str(&format!(" ({})", row.network));
    }
    format!(
        "| {kind} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {cpu} | {rss} | {} | {} |",
        row.clients,
        row.sessions,
        ms(row.mean_ms),
        ms(row.median_ms),
        ms(row.max_ms),
        ms(row.min_ms),
        ms(row.p99_ms),
        ms(row.p999_ms),
        row.throughput,
        ratio(row.ratio),
        ratio(row.codec_ratio),
        row.packets_per_call.map_or_else(|| "-".to_owned(), |p| format!("{p:.2}")),
        row.failed,
    )
}

/// A progress bar of `total` steps on stderr, hidden when stdout is not a terminal.
pub(crate) fn progress_bar(total: u64, label: String) -> ProgressBar {
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let style =
        ProgressStyle::with_template("{msg:>20} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    ProgressBar::new(total).with_style(style).with_message(label)
}
