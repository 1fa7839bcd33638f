//! The read loop of a connection: reads frames and dispatches them.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use futures_util::future::CatchUnwind;
use tokio::io::AsyncReadExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
// Tokio's clock, so that the frame deadline follows paused test time.
use tokio::time::Instant;

use super::Session;
use super::handshake::Handshaken;
use crate::context::{CallCtx, Incoming, PushCtx};
use crate::message::{Message, MessageType};
use crate::proto::ProtoError;
use crate::router::{Handling, PushRoute, RouteSnapshot};
use crate::socket::{SendError, Socket};
use crate::status::{self, Status};
use crate::transport::BoxRead;

/// The room a read loop keeps for the next read.
const READ_CHUNK: usize = 4 << 10;

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
    loop {
        loop {
            match socket.proto().decode(&mut buf) {
                Ok(Some(msg)) => {
                    // Handled here and now unless something must wait (a full write queue,
                    // the connect plugins, a handler permit): only then is there a future
                    // to await, boxed, so that this loop's own state stays small.
                    let later = match dispatch(session, socket, &limit, &mut routes, read_at, msg) {
                        Ok(later) => later,
                        Err(status) => return Ended::Refused(status),
                    };
                    if let Some(later) = later {
                        if let Err(status) = later.await {
                            return Ended::Refused(status);
                        }
                    }
                }
                Ok(None) => break,
                Err(ProtoError::BadMessage { seq, mtype, error }) => {
                    if let Some(later) = bad_message(socket, seq, mtype, &error) {
                        if let Err(status) = later.await {
                            return Ended::Refused(status);
                        }
                    }
                }
                Err(e) => return Ended::Malformed(e),
            }
        }
        let deadline = if buf.is_empty() {
            frame_started = None;
            session.session_deadline().map(|at| (Instant::from_std(at), Ended::Aged))
        } else {
            // The frame's first bytes came with the last read, or before it.
            let started = *frame_started.get_or_insert(read_at);
            (!frame_timeout.is_zero()).then(|| (started + frame_timeout, Ended::FrameTimeout))
        };
        if buf.capacity() - buf.len() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
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
                Ok(_) => {
                    read_at = Instant::now();
                    session.touch_read_at(read_at);
                }
                Err(ended) => return ended,
            },
        }
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
        MessageType::Call => handle_call(session, socket, limit, routes, read_at, msg),
        MessageType::Push => handle_push(session, limit, routes, read_at, msg),
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
    let ctx = CallCtx::new(session.clone(), msg, plugins, read_at.into_std());
    let route = match (refused, route) {
        (Err(status), _) => return reply_now(ctx, socket, Err(status)),
        (Ok(()), None) => {
            return reply_now(ctx, socket, Err(Status::with_code(status::CODE_NOT_FOUND, "")));
        }
        (Ok(()), Some(route)) => route,
    };
    let in_flight = peer.track_handler();
    with_permit(limit, move |permit| {
        // Most handlers (every sync method of a service) are done at once or at their first
        // poll: then the reply is written from this read loop, with no task spawned and no
        // thread woken.
        let mut running = match start(&route.name, || {
            ctx.route_plugins().run(|p| p.pre_read_call_body(&ctx))?;
            Ok((route.handler)(ctx.clone()))
        }) {
            Started::Done(result) => return reply_now(ctx, socket, result),
            Started::Running(running) => running,
        };
        if let Some(outcome) = (&mut running).now_or_never() {
            drop(permit);
            let result = outcome.unwrap_or_else(|panic| Err(panicked(&route.name, panic)));
            return reply_now(ctx, socket, result);
        }
        // Not done: it goes on in a task of its own, still holding its permit.
        let (socket, route) = (socket.clone(), route.clone());
        tokio::spawn(async move {
            let outcome = within_context_age(&ctx, running).await;
            let result = outcome.unwrap_or_else(|panic| Err(panicked(&route.name, panic)));
            drop(permit);
            send_reply(&ctx, &socket, result).await;
            drop(in_flight);
        });
        None
    })
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
/// into the outcome.
fn start<T>(
    route: &str,
    begin: impl FnOnce() -> Result<Handling<Result<T, Status>>, Status>,
) -> Started<Result<T, Status>> {
    match std::panic::catch_unwind(AssertUnwindSafe(begin)) {
        Ok(Ok(Handling::Done(result))) => Started::Done(result),
        Ok(Ok(Handling::Running(future))) => {
            Started::Running(AssertUnwindSafe(future).catch_unwind())
        }
        Ok(Err(status)) => Started::Done(Err(status)),
        Err(panic) => Started::Done(Err(panicked(route, panic))),
    }
}

/// Awaits a handler that was not done at its first poll, bounded by the session's context
/// age: past it, the handler is dropped and its outcome is 408.
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
        Ok(Some(size)) => replied(ctx, &reply, size),
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
    if let Ok(size) = written {
        replied(ctx, &reply, size);
    }
}

/// The error reply that replaces a reply the protocol could not encode.
fn unwritable(ctx: &CallCtx, e: &crate::proto::ProtoError) -> Message {
    tracing::warn!(route = ctx.path(), error = %e, "reply could not be written");
    error_reply(ctx.input(), Status::with_code(status::CODE_WRITE_FAILED, e.to_string()))
}

fn replied(ctx: &CallCtx, reply: &Message, size: usize) {
    ctx.session().touch_write();
    let _ = ctx.route_plugins().run(|p| p.post_write_reply(ctx, reply));
    log_handled(ctx, "call", &reply.status, size);
}

fn handle_push<'a>(
    session: &Session,
    limit: &'a Arc<Semaphore>,
    routes: &'a mut RouteSnapshot,
    read_at: Instant,
    mut msg: Message,
) -> Option<Later<'a>> {
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
        let mut running = match start(&route.name, || {
            ctx.route_plugins().run(|p| p.pre_read_push_body(&ctx))?;
            Ok((route.handler)(ctx.clone()))
        }) {
            Started::Done(result) => {
                push_done(route, &ctx, Ok(result));
                return None;
            }
            Started::Running(running) => running,
        };
        if let Some(outcome) = (&mut running).now_or_never() {
            push_done(route, &ctx, outcome);
            return None;
        }
        let route = route.clone();
        tokio::spawn(async move {
            let outcome = within_context_age(&ctx, running).await;
            push_done(&route, &ctx, outcome);
            drop((in_flight, permit));
        });
        None
    })
}

fn push_done(route: &PushRoute, ctx: &PushCtx, outcome: std::thread::Result<Result<(), Status>>) {
    let status = match outcome.unwrap_or_else(|panic| Err(panicked(&route.name, panic))) {
        Ok(()) => Status::OK,
        Err(status) => status,
    };
    log_handled(ctx, "push", &status, 0);
}

fn log_handled(
    ctx: &crate::context::Incoming,
    kind: &'static str,
    status: &Status,
    reply_size: usize,
) {
    let config = ctx.peer().config();
    let cost = config.count_time.then(|| ctx.received_at().elapsed());
    let slow = matches!(cost, Some(cost) if !config.slow_comet_duration.is_zero() && cost > config.slow_comet_duration);
    if slow {
        tracing::warn!(
            kind, remote = %ctx.session().remote_addr(), route = ctx.service_method(), cost = ?cost.unwrap_or_default(),
            code = status.code(), in_bytes = ctx.body().len(), out_bytes = reply_size, "slow handler"
        );
    } else if config.print_detail {
        tracing::info!(
            kind, remote = %ctx.session().remote_addr(), route = ctx.service_method(), cost = ?cost,
            code = status.code(), msg = status.msg(), in_bytes = ctx.body().len(), out_bytes = reply_size,
            meta = ?ctx.input_meta(), body = %String::from_utf8_lossy(ctx.body()), "handled"
        );
    } else {
        tracing::debug!(
            kind, remote = %ctx.session().remote_addr(), route = ctx.service_method(), cost = ?cost,
            code = status.code(), in_bytes = ctx.body().len(), out_bytes = reply_size, "handled"
        );
    }
}
