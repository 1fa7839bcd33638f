//! TCP connections, with the socket options of [`SocketOptions`].

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};
use tokio::net::{TcpListener as TokioListener, TcpStream};

use super::{Addr, BoxFuture, Conn, Listener};

/// Options applied to every TCP connection, accepted or dialed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    /// Disable Nagle's algorithm. Default true: RPC frames are small and latency-bound.
    pub no_delay: bool,
    /// The TCP keepalive period, or `None` to leave keepalive off.
    pub keepalive: Option<Duration>,
    /// The kernel receive buffer size in bytes; 0 leaves the OS default.
    pub read_buffer_size: usize,
    /// The kernel send buffer size in bytes; 0 leaves the OS default.
    pub write_buffer_size: usize,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            no_delay: true,
            keepalive: Some(Duration::from_secs(60)),
            read_buffer_size: 0,
            write_buffer_size: 0,
        }
    }
}

impl SocketOptions {
    pub(crate) fn apply(&self, stream: &TcpStream) -> io::Result<()> {
        stream.set_nodelay(self.no_delay)?;
        let sock = SockRef::from(stream);
        if let Some(period) = self.keepalive {
            sock.set_tcp_keepalive(&TcpKeepalive::new().with_time(period).with_interval(period))?;
        }
        if self.read_buffer_size > 0 {
            sock.set_recv_buffer_size(self.read_buffer_size)?;
        }
        if self.write_buffer_size > 0 {
            sock.set_send_buffer_size(self.write_buffer_size)?;
        }
        Ok(())
    }
}

/// Wraps a connected TCP stream, applying the options.
pub fn conn_from_stream(stream: TcpStream, options: &SocketOptions) -> io::Result<Conn> {
    options.apply(&stream)?;
    let local_addr = Addr::Tcp(stream.local_addr()?);
    let remote_addr = Addr::Tcp(stream.peer_addr()?);
    #[cfg(unix)]
    let raw_fd = Some(std::os::fd::AsRawFd::as_raw_fd(&stream));
    let (reader, writer) = stream.into_split();
    Ok(Conn {
        reader: Box::new(reader),
        writer: Box::new(writer),
        local_addr,
        remote_addr,
        direct_writes: true,
        #[cfg(unix)]
        raw_fd,
    })
}

/// Connects to `addr` (anything `host:port`-like that resolves).
pub async fn dial(addr: &str, options: &SocketOptions) -> io::Result<Conn> {
    conn_from_stream(TcpStream::connect(addr).await?, options)
}

/// A TCP listener.
#[derive(Debug)]
pub struct TcpListener {
    inner: TokioListener,
    local_addr: SocketAddr,
    options: SocketOptions,
}

impl TcpListener {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: &str, options: SocketOptions) -> io::Result<Self> {
        let inner = TokioListener::bind(addr).await?;
        let local_addr = inner.local_addr()?;
        Ok(TcpListener { inner, local_addr, options })
    }
}

impl Listener for TcpListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<Conn>> {
        Box::pin(async move {
            let (stream, _) = self.inner.accept().await?;
            conn_from_stream(stream, &self.options)
        })
    }

    fn local_addr(&self) -> Addr {
        Addr::Tcp(self.local_addr)
    }
}
