//! The write side: frames written directly by the task that sends them when the connection
//! is idle, else drained by the writer task with one write per wake-up.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::AsyncWriteExt;

use super::{Cork, SendError, Socket};
use crate::message::Message;

impl Socket {
    /// Writes `frame` without waiting, from the sending task (or the read loop ending a
    /// cork). The caller set `writing`, and `held` if the frames were counted in the queue.
    /// Whatever the kernel does not take now goes back to the front of the queue for the
    /// writer task; the order of frames holds because only the holder of `writing` writes.
    pub(super) fn write_now(&self, mut frame: BytesMut) {
        let failed = self.write_without_waiting(&mut frame);
        self.written(frame, failed);
    }

    /// Encodes `msg` into this thread's frame buffer and writes it without waiting; the
    /// caller set `writing` (the queue was empty). What the kernel does not take joins the
    /// front of the queue, as in [`write_now`](Self::write_now).
    pub(super) fn write_direct(&self, msg: &Message) -> Result<usize, SendError> {
        FRAME.with(|frame| {
            let mut own = BytesMut::new();
            let mut shared = frame.try_borrow_mut();
            // A frame written while another is being encoded on this thread (a codec that
            // sends): a buffer of its own.
            let frame = match shared.as_deref_mut() {
                Ok(frame) => frame,
                Err(_) => &mut own,
            };
            frame.clear();
            if let Err(e) = self.proto.encode(msg, frame) {
                self.written(BytesMut::new(), None);
                return Err(SendError::Encode(e));
            }
            let written = frame.len();
            let failed = self.write_without_waiting(frame);
            // What is left is copied out: a share of this thread's buffer, kept in a slow
            // connection's queue, would hold the whole buffer for a few bytes.
            let rest = BytesMut::from(&frame[..]);
            if frame.capacity() > MAX_FRAME_BUFFER {
                // A large frame does not stay pinned to the thread.
                *frame = BytesMut::new();
            }
            self.written(rest, failed);
            Ok(written)
        })
    }

    fn write_without_waiting(&self, frame: &mut BytesMut) -> Option<std::io::Error> {
        let mut half = self.half.lock();
        match half.as_mut() {
            Some(writer) => write_without_waiting(writer, frame).err(),
            None => Some(std::io::ErrorKind::NotConnected.into()),
        }
    }

    /// Ends a write without waiting: `frame` is what the kernel did not take.
    fn written(&self, mut frame: BytesMut, failed: Option<std::io::Error>) {
        let mut state = self.write.lock();
        state.writing = false;
        let freed = std::mem::take(&mut state.held) > 0;
        if let Some(e) = failed {
            drop(state);
            tracing::debug!(remote = %self.remote_addr, error = %e, "write failed; closing the connection");
            self.close();
            return;
        }
        if !frame.is_empty() {
            // What the kernel did not take goes first; the frames queued meanwhile move
            // back behind it.
            for queued in &mut state.replaceable {
                queued.start += frame.len();
            }
            frame.unsplit(std::mem::take(&mut state.buf));
            state.buf = frame;
        }
        self.settle(&mut state);
        let hand_over = !state.buf.is_empty() || state.closed;
        drop(state);
        if hand_over {
            self.write_ready.notify_one();
        }
        if freed {
            self.space.notify_waiters();
        }
    }
}

/// The most room the per-thread frame buffer of `write_direct` keeps between frames.
const MAX_FRAME_BUFFER: usize = 64 << 10;

thread_local! {
    static FRAME: std::cell::RefCell<BytesMut> = std::cell::RefCell::new(BytesMut::new());
}

/// Writes as much of `frame` as the kernel takes right now, advancing past it.
fn write_without_waiting(
    writer: &mut crate::transport::BoxWrite,
    frame: &mut BytesMut,
) -> std::io::Result<()> {
    let mut cx = Context::from_waker(Waker::noop());
    while !frame.is_empty() {
        match Pin::new(&mut **writer).poll_write(&mut cx, frame) {
            Poll::Ready(Ok(0)) => return Err(std::io::ErrorKind::WriteZero.into()),
            Poll::Ready(Ok(n)) => frame.advance(n),
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => break,
        }
    }
    Ok(())
}

/// Starts the writer task of `socket`. It ends when the socket is closed and the queue is
/// flushed, or when a write fails or takes longer than `write_timeout` (a peer that stops
/// reading); then it closes the socket and `on_error` runs.
pub(crate) fn spawn_writer(
    socket: Arc<Socket>,
    write_timeout: Duration,
    on_error: impl FnOnce(std::io::Error) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let ready = socket.write_ready.notified();
            if socket.write.lock().cork == Cork::FlushAfterWakeups {
                // Let the tasks the read loop just woke run first: what they send joins
                // this write. Deferred to after the runtime's ready tasks, not timed.
                tokio::task::yield_now().await;
                let mut state = socket.write.lock();
                if state.cork == Cork::FlushAfterWakeups {
                    state.cork = Cork::Open;
                    state.awaited = 0;
                }
            }
            let (frames, closed) = {
                let mut state = socket.write.lock();
                if state.writing || state.buf.is_empty() {
                    (None, state.closed && !state.writing)
                } else {
                    state.writing = true;
                    let frames = state.buf.split();
                    // Still counted until written: the queue's bound covers them.
                    state.held = frames.len();
                    state.replaceable.clear();
                    (Some(frames), false)
                }
            };
            let Some(frames) = frames else {
                if closed {
                    break;
                }
                ready.await;
                continue;
            };
            let Some(mut writer) = socket.half.lock().take() else { break };
            // Flushing costs nothing on plain sockets and pushes out what TLS and WebSocket
            // streams buffer.
            let write = async {
                writer.write_all(&frames).await?;
                writer.flush().await
            };
            let result = match tokio::time::timeout(write_timeout, write).await {
                Ok(result) => result,
                Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "write timed out")),
            };
            *socket.half.lock() = Some(writer);
            {
                let mut state = socket.write.lock();
                state.writing = false;
                state.held = 0;
                socket.settle(&mut state);
            }
            socket.space.notify_waiters();
            if let Err(e) = result {
                socket.close();
                on_error(e);
                return;
            }
        }
        let writer = socket.half.lock().take();
        if let Some(mut writer) = writer {
            let _ = tokio::time::timeout(write_timeout, writer.shutdown()).await;
        }
    })
}
