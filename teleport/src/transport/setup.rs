//! What the transports that set a connection up after accepting it (TLS, WebSocket) share:
//! the parts of a TCP stream, the split into a [`Conn`], and handshakes bounded in time.

use std::io;
use std::time::Duration;

use tokio::net::TcpStream;

use super::tcp::SocketOptions;
use super::{Addr, Conn};

/// The local and remote addresses and the descriptor of a connection.
pub(crate) type Parts = (Addr, Addr, Option<i32>);

/// The parts of a dialed TCP stream, with the socket options applied.
pub(crate) fn tcp_parts(stream: &TcpStream, options: &SocketOptions) -> io::Result<Parts> {
    accepted_parts(stream, stream.peer_addr()?, options)
}

/// The parts of an accepted TCP stream, whose remote address `accept` returned.
pub(crate) fn accepted_parts(
    stream: &TcpStream,
    remote: std::net::SocketAddr,
    options: &SocketOptions,
) -> io::Result<Parts> {
    options.apply(stream)?;
    #[cfg(unix)]
    let fd = Some(std::os::fd::AsRawFd::as_raw_fd(stream));
    #[cfg(not(unix))]
    let fd = None;
    Ok((Addr::Tcp(stream.local_addr()?), Addr::Tcp(remote), fd))
}

/// Splits an established stream into the halves of a [`Conn`].
#[cfg(feature = "tls")]
pub(crate) fn split_conn<S>(stream: S, parts: Parts) -> Conn
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    conn_of(Box::new(reader), Box::new(writer), parts)
}

/// A [`Conn`] of two halves and its parts.
pub(crate) fn conn_of(reader: super::BoxRead, writer: super::BoxWrite, parts: Parts) -> Conn {
    let (local_addr, remote_addr, fd) = parts;
    #[cfg(not(unix))]
    let _ = fd;
    Conn {
        reader,
        writer,
        local_addr,
        remote_addr,
        direct_writes: false,
        #[cfg(unix)]
        raw_fd: fd,
    }
}

/// Runs `handshake`, failing with `TimedOut` after `timeout` (zero: no limit).
pub(crate) async fn bounded<T>(
    timeout: Duration,
    what: &str,
    handshake: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    if timeout.is_zero() {
        return handshake.await;
    }
    tokio::time::timeout(timeout, handshake).await.unwrap_or_else(|_| {
        Err(io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out")))
    })
}
