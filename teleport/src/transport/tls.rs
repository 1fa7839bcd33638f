//! TLS over TCP with rustls (network `tls`), and the certificates that the `wss` and `quic`
//! networks share with it.
//!
//! A [`TlsConfig`] holds what a peer needs: a rustls server configuration to accept, a
//! client configuration to dial, or both. Build them from PEM files or from certificates
//! made in code; [`selfsigned`](super::selfsigned) makes one for tests and examples.
//!
//! ```
//! use teleport::transport::{selfsigned, tls};
//!
//! // The server's certificate, and a client that trusts it.
//! let cert = selfsigned::generate(&["localhost", "127.0.0.1"])?;
//! let server = tls::server_config(&cert.identity())?;
//! let client = tls::client_config(cert.roots()?)?;
//! let config = tls::TlsConfig::new().with_server(server).with_client(client);
//! assert!(config.server().is_some() && config.client().is_some());
//! # Ok::<(), tls::TlsError>(())
//! ```

mod config;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::net::{TcpListener as TokioListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

pub use config::{
    Identity, TlsConfig, TlsError, client_config, client_config_with_identity, load_roots, roots,
    server_config, server_config_verifying_clients,
};

use super::setup::{accepted_parts, bounded, split_conn, tcp_parts};
use super::tcp::SocketOptions;
use super::{Addr, BoxFuture, Conn, Connecting, Listener};

/// Wraps a handshake error so that its reason (a certificate refused...) reads in a status.
pub(crate) fn handshake_error(e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("tls handshake failed: {e}"))
}

/// The host part of `host:port`, `[v6]:port` or a bare host, without brackets.
pub(crate) fn host_of(addr: &str) -> &str {
    let host = match addr.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
            if port.bytes().all(|b| b.is_ascii_digit()) { host } else { addr }
        }
        _ => addr,
    };
    host.trim_start_matches('[').trim_end_matches(']')
}

/// The host of `addr` (see [`host_of`]) as a TLS server name.
pub(crate) fn server_name_of(addr: &str) -> io::Result<ServerName<'static>> {
    let host = host_of(addr);
    ServerName::try_from(host.to_owned()).map_err(|e| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("bad tls server name {host:?}: {e}"))
    })
}

/// Makes the TLS client side of a connected TCP stream.
pub(crate) async fn connect_stream(
    tcp: TcpStream,
    addr: &str,
    tls: &TlsConfig,
) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let client = tls.require_client()?;
    let name = match tls.server_name() {
        Some(name) => server_name_of(name)?,
        None => server_name_of(addr)?,
    };
    TlsConnector::from(client.clone()).connect(name, tcp).await.map_err(handshake_error)
}

/// Connects to `addr` (`host:port`) and makes the TLS handshake. The server's certificate is
/// checked against [`TlsConfig::server_name`], or the host of `addr`.
pub async fn dial(addr: &str, options: &SocketOptions, tls: &TlsConfig) -> io::Result<Conn> {
    let tcp = TcpStream::connect(addr).await?;
    let parts = tcp_parts(&tcp, options)?;
    let stream = connect_stream(tcp, addr, tls).await?;
    Ok(split_conn(stream, parts))
}

/// A TLS listener: TCP connections, each one's handshake made in its own task and bounded
/// by [`TlsConfig::handshake_timeout`].
pub struct TlsListener {
    inner: TokioListener,
    local_addr: SocketAddr,
    options: SocketOptions,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener").field("local_addr", &self.local_addr).finish()
    }
}

impl TlsListener {
    /// Binds `addr` (port 0 picks a free port). Fails if `tls` has no server configuration.
    pub async fn bind(addr: &str, options: SocketOptions, tls: &TlsConfig) -> io::Result<Self> {
        let acceptor = TlsAcceptor::from(tls.require_server()?.clone());
        let inner = super::tcp::listen(addr, options.listen_backlog).await?;
        let local_addr = inner.local_addr()?;
        let handshake_timeout = tls.handshake_timeout();
        Ok(TlsListener { inner, local_addr, options, acceptor, handshake_timeout })
    }
}

impl Listener for TlsListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<Conn>> {
        Box::pin(async move { self.accept_connecting().await?.await })
    }

    fn local_addr(&self) -> Addr {
        Addr::Tcp(self.local_addr)
    }

    fn accept_connecting(&mut self) -> BoxFuture<'_, io::Result<Connecting>> {
        Box::pin(async move {
            let (tcp, remote) = self.inner.accept().await?;
            let parts = accepted_parts(&tcp, remote, &self.options)?;
            let (acceptor, timeout) = (self.acceptor.clone(), self.handshake_timeout);
            Ok(Box::pin(async move {
                let handshake = async { acceptor.accept(tcp).await.map_err(handshake_error) };
                let stream = bounded(timeout, "tls handshake", handshake).await?;
                Ok(split_conn(stream, parts))
            }) as Connecting)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_addresses() {
        for (addr, host) in [
            ("localhost:443", "localhost"),
            ("127.0.0.1:9090", "127.0.0.1"),
            ("[::1]:9090", "::1"),
            ("::1", "::1"),
            ("example.com", "example.com"),
            ("host:port", "host:port"),
        ] {
            assert_eq!(host_of(addr), host, "{addr}");
        }
        assert!(matches!(server_name_of("[::1]:1").unwrap(), ServerName::IpAddress(_)));
        assert!(matches!(server_name_of("a.example:1").unwrap(), ServerName::DnsName(_)));
        assert!(server_name_of("bad name:1").is_err());
    }
}
