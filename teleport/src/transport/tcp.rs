//! TCP connections, with the socket options of [`SocketOptions`].

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use socket2::{SockRef, TcpKeepalive};
use tokio::net::{TcpListener as TokioListener, TcpSocket, TcpStream};

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
    /// How many connections the kernel queues for a listener before they are accepted
    /// (`listen(2)`'s backlog; the kernel caps it at `net.core.somaxconn`).
    pub listen_backlog: u32,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            no_delay: true,
            keepalive: Some(Duration::from_secs(60)),
            read_buffer_size: 0,
            write_buffer_size: 0,
            listen_backlog: DEFAULT_LISTEN_BACKLOG,
        }
    }
}

/// The default listen backlog: a burst of connects waits in the kernel's queue instead of
/// being dropped and retried by the client a second later, as with the usual 128.
pub const DEFAULT_LISTEN_BACKLOG: u32 = 1024;

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
    let remote = stream.peer_addr()?;
    conn_from_accepted(stream, remote, options)
}

/// Wraps a stream whose remote address is known (as `accept` returns it: asking the socket
/// again fails once its client has reset it), applying the options.
pub(crate) fn conn_from_accepted(
    stream: TcpStream,
    remote: SocketAddr,
    options: &SocketOptions,
) -> io::Result<Conn> {
    options.apply(&stream)?;
    let local_addr = Addr::Tcp(stream.local_addr()?);
    let remote_addr = Addr::Tcp(remote);
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
    /// Binds `addr` (port 0 picks a free port) and listens with the options' backlog.
    pub async fn bind(addr: &str, options: SocketOptions) -> io::Result<Self> {
        let inner = listen(addr, options.listen_backlog).await?;
        let local_addr = inner.local_addr()?;
        Ok(TcpListener { inner, local_addr, options })
    }

    /// Serves a socket that is already listening: one inherited from a parent process or
    /// a service manager (`LISTEN_FDS`), say. Must be called within a Tokio runtime.
    pub fn from_std(listener: std::net::TcpListener, options: SocketOptions) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        let inner = TokioListener::from_std(listener)?;
        let local_addr = inner.local_addr()?;
        Ok(TcpListener { inner, local_addr, options })
    }
}

/// Binds the first address `addr` resolves to and listens with `backlog`.
pub(crate) async fn listen(addr: &str, backlog: u32) -> io::Result<TokioListener> {
    let mut last = None;
    for at in tokio::net::lookup_host(addr).await? {
        let socket = if at.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(at) {
            Ok(()) => return socket.listen(backlog.max(1)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{addr} resolves to no address"))
    }))
}

impl Listener for TcpListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<Conn>> {
        Box::pin(async move {
            let (stream, remote) = self.inner.accept().await?;
            conn_from_accepted(stream, remote, &self.options)
        })
    }

    fn local_addr(&self) -> Addr {
        Addr::Tcp(self.local_addr)
    }
}
