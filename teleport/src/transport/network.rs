//! Listening and dialing on a [`Network`]: the transport it names, with what the peer's
//! [`Transports`] add to its configuration (certificates, the WebSocket path and hook).

use std::io;

use super::{Conn, Listener, tcp};
use crate::peer::{ListenerConfig, Network, Peer};

/// What the TLS, QUIC, WebSocket and KCP networks need beyond `PeerConfig`, which is plain
/// data: set with `PeerBuilder::tls`, `PeerBuilder::ws` and `PeerBuilder::kcp`.
#[derive(Clone, Default)]
pub(crate) struct Transports {
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

/// Binds `config`'s listener, with the peer's socket options and transport settings.
pub(crate) async fn bind(peer: &Peer, config: &ListenerConfig) -> io::Result<Box<dyn Listener>> {
    let network = config.network;
    let addr = config.listen_addr().unwrap_or_default();
    let options = peer.socket_options();
    let transports = peer.transports();
    #[cfg(not(any(feature = "tls", feature = "ws", feature = "kcp")))]
    let _ = transports;
    Ok(match network {
        Network::Tcp | Network::Tcp4 | Network::Tcp6 => {
            Box::new(tcp::TcpListener::bind(&addr, options).await?)
        }
        #[cfg(unix)]
        Network::Unix => {
            let path = config.unix_path.clone().unwrap_or_default();
            Box::new(super::unix::UnixListener::bind_with_backlog(path, options.listen_backlog)?)
        }
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        Network::Unixpacket => {
            let path = config.unix_path.clone().unwrap_or_default();
            Box::new(super::unixpacket::UnixPacketListener::bind(path, 1024)?)
        }
        #[cfg(feature = "tls")]
        Network::Tls => {
            let tls = transports.tls(network)?;
            Box::new(super::tls::TlsListener::bind(&addr, options, tls).await?)
        }
        #[cfg(feature = "quic")]
        Network::Quic => {
            Box::new(super::quic::QuicListener::bind(&addr, transports.tls(network)?).await?)
        }
        #[cfg(feature = "ws")]
        Network::Ws => Box::new(super::ws::WsListener::bind(&addr, options, &transports.ws).await?),
        #[cfg(feature = "kcp")]
        Network::Kcp => Box::new(super::kcp::KcpListener::bind(&addr, &transports.kcp).await?),
        #[cfg(all(feature = "ws", feature = "tls"))]
        Network::Wss => {
            let tls = transports.tls(network)?;
            Box::new(super::ws::WsListener::bind_tls(&addr, options, &transports.ws, tls).await?)
        }
        // Reached only when a feature is off.
        #[allow(unreachable_patterns)]
        _ => return Err(unsupported(network)),
    })
}

/// Opens a connection to `addr` on the peer's network.
pub(crate) async fn dial(peer: &Peer, addr: &str) -> io::Result<Conn> {
    let network = peer.config().network;
    let options = peer.socket_options();
    let transports = peer.transports();
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
