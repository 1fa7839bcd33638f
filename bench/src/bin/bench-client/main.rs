//! `bench-client`: Teleport's benchmark (`../shared/BENCH.md` of the project) against
//! teleport, with the raw and codec ceilings ([`teleport_bench::ceiling`]) measured by the
//! same tool.
//!
//! C clients, each with its own session, make 5 warm-up calls and then N/C sequential calls
//! to `Hello.Say` through the generated stub, with the 581-byte `BenchmarkMessage`. The
//! client starts the server itself (this program with `--serve`) unless `-s` names a running
//! one, and prints one row per concurrency: latencies, throughput, CPU seconds of both
//! processes per 100k calls and the server's peak RSS.
//!
//! ```text
//! cargo run --release -p teleport-bench --bin bench-client -- -c 100,500,1000 -n 1000000 --compare
//! cargo run --release -p teleport-bench --bin bench-client -- -c 100 -n 200000 --network quic --compare
//! ```
//!
//! On `tls`, `quic` and `wss` the client makes a self-signed certificate at startup, hands
//! its PEM files to the servers it starts (`--cert`, `--key`) and trusts it alone; a server
//! named with `-s` needs `--ca`. The raw ceiling has no TLS, QUIC or WebSocket flavour: with
//! `--compare` those networks are compared with plain TCP, measured just before.

mod load;
mod measure;
mod push;
mod spawn;
mod table;

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::ProgressBar;
use teleport::codec::Protobuf;
use teleport::transport::tls::TlsConfig;
use teleport::{Peer, PeerConfig, Session};
use teleport_bench::ceiling::Head;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

use crate::load::{Body, Caller, CodecConn, Measured, RawConn, RawPipe, Stub};
use crate::measure::status_kib;
use crate::spawn::Target;
use crate::table::Table;
use teleport_bench::certs::{CertDir, client_tls};
use teleport_bench::cli::{Args, Codec, Network, runtime};
use teleport_bench::hello::{BenchmarkMessage, PushCounter, Sink, SinkSerde};
use teleport_bench::row::{Kind, Row, Scenario};
use teleport_bench::serve::ServerOptions;

const USAGE: &str = "\
usage: bench-client [options]
  -c LIST            concurrent clients, one row per value (default 100; e.g. 100,500,1000)
  -n N               total calls per row, shared by the clients (default 1000000)
  -s ADDR            dial a running bench-server (host:port, or a socket path with unix)
                     instead of starting one
  --server-pid PID   that server's pid, to report its CPU time and memory
  --codec NAME       protobuf (default), json or bincode
  --network NAME     tcp (default), unix, tls, quic, ws or wss; tls, quic and wss use a
                     self-signed certificate made at startup
  --ca PATH          with -s on tls, quic or wss: the certificate (PEM) to trust
  --threads T        worker threads per process, client and started server (default: cores)
  --sessions S       multiplexed: the C clients share S sessions; the raw ceiling then
                     keeps C/S frames in flight on each of S connections (pipelined)
  --push             the server pushes N messages in rounds to every one of C sessions
  --raw              measure the raw ceiling only: the same frames echoed over plain sockets
                     (tcp or unix)
  --codec-ceiling    measure the codec ceiling only: the raw ceiling plus the protobuf work
                     of each call (client and server encode and decode with prost)
  --compare          per row, measure the raw ceiling, then (protobuf, one session per
                     client, tcp or unix) the codec ceiling, then teleport, and report the
                     ratios; the ceiling of tls, quic, ws and wss is plain tcp
  --json             print one JSON object per row on stdout (the table goes to stderr)";

/// What the command line asks for.
struct Options {
    clients: Vec<usize>,
    total: u64,
    server: ServerOptions,
    external: bool,
    server_pid: Option<String>,
    sessions: Option<usize>,
    push: bool,
    compare: bool,
    json: bool,
    serve: bool,
    /// The certificate to trust on the TLS networks (`--ca`).
    ca: Option<PathBuf>,
    /// The client side of the TLS networks, once [`prepare_tls`](Self::prepare_tls) ran.
    tls: Option<TlsConfig>,
    /// The certificate made for the servers this client starts; removed on exit.
    certs: Option<CertDir>,
}

impl Options {
    fn parse(mut args: Args) -> Result<Options, String> {
        let mut options = Options {
            clients: vec![100],
            total: 1_000_000,
            server: ServerOptions { addr: String::new(), ..ServerOptions::default() },
            external: false,
            server_pid: None,
            sessions: None,
            push: false,
            compare: false,
            json: false,
            serve: false,
            ca: None,
            tls: None,
            certs: None,
        };
        while let Some(flag) = args.next_flag() {
            match flag.as_str() {
                "-c" => options.clients = parse_list(&args.value::<String>(&flag)?, &flag)?,
                "-n" => options.total = args.value(&flag)?,
                "--server-pid" => options.server_pid = Some(args.value(&flag)?),
                "--sessions" => options.sessions = Some(args.value(&flag)?),
                "--push" => options.push = true,
                "--compare" => options.compare = true,
                "--json" => options.json = true,
                "--serve" => options.serve = true,
                "--ca" => options.ca = Some(args.value(&flag)?),
                "-h" | "--help" => return Err(String::new()),
                _ if options.server.parse_flag(&flag, &mut args)? => {}
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        options.external = !options.server.addr.is_empty();
        options.check()?;
        Ok(options)
    }

    fn check(&self) -> Result<(), String> {
        if self.serve {
            return Ok(());
        }
        if self.clients.contains(&0) || self.total == 0 || self.sessions == Some(0) {
            return Err("-c, -n and --sessions must be at least 1".to_owned());
        }
        let only = self.server.kind;
        if self.push && (only != Kind::Teleport || self.compare || self.sessions.is_some()) {
            return Err("--push has no ceiling and uses one session per client".to_owned());
        }
        if only == Kind::CodecCeiling
            && (self.server.codec != Codec::Protobuf || self.sessions.is_some())
        {
            return Err(
                "the codec ceiling runs with protobuf, one connection per client".to_owned()
            );
        }
        if self.external && self.compare {
            return Err("--compare starts its own servers: drop -s".to_owned());
        }
        let network = self.server.network;
        if only != Kind::Teleport && network.ceiling() != network {
            return Err(format!(
                "the ceilings run over plain tcp or unix sockets, not {network} (--compare \
                 pairs {network} with the tcp ceiling)"
            ));
        }
        if self.ca.is_some() && !(self.external && network.secure()) {
            return Err("--ca is for -s on tls, quic or wss".to_owned());
        }
        if self.external && network.secure() && self.ca.is_none() {
            return Err(format!("-s on {network} needs --ca: the certificate the server presents"));
        }
        Ok(())
    }

    /// On the TLS networks: trusts `--ca`, or makes the certificate that the servers this
    /// client starts will present, and trusts it.
    fn prepare_tls(&mut self) -> Result<(), Box<dyn Error>> {
        if !self.server.network.secure() {
            return Ok(());
        }
        let ca = match &self.ca {
            Some(ca) => ca.clone(),
            None => {
                let certs = self.certs.insert(CertDir::generate("bench-client")?);
                self.server.cert = Some(certs.cert.clone());
                self.server.key = Some(certs.key.clone());
                certs.cert.clone()
            }
        };
        self.tls = Some(client_tls(&ca)?);
        Ok(())
    }

    /// The server a row of `kind` needs: the one given, or a new child process.
    fn target(&self, kind: Kind) -> std::io::Result<Target> {
        if self.external {
            return Ok(Target::external(self.server.addr.clone(), self.server_pid.clone()));
        }
        let network = network_of(kind, self.server.network);
        let addr = match network {
            Network::Unix => {
                let name = format!("teleport-bench-{}.sock", std::process::id());
                std::env::temp_dir().join(name).display().to_string()
            }
            _ => "127.0.0.1:0".to_owned(),
        };
        Target::spawn(&ServerOptions { addr, kind, network, ..self.server.clone() })
    }

    /// What each row measures, in order: with `--compare`, the raw ceiling, the codec
    /// ceiling where it applies (protobuf, one session per client, on the network itself),
    /// then teleport; otherwise the one kind asked for.
    fn kinds(&self) -> Vec<Kind> {
        if !self.compare {
            return vec![self.server.kind];
        }
        let network = self.server.network;
        let codec = self.server.codec == Codec::Protobuf
            && self.sessions.is_none()
            && network.ceiling() == network;
        let mut kinds = vec![Kind::Ceiling];
        if codec {
            kinds.push(Kind::CodecCeiling);
        }
        kinds.push(Kind::Teleport);
        kinds
    }

    fn body(&self) -> Body {
        match self.server.codec {
            Codec::Protobuf => Body::Protobuf(Protobuf(BenchmarkMessage::client())),
            Codec::Json | Codec::Bincode => Body::Serde(BenchmarkMessage::client()),
        }
    }

    fn peer(&self) -> Result<Peer, Box<dyn Error>> {
        let network = self.server.network.teleport();
        let default_body_codec = self.server.codec.name().to_owned();
        let mut builder =
            Peer::builder(PeerConfig { network, default_body_codec, ..PeerConfig::default() });
        if let Some(tls) = &self.tls {
            builder = builder.tls(tls.clone());
        }
        Ok(builder.build()?)
    }
}

/// The network a row of `kind` runs on: the run's, or the ceiling's plain sockets.
fn network_of(kind: Kind, network: Network) -> Network {
    match kind {
        Kind::Ceiling | Kind::CodecCeiling => network.ceiling(),
        Kind::Teleport => network,
    }
}

fn parse_list(text: &str, flag: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|item| item.trim().parse().map_err(|e| format!("{flag} {item}: {e}")))
        .collect()
}

fn main() -> ExitCode {
    let mut options = match Options::parse(Args::from_env()) {
        Ok(options) => options,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("bench-client: {e}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = if options.serve {
        teleport_bench::serve::run(&options.server).map(|()| true)
    } else {
        options.prepare_tls().and_then(|()| {
            let rt = runtime(options.server.threads)?;
            rt.block_on(bench(&options))
        })
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("bench-client: some calls failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("bench-client: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs every row; returns whether every call succeeded.
async fn bench(options: &Options) -> Result<bool, Box<dyn Error>> {
    let kinds = options.kinds();
    let mut table = Table::new(options.json, options.server.network);
    let mut all_ok = true;
    for &clients in &options.clients {
        let (mut raw, mut codec) = (None, None);
        for &kind in &kinds {
            let mut row = run_row(options, kind, clients).await?;
            let of = |ceiling: Option<f64>| ceiling.map(|c| row.throughput / c);
            match kind {
                Kind::Ceiling => raw = Some(row.throughput),
                Kind::CodecCeiling => {
                    row.ratio = of(raw);
                    codec = Some(row.throughput);
                }
                Kind::Teleport => (row.ratio, row.codec_ratio) = (of(raw), of(codec)),
            }
            all_ok &= row.failed == 0;
            table.print(&row)?;
        }
    }
    table.finish();
    Ok(all_ok)
}

/// Measures one row: starts (or names) the server, runs the scenario, reads the figures.
async fn run_row(options: &Options, kind: Kind, clients: usize) -> Result<Row, Box<dyn Error>> {
    let target = options.target(kind)?;
    let pid = target.pid.as_deref();
    let base_rss = pid.and_then(|pid| status_kib(pid, "VmRSS"));
    let per_client = (options.total / clients as u64).max(1);
    let label = format!("{} C={clients}", kind.label());
    let progress = table::progress_bar(per_client * clients as u64, label);
    let addr = target.addr.as_str();
    let (scenario, sessions, measured) = match kind {
        Kind::Ceiling => match options.sessions.map(|s| s.min(clients)) {
            Some(sessions) if sessions < clients => (
                Scenario::Multiplexed,
                sessions,
                pipelined(options, addr, clients, sessions, per_client, pid, &progress).await?,
            ),
            _ => (
                Scenario::Calls,
                clients,
                ceiling(options, kind, addr, clients, per_client, pid, &progress).await?,
            ),
        },
        Kind::CodecCeiling => (
            Scenario::Calls,
            clients,
            ceiling(options, kind, addr, clients, per_client, pid, &progress).await?,
        ),
        Kind::Teleport if options.push => (
            Scenario::Push,
            clients,
            pushes(options, addr, clients, per_client, pid, &progress).await?,
        ),
        Kind::Teleport => {
            let sessions = options.sessions.unwrap_or(clients).min(clients);
            let scenario = if sessions < clients { Scenario::Multiplexed } else { Scenario::Calls };
            let measured =
                calls(options, addr, clients, sessions, per_client, pid, &progress).await?;
            (scenario, sessions, measured)
        }
    };
    progress.finish_and_clear();
    let server_peak_rss_kib = pid.and_then(|pid| status_kib(pid, "VmHWM"));
    drop(target);
    let l = measured.latencies;
    Ok(Row {
        kind,
        scenario,
        codec: options.server.codec.name().to_owned(),
        network: network_of(kind, options.server.network).to_string(),
        threads: options.server.threads,
        clients,
        sessions,
        calls: measured.calls,
        failed: measured.failed,
        mean_ms: l.mean_ms,
        median_ms: l.median_ms,
        max_ms: l.max_ms,
        min_ms: l.min_ms,
        p99_ms: l.p99_ms,
        p999_ms: l.p999_ms,
        wall_s: measured.wall.as_secs_f64(),
        throughput: measured.calls as f64 / measured.wall.as_secs_f64(),
        client_cpu_s: measured.client_cpu_s,
        server_cpu_s: measured.server_cpu_s,
        server_peak_rss_kib,
        server_base_rss_kib: base_rss,
        ratio: None,
        codec_ratio: None,
        packets_per_call: measured.segments.map(|s| s as f64 / measured.calls.max(1) as f64),
    })
}

/// Dials `count` sessions to `addr`.
async fn dial(peer: &Peer, addr: &str, count: usize) -> Result<Vec<Session>, Box<dyn Error>> {
    let mut sessions = Vec::with_capacity(count);
    for _ in 0..count {
        sessions.push(peer.dial(addr).await?);
    }
    Ok(sessions)
}

/// Teleport calls: `clients` stubs over `sessions` sessions.
async fn calls(
    options: &Options,
    addr: &str,
    clients: usize,
    sessions: usize,
    per_client: u64,
    pid: Option<&str>,
    progress: &ProgressBar,
) -> Result<Measured, Box<dyn Error>> {
    let peer = options.peer()?;
    let dialed = dial(&peer, addr, sessions).await?;
    let body = Arc::new(options.body());
    let callers = (0..clients)
        .map(|i| Stub { session: dialed[i % sessions].clone(), body: body.clone() })
        .collect();
    let measured = load::run(callers, per_client, pid, progress).await;
    peer.shutdown(Duration::from_secs(1)).await;
    Ok(measured)
}

/// Teleport pushes: `clients` sessions receive `per_client` rounds.
async fn pushes(
    options: &Options,
    addr: &str,
    clients: usize,
    rounds: u64,
    pid: Option<&str>,
    progress: &ProgressBar,
) -> Result<Measured, Box<dyn Error>> {
    let counter = Arc::new(PushCounter::default());
    let peer = options.peer()?;
    match options.server.codec {
        Codec::Protobuf => peer.route(Sink(counter.clone())),
        Codec::Json | Codec::Bincode => peer.route(SinkSerde(counter.clone())),
    };
    let sessions = dial(&peer, addr, clients).await?;
    // One call on each session first: once it is answered, the server has the session in
    // its list (a dial returns before the server has registered it, and a QUIC server sees
    // a session only with its first frame), so the broadcast reaches every session.
    let body = Arc::new(options.body());
    for session in &sessions {
        if !(Stub { session: session.clone(), body: body.clone() }).call().await {
            return Err("a call before the pushes failed".into());
        }
    }
    let measured = push::run(&sessions, &counter, rounds, pid, progress).await?;
    peer.shutdown(Duration::from_secs(1)).await;
    Ok(measured)
}

/// The pipelined raw ceiling: `clients` frames in flight over `sessions` plain TCP sockets,
/// each socket keeping its share (the shape of the multiplexed scenario).
async fn pipelined(
    options: &Options,
    addr: &str,
    clients: usize,
    sessions: usize,
    per_client: u64,
    pid: Option<&str>,
    progress: &ProgressBar,
) -> Result<Measured, Box<dyn Error>> {
    if options.server.network.ceiling() != Network::Tcp {
        return Err("the pipelined ceiling runs over tcp only".into());
    }
    let frame = load::raw_frame(&options.body(), options.server.codec)?;
    let mut pipes = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let depth = clients / sessions + usize::from(i < clients % sessions);
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        pipes.push(RawPipe::new(stream, frame.clone(), depth));
    }
    Ok(load::run_workers(pipes, per_client, pid, progress).await)
}

/// A ceiling of calls (`kind`: raw or codec): one plain socket per client.
async fn ceiling(
    options: &Options,
    kind: Kind,
    addr: &str,
    clients: usize,
    per_client: u64,
    pid: Option<&str>,
    progress: &ProgressBar,
) -> Result<Measured, Box<dyn Error>> {
    if options.server.network.ceiling() == Network::Unix {
        let mut streams = Vec::with_capacity(clients);
        for _ in 0..clients {
            streams.push(UnixStream::connect(addr).await?);
        }
        return ceiling_on(options, kind, streams, per_client, pid, progress).await;
    }
    let mut streams = Vec::with_capacity(clients);
    for _ in 0..clients {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    ceiling_on(options, kind, streams, per_client, pid, progress).await
}

/// Runs a ceiling's clients, one on each of `streams`.
async fn ceiling_on<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    options: &Options,
    kind: Kind,
    streams: Vec<S>,
    per_client: u64,
    pid: Option<&str>,
    progress: &ProgressBar,
) -> Result<Measured, Box<dyn Error>> {
    Ok(if kind == Kind::CodecCeiling {
        let (call, reply) = (Head::call()?, Head::reply()?);
        let callers = streams
            .into_iter()
            .map(|s| CodecConn::new(s, BenchmarkMessage::client(), call.clone(), reply.clone()))
            .collect();
        load::run(callers, per_client, pid, progress).await
    } else {
        let frame = load::raw_frame(&options.body(), options.server.codec)?;
        let callers = streams.into_iter().map(|s| RawConn::new(s, frame.clone())).collect();
        load::run(callers, per_client, pid, progress).await
    })
}
