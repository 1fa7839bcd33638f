//! KCP over UDP (network `kcp`, with Go's aliases `udp`, `udp4`, `udp6`), with tokio_kcp.
//!
//! Each session is one KCP conversation in stream mode, with no-delay settings (10 ms
//! updates, fast resend, no congestion window) and a flush after every write.
//!
//! # Go peers
//!
//! A Go eRPC peer cannot talk to this transport. Go's KCP goes through kcp-go with forward
//! error correction (10 data and 3 parity shards): every datagram carries kcp-go's FEC
//! header before the KCP segment, and parity datagrams travel among the data. This
//! transport sends and expects bare KCP segments, so each side drops the other's datagrams
//! as malformed. No maintained Rust crate implements kcp-go's FEC layer; Rust↔Rust works.
//!
//! # What KCP lacks
//!
//! KCP has no handshake and no close: a dial succeeds without a server (the first call then
//! times out), a listener sees a session only when its first datagram arrives, and a server
//! learns that a client is gone only by its silence, after [`KcpSettings::idle_timeout`].

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::AsyncWrite;
use tokio_kcp::{KcpConfig, KcpListener as Inner, KcpNoDelayConfig, KcpStream};

use super::{Addr, BoxFuture, Conn, Listener};

/// The settings of the `kcp` network: plain data, set with
/// [`PeerBuilder::kcp`](crate::PeerBuilder::kcp).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KcpSettings {
    /// How long an accepted session may stay silent before the listener closes it (KCP has
    /// no close message: this is how a server learns that its client is gone). Default 90 s.
    pub idle_timeout: Duration,
    /// The largest datagram, in bytes. Default 1400.
    pub mtu: usize,
    /// The send and receive windows, in segments. Default 256.
    pub window: u16,
}

impl Default for KcpSettings {
    fn default() -> Self {
        KcpSettings { idle_timeout: Duration::from_secs(90), mtu: 1400, window: 256 }
    }
}

impl KcpSettings {
    /// These settings with `idle_timeout`.
    pub fn idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    fn config(&self) -> io::Result<KcpConfig> {
        // KCP's own limits: below 50 bytes no segment fits; above 64 KiB no datagram does.
        if !(50..=65_507).contains(&self.mtu) || self.window == 0 {
            let reason = format!("kcp mtu {} or window {} out of range", self.mtu, self.window);
            return Err(io::Error::new(io::ErrorKind::InvalidInput, reason));
        }
        Ok(KcpConfig {
            mtu: self.mtu,
            nodelay: KcpNoDelayConfig::fastest(),
            wnd_size: (self.window, self.window),
            session_expire: self.idle_timeout,
            flush_write: true,
            flush_acks_input: true,
            stream: true,
            ..KcpConfig::default()
        })
    }
}

fn io_error(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(e)
}

/// KCP refuses one send of 128 segments or more: writes are cut below that.
fn max_write(settings: &KcpSettings) -> usize {
    const KCP_OVERHEAD: usize = 24;
    (settings.mtu - KCP_OVERHEAD) * 100
}

/// A write half whose writes are at most `max` bytes each.
struct Capped<W> {
    inner: W,
    max: usize,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Capped<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let max = self.max;
        Pin::new(&mut self.inner).poll_write(cx, &buf[..buf.len().min(max)])
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn conn_from_stream(
    stream: KcpStream,
    settings: &KcpSettings,
    local_addr: SocketAddr,
    remote_addr: SocketAddr,
) -> Conn {
    let (reader, writer) = tokio::io::split(stream);
    Conn {
        reader: Box::new(reader),
        writer: Box::new(Capped { inner: writer, max: max_write(settings) }),
        local_addr: Addr::Udp(local_addr),
        remote_addr: Addr::Udp(remote_addr),
        direct_writes: false,
        // An accepted stream shares the listener's socket: no options are set on it.
        #[cfg(unix)]
        raw_fd: None,
    }
}

/// Opens a KCP session to `addr` (`host:port`). Nothing is exchanged yet: KCP has no
/// handshake.
pub async fn dial(addr: &str, settings: &KcpSettings) -> io::Result<Conn> {
    let config = settings.config()?;
    let remote = tokio::net::lookup_host(addr)
        .await?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no address for {addr}")))?;
    let unspecified: SocketAddr = match remote {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let udp = tokio::net::UdpSocket::bind(unspecified).await?;
    let local = udp.local_addr()?;
    let stream = KcpStream::connect_with_socket(&config, udp, remote).await.map_err(io_error)?;
    Ok(conn_from_stream(stream, settings, local, remote))
}

/// A KCP listener on a UDP socket.
pub struct KcpListener {
    inner: Inner,
    local_addr: SocketAddr,
    settings: KcpSettings,
}

impl KcpListener {
    /// Binds `addr` (`host:port`).
    pub async fn bind(addr: &str, settings: &KcpSettings) -> io::Result<Self> {
        let inner = Inner::bind(settings.config()?, addr).await.map_err(io_error)?;
        let local_addr = inner.local_addr()?;
        Ok(KcpListener { inner, local_addr, settings: *settings })
    }
}

impl Listener for KcpListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<Conn>> {
        Box::pin(async move {
            let (stream, remote) = self.inner.accept().await.map_err(io_error)?;
            Ok(conn_from_stream(stream, &self.settings, self.local_addr, remote))
        })
    }

    fn local_addr(&self) -> Addr {
        Addr::Udp(self.local_addr)
    }
}
