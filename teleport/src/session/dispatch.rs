//! The read loop of a connection: reads frames and dispatches them.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use futures_util::future::CatchUnwind;
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;
// Tokio's clock, so that the frame deadline follows paused test time.
use tokio::time::Instant;

use super::Session;
use crate::context::{CallCtx, Incoming, PushCtx};
use crate::message::{Message, MessageType};
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
    Malformed(crate::proto::ProtoError),
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
                    if let Err(status) =
                        dispatch(session, socket, &limit, &mut routes, read_at, msg).await
                    {
                        return Ended::Refused(status);
                    }
                }
                Ok(None) => break,
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

async fn dispatch(
    session: &Session,
    socket: &Arc<Socket>,
    limit: &Arc<Semaphore>,
    routes: &mut RouteSnapshot,
    read_at: Instant,
    msg: Message,
) -> Result<(), Status> {
    let plugins = session.peer().plugins();
    if !plugins.is_empty() {
        plugins.run(|p| p.pre_read_header(session))?;
    }
    match msg.mtype {
        MessageType::Reply | MessageType::AuthReply => match socket.pending.take(msg.seq) {
            Some(slot) => {
                let _ = slot.send(Ok(msg));
            }
            None => tracing::debug!(seq = msg.seq, "late or unknown reply discarded"),
        },
        _ if !socket.gate_is_open() => {
            // Before the connect plugins are done, the first message waits for them (an auth
            // plugin takes it); reading stops until the session opens.
            socket.park_early(msg);
            socket.gate_opened().await;
            if !socket.gate_is_open() {
                // Closed before it opened (a connect plugin refused): dispatch nothing more,
                // not even the frames already buffered behind this one.
                return Err(Status::with_code(
                    status::CODE_CONN_CLOSED,
                    "closed before the session opened",
                ));
            }
            if let Some(msg) = socket.take_early() {
                Box::pin(dispatch(session, socket, limit, routes, read_at, msg)).await?;
            }
        }
        MessageType::Call => handle_call(session, socket, limit, routes, read_at, msg).await,
        MessageType::Push => handle_push(session, limit, routes, read_at, msg).await,
        MessageType::AuthCall => {
            let status =
                Status::with_code(status::CODE_MTYPE_NOT_ALLOWED, "no auth plugin on this peer");
            let mut reply = error_reply(&msg, status);
            reply.mtype = MessageType::AuthReply;
            let _ = socket.send(&reply).await;
        }
    }
    Ok(())
}

async fn handle_call(
    session: &Session,
    socket: &Arc<Socket>,
    limit: &Arc<Semaphore>,
    routes: &mut RouteSnapshot,
    read_at: Instant,
    mut msg: Message,
) {
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
        (Err(status), _) => return send_reply(&ctx, socket, Err(status)).await,
        (Ok(()), None) => {
            return send_reply(&ctx, socket, Err(Status::with_code(status::CODE_NOT_FOUND, "")))
                .await;
        }
        (Ok(()), Some(route)) => route,
    };
    let in_flight = peer.track_handler();
    // Most handlers (every sync method of a service) are done at once or at their first
    // poll: then the reply is written from this read loop, with no task spawned and no
    // thread woken.
    let mut running = match start(&route.name, || {
        ctx.route_plugins().run(|p| p.pre_read_call_body(&ctx))?;
        Ok((route.handler)(ctx.clone()))
    }) {
        Started::Done(result) => return send_reply(&ctx, socket, result).await,
        Started::Running(running) => running,
    };
    if let Some(outcome) = (&mut running).now_or_never() {
        let result = outcome.unwrap_or_else(|panic| Err(panicked(&route.name, panic)));
        return send_reply(&ctx, socket, result).await;
    }
    // Not done: it goes on in its own task, holding one of the session's handler permits
    // (the read loop waits for a permit, which pushes back on the peer).
    let Ok(permit) = limit.clone().acquire_owned().await else { return };
    let (socket, route) = (socket.clone(), route.clone());
    tokio::spawn(async move {
        let outcome = within_context_age(&ctx, running)
            .await
            .unwrap_or_else(|| Ok(Err(context_age_passed())));
        let result = outcome.unwrap_or_else(|panic| Err(panicked(&route.name, panic)));
        send_reply(&ctx, &socket, result).await;
        drop((in_flight, permit));
    });
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
/// age; `None` when the age passed.
async fn within_context_age<F: Future>(ctx: &Incoming, running: F) -> Option<F::Output> {
    let age = ctx.session().context_age();
    if age.is_zero() {
        return Some(running.await);
    }
    tokio::time::timeout(age, running).await.ok()
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

async fn send_reply(ctx: &CallCtx, socket: &Socket, result: Result<Bytes, Status>) {
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
    let plugins = ctx.route_plugins();
    if let Err(status) = plugins.run(|p| p.pre_write_reply(ctx, &mut reply)) {
        reply = error_reply(ctx.input(), status);
    }
    let written = match socket.try_send(&reply) {
        Ok(Some(size)) => Ok(size),
        Ok(None) => socket.send(&reply).await,
        Err(e) => Err(e),
    };
    let written = match written {
        Err(SendError::Encode(e)) => {
            tracing::warn!(route = ctx.path(), error = %e, "reply could not be written");
            let status = Status::with_code(status::CODE_WRITE_FAILED, e.to_string());
            reply = error_reply(ctx.input(), status);
            socket.send(&reply).await
        }
        other => other,
    };
    if let Ok(size) = written {
        ctx.session().touch_write();
        let _ = plugins.run(|p| p.post_write_reply(ctx, &reply));
        log_handled(ctx, "call", &reply.status, size);
    }
}

async fn handle_push(
    session: &Session,
    limit: &Arc<Semaphore>,
    routes: &mut RouteSnapshot,
    read_at: Instant,
    mut msg: Message,
) {
    let peer = session.peer();
    if let Err(status) = peer.plugins().run(|p| p.post_read_push_header(session, &mut msg)) {
        tracing::debug!(route = msg.path(), %status, "push refused by a plugin");
        return;
    }
    let Some(route) = peer.routes(routes).push(msg.path()) else {
        tracing::info!(route = msg.path(), remote = %session.remote_addr(), "push to an unknown route dropped");
        return;
    };
    let ctx = PushCtx::new(session.clone(), msg, route.plugins.clone(), read_at.into_std());
    let in_flight = peer.track_handler();
    let mut running = match start(&route.name, || {
        ctx.route_plugins().run(|p| p.pre_read_push_body(&ctx))?;
        Ok((route.handler)(ctx.clone()))
    }) {
        Started::Done(result) => return push_done(route, &ctx, Ok(result)),
        Started::Running(running) => running,
    };
    if let Some(outcome) = (&mut running).now_or_never() {
        return push_done(route, &ctx, outcome);
    }
    let Ok(permit) = limit.clone().acquire_owned().await else { return };
    let route = route.clone();
    tokio::spawn(async move {
        let outcome = within_context_age(&ctx, running)
            .await
            .unwrap_or_else(|| Ok(Err(context_age_passed())));
        push_done(&route, &ctx, outcome);
        drop((in_flight, permit));
    });
}

fn push_done(route: &PushRoute, ctx: &PushCtx, outcome: std::thread::Result<Result<(), Status>>) {
    let status = match outcome.unwrap_or_else(|panic| Err(panicked(&route.name, panic))) {
        Ok(()) => Status::OK,
        Err(status) => status,
    };
    log_handled(ctx, "push", &status, 0);
}

fn context_age_passed() -> Status {
    Status::with_code(status::CODE_HANDLE_TIMEOUT, "the handler exceeded the context age")
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
