//! The read loop of a connection: reads frames and dispatches them.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use futures_util::future::CatchUnwind;
use tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
// Tokio's clock, so that the frame deadline follows paused test time.
use tokio::time::Instant;

use super::handshake::Handshaken;
use super::{Session, inherit};
use crate::cancel::Cancel;
use crate::context::{CallCtx, Incoming, META_TIMEOUT, PushCtx, ROUTE_CANCEL};
use crate::message::{Message, MessageType};
use crate::proto::ProtoError;
use crate::router::{Handling, PushRoute, RouteSnapshot};
use crate::socket::{SendError, Socket};
use crate::status::{self, Status};
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
    let mut routes = session.peer().route_snapshot();
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

/// An `AUTH_CALL` on an open session is answered 405. After an auth handshake it is a second
/// attempt (a session authenticates once), and the connection closes once the answer is
/// written; on a session that opened without one, the peer has no auth plugin.
fn auth_call_when_open<'a>(
    session: &Session,
    socket: &'a Socket,
    msg: &Message,
) -> Option<Later<'a>> {
    let again = session.store().get::<Handshaken>().is_some();
    let cause = match again {
        true => "already authenticated: a session authenticates once, when it connects",
        false => "no auth plugin on this peer",
    };
    let status = Status::with_code(status::CODE_MTYPE_NOT_ALLOWED, cause);
    let mut reply = error_reply(msg, status.clone());
    reply.mtype = MessageType::AuthReply;
    match socket.try_send(&reply) {
        Ok(Some(_)) | Err(_) if !again => None,
        Ok(Some(_)) | Err(_) => Some(Box::pin(std::future::ready(Err(status)))),
        Ok(None) => Some(Box::pin(async move {
            let _ = socket.send(&reply).await;
            if again { Err(status) } else { Ok(()) }
        })),
    }
}

/// Answers a message whose frame was read whole but whose content could not be (DESIGN §8):
/// a call is answered 400, the pending call a reply answers ends with 400, anything else is
/// dropped. No plugin or route sees it, and the connection lives on.
fn bad_message<'a>(
    socket: &'a Socket,
    seq: Option<i32>,
    mtype: Option<MessageType>,
    error: &ProtoError,
) -> Option<Later<'a>> {
    let status = Status::with_code(status::CODE_BAD_MESSAGE, error.to_string());
    let (seq, answer) = match (seq, mtype) {
        (Some(seq), Some(MessageType::Call)) => (seq, MessageType::Reply),
        (Some(seq), Some(MessageType::AuthCall)) => (seq, MessageType::AuthReply),
        (Some(seq), Some(MessageType::Reply | MessageType::AuthReply)) => {
            if let Some(slot) = socket.pending.take(seq) {
                let mut reply = Message::new(MessageType::Reply, seq, "");
                reply.status = status;
                let _ = slot.send(Ok(reply));
            }
            return None;
        }
        _ => {
            // Nothing tells the sender: the log does.
            tracing::warn!(remote = %socket.remote_addr, ?seq, ?mtype, %error, "bad message dropped");
            return None;
        }
    };
    tracing::debug!(remote = %socket.remote_addr, seq, %error, "bad message answered 400");
    let mut reply = Message::new(answer, seq, "");
    reply.status = status;
    match socket.try_send(&reply) {
        Ok(Some(_)) | Err(_) => None,
        Ok(None) => Some(Box::pin(async move {
            let _ = socket.send(&reply).await;
            Ok(())
        })),
    }
}

/// What is left to do for a message that could not be handled at once.
type Later<'a> = Pin<Box<dyn Future<Output = Result<(), Status>> + Send + 'a>>;

/// Handles one message as far as it can without waiting; returns what must be awaited
/// before the next message, if anything. An error closes the connection.
fn dispatch<'a>(
    session: &'a Session,
    socket: &'a Arc<Socket>,
    limit: &'a Arc<Semaphore>,
    routes: &'a mut RouteSnapshot,
    read_at: Instant,
    msg: Message,
) -> Result<Option<Later<'a>>, Status> {
    let plugins = session.peer().plugins();
    if !plugins.is_empty() {
        plugins.run(|p| p.pre_read_header(session))?;
    }
    Ok(match msg.mtype {
        MessageType::Reply | MessageType::AuthReply => {
            match socket.pending.take(msg.seq) {
                Some(slot) => {
                    let _ = slot.send(Ok(msg));
                }
                None => tracing::debug!(seq = msg.seq, "late or unknown reply discarded"),
            }
            None
        }
        _ if !socket.gate_is_open() => {
            // Before the connect plugins are done, the first message waits for them (an auth
            // plugin takes it); reading stops until the session opens.
            socket.park_early(msg);
            Some(Box::pin(async move {
                socket.gate_opened().await;
                if !socket.gate_is_open() {
                    // Closed before it opened (a connect plugin refused): dispatch nothing
                    // more, not even the frames already buffered behind this one.
                    return Err(Status::with_code(
                        status::CODE_CONN_CLOSED,
                        "closed before the session opened",
                    ));
                }
                if let Some(msg) = socket.take_early() {
                    if let Some(later) = dispatch(session, socket, limit, routes, read_at, msg)? {
                        later.await?;
                    }
                }
                Ok(())
            }))
        }
        MessageType::Call if socket.running.contains(msg.seq) => {
            // Running it again would answer one seq twice: the peer broke the protocol.
            let reason = format!("seq {} reused while its call is still running", msg.seq);
            return Err(Status::with_code(status::CODE_BAD_MESSAGE, reason));
        }
        MessageType::Call => handle_call(session, socket, limit, routes, read_at, msg),
        MessageType::Push => handle_push(session, socket, limit, routes, read_at, msg),
        MessageType::AuthCall => auth_call_when_open(session, socket, &msg),
    })
}

fn handle_call<'a>(
    session: &Session,
    socket: &'a Arc<Socket>,
    limit: &'a Arc<Semaphore>,
    routes: &'a mut RouteSnapshot,
    read_at: Instant,
    mut msg: Message,
) -> Option<Later<'a>> {
    let peer = session.peer();
    let refused = if peer.is_shutting_down() {
        Err(Status::with_code(status::CODE_SERVICE_UNAVAILABLE, "the peer is shutting down"))
    } else {
        peer.plugins().run(|p| p.post_read_call_header(session, &mut msg))
    };
    let route = peer.routes(routes).call(msg.path());
    let plugins = route.as_ref().map_or_else(|| peer.plugins().clone(), |r| r.plugins.clone());
    let deadline = call_deadline(session, &msg, read_at);
    let ctx = CallCtx::new(
        session.clone(),
        msg,
        plugins,
        read_at.into_std(),
        deadline.map(Instant::into_std),
    );
    let route = match (refused, route) {
        (Err(status), _) => return reply_now(ctx, socket, Err(status)),
        (Ok(()), None) => {
            return reply_now(ctx, socket, Err(Status::with_code(status::CODE_NOT_FOUND, "")));
        }
        // The caller had no time left when the call arrived: the handler does not run.
        (Ok(()), Some(_)) if deadline.is_some_and(|at| at <= read_at) => {
            return reply_now(ctx, socket, Err(past_deadline()));
        }
        (Ok(()), Some(route)) => route,
    };
    let in_flight = peer.track_handler();
    with_permit(limit, move |permit| {
        // Most handlers (every sync method of a service) are done at once or at their first
        // poll: then the reply is written from this read loop, with no task spawned and no
        // thread woken. Nested calls made meanwhile inherit the call's deadline.
        let warn_after = ctx.peer().config().sync_handler_warning;
        let started = inherit::sync_scope(&ctx, deadline, || {
            let mut running = match start(&route.name, &route.held_too_long, warn_after, || {
                ctx.route_plugins().run(|p| p.pre_read_call_body(&ctx))?;
                Ok((route.handler)(ctx.clone()))
            }) {
                Started::Done(result) => return Err(result),
                Started::Running(running) => running,
            };
            match (&mut running).now_or_never() {
                Some(outcome) => {
                    Err(outcome.unwrap_or_else(|panic| Err(panicked(&route.name, panic))))
                }
                None => Ok(running),
            }
        });
        let running = match started {
            Err(result) => {
                drop(permit);
                return reply_now(ctx, socket, result);
            }
            Ok(running) => running,
        };
        // Not done: it goes on in a task of its own, still holding its permit, until it
        // ends, its deadline passes, its caller cancels it or its connection closes.
        let (task_socket, route, seq) = (socket.clone(), route.clone(), ctx.seq());
        let running_call = Running::new(socket, seq, ctx.cancel_signal().clone());
        let task = tokio::spawn(async move {
            let socket = task_socket;
            let running = within_deadline(deadline, inherit::scope(&ctx, deadline, running));
            let Some(outcome) = while_open(&socket, running).await else {
                return;
            };
            let result = outcome.unwrap_or_else(|panic| Err(panicked(&route.name, panic)));
            drop(permit);
            // Answered by a shutdown past its grace period meanwhile: no second reply.
            if running_call.still_running() {
                send_reply(&ctx, &socket, result).await;
            }
            drop((in_flight, running_call));
        });
        socket.running.set_task(seq, task.abort_handle());
        None
    })
}

/// The deadline of a call's handler: the shorter of the caller's remaining time (meta
/// `X-Tp-Timeout`) and the session's context age, both counted from when the call was read.
/// A remaining time that does not parse or is out of range is ignored (logged once per
/// session): the peer's own limits apply.
fn call_deadline(session: &Session, msg: &Message, read_at: Instant) -> Option<Instant> {
    let age = session.context_age();
    let by_age = (!age.is_zero()).then(|| read_at + age);
    let by_caller = msg.meta.get(META_TIMEOUT).and_then(|text| match parse_timeout(text) {
        Some(timeout) => Some(read_at + timeout),
        None => {
            session.note_bad_timeout(text);
            None
        }
    });
    inherit::earlier(by_age, by_caller)
}

/// The longest remaining time a caller may ask for: a day.
const MAX_CALLER_TIMEOUT_MS: u64 = 24 * 60 * 60 * 1000;

/// A caller's remaining time: whole milliseconds, from 0 to a day.
fn parse_timeout(text: &str) -> Option<Duration> {
    let ms: u64 = text.parse().ok()?;
    (ms <= MAX_CALLER_TIMEOUT_MS).then(|| Duration::from_millis(ms))
}

fn past_deadline() -> Status {
    Status::with_code(status::CODE_HANDLE_TIMEOUT, "the call's deadline passed in its handler")
}

/// A call handled in a task of its own, listed in its socket's running calls while the
/// guard lives.
struct Running {
    socket: Arc<Socket>,
    seq: i32,
}

impl Running {
    fn new(socket: &Arc<Socket>, seq: i32, cancel: Arc<Cancel>) -> Self {
        socket.running.insert(seq, cancel);
        Running { socket: socket.clone(), seq }
    }

    /// False once something else answered the call (a shutdown past its grace period).
    fn still_running(&self) -> bool {
        self.socket.running.contains(self.seq)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.socket.running.remove(self.seq);
    }
}

/// Runs `run` holding one of the session's handler permits (at most
/// `max_in_flight_handlers` handlers run at once): at once if one is free, else once one is,
/// which keeps the read loop from reading on and pushes back on the peer.
fn with_permit<'a>(
    limit: &'a Arc<Semaphore>,
    run: impl FnOnce(OwnedSemaphorePermit) -> Option<Later<'a>> + Send + 'a,
) -> Option<Later<'a>> {
    match limit.clone().try_acquire_owned() {
        Ok(permit) => run(permit),
        Err(TryAcquireError::Closed) => None,
        Err(TryAcquireError::NoPermits) => Some(Box::pin(async move {
            let Ok(permit) = limit.clone().acquire_owned().await else { return Ok(()) };
            if let Some(later) = run(permit) {
                later.await?;
            }
            Ok(())
        })),
    }
}

/// A handler just started: its outcome, or its future with panics caught.
enum Started<T> {
    Done(T),
    Running(CatchUnwind<AssertUnwindSafe<crate::transport::BoxFuture<'static, T>>>),
}

/// Runs the body hooks and starts the handler (`begin`), turning a refusal or a panic
/// into the outcome. A synchronous handler that holds the read loop longer than the peer's
/// `sync_handler_warning` is named in a warning, once per route.
fn start<T>(
    route: &str,
    held_too_long: &AtomicBool,
    warn_after: Duration,
    begin: impl FnOnce() -> Result<Handling<Result<T, Status>>, Status>,
) -> Started<Result<T, Status>> {
    let began = (!warn_after.is_zero()).then(std::time::Instant::now);
    let started = std::panic::catch_unwind(AssertUnwindSafe(begin));
    if let Some(began) = began {
        let held = began.elapsed();
        if held >= warn_after && !held_too_long.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                route, held = ?held,
                "a synchronous handler held its connection's read loop: no other message of \
                 the session is read meanwhile; make the method `async` if it waits, or mark \
                 it #[tp(blocking)] (route_call_blocking_fn) if it blocks or computes for long"
            );
        }
    }
    match started {
        Ok(Ok(Handling::Done(result))) => Started::Done(result),
        Ok(Ok(Handling::Running(future))) => {
            Started::Running(AssertUnwindSafe(future).catch_unwind())
        }
        Ok(Err(status)) => Started::Done(Err(status)),
        Err(panic) => Started::Done(Err(panicked(route, panic))),
    }
}

/// Awaits a handler that runs in a task of its own while its connection is open. When the
/// connection closes first, the handler's future is dropped (its reply has nowhere to go)
/// and `None` is returned: a session's handlers end with it, and so do their permits.
async fn while_open<T>(socket: &Socket, running: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        biased;
        outcome = running => Some(outcome),
        () = socket.closed() => None,
    }
}

/// Awaits a call's handler until its deadline: past it, the handler is dropped and its
/// outcome is 408.
async fn within_deadline<T>(
    deadline: Option<Instant>,
    running: impl Future<Output = std::thread::Result<Result<T, Status>>>,
) -> std::thread::Result<Result<T, Status>> {
    match deadline {
        None => running.await,
        Some(at) => tokio::time::timeout_at(at, running).await.unwrap_or(Ok(Err(past_deadline()))),
    }
}

/// Awaits a push handler that was not done at its first poll, bounded by the session's
/// context age: past it, the handler is dropped.
async fn within_context_age<T>(
    ctx: &Incoming,
    running: impl Future<Output = std::thread::Result<Result<T, Status>>>,
) -> std::thread::Result<Result<T, Status>> {
    let age = ctx.session().context_age();
    if age.is_zero() {
        return running.await;
    }
    tokio::time::timeout(age, running).await.unwrap_or_else(|_| {
        Ok(Err(Status::with_code(
            status::CODE_HANDLE_TIMEOUT,
            "the handler exceeded the context age",
        )))
    })
}

fn panicked(route: &str, panic: Box<dyn Any + Send>) -> Status {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    tracing::error!(route, panic = %text, "handler panicked");
    Status::with_code(status::CODE_INTERNAL_SERVER_ERROR, format!("handler panicked: {text}"))
}

fn error_reply(input: &Message, status: Status) -> Message {
    let mut reply = Message::new(MessageType::Reply, input.seq, "");
    reply.status = status;
    reply.xfer_pipe = input.xfer_pipe.clone();
    reply
}

/// Writes the reply of a handler that finished in the read loop; what cannot be written
/// yet (a full queue) is left to await.
fn reply_now(ctx: CallCtx, socket: &Socket, result: Result<Bytes, Status>) -> Option<Later<'_>> {
    let reply = reply_message(&ctx, result);
    let reply = send_now(&ctx, socket, reply)?;
    Some(Box::pin(async move {
        send_later(&ctx, socket, reply).await;
        Ok(())
    }))
}

/// Writes the reply of a handler that ran in a task of its own.
async fn send_reply(ctx: &CallCtx, socket: &Socket, result: Result<Bytes, Status>) {
    let reply = reply_message(ctx, result);
    if let Some(reply) = send_now(ctx, socket, reply) {
        send_later(ctx, socket, reply).await;
    }
}

/// The reply to send: the handler's body or status, its meta, after the reply hooks.
fn reply_message(ctx: &CallCtx, result: Result<Bytes, Status>) -> Message {
    let mut reply = match result {
        Ok(body) => {
            let mut reply = Message::new(MessageType::Reply, ctx.seq(), "");
            reply.body_codec = ctx.reply_codec();
            reply.body = body;
            reply.xfer_pipe = ctx.xfer_pipe().clone();
            reply
        }
        Err(status) => error_reply(ctx.input(), status),
    };
    reply.meta = ctx.take_output_meta();
    if let Err(status) = ctx.route_plugins().run(|p| p.pre_write_reply(ctx, &mut reply)) {
        reply = error_reply(ctx.input(), status);
    }
    reply
}

/// Writes `reply` if the queue has room, giving it back if not. A reply that cannot be
/// encoded is replaced by a 500-class error reply.
fn send_now(ctx: &CallCtx, socket: &Socket, mut reply: Message) -> Option<Message> {
    let mut written = socket.try_send(&reply);
    if let Err(SendError::Encode(e)) = written {
        reply = unwritable(ctx, &e);
        written = socket.try_send(&reply);
    }
    match written {
        Ok(Some(_)) => replied(ctx, &reply),
        Ok(None) => return Some(reply),
        Err(_) => {}
    }
    None
}

/// Writes `reply` once the queue has room.
async fn send_later(ctx: &CallCtx, socket: &Socket, mut reply: Message) {
    let mut written = socket.send(&reply).await;
    if let Err(SendError::Encode(e)) = written {
        reply = unwritable(ctx, &e);
        written = socket.send(&reply).await;
    }
    if written.is_ok() {
        replied(ctx, &reply);
    }
}

/// The error reply that replaces a reply the protocol could not encode.
fn unwritable(ctx: &CallCtx, e: &crate::proto::ProtoError) -> Message {
    tracing::warn!(route = ctx.path(), error = %e, "reply could not be written");
    error_reply(ctx.input(), Status::with_code(status::CODE_WRITE_FAILED, e.to_string()))
}

fn replied(ctx: &CallCtx, reply: &Message) {
    ctx.session().touch_write();
    let _ = ctx.route_plugins().run(|p| p.post_write_reply(ctx, reply));
    crate::observe::handled(ctx, Some(reply), &reply.status); // observe
}

fn handle_push<'a>(
    session: &Session,
    socket: &'a Arc<Socket>,
    limit: &'a Arc<Semaphore>,
    routes: &'a mut RouteSnapshot,
    read_at: Instant,
    mut msg: Message,
) -> Option<Later<'a>> {
    if msg.service_method == ROUTE_CANCEL {
        cancel_call(socket, &msg);
        return None;
    }
    let peer = session.peer();
    if let Err(status) = peer.plugins().run(|p| p.post_read_push_header(session, &mut msg)) {
        tracing::debug!(route = msg.path(), %status, "push refused by a plugin");
        return None;
    }
    let Some(route) = peer.routes(routes).push(msg.path()) else {
        tracing::info!(route = msg.path(), remote = %session.remote_addr(), "push to an unknown route dropped");
        return None;
    };
    let ctx = PushCtx::new(session.clone(), msg, route.plugins.clone(), read_at.into_std());
    let in_flight = peer.track_handler();
    with_permit(limit, move |permit| {
        let warn_after = ctx.peer().config().sync_handler_warning;
        let mut running = match inherit::sync_scope(&ctx, None, || {
            start(&route.name, &route.held_too_long, warn_after, || {
                ctx.route_plugins().run(|p| p.pre_read_push_body(&ctx))?;
                Ok((route.handler)(ctx.clone()))
            })
        }) {
            Started::Done(result) => {
                push_done(route, &ctx, Ok(result));
                return None;
            }
            Started::Running(running) => running,
        };
        // observe: a push's handler runs in its span and its calls carry its trace context.
        if let Some(outcome) = inherit::sync_scope(&ctx, None, || (&mut running).now_or_never()) {
            push_done(route, &ctx, outcome);
            return None;
        }
        let (socket, route) = (socket.clone(), route.clone());
        let running = inherit::scope(&ctx, None, running);
        tokio::spawn(async move {
            if let Some(outcome) = while_open(&socket, within_context_age(&ctx, running)).await {
                push_done(&route, &ctx, outcome);
            }
            drop((in_flight, permit));
        });
        None
    })
}

/// A caller stopped waiting for its call: the handler, if it still runs, is dropped and
/// writes no reply. Unknown or finished seqs, and bodies that are not a seq, are ignored.
fn cancel_call(socket: &Socket, msg: &Message) {
    let seq = std::str::from_utf8(&msg.body).ok().and_then(|text| text.trim().parse::<i32>().ok());
    match seq {
        Some(seq) if socket.running.cancel(seq) => {
            tracing::debug!(seq, "call cancelled by its caller")
        }
        Some(_) => {}
        None => tracing::debug!(remote = %socket.remote_addr, "cancel push without a seq ignored"),
    }
}

fn push_done(route: &PushRoute, ctx: &PushCtx, outcome: std::thread::Result<Result<(), Status>>) {
    let status = match outcome.unwrap_or_else(|panic| Err(panicked(&route.name, panic))) {
        Ok(()) => Status::OK,
        Err(status) => status,
    };
    crate::observe::handled(ctx, None, &status); // observe
}
