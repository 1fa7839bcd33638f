//! What a run measures besides time: CPU seconds and resident memory of a process, read from
//! `/proc`, and the summary of the latencies.

/// Clock ticks per second of `utime` and `stime` in `/proc/<pid>/stat` (`USER_HZ`, 100 on
/// every Linux architecture the benchmark runs on).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system) a process has used so far; `None` if it cannot be read.
pub(crate) fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields are counted after its closing ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some((user + system) as f64 / TICKS_PER_SECOND)
}

/// A memory figure of `/proc/<pid>/status` in KiB: `VmHWM` (peak) or `VmRSS` (now).
pub(crate) fn status_kib(pid: &str, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))?;
    line.trim().trim_end_matches("kB").trim().parse().ok()
}

/// TCP segments sent by this machine so far (`OutSegs` of `/proc/net/snmp`); `None` if it
/// cannot be read. Over loopback both directions count, and so does any other TCP traffic
/// of the machine meanwhile.
pub(crate) fn tcp_out_segments() -> Option<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut tcp = snmp.lines().filter(|line| line.starts_with("Tcp:"));
    let (names, values) = (tcp.next()?, tcp.next()?);
    let at = names.split_whitespace().position(|name| name == "OutSegs")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// Latencies of a run, summarised in milliseconds.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Latencies {
    /// Mean.
    pub(crate) mean_ms: f64,
    /// Median.
    pub(crate) median_ms: f64,
    /// Largest.
    pub(crate) max_ms: f64,
    /// Smallest.
    pub(crate) min_ms: f64,
    /// 99th percentile.
    pub(crate) p99_ms: f64,
    /// 99.9th percentile.
    pub(crate) p999_ms: f64,
}

impl Latencies {
    /// Summarises latencies given in nanoseconds (sorted in place); zeros when empty.
    pub(crate) fn from_nanos(nanos: &mut [u64]) -> Self {
        if nanos.is_empty() {
            return Latencies::default();
        }
        nanos.sort_unstable();
        let ms = |ns: u64| ns as f64 / 1e6;
        // Nearest rank: the smallest value with at least q of the samples at or below it.
        let rank = |q: f64| {
            let index = (q * nanos.len() as f64).ceil() as usize;
            ms(nanos[index.clamp(1, nanos.len()) - 1])
        };
        let sum: u128 = nanos.iter().map(|&ns| u128::from(ns)).sum();
        Latencies {
            mean_ms: sum as f64 / nanos.len() as f64 / 1e6,
            median_ms: rank(0.5),
            max_ms: ms(nanos[nanos.len() - 1]),
            min_ms: ms(nanos[0]),
            p99_ms: rank(0.99),
            p999_ms: rank(0.999),
        }
    }
}
