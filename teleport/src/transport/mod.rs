//! Transports: where a session's bytes travel (TCP, Unix stream and packet sockets, in
//! memory, and with their features TLS, QUIC and WebSocket).
//!
//! A transport hands the runtime a [`Conn`]: a read half, a write half and the addresses.
//! Everything above it (framing, sessions, routing) is the same for every transport.

#[cfg(feature = "kcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "kcp")))]
pub mod kcp;
pub mod memory;
pub(crate) mod network;
#[cfg(feature = "quic")]
#[cfg_attr(docsrs, doc(cfg(feature = "quic")))]
pub mod quic;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod selfsigned;
#[cfg(any(feature = "tls", feature = "ws"))]
mod setup;
pub mod tcp;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub mod unix;
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd")))
)]
pub mod unixpacket;
#[cfg(feature = "ws")]
#[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
pub mod ws;

pub(crate) use crate::boxed::BoxFuture;
pub(crate) use network::Network;
pub(crate) use network::{Transports, bind, dial};

use std::fmt;
use std::io;

use tokio::io::{AsyncRead, AsyncWrite};

/// The read half of a connection.
pub(crate) type BoxRead = Box<dyn AsyncRead + Send + Unpin>;
/// The write half of a connection.
pub(crate) type BoxWrite = Box<dyn AsyncWrite + Send + Unpin>;
/// An accepted connection still being set up (a TLS handshake, a WebSocket upgrade...).
pub(crate) type Connecting = BoxFuture<'static, io::Result<Conn>>;

/// The address of one end of a connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Addr {
    /// A TCP address.
    Tcp(std::net::SocketAddr),
    /// A Unix socket path (empty for an unnamed socket).
    Unix(String),
    /// One end of an in-memory pipe, numbered.
    Memory(u64),
    /// A UDP address (QUIC).
    Udp(std::net::SocketAddr),
}

impl Addr {
    /// The IP address, for TCP and UDP.
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        match self {
            Addr::Tcp(addr) | Addr::Udp(addr) => Some(addr.ip()),
            _ => None,
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp(addr) | Addr::Udp(addr) => addr.fmt(f),
            Addr::Unix(path) if path.is_empty() => f.write_str("unix:@"),
            Addr::Unix(path) => write!(f, "unix:{path}"),
            Addr::Memory(n) => write!(f, "memory:{n}"),
        }
    }
}

/// An established connection, split into halves the runtime drives independently.
pub struct Conn {
    /// The read half.
    pub reader: BoxRead,
    /// The write half.
    pub writer: BoxWrite,
    /// Our address.
    pub local_addr: Addr,
    /// The other side's address.
    pub remote_addr: Addr,
    /// Whether the write half hands bytes straight to the kernel and needs no flush (plain
    /// TCP and Unix sockets): the runtime then writes a frame from the task that sends it
    /// when nothing else is being written, instead of waking the writer task.
    pub direct_writes: bool,
    /// The raw file descriptor, where there is one (TCP and Unix sockets).
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub raw_fd: Option<std::os::fd::RawFd>,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("local_addr", &self.local_addr)
            .field("remote_addr", &self.remote_addr)
            .finish_non_exhaustive()
    }
}

/// Whether an accept error means the process or the kernel is out of a resource (file
/// descriptors, socket buffers, memory), so that accepting again at once would fail the
/// same way. Every other accept error belongs to one connection (reset before it was
/// accepted, a socket option refused on it) and says nothing about the next one.
pub fn is_out_of_resources(error: &io::Error) -> bool {
    if error.kind() == io::ErrorKind::OutOfMemory {
        return true;
    }
    #[cfg(unix)]
    {
        let codes = [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM];
        error.raw_os_error().is_some_and(|code| codes.contains(&code))
    }
    #[cfg(not(unix))]
    false
}

/// A source of incoming connections.
pub trait Listener: Send + 'static {
    /// Waits for the next connection. An error ends nothing by itself: the accept loop
    /// skips the connection it belongs to, and pauses briefly only when
    /// [`is_out_of_resources`] says so (out of file descriptors, say).
    fn accept(&mut self) -> BoxFuture<'_, io::Result<Conn>>;

    /// The address it listens on.
    fn local_addr(&self) -> Addr;

    /// Waits for the next connection and returns the rest of its set-up (a TLS handshake, a
    /// WebSocket upgrade) as a future. The runtime awaits that future in the connection's
    /// own task, so a client that is slow or silent during its handshake never holds up the
    /// accept loop. The default accepts with [`accept`](Self::accept) and has nothing left
    /// to do.
    fn accept_connecting(&mut self) -> BoxFuture<'_, io::Result<Connecting>> {
        Box::pin(async move {
            let conn = self.accept().await?;
            Ok(Box::pin(std::future::ready(Ok(conn))) as Connecting)
        })
    }
}
