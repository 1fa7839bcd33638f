//! The command line: subcommands and their options, parsed by clap.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use teleport::peer::{Network, Protocol};

/// How `tp` ends, listed at the end of `tp --help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  the call failed: the peer answered an error status (printed with its code and
     message), the timeout passed, or the connection ended
  2  bad command line or argument: not JSON, or refused by the route's JSON Schema
  3  the peer could not be reached within the timeout";

/// A command-line client for teleport and Go eRPC v6 peers: list a peer's routes, call and
/// push to them with JSON arguments, print the pushes it sends.
#[derive(Debug, Parser)]
#[command(name = "tp", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the routes a peer serves, with their kinds and types, from its manifest
    /// (`/_tp/manifest`, served by teleport peers with `serve_manifest` on).
    Routes(RoutesArgs),
    /// Call a route with a JSON argument and print the reply as pretty JSON.
    Call(SendArgs),
    /// Push a JSON argument to a route (one-way); returns once it is written.
    Push(SendArgs),
    /// Print the pushes a peer sends, one JSON line each: {"route", "meta", "body"}.
    Listen(ListenArgs),
}

/// Where the peer is and how to reach it.
#[derive(Debug, Args)]
pub(crate) struct Conn {
    /// The peer's address: `host:port`, a socket path with `--network unix`, or a `ws://`
    /// URL (or `host:port`) with `--network ws`.
    #[arg(value_name = "ADDR")]
    pub(crate) addr: String,
    /// The transport.
    #[arg(long, value_enum, default_value_t = NetworkArg::Tcp)]
    pub(crate) network: NetworkArg,
    /// The wire protocol.
    #[arg(long, value_enum, default_value_t = ProtoArg::Raw)]
    pub(crate) proto: ProtoArg,
    /// How long the whole command may take to connect and get its answer (`500ms`, `5s`,
    /// `1m`); `0s` for no limit. `tp listen` applies it to connecting only.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub(crate) timeout: Duration,
    /// With `--network tls`, `wss` or `quic`: a PEM file of the certificates to trust (the
    /// server's CA, or its self-signed certificate). Required there: `tp` trusts nothing
    /// else and has no switch to skip verification.
    #[arg(long, value_name = "PEM_FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// With `--network tls`, `wss` or `quic`: the name the server's certificate must carry,
    /// when it is not the host of ADDR.
    #[arg(long, value_name = "NAME")]
    pub(crate) server_name: Option<String>,
}

/// `tp routes`.
#[derive(Debug, Args)]
pub(crate) struct RoutesArgs {
    /// The peer.
    #[command(flatten)]
    pub(crate) conn: Conn,
    /// Print the manifest as JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `tp call` and `tp push`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The peer.
    #[command(flatten)]
    pub(crate) conn: Conn,
    /// The route (`/math/add`, `Math.Add`); a `?query` travels with it.
    #[arg(value_name = "ROUTE")]
    pub(crate) route: String,
    /// The argument as JSON (`'[1,2,3]'`, `'"text"'`, `'{"a":1}'`); `-` reads it from
    /// standard input, `@FILE` from a file.
    #[arg(value_name = "JSON", default_value = "null")]
    pub(crate) json: String,
    /// A meta pair `key=value` sent with the message; repeat it for more pairs (a key may
    /// repeat).
    #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta)]
    pub(crate) meta: Vec<(String, String)>,
    /// The body codec the argument is written in: `json`, `plain` (a string, number or
    /// bool) or `form` (an object of scalars).
    #[arg(long, default_value = "json")]
    pub(crate) codec: String,
    /// Send the message through the gzip transfer filter (`g`).
    #[arg(long)]
    pub(crate) gzip: bool,
    /// Do not fetch the peer's manifest to check the argument against the route's JSON
    /// Schema before sending (saves a round trip; a peer without a manifest is never
    /// checked).
    #[arg(long)]
    pub(crate) no_check: bool,
}

/// `tp listen`.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// The peer to dial (or, with `--serve`, the address to listen on).
    #[command(flatten)]
    pub(crate) conn: Conn,
    /// Listen on ADDR and print the pushes of every peer that connects, instead of dialing
    /// ADDR (networks without TLS only); the bound address is printed on standard error.
    #[arg(long)]
    pub(crate) serve: bool,
    /// Exit after printing this many pushes.
    #[arg(long, value_name = "N")]
    pub(crate) count: Option<u64>,
}

/// The transports `--network` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum NetworkArg {
    /// TCP.
    Tcp,
    /// TCP over IPv4 only.
    Tcp4,
    /// TCP over IPv6 only.
    Tcp6,
    /// A Unix domain stream socket: ADDR is its path.
    Unix,
    /// A Unix sequenced-packet socket: ADDR is its path.
    Unixpacket,
    /// TLS over TCP (needs `--ca`).
    Tls,
    /// WebSocket.
    Ws,
    /// WebSocket over TLS (needs `--ca`).
    Wss,
    /// QUIC (needs `--ca`).
    Quic,
}

impl NetworkArg {
    /// The runtime's network.
    pub(crate) fn network(self) -> Network {
        match self {
            NetworkArg::Tcp => Network::Tcp,
            NetworkArg::Tcp4 => Network::Tcp4,
            NetworkArg::Tcp6 => Network::Tcp6,
            NetworkArg::Unix => Network::Unix,
            NetworkArg::Unixpacket => Network::Unixpacket,
            NetworkArg::Tls => Network::Tls,
            NetworkArg::Ws => Network::Ws,
            NetworkArg::Wss => Network::Wss,
            NetworkArg::Quic => Network::Quic,
        }
    }

    /// Whether the transport runs TLS, and so needs certificates.
    pub(crate) fn uses_tls(self) -> bool {
        matches!(self, NetworkArg::Tls | NetworkArg::Wss | NetworkArg::Quic)
    }
}

/// The wire protocols `--proto` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProtoArg {
    /// Go eRPC's default binary framing.
    Raw,
    /// Go eRPC's `jsonproto`.
    Json,
    /// Go eRPC's `pbproto`.
    Protobuf,
    /// Go eRPC's `httproto`: calls as HTTP/1.1 requests.
    Http,
}

impl ProtoArg {
    /// The runtime's protocol.
    pub(crate) fn protocol(self) -> Protocol {
        match self {
            ProtoArg::Raw => Protocol::Raw,
            ProtoArg::Json => Protocol::Json,
            ProtoArg::Protobuf => Protocol::Protobuf,
            ProtoArg::Http => Protocol::Http,
        }
    }
}

/// Parses `key=value` (the value may be empty and may hold `=`).
fn parse_meta(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_pairs_split_at_the_first_equals_sign() {
        assert_eq!(parse_meta("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert_eq!(parse_meta("a="), Ok(("a".into(), String::new())));
        assert!(parse_meta("=b").is_err());
        assert!(parse_meta("ab").is_err());
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn call_takes_addr_route_and_json_in_that_order() {
        let cli = Cli::try_parse_from([
            "tp",
            "call",
            "127.0.0.1:9090",
            "/math/add",
            "[1,2]",
            "--meta",
            "a=1",
            "--meta",
            "a=2",
            "--timeout",
            "500ms",
            "--gzip",
        ])
        .unwrap();
        let Command::Call(args) = cli.command else { panic!("not a call") };
        assert_eq!((args.conn.addr.as_str(), args.route.as_str()), ("127.0.0.1:9090", "/math/add"));
        assert_eq!(args.json, "[1,2]");
        assert_eq!(args.meta.len(), 2);
        assert_eq!(args.conn.timeout, Duration::from_millis(500));
        assert!(args.gzip && !args.no_check);
    }
}
