//! Replies: the message a handler's outcome becomes, written at once when the write queue
//! has room; once written, the call is observed as ended (`observe`).

use bytes::Bytes;

use super::dispatch::Later;
use crate::context::CallCtx;
use crate::message::{Message, MessageType};
use crate::socket::{SendError, Socket};
use crate::status::{self, Status};

pub(super) fn error_reply(input: &Message, status: Status) -> Message {
    let mut reply = Message::new(MessageType::Reply, input.seq, "");
    reply.status = status;
    reply.xfer_pipe = input.xfer_pipe.clone();
    reply
}

/// Writes the reply of a handler that finished in the read loop; what cannot be written
/// yet (a full queue) is left to await.
pub(super) fn reply_now(
    ctx: CallCtx,
    socket: &Socket,
    result: Result<Bytes, Status>,
) -> Option<Later<'_>> {
    let reply = reply_message(&ctx, result);
    let reply = send_now(&ctx, socket, reply)?;
    Some(Box::pin(async move {
        send_later(&ctx, socket, reply).await;
        Ok(())
    }))
}

/// Writes the reply of a handler that ran in a task of its own.
pub(super) async fn send_reply(ctx: &CallCtx, socket: &Socket, result: Result<Bytes, Status>) {
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
