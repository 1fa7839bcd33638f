//! The writer task: drains the write queue with one write per wake-up.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncWriteExt;

use super::Socket;
use crate::transport::BoxWrite;

/// Starts the writer of `socket`. It ends when the socket is closed and the queue is
/// flushed, or when a write fails or takes longer than `write_timeout` (a peer that stops
/// reading); then it closes the socket and `on_error` runs.
pub(crate) fn spawn_writer(
    socket: Arc<Socket>,
    mut writer: BoxWrite,
    write_timeout: Duration,
    on_error: impl FnOnce(std::io::Error) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut spare = BytesMut::with_capacity(8 << 10);
        loop {
            let ready = socket.write_ready.notified();
            let closed = {
                let mut state = socket.write.lock();
                if !state.buf.is_empty() {
                    std::mem::swap(&mut state.buf, &mut spare);
                }
                state.closed
            };
            if spare.is_empty() {
                if closed {
                    break;
                }
                ready.await;
                continue;
            }
            socket.space.notify_waiters();
            // Flushing costs nothing on plain sockets and pushes out what TLS and WebSocket
            // streams buffer.
            let write = async {
                writer.write_all(&spare).await?;
                writer.flush().await
            };
            let result = match tokio::time::timeout(write_timeout, write).await {
                Ok(result) => result,
                Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "write timed out")),
            };
            if let Err(e) = result {
                socket.close();
                on_error(e);
                return;
            }
            spare.clear();
            if spare.capacity() > 1 << 20 {
                spare = BytesMut::with_capacity(8 << 10);
            }
        }
        let _ = tokio::time::timeout(write_timeout, writer.shutdown()).await;
    })
}
