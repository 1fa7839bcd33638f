//! Dispatch: what each message read from a connection leads to (a reply matched to its
//! call, a call or push routed to its handler, an answer to what cannot be handled).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::handling::{
    Running, Started, call_deadline, panicked, past_deadline, start, while_open, with_permit,
    within_context_age, within_deadline,
};
use super::handshake::Handshaken;
use super::reply::{error_reply, reply_now, send_reply};
use super::{Session, inherit};
use crate::context::{CallCtx, PushCtx, ROUTE_CANCEL};
use crate::message::{Message, MessageType};
use crate::proto::ProtoError;
use crate::router::{PushRoute, RouteSnapshot};
use crate::socket::Socket;
use crate::status::{self, Status};

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
pub(super) fn bad_message<'a>(
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
pub(super) type Later<'a> = Pin<Box<dyn Future<Output = Result<(), Status>> + Send + 'a>>;

/// Handles one message as far as it can without waiting; returns what must be awaited
/// before the next message, if anything. An error closes the connection.
pub(super) fn dispatch<'a>(
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
    let route = peer.route_table().routes(routes).call(msg.path());
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
    let Some(route) = peer.route_table().routes(routes).push(msg.path()) else {
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
