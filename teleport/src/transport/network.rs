//! [`Network`]: the transports a peer listens and dials on, and binding and dialing one
//! with the socket options and settings of [`Transports`] (certificates, the WebSocket
//! path and hook), handed in as plain values.

use std::fmt;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::tcp::{self, SocketOptions};
use super::{Conn, Listener};

/// The transport a peer listens and dials on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Network {
    /// TCP over IPv4 or IPv6, `"tcp"`.
    #[default]
    Tcp,
    /// TCP over IPv4 only, `"tcp4"`.
    Tcp4,
    /// TCP over IPv6 only, `"tcp6"`.
    Tcp6,
    /// A Unix domain stream socket, `"unix"`; the listen address is `PeerConfig::unix_path`.
    Unix,
    /// A Unix sequenced-packet socket, `"unixpacket"` (Linux, Android and FreeBSD); the
    /// listen address is `PeerConfig::unix_path`.
    Unixpacket,
    /// TLS over TCP, `"tls"` (feature `tls`); the certificates come from
    /// `PeerBuilder::tls`.
    Tls,
    /// QUIC over UDP, `"quic"` (feature `quic`): one connection and one stream per session,
    /// TLS 1.3 with the certificates of `PeerBuilder::tls`.
    Quic,
    /// WebSocket, `"ws"` (feature `ws`): dials `ws://` URLs; the path and the upgrade hook
    /// come from `PeerBuilder::ws`.
    Ws,
    /// WebSocket over TLS, `"wss"` (features `ws` and `tls`).
    Wss,
    /// KCP over UDP, `"kcp"`, also read from Go's aliases `"udp"`, `"udp4"` and `"udp6"`
    /// (feature `kcp`); its settings come from `PeerBuilder::kcp`.
    /// A Go peer's KCP (kcp-go with FEC) cannot talk to it: see `transport::kcp`.
    #[serde(alias = "udp", alias = "udp4", alias = "udp6")]
    Kcp,
}

impl Network {
    /// The name used in config files and by Go: `"tcp"`, `"tcp4"`, `"tcp6"`, `"unix"`,
    /// `"unixpacket"`, `"kcp"`, `"tls"`, `"quic"`, `"ws"` or `"wss"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Tcp => "tcp",
            Network::Tcp4 => "tcp4",
            Network::Tcp6 => "tcp6",
            Network::Unix => "unix",
            Network::Unixpacket => "unixpacket",
            Network::Tls => "tls",
            Network::Quic => "quic",
            Network::Ws => "ws",
            Network::Wss => "wss",
            Network::Kcp => "kcp",
        }
    }
}

impl Network {
    /// Whether the network addresses a socket path rather than a host and port.
    pub fn is_unix(self) -> bool {
        matches!(self, Network::Unix | Network::Unixpacket)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What binding and dialing need beyond the network and the address: the socket options
/// (from `PeerConfig`), and the settings of the TLS, QUIC, WebSocket and KCP networks (set
/// with `PeerBuilder::tls`, `PeerBuilder::ws` and `PeerBuilder::kcp`).
#[derive(Clone, Default)]
pub(crate) struct Transports {
    pub(crate) socket: SocketOptions,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<super::tls::TlsConfig>,
    #[cfg(feature = "ws")]
    pub(crate) ws: super::ws::WsConfig,
    #[cfg(feature = "kcp")]
    pub(crate) kcp: super::kcp::KcpSettings,
}

impl Transports {
    #[cfg(feature = "tls")]
    fn tls(&self, network: Network) -> io::Result<&super::tls::TlsConfig> {
        self.tls.as_ref().ok_or_else(|| {
            let reason = format!("network {network} needs a tls configuration (PeerBuilder::tls)");
            io::Error::new(io::ErrorKind::InvalidInput, reason)
        })
    }
}

/// The feature a network needs, for the error when it is off.
fn unsupported(network: Network) -> io::Error {
    let needs = match network {
        Network::Tls => "the `tls` feature",
        Network::Quic => "the `quic` feature",
        Network::Ws => "the `ws` feature",
        Network::Wss => "the `ws` and `tls` features",
        Network::Kcp => "the `kcp` feature",
        Network::Unixpacket => "Linux, Android or FreeBSD",
        _ => "a Unix system",
    };
    io::Error::new(io::ErrorKind::Unsupported, format!("network {network} needs {needs}"))
}

/// Binds a listener on `network` at `addr` (a host and port), or at `unix_path` for the
/// Unix networks.
pub(crate) async fn bind(
    network: Network,
    addr: &str,
    unix_path: Option<&Path>,
    transports: &Transports,
) -> io::Result<Box<dyn Listener>> {
    let options = transports.socket;
    #[cfg(not(unix))]
    let _ = unix_path;
    #[cfg(not(any(feature = "tls", feature = "ws", feature = "kcp")))]
    let _ = transports;
    Ok(match network {
        Network::Tcp | Network::Tcp4 | Network::Tcp6 => {
            Box::new(tcp::TcpListener::bind(addr, options).await?)
        }
        #[cfg(unix)]
        Network::Unix => {
            let path = unix_path.unwrap_or(Path::new("")).to_owned();
            Box::new(super::unix::UnixListener::bind_with_backlog(path, options.listen_backlog)?)
        }
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        Network::Unixpacket => {
            let path = unix_path.unwrap_or(Path::new("")).to_owned();
            Box::new(super::unixpacket::UnixPacketListener::bind(path, 1024)?)
        }
        #[cfg(feature = "tls")]
        Network::Tls => {
            let tls = transports.tls(network)?;
            Box::new(super::tls::TlsListener::bind(addr, options, tls).await?)
        }
        #[cfg(feature = "quic")]
        Network::Quic => {
            Box::new(super::quic::QuicListener::bind(addr, transports.tls(network)?).await?)
        }
        #[cfg(feature = "ws")]
        Network::Ws => Box::new(super::ws::WsListener::bind(addr, options, &transports.ws).await?),
        #[cfg(feature = "kcp")]
        Network::Kcp => Box::new(super::kcp::KcpListener::bind(addr, &transports.kcp).await?),
        #[cfg(all(feature = "ws", feature = "tls"))]
        Network::Wss => {
            let tls = transports.tls(network)?;
            Box::new(super::ws::WsListener::bind_tls(addr, options, &transports.ws, tls).await?)
        }
        // Reached only when a feature is off.
        #[allow(unreachable_patterns)]
        _ => return Err(unsupported(network)),
    })
}

/// Opens a connection to `addr` on `network`.
pub(crate) async fn dial(
    network: Network,
    addr: &str,
    transports: &Transports,
) -> io::Result<Conn> {
    let options = transports.socket;
    #[cfg(not(any(feature = "tls", feature = "ws", feature = "kcp")))]
    let _ = transports;
    match network {
        Network::Tcp | Network::Tcp4 | Network::Tcp6 => tcp::dial(addr, &options).await,
        #[cfg(unix)]
        Network::Unix => super::unix::dial(addr).await,
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        Network::Unixpacket => super::unixpacket::dial(addr).await,
        #[cfg(feature = "tls")]
        Network::Tls => super::tls::dial(addr, &options, transports.tls(network)?).await,
        #[cfg(feature = "quic")]
        Network::Quic => super::quic::dial(addr, transports.tls(network)?).await,
        #[cfg(feature = "kcp")]
        Network::Kcp => super::kcp::dial(addr, &transports.kcp).await,
        #[cfg(feature = "ws")]
        Network::Ws | Network::Wss => {
            super::ws::dial(addr, network == Network::Wss, &options, transports).await
        }
        #[allow(unreachable_patterns)]
        _ => Err(unsupported(network)),
    }
}
