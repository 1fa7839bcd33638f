//! QUIC with quinn (network `quic`): one QUIC connection per session and on it one
//! bidirectional stream carrying the same frames as TCP, as Go eRPC does.
//!
//! QUIC always runs TLS 1.3: the peer's [`TlsConfig`] gives the certificates (a
//! [self-signed](super::selfsigned) one in tests). When the rustls configs name no ALPN
//! protocol, [`DEFAULT_ALPN`] is offered, as Go eRPC's generated TLS configs do.
//!
//! **Who speaks first.** The dialer opens the stream, and QUIC announces a stream to the
//! other side only with its first bytes (a zero-length write sends nothing). So the
//! accepting peer sees the session when the dialer's first frame arrives — its first call,
//! push or auth message — as with Go eRPC over quic-go. A server cannot push to a client
//! that has sent nothing yet; the client stays connected meanwhile (keep-alives every 15 s),
//! and such a connection closes with the listener. Sending a byte of our own to open the
//! stream would break the wire format shared with Go.
//!
//! **Closing.** A session closed on purpose finishes its stream, waits until the other side
//! has acknowledged every byte (at most 3 s), then closes the connection with code
//! [`CLOSE_NORMAL`]; a connection abandoned after an error closes at once with
//! [`CLOSE_ABORTED`].

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use quinn::{Connection, Endpoint, RecvStream, SendStream, VarInt};
use tokio::io::AsyncWrite;
use tokio::sync::watch;

use super::setup::bounded;
use super::tls::{TlsConfig, host_of};
use super::{Addr, BoxFuture, Conn, Connecting, Listener};

/// The ALPN protocols offered when the TLS configuration names none.
pub const DEFAULT_ALPN: &[&[u8]] = &[b"http/1.1", b"h2"];
/// The QUIC close code of a session closed on purpose.
pub const CLOSE_NORMAL: u32 = 0;
/// The QUIC close code of a connection abandoned after an error.
pub const CLOSE_ABORTED: u32 = 1;
/// How long a closing side waits for its last bytes to be acknowledged.
const LINGER: Duration = Duration::from_secs(3);
/// Keep-alive period (Go eRPC's) and idle timeout of every connection.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

fn invalid(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
}

fn transport() -> Arc<quinn::TransportConfig> {
    let mut transport = quinn::TransportConfig::default();
    transport.keep_alive_interval(Some(KEEP_ALIVE));
    transport.max_idle_timeout(IDLE_TIMEOUT.try_into().ok());
    Arc::new(transport)
}

fn alpn() -> Vec<Vec<u8>> {
    DEFAULT_ALPN.iter().map(|p| p.to_vec()).collect()
}

fn server_config(tls: &TlsConfig) -> io::Result<quinn::ServerConfig> {
    let mut rustls_config = (**tls.require_server()?).clone();
    if rustls_config.alpn_protocols.is_empty() {
        rustls_config.alpn_protocols = alpn();
    }
    let crypto = QuicServerConfig::try_from(rustls_config).map_err(|e| invalid("quic tls", e))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(transport());
    Ok(config)
}

fn client_config(tls: &TlsConfig) -> io::Result<quinn::ClientConfig> {
    let mut rustls_config = (**tls.require_client()?).clone();
    if rustls_config.alpn_protocols.is_empty() {
        rustls_config.alpn_protocols = alpn();
    }
    let crypto =
        QuicClientConfig::try_from(Arc::new(rustls_config)).map_err(|e| invalid("quic tls", e))?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    config.transport_config(transport());
    Ok(config)
}

async fn resolve(addr: &str) -> io::Result<SocketAddr> {
    tokio::net::lookup_host(addr).await?.next().ok_or_else(|| {
        io::Error::new(io::ErrorKind::AddrNotAvailable, format!("{addr} resolves to nothing"))
    })
}

/// Connects to `addr` (`host:port`) from a new UDP socket, makes the QUIC handshake and
/// opens the session's stream. The server's certificate is checked against
/// [`TlsConfig::server_name`], or the host of `addr`.
pub async fn dial(addr: &str, tls: &TlsConfig) -> io::Result<Conn> {
    let remote = resolve(addr).await?;
    let mut endpoint = Endpoint::client(unspecified(remote))?;
    endpoint.set_default_client_config(client_config(tls)?);
    let name = tls.server_name().unwrap_or_else(|| host_of(addr));
    let connecting = endpoint.connect(remote, name).map_err(|e| invalid("quic connect", e))?;
    let connection = connecting.await.map_err(|e| {
        io::Error::new(io::ErrorKind::ConnectionRefused, format!("quic handshake failed: {e}"))
    })?;
    let (send, recv) = connection.open_bi().await.map_err(io::Error::other)?;
    let bound = endpoint.local_addr()?;
    let local = SocketAddr::new(route_ip(remote).unwrap_or(bound.ip()), bound.port());
    Ok(conn_of(connection, send, recv, local))
}

/// The wildcard address of `remote`'s family, port 0.
fn unspecified(remote: SocketAddr) -> SocketAddr {
    match remote {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

/// The local IP the system routes to `remote` from: the endpoint is bound to the wildcard
/// address, and quinn reports no local IP to clients.
fn route_ip(remote: SocketAddr) -> Option<std::net::IpAddr> {
    let probe = std::net::UdpSocket::bind(unspecified(remote)).ok()?;
    probe.connect(remote).ok()?;
    probe.local_addr().ok().map(|addr| addr.ip())
}

fn conn_of(connection: Connection, send: SendStream, recv: RecvStream, local: SocketAddr) -> Conn {
    let remote = connection.remote_address();
    Conn {
        reader: Box::new(recv),
        writer: Box::new(QuicWriter { send, connection, finished: false }),
        local_addr: Addr::Udp(local),
        remote_addr: Addr::Udp(remote),
        direct_writes: false,
        #[cfg(unix)]
        raw_fd: None,
    }
}

/// The write half: the stream, and the connection to close when the session ends.
struct QuicWriter {
    send: SendStream,
    connection: Connection,
    finished: bool,
}

impl AsyncWrite for QuicWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write(Pin::new(&mut self.send), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(Pin::new(&mut self.send), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.finished {
            self.finished = true;
            let _ = self.send.finish();
            let acknowledged = self.send.stopped();
            let connection = self.connection.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(LINGER, acknowledged).await;
                connection.close(VarInt::from_u32(CLOSE_NORMAL), b"closed");
            });
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for QuicWriter {
    fn drop(&mut self) {
        if !self.finished {
            self.connection.close(VarInt::from_u32(CLOSE_ABORTED), b"aborted");
        }
    }
}

/// A QUIC listener: one UDP socket; each connection's handshake runs in its own task,
/// bounded by [`TlsConfig::handshake_timeout`].
#[derive(Debug)]
pub struct QuicListener {
    endpoint: Endpoint,
    local_addr: SocketAddr,
    handshake_timeout: Duration,
    /// Dropped with the listener: connections still waiting for their stream then close.
    open: watch::Sender<()>,
}

impl QuicListener {
    /// Binds the UDP address `addr` (port 0 picks a free port). Fails if `tls` has no server
    /// configuration or one without TLS 1.3.
    pub async fn bind(addr: &str, tls: &TlsConfig) -> io::Result<Self> {
        let endpoint = Endpoint::server(server_config(tls)?, resolve(addr).await?)?;
        let local_addr = endpoint.local_addr()?;
        let handshake_timeout = tls.handshake_timeout();
        Ok(QuicListener { endpoint, local_addr, handshake_timeout, open: watch::Sender::new(()) })
    }
}

impl Drop for QuicListener {
    fn drop(&mut self) {
        // Refuse new connections; the ones accepted live on with their sessions.
        self.endpoint.set_server_config(None);
    }
}

impl Listener for QuicListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<Conn>> {
        Box::pin(async move { self.accept_connecting().await?.await })
    }

    fn local_addr(&self) -> Addr {
        Addr::Udp(self.local_addr)
    }

    fn accept_connecting(&mut self) -> BoxFuture<'_, io::Result<Connecting>> {
        Box::pin(async move {
            let incoming = self.endpoint.accept().await.ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotConnected, "the quic endpoint is closed")
            })?;
            let (local, timeout) = (self.local_addr, self.handshake_timeout);
            let mut listener_gone = self.open.subscribe();
            Ok(Box::pin(async move {
                let handshake = async { incoming.await.map_err(io::Error::other) };
                let connection = bounded(timeout, "quic handshake", handshake).await?;
                // Not bounded in time: the stream appears with the dialer's first frame (see
                // above). But a connection without a session yet ends with the listener.
                tokio::select! {
                    stream = connection.accept_bi() => {
                        let (send, recv) = stream.map_err(io::Error::other)?;
                        Ok(conn_of(connection, send, recv, local))
                    }
                    _ = listener_gone.changed() => {
                        connection.close(VarInt::from_u32(CLOSE_NORMAL), b"not listening");
                        Err(io::Error::new(io::ErrorKind::ConnectionAborted, "listener closed"))
                    }
                }
            }) as Connecting)
        })
    }
}
