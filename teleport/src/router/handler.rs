//! Handler functions: typed closures wrapped into the shape the router stores.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;

use crate::boxed::BoxFuture;
use crate::codec::{CodecError, DecodeBody, EncodeBody, encode_to_bytes};
use crate::context::{CallCtx, PushCtx};
use crate::status::{self, Status};

/// A stored call handler: takes the context, returns the encoded reply body.
pub(crate) type CallHandler = Arc<dyn Fn(CallCtx) -> Handling<Result<Bytes, Status>> + Send + Sync>;
/// A stored push handler.
pub(crate) type PushHandler = Arc<dyn Fn(PushCtx) -> Handling<Result<(), Status>> + Send + Sync>;

/// What a stored handler returns when it is started.
pub(crate) enum Handling<T> {
    /// It finished without waiting (a synchronous handler, or a refusal before it ran):
    /// the read loop answers at once, with no future allocated.
    Done(T),
    /// It goes on as a future. One that is ready at its first poll is still answered from
    /// the read loop; the others run in a task of their own.
    Running(BoxFuture<'static, T>),
}

/// The 400 status of a body that does not decode, as Go eRPC answers it.
pub(crate) fn bad_body(e: CodecError) -> Status {
    Status::with_code(status::CODE_BAD_MESSAGE, e.to_string())
}

fn bad_reply(e: CodecError) -> Status {
    Status::with_code(status::CODE_INTERNAL_SERVER_ERROR, format!("reply body: {e}"))
}

/// Wraps `f(ctx, arg)`: the body is decoded into `A` before it runs (a failure is answered
/// 400), and its `R` is encoded in the reply codec.
pub(crate) fn call_handler<A, R, F, Fut>(f: F) -> CallHandler
where
    A: DecodeBody + Send + 'static,
    R: EncodeBody + Send + 'static,
    F: Fn(CallCtx, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Status>> + Send + 'static,
{
    Arc::new(move |ctx: CallCtx| {
        let arg = match decode_call_body::<A>(&ctx) {
            Ok(arg) => arg,
            Err(status) => return Handling::Done(Err(status)),
        };
        let reply = f(ctx.clone(), arg);
        Handling::Running(Box::pin(async move {
            let value = reply.await?;
            encode_to_bytes(&value, ctx.reply_codec()).map_err(bad_reply)
        }))
    })
}

/// Wraps a synchronous `f(&ctx, arg)`: it runs as soon as the body is decoded, on the
/// read loop's thread, and its reply is written at once. For handlers that never wait
/// (what `#[service]` generates for a method that is not `async`); one that blocks stalls
/// its connection.
pub(crate) fn sync_call_handler<A, R, F>(f: F) -> CallHandler
where
    A: DecodeBody + Send + 'static,
    R: EncodeBody + Send + 'static,
    F: Fn(&CallCtx, A) -> Result<R, Status> + Send + Sync + 'static,
{
    Arc::new(move |ctx: CallCtx| {
        let reply = decode_call_body::<A>(&ctx)
            .and_then(|arg| f(&ctx, arg))
            .and_then(|value| encode_to_bytes(&value, ctx.reply_codec()).map_err(bad_reply));
        Handling::Done(reply)
    })
}

/// Wraps a blocking `f(&ctx, arg)`: once the body is decoded, it runs on tokio's blocking
/// thread pool (what `#[service]` generates for a `#[tp(blocking)]` method). A panic in it
/// is answered 500 like any handler's.
pub(crate) fn blocking_call_handler<A, R, F>(f: F) -> CallHandler
where
    A: DecodeBody + Send + 'static,
    R: EncodeBody + Send + 'static,
    F: Fn(&CallCtx, A) -> Result<R, Status> + Send + Sync + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |ctx: CallCtx| {
        let arg = match decode_call_body::<A>(&ctx) {
            Ok(arg) => arg,
            Err(status) => return Handling::Done(Err(status)),
        };
        let (f, on_pool) = (f.clone(), ctx.clone());
        Handling::Running(Box::pin(async move {
            let value = on_blocking_pool(move || f(&on_pool, arg)).await?;
            encode_to_bytes(&value, ctx.reply_codec()).map_err(bad_reply)
        }))
    })
}

/// Wraps a blocking push handler (see [`blocking_call_handler`]).
pub(crate) fn blocking_push_handler<A, F>(f: F) -> PushHandler
where
    A: DecodeBody + Send + 'static,
    F: Fn(&PushCtx, A) -> Result<(), Status> + Send + Sync + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |ctx: PushCtx| match decode_push_body::<A>(&ctx) {
        Ok(arg) => {
            let f = f.clone();
            Handling::Running(Box::pin(on_blocking_pool(move || f(&ctx, arg))))
        }
        Err(status) => Handling::Done(Err(status)),
    })
}

/// Runs `f` on tokio's blocking pool; its panic goes on unwinding in the awaiting task,
/// where the dispatcher catches it.
async fn on_blocking_pool<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(Status::with_code(
            status::CODE_INTERNAL_SERVER_ERROR,
            "the blocking handler was cancelled",
        )),
    }
}

/// Wraps an unknown-call handler: it sees the body still encoded and returns a body that
/// is encoded in the reply codec (a [`RawBody`](crate::codec::RawBody) passes through).
pub(crate) fn raw_call_handler<R, F, Fut>(f: F) -> CallHandler
where
    R: EncodeBody + Send + 'static,
    F: Fn(CallCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Status>> + Send + 'static,
{
    Arc::new(move |ctx: CallCtx| {
        let reply = f(ctx.clone());
        Handling::Running(Box::pin(async move {
            let value = reply.await?;
            encode_to_bytes(&value, ctx.reply_codec()).map_err(bad_reply)
        }))
    })
}

/// Wraps `f(ctx, arg)` for a push route: the body is decoded into `A` first (a failure
/// drops the push with a log line).
pub(crate) fn push_handler<A, F, Fut>(f: F) -> PushHandler
where
    A: DecodeBody + Send + 'static,
    F: Fn(PushCtx, A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Status>> + Send + 'static,
{
    Arc::new(move |ctx: PushCtx| match decode_push_body::<A>(&ctx) {
        Ok(arg) => Handling::Running(Box::pin(f(ctx, arg))),
        Err(status) => Handling::Done(Err(status)),
    })
}

/// Wraps a synchronous push handler `f(&ctx, arg)`, run on the read loop's thread as soon
/// as the body is decoded (see [`sync_call_handler`]).
pub(crate) fn sync_push_handler<A, F>(f: F) -> PushHandler
where
    A: DecodeBody + Send + 'static,
    F: Fn(&PushCtx, A) -> Result<(), Status> + Send + Sync + 'static,
{
    Arc::new(move |ctx: PushCtx| {
        Handling::Done(decode_push_body::<A>(&ctx).and_then(|arg| f(&ctx, arg)))
    })
}

/// Wraps an unknown-push handler, which sees the body still encoded.
pub(crate) fn raw_push_handler<F, Fut>(f: F) -> PushHandler
where
    F: Fn(PushCtx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Status>> + Send + 'static,
{
    Arc::new(move |ctx: PushCtx| Handling::Running(Box::pin(f(ctx))))
}

fn decode_push_body<A: DecodeBody>(ctx: &PushCtx) -> Result<A, Status> {
    let arg = A::decode_message(ctx.input(), ctx.peer().config().max_frame)?;
    ctx.route_plugins().run(|p| p.post_read_push_body(ctx))?;
    Ok(arg)
}

fn decode_call_body<A: DecodeBody>(ctx: &CallCtx) -> Result<A, Status> {
    let arg = A::decode_message(ctx.input(), ctx.peer().config().max_frame)?;
    ctx.route_plugins().run(|p| p.post_read_call_body(ctx))?;
    Ok(arg)
}
