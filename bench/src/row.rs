//! One measured row, as `bench-client --json` prints it (one JSON object per line) and
//! `bench-report` reads it.

use serde::{Deserialize, Serialize};

/// What was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The raw ceiling: the same frames echoed over plain tokio sockets.
    Ceiling,
    /// The codec ceiling: the raw ceiling's sockets plus the protobuf work every call of the
    /// benchmark needs (the client encodes the request and decodes the reply, the server
    /// decodes the request and encodes the reply), with no routing and no ids.
    #[serde(rename = "codec_ceiling")]
    CodecCeiling,
    /// Teleport.
    Teleport,
}

impl Kind {
    /// The name shown in tables and charts.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ceiling => "raw ceiling",
            Kind::CodecCeiling => "codec ceiling",
            Kind::Teleport => "teleport",
        }
    }
}

/// How the clients used their connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Each client calls on its own session.
    Calls,
    /// The clients share fewer sessions than there are clients; for the ceiling, each
    /// connection keeps its share of the clients' frames in flight (pipelined).
    Multiplexed,
    /// The server pushes to every session; the figures count pushes received.
    Push,
}

/// One run at one concurrency. Latencies are in milliseconds, taken over the timed phase
/// only (after dial and warm-up), as is the throughput.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// Ceiling or teleport.
    pub kind: Kind,
    /// Calls, multiplexed calls or pushes.
    pub scenario: Scenario,
    /// `protobuf`, `json` or `bincode`.
    pub codec: String,
    /// The network the row ran on: `tcp`, `unix`, `tls`, `quic`, `ws` or `wss` (a ceiling
    /// row: `tcp` or `unix`, whatever the network of the teleport row it goes with).
    pub network: String,
    /// Worker threads per process (0: one per core).
    pub threads: usize,
    /// Concurrent clients (C).
    pub clients: usize,
    /// Connections they used.
    pub sessions: usize,
    /// Calls (or pushes) in the timed phase.
    pub calls: u64,
    /// Calls that did not end with status OK and field 1 `"OK"` (pushes with a wrong body).
    pub failed: u64,
    /// Mean latency, ms.
    pub mean_ms: f64,
    /// Median latency, ms.
    pub median_ms: f64,
    /// Largest latency, ms.
    pub max_ms: f64,
    /// Smallest latency, ms.
    pub min_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Wall time of the timed phase, s.
    pub wall_s: f64,
    /// Calls (or pushes) per second over the timed phase.
    pub throughput: f64,
    /// CPU seconds (user + sys) of the client process over the timed phase.
    pub client_cpu_s: f64,
    /// CPU seconds of the server process over the timed phase; absent when its pid is unknown.
    pub server_cpu_s: Option<f64>,
    /// The server's peak resident set (`VmHWM`), KiB, at the end of the run.
    pub server_peak_rss_kib: Option<u64>,
    /// The server's resident set once listening, before any client connected, KiB.
    pub server_base_rss_kib: Option<u64>,
    /// Throughput divided by that of the raw ceiling run just before, in the same invocation.
    pub ratio: Option<f64>,
    /// Throughput divided by that of the codec ceiling run just before, in the same
    /// invocation; absent when none ran (other codecs, other scenarios, older rows).
    #[serde(default)]
    pub codec_ratio: Option<f64>,
    /// TCP segments sent on this machine per call over the timed phase (loopback: both
    /// directions); absent off TCP or when `/proc/net/snmp` cannot be read.
    #[serde(default)]
    pub packets_per_call: Option<f64>,
}

impl Row {
    /// CPU seconds of both processes per 100,000 calls.
    pub fn cpu_per_100k(&self) -> Option<f64> {
        let calls = self.calls.max(1) as f64;
        self.server_cpu_s.map(|server| (server + self.client_cpu_s) * 100_000.0 / calls)
    }

    /// The server's memory per connection: its peak over its idle resident set, KiB.
    pub fn rss_per_session_kib(&self) -> Option<f64> {
        let (peak, base) = (self.server_peak_rss_kib?, self.server_base_rss_kib?);
        Some(peak.saturating_sub(base) as f64 / self.sessions.max(1) as f64)
    }
}
