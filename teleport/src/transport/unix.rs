//! Unix domain socket connections.

use std::io;
use std::path::{Path, PathBuf};

use tokio::net::{UnixListener as TokioListener, UnixStream};

use super::{Addr, BoxFuture, Conn, Listener};

fn addr_of(addr: io::Result<tokio::net::unix::SocketAddr>) -> Addr {
    let path = addr.ok().and_then(|a| a.as_pathname().map(|p| p.display().to_string()));
    Addr::Unix(path.unwrap_or_default())
}

/// Wraps a connected Unix stream.
pub fn conn_from_stream(stream: UnixStream) -> Conn {
    let local_addr = addr_of(stream.local_addr());
    let remote_addr = addr_of(stream.peer_addr());
    let raw_fd = Some(std::os::fd::AsRawFd::as_raw_fd(&stream));
    let (reader, writer) = stream.into_split();
    Conn {
        reader: Box::new(reader),
        writer: Box::new(writer),
        local_addr,
        remote_addr,
        direct_writes: true,
        raw_fd,
    }
}

/// Connects to the socket at `path`.
pub async fn dial(path: impl AsRef<Path>) -> io::Result<Conn> {
    Ok(conn_from_stream(UnixStream::connect(path).await?))
}

/// A Unix socket listener. The socket file is removed when the listener is dropped.
#[derive(Debug)]
pub struct UnixListener {
    inner: TokioListener,
    path: PathBuf,
    /// Whether the socket file goes with the listener (not for an inherited socket).
    remove_on_drop: bool,
}

impl UnixListener {
    /// Binds `path`, replacing a stale socket file left there by an earlier process, with
    /// the default backlog ([`DEFAULT_LISTEN_BACKLOG`](super::tcp::DEFAULT_LISTEN_BACKLOG)).
    pub fn bind(path: impl AsRef<Path>) -> io::Result<Self> {
        Self::bind_with_backlog(path, super::tcp::DEFAULT_LISTEN_BACKLOG)
    }

    /// Binds `path` as [`bind`](Self::bind) does, and listens with `backlog`.
    pub fn bind_with_backlog(path: impl AsRef<Path>, backlog: u32) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let inner = TokioListener::from_std(listen(&path, backlog)?)?;
        Ok(UnixListener { inner, path, remove_on_drop: true })
    }

    /// Serves a socket that is already listening: one inherited from a parent process or a
    /// service manager (`LISTEN_FDS`), say. Its socket file stays when the listener is
    /// dropped (another process may serve the same socket; a later bind replaces a stale
    /// file). Must be called within a Tokio runtime.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<Self> {
        let path = listener.local_addr()?.as_pathname().map(Path::to_path_buf).unwrap_or_default();
        listener.set_nonblocking(true)?;
        let inner = TokioListener::from_std(listener)?;
        Ok(UnixListener { inner, path, remove_on_drop: false })
    }
}

/// Binds `path`, replacing a stale socket file, and listens with `backlog`.
pub(crate) fn listen(path: &Path, backlog: u32) -> io::Result<std::os::unix::net::UnixListener> {
    Ok(std::os::unix::net::UnixListener::from(listening(path, socket2::Type::STREAM, backlog)?))
}

/// A Unix socket of type `ty` bound to `path` (a stale socket file there is replaced),
/// listening with `backlog`, non-blocking: the part the stream and packet listeners share.
pub(crate) fn listening(
    path: &Path,
    ty: socket2::Type,
    backlog: u32,
) -> io::Result<socket2::Socket> {
    if std::fs::symlink_metadata(path)
        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
    {
        std::fs::remove_file(path)?;
    }
    let socket = socket2::Socket::new(socket2::Domain::UNIX, ty, None)?;
    socket.bind(&socket2::SockAddr::unix(path)?)?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX).max(1))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

impl Drop for UnixListener {
    fn drop(&mut self) {
        if self.remove_on_drop {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Listener for UnixListener {
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
