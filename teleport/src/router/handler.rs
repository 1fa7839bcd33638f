//! Handler functions: typed closures wrapped into the shape the router stores.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;

use crate::codec::{CodecError, DecodeBody, EncodeBody, encode_to_bytes};
use crate::context::{CallCtx, PushCtx};
use crate::status::{self, Status};
use crate::transport::BoxFuture;

/// A stored call handler: takes the context, returns the encoded reply body.
pub type CallHandler =
    Arc<dyn Fn(CallCtx) -> BoxFuture<'static, Result<Bytes, Status>> + Send + Sync>;
/// A stored push handler.
pub type PushHandler = Arc<dyn Fn(PushCtx) -> BoxFuture<'static, Result<(), Status>> + Send + Sync>;

/// The 400 status of a body that does not decode, as Go eRPC answers it.
pub(crate) fn bad_body(e: CodecError) -> Status {
    Status::with_code(status::CODE_BAD_MESSAGE, e.to_string())
}

fn bad_reply(e: CodecError) -> Status {
    Status::with_code(status::CODE_INTERNAL_SERVER_ERROR, format!("reply body: {e}"))
}

/// Wraps `f(ctx, arg)`: the body is decoded into `A` before it runs (a failure is answered
/// 400), and its `R` is encoded in the reply codec.
pub fn call_handler<A, R, F, Fut>(f: F) -> CallHandler
where
    A: DecodeBody + Send + 'static,
    R: EncodeBody + Send + 'static,
    F: Fn(CallCtx, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Status>> + Send + 'static,
{
    Arc::new(move |ctx: CallCtx| {
        let arg = match decode_call_body::<A>(&ctx) {
            Ok(arg) => arg,
            Err(status) => return Box::pin(std::future::ready(Err(status))),
        };
        let reply = f(ctx.clone(), arg);
        Box::pin(async move {
            let value = reply.await?;
            encode_to_bytes(&value, ctx.reply_codec()).map_err(bad_reply)
        })
    })
}

/// Wraps an unknown-call handler: it sees the body still encoded and returns a body that
/// is encoded in the reply codec (a [`RawBody`](crate::codec::RawBody) passes through).
pub fn raw_call_handler<R, F, Fut>(f: F) -> CallHandler
where
    R: EncodeBody + Send + 'static,
    F: Fn(CallCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Status>> + Send + 'static,
{
    Arc::new(move |ctx: CallCtx| {
        let reply = f(ctx.clone());
        Box::pin(async move {
            let value = reply.await?;
            encode_to_bytes(&value, ctx.reply_codec()).map_err(bad_reply)
        })
    })
}

/// Wraps `f(ctx, arg)` for a push route: the body is decoded into `A` first (a failure
/// drops the push with a log line).
pub fn push_handler<A, F, Fut>(f: F) -> PushHandler
where
    A: DecodeBody + Send + 'static,
    F: Fn(PushCtx, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Status>> + Send + 'static,
{
    Arc::new(move |ctx: PushCtx| {
        let arg = match A::decode_message(ctx.input()) {
            Ok(arg) => arg,
            Err(status) => return Box::pin(std::future::ready(Err(status))),
        };
        if let Err(status) = ctx.route_plugins().run(|p| p.post_read_push_body(&ctx)) {
            return Box::pin(std::future::ready(Err(status)));
        }
        Box::pin(f(ctx, arg))
    })
}

/// Wraps an unknown-push handler, which sees the body still encoded.
pub fn raw_push_handler<F, Fut>(f: F) -> PushHandler
where
    F: Fn(PushCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Status>> + Send + 'static,
{
    Arc::new(move |ctx: PushCtx| Box::pin(f(ctx)))
}

fn decode_call_body<A: DecodeBody>(ctx: &CallCtx) -> Result<A, Status> {
    let arg = A::decode_message(ctx.input())?;
    ctx.route_plugins().run(|p| p.post_read_call_body(ctx))?;
    Ok(arg)
}
