//! The read loop of a connection: reads frames, hands each to dispatch, and corks the
//! replies of one read into one write.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;
// Tokio's clock, so that the frame deadline follows paused test time.
use tokio::time::Instant;

use super::Session;
use super::dispatch::{bad_message, dispatch};
use crate::message::MessageType;
use crate::proto::ProtoError;
use crate::socket::Socket;
use crate::status::Status;
use crate::transport::BoxRead;

/// The room a read loop keeps for the next read, to start with.
const READ_CHUNK: usize = 4 << 10;
/// The most room a read loop asks for: it doubles its room (up to this) while reads fill
/// it, so that one read brings what a busy connection holds, and halves it again when reads
/// come in small.
const MAX_READ_CHUNK: usize = 64 << 10;

/// Why a read loop ended.
enum Ended {
    Closed,
    Eof,
    Io(std::io::Error),
    Malformed(ProtoError),
    FrameTimeout,
    Aged,
    Refused(Status),
}

impl Ended {
    /// The reason as a metric label (observe).
    fn label(&self) -> &'static str {
        match self {
            Ended::Closed => "closed",
            Ended::Eof => "eof",
            Ended::Io(_) => "io",
            Ended::Malformed(_) => "malformed",
            Ended::FrameTimeout => "frame_timeout",
            Ended::Aged => "aged",
            Ended::Refused(_) => "refused",
        }
    }
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Closed => f.write_str("closed locally"),
            Ended::Eof => f.write_str("closed by the remote"),
            Ended::Io(e) => write!(f, "read failed: {e}"),
            Ended::Malformed(e) => write!(f, "malformed frame: {e}"),
            Ended::FrameTimeout => f.write_str("frame not completed within the frame read timeout"),
            Ended::Aged => f.write_str("the session age passed"),
            Ended::Refused(s) => write!(f, "refused by a plugin: {s}"),
        }
    }
}

/// Reads and dispatches frames until the connection ends, then tells the session.
pub(crate) async fn read_loop(session: Session, socket: Arc<Socket>, reader: BoxRead) {
    let ended = read_frames(&session, &socket, reader).await;
    // What the last pass held back (a reply before a refusal) still goes out.
    socket.uncork();
    crate::observe::metrics::connection_closed(ended.label()); // observe
    match &ended {
        Ended::Malformed(_) | Ended::FrameTimeout | Ended::Refused(_) => {
            tracing::warn!(remote = %socket.remote_addr, reason = %ended, "closing the connection")
        }
        _ => tracing::debug!(remote = %socket.remote_addr, reason = %ended, "connection ended"),
    }
    session.on_connection_lost(&socket);
}

async fn read_frames(session: &Session, socket: &Arc<Socket>, mut reader: BoxRead) -> Ended {
    let config = session.peer().config();
    let frame_timeout = config.frame_read_timeout;
    let limit = Arc::new(Semaphore::new(config.max_in_flight_handlers.max(1)));
    // Small to start with: a thousand idle sessions should not hold 8 KiB each. The frame
    // decoder reserves more for a frame that needs it.
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut frame_started: Option<Instant> = None;
    let mut read_at = Instant::now();
    let mut routes = session.peer().route_table().snapshot();
    // Armed once, and polled without a lock while the task's waker stays the same.
    let mut closed = socket.closed_watch();
    let mut chunk = READ_CHUNK;
    let mut pass = Pass::default();
    loop {
        loop {
            match socket.proto().decode(&mut buf) {
                Ok(Some(msg)) => {
                    pass.frame(socket, &buf, Some(msg.mtype));
                    // Handled here and now unless something must wait (a full write queue,
                    // the connect plugins, a handler permit): only then is there a future
                    // to await, boxed, so that this loop's own state stays small.
                    let later = match dispatch(session, socket, &limit, &mut routes, read_at, msg) {
                        Ok(later) => later,
                        Err(status) => return Ended::Refused(status),
                    };
                    if let Some(later) = later {
                        pass.end(socket);
                        if let Err(status) = later.await {
                            return Ended::Refused(status);
                        }
                    }
                }
                Ok(None) => break,
                Err(ProtoError::BadMessage { seq, mtype, error }) => {
                    pass.frame(socket, &buf, None);
                    if let Some(later) = bad_message(socket, seq, mtype, &error) {
                        pass.end(socket);
                        if let Err(status) = later.await {
                            return Ended::Refused(status);
                        }
                    }
                }
                Err(e) => return Ended::Malformed(e),
            }
        }
        pass.end(socket);
        let deadline = if buf.is_empty() {
            frame_started = None;
            session.session_deadline().map(|at| (Instant::from_std(at), Ended::Aged))
        } else {
            // The frame's first bytes came with the last read, or before it.
            let started = *frame_started.get_or_insert(read_at);
            (!frame_timeout.is_zero()).then(|| (started + frame_timeout, Ended::FrameTimeout))
        };
        if buf.capacity() - buf.len() < chunk / 4 {
            buf.reserve(chunk);
        }
        let room = buf.capacity() - buf.len();
        let read = async {
            match deadline {
                Some((at, ended)) => {
                    match tokio::time::timeout_at(at, reader.read_buf(&mut buf)).await {
                        Ok(read) => read.map_err(Ended::Io),
                        Err(_) => Err(ended),
                    }
                }
                None => reader.read_buf(&mut buf).await.map_err(Ended::Io),
            }
        };
        tokio::select! {
            biased;
            () = &mut closed => return Ended::Closed,
            read = read => match read {
                Ok(0) => return Ended::Eof,
                Ok(n) => {
                    chunk = next_chunk(chunk, n, room);
                    read_at = Instant::now();
                    session.touch_read_at(read_at);
                }
                Err(ended) => return ended,
            },
        }
    }
}

/// The room to ask for before the next read, after a read of `n` bytes into `room`.
fn next_chunk(chunk: usize, n: usize, room: usize) -> usize {
    if n >= room {
        (chunk * 2).min(MAX_READ_CHUNK)
    } else if n < chunk / 8 {
        (chunk / 2).max(READ_CHUNK)
    } else {
        chunk
    }
}

/// One pass of the read loop over the frames of one read, and the cork it holds: when a
/// frame has more bytes behind it, what the pass sends (the replies of inline handlers)
/// waits in the write queue and goes out in one write when the pass ends. A frame alone in
/// its read is answered as before, written at once by whoever sends.
#[derive(Default)]
struct Pass {
    corked: bool,
    /// Replies handed to their callers during the pass: as many tasks woken, which are
    /// likely to send next.
    replies: usize,
}

impl Pass {
    /// Notes a frame decoded from `buf`, before it is dispatched.
    fn frame(&mut self, socket: &Socket, buf: &BytesMut, mtype: Option<MessageType>) {
        if !self.corked && !buf.is_empty() {
            socket.cork();
            self.corked = true;
        }
        if self.corked && matches!(mtype, Some(MessageType::Reply | MessageType::AuthReply)) {
            self.replies += 1;
        }
    }

    /// Ends the cork, before the loop awaits anything: with several callers woken, their
    /// sends join the queue first (the last of them flushes); otherwise it is written now.
    fn end(&mut self, socket: &Socket) {
        if !self.corked {
            return;
        }
        if self.replies > 1 {
            socket.uncork_after_wakeups(self.replies);
        } else {
            socket.uncork();
        }
        *self = Pass::default();
    }
}
