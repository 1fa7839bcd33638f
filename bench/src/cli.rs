//! What the bench tools share on the command line: a tiny flag parser, the codec and network
//! choices, and the runtime that `--threads` asks for.

use std::collections::VecDeque;
use std::fmt::{self, Display};
use std::str::FromStr;

use teleport::peer::Network as TpNetwork;

/// Command-line arguments, read one flag at a time: `-c 100,500`, `--codec=json`, `--push`.
pub struct Args {
    rest: VecDeque<String>,
}

impl Args {
    /// The process's arguments, without the program name.
    pub fn from_env() -> Self {
        Args { rest: std::env::args().skip(1).collect() }
    }

    /// The next flag, split from an inline `=value` (kept for [`value`](Self::value)).
    pub fn next_flag(&mut self) -> Option<String> {
        let arg = self.rest.pop_front()?;
        match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                self.rest.push_front(value.to_owned());
                Some(flag.to_owned())
            }
            _ => Some(arg),
        }
    }

    /// The value of `flag`, parsed.
    pub fn value<T: FromStr>(&mut self, flag: &str) -> Result<T, String>
    where
        T::Err: Display,
    {
        let text = self.rest.pop_front().ok_or_else(|| format!("{flag} needs a value"))?;
        text.parse().map_err(|e| format!("{flag} {text}: {e}"))
    }
}

/// The body codec of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// `p`, through `teleport::codec::Protobuf`: the published benchmark's codec.
    Protobuf,
    /// `j`, through serde.
    Json,
    /// `b`, through serde.
    Bincode,
}

impl Codec {
    /// The codec's name in a `PeerConfig`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Protobuf => "protobuf",
            Codec::Json => "json",
            Codec::Bincode => "bincode",
        }
    }
}

impl FromStr for Codec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "protobuf" | "pb" => Ok(Codec::Protobuf),
            "json" => Ok(Codec::Json),
            "bincode" => Ok(Codec::Bincode),
            _ => Err("expected protobuf, json or bincode".to_owned()),
        }
    }
}

/// The transport of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// Loopback TCP, the published benchmark's transport.
    Tcp,
    /// A Unix domain socket.
    Unix,
    /// TLS over loopback TCP.
    Tls,
    /// QUIC over loopback UDP.
    Quic,
    /// WebSocket over loopback TCP.
    Ws,
    /// WebSocket over TLS.
    Wss,
}

impl Network {
    /// Every network, in the order `--help` lists them.
    pub const ALL: [Network; 6] =
        [Network::Tcp, Network::Unix, Network::Tls, Network::Quic, Network::Ws, Network::Wss];

    /// The network's name, as `--network` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Network::Tcp => "tcp",
            Network::Unix => "unix",
            Network::Tls => "tls",
            Network::Quic => "quic",
            Network::Ws => "ws",
            Network::Wss => "wss",
        }
    }

    /// The same network in a `PeerConfig`.
    pub fn teleport(self) -> TpNetwork {
        match self {
            Network::Tcp => TpNetwork::Tcp,
            Network::Unix => TpNetwork::Unix,
            Network::Tls => TpNetwork::Tls,
            Network::Quic => TpNetwork::Quic,
            Network::Ws => TpNetwork::Ws,
            Network::Wss => TpNetwork::Wss,
        }
    }

    /// Whether the network needs certificates: TLS, QUIC (TLS 1.3 inside) and WebSocket
    /// over TLS.
    pub fn secure(self) -> bool {
        matches!(self, Network::Tls | Network::Quic | Network::Wss)
    }

    /// Where the raw ceiling of a run on this network is measured: plain sockets, Unix for
    /// `unix`, TCP for every other network (there is no raw echo over TLS, QUIC or
    /// WebSocket).
    pub fn ceiling(self) -> Network {
        match self {
            Network::Unix => Network::Unix,
            _ => Network::Tcp,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Network::ALL
            .into_iter()
            .find(|network| network.name() == s)
            .ok_or_else(|| "expected tcp, unix, tls, quic, ws or wss".to_owned())
    }
}

/// A tokio runtime with `threads` worker threads (0: one per core, tokio's default).
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if threads > 0 {
        builder.worker_threads(threads);
    }
    builder.enable_all().build()
}
