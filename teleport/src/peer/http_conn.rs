//! A connection served with the http protocol ends once the reply to its last request (one
//! with `Connection: close`, an HTTP/1.0 one, one whose body was over the limit) is
//! written: the writer counts the bytes it writes, and at the offset the protocol noted,
//! the reader reports the end of the stream, so the session closes and the write half is
//! shut down after the reply, as HTTP/1.1 asks of a server.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::proto::HttpConn;
use crate::transport::{BoxRead, BoxWrite, Conn};

/// What the two halves share.
struct Shared {
    state: Arc<HttpConn>,
    done: AtomicBool,
    reader: AtomicWaker,
}

/// `conn`, ending after the reply `state` names.
pub(super) fn wrap(mut conn: Conn, state: Arc<HttpConn>) -> Conn {
    let shared =
        Arc::new(Shared { state, done: AtomicBool::new(false), reader: AtomicWaker::new() });
    let reader = std::mem::replace(&mut conn.reader, Box::new(tokio::io::empty()));
    let writer = std::mem::replace(&mut conn.writer, Box::new(tokio::io::sink()));
    conn.reader = Box::new(Reader { inner: reader, shared: shared.clone() });
    conn.writer = Box::new(Writer { inner: writer, shared, written: 0 });
    conn
}

struct Reader {
    inner: BoxRead,
    shared: Arc<Shared>,
}

impl AsyncRead for Reader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // Registered before the check, so a writer finishing in between still wakes us.
        self.shared.reader.register(cx.waker());
        if self.shared.done.load(Ordering::Acquire) {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

struct Writer {
    inner: BoxWrite,
    shared: Arc<Shared>,
    written: u64,
}

impl AsyncWrite for Writer {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        self.written += n as u64;
        if self.shared.state.done_at(self.written) {
            self.shared.done.store(true, Ordering::Release);
            self.shared.reader.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
