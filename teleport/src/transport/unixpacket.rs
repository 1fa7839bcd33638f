//! Unix sequenced-packet sockets (`SOCK_SEQPACKET`, Go's network `unixpacket`).
//!
//! The connection is a byte stream to the layers above: each write sends at most
//! [`MAX_SEND_PACKET`] bytes as one packet (well under Linux's default socket buffer, about
//! 208 KiB, which bounds a packet), and reads hand out the bytes of each packet in order.
//! A Go peer writes each frame as one packet, so it reads whole packets of up to
//! [`MAX_RECV_PACKET`] bytes; a bigger one would be cut short by the kernel, so it fails the
//! read (and the connection closes) instead of passing on truncated.

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use socket2::{Domain, SockAddr, SockRef, Socket, Type};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};

use super::{Addr, BoxFuture, Conn, Listener};

/// The largest packet sent.
pub const MAX_SEND_PACKET: usize = 64 << 10;
/// The largest packet received.
pub const MAX_RECV_PACKET: usize = 256 << 10;

fn addr_of(addr: io::Result<tokio::net::unix::SocketAddr>) -> Addr {
    let path = addr.ok().and_then(|a| a.as_pathname().map(|p| p.display().to_string()));
    Addr::Unix(path.unwrap_or_default())
}

/// Tokio's Unix stream type drives the socket: its reads and writes are the `recv` and
/// `send` calls a sequenced-packet socket takes, one packet each.
fn conn_from_stream(stream: UnixStream) -> Conn {
    let local_addr = addr_of(stream.local_addr());
    let remote_addr = addr_of(stream.peer_addr());
    let raw_fd = Some(std::os::fd::AsRawFd::as_raw_fd(&stream));
    let fd = Arc::new(stream);
    Conn {
        reader: Box::new(PacketReader { fd: fd.clone(), buf: Vec::new(), pos: 0 }),
        writer: Box::new(PacketWriter { fd }),
        local_addr,
        remote_addr,
        direct_writes: false,
        raw_fd,
    }
}

/// Connects to the sequenced-packet socket at `path`.
pub async fn dial(path: impl AsRef<Path>) -> io::Result<Conn> {
    let addr = SockAddr::unix(path)?;
    // A Unix connect completes at once unless the listener's backlog is full: let that
    // wait happen off the runtime's threads.
    let socket = tokio::task::spawn_blocking(move || {
        let socket = Socket::new(Domain::UNIX, Type::SEQPACKET, None)?;
        socket.connect(&addr)?;
        socket.set_nonblocking(true)?;
        Ok::<_, io::Error>(std::os::unix::net::UnixStream::from(OwnedFd::from(socket)))
    })
    .await
    .map_err(io::Error::other)??;
    Ok(conn_from_stream(UnixStream::from_std(socket)?))
}

struct PacketReader {
    fd: Arc<UnixStream>,
    buf: Vec<u8>,
    pos: usize,
}

impl PacketReader {
    /// Receives one packet into `buf`; an empty one means the other side closed. `buf`
    /// is empty whenever this does not return a packet.
    fn poll_packet(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.buf.clear();
        self.pos = 0;
        loop {
            ready!(self.fd.poll_read_ready(cx))?;
            // One byte more than any packet we accept: a packet that fills it was cut short.
            self.buf.resize(MAX_RECV_PACKET + 1, 0);
            let n = match self.fd.try_read(&mut self.buf) {
                Ok(n) if n <= MAX_RECV_PACKET => n,
                Ok(_) => {
                    self.buf.clear();
                    let reason = format!("a packet larger than {MAX_RECV_PACKET} bytes");
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, reason)));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.buf.clear();
                    continue;
                }
                Err(e) => {
                    self.buf.clear();
                    return Poll::Ready(Err(e));
                }
            };
            self.buf.truncate(n);
            return Poll::Ready(Ok(()));
        }
    }
}

impl AsyncRead for PacketReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos >= self.buf.len() {
            ready!(self.poll_packet(cx))?;
        }
        let this = &mut *self;
        let n = out.remaining().min(this.buf.len() - this.pos);
        out.put_slice(&this.buf[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

struct PacketWriter {
    fd: Arc<UnixStream>,
}

impl AsyncWrite for PacketWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // An empty packet reads as the end of the stream on the other side: never send one.
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let packet = &buf[..buf.len().min(MAX_SEND_PACKET)];
        loop {
            ready!(self.fd.poll_write_ready(cx))?;
            match self.fd.try_write(packet) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(SockRef::from(&*self.fd).shutdown(std::net::Shutdown::Write))
    }
}

/// A sequenced-packet listener. The socket file is removed when the listener is dropped.
#[derive(Debug)]
pub struct UnixPacketListener {
    inner: UnixListener,
    path: PathBuf,
}

impl UnixPacketListener {
    /// Binds `path` with a backlog of `backlog`, replacing a stale socket file left there
    /// by an earlier process.
    pub fn bind(path: impl AsRef<Path>, backlog: i32) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let backlog = u32::try_from(backlog).unwrap_or(1);
        let socket = super::unix::listening(&path, Type::SEQPACKET, backlog)?;
        let listener = std::os::unix::net::UnixListener::from(OwnedFd::from(socket));
        Ok(UnixPacketListener { inner: UnixListener::from_std(listener)?, path })
    }
}

impl Drop for UnixPacketListener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Listener for UnixPacketListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<Conn>> {
        Box::pin(async move {
            let (stream, _) = self.inner.accept().await?;
            Ok(conn_from_stream(stream))
        })
    }

    fn local_addr(&self) -> Addr {
        Addr::Unix(self.path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn bytes_cross_in_packets_and_close_ends_the_stream() {
        let test = tokio::time::timeout(std::time::Duration::from_secs(60), exchange());
        test.await.expect("the exchange ends");
    }

    async fn exchange() {
        let path = std::env::temp_dir().join(format!("tp-seqpacket-{}.sock", std::process::id()));
        let mut listener = UnixPacketListener::bind(&path, 8).unwrap();
        let (accepted, dialed) = tokio::join!(listener.accept(), dial(&path));
        let (mut server, mut client) = (accepted.unwrap(), dialed.unwrap());
        assert_eq!(server.local_addr, Addr::Unix(path.display().to_string()));

        let big: Vec<u8> = (0..MAX_RECV_PACKET * 2 + 5).map(|i| i as u8).collect();
        let (written, read) = tokio::join!(client.writer.write_all(&big), async {
            let mut got = vec![0u8; big.len()];
            server.reader.read_exact(&mut got).await.map(|_| got)
        });
        written.unwrap();
        assert!(read.unwrap() == big);

        // A packet bigger than a reader takes fails the read: it is never passed on cut.
        let raw = Socket::new(Domain::UNIX, Type::SEQPACKET, None).unwrap();
        raw.set_send_buffer_size(4 * MAX_RECV_PACKET).unwrap();
        raw.connect(&SockAddr::unix(&path).unwrap()).unwrap();
        let mut other = listener.accept().await.unwrap();
        if raw.send(&vec![1u8; MAX_RECV_PACKET + 1]).is_ok() {
            let err = other.reader.read_u8().await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        }

        client.writer.shutdown().await.unwrap();
        let mut rest = Vec::new();
        server.reader.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        drop(listener);
        assert!(!path.exists());
    }
}
