//! Running a handler: the session's handler permits, the call's deadline, panics caught,
//! and a warning for a synchronous handler that holds the read loop.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::CatchUnwind;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;

use super::dispatch::Later;
use super::{Session, inherit};
use crate::cancel::Cancel;
use crate::context::{Incoming, META_TIMEOUT};
use crate::message::Message;
use crate::router::Handling;
use crate::socket::Socket;
use crate::status::{self, Status};

/// The deadline of a call's handler: the shorter of the caller's remaining time (meta
/// `X-Tp-Timeout`) and the session's context age, both counted from when the call was read.
/// A remaining time that does not parse or is out of range is ignored (logged once per
/// session): the peer's own limits apply.
pub(super) fn call_deadline(session: &Session, msg: &Message, read_at: Instant) -> Option<Instant> {
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

pub(super) fn past_deadline() -> Status {
    Status::with_code(status::CODE_HANDLE_TIMEOUT, "the call's deadline passed in its handler")
}

/// A call handled in a task of its own, listed in its socket's running calls while the
/// guard lives.
pub(super) struct Running {
    socket: Arc<Socket>,
    seq: i32,
}

impl Running {
    pub(super) fn new(socket: &Arc<Socket>, seq: i32, cancel: Arc<Cancel>) -> Self {
        socket.running.insert(seq, cancel);
        Running { socket: socket.clone(), seq }
    }

    /// False once something else answered the call (a shutdown past its grace period).
    pub(super) fn still_running(&self) -> bool {
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
pub(super) fn with_permit<'a>(
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
pub(super) enum Started<T> {
    Done(T),
    Running(CatchUnwind<AssertUnwindSafe<crate::boxed::BoxFuture<'static, T>>>),
}

/// Runs the body hooks and starts the handler (`begin`), turning a refusal or a panic
/// into the outcome. A synchronous handler that holds the read loop longer than the peer's
/// `sync_handler_warning` is named in a warning, once per route.
pub(super) fn start<T>(
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
pub(super) async fn while_open<T>(socket: &Socket, running: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        biased;
        outcome = running => Some(outcome),
        () = socket.closed() => None,
    }
}

/// Awaits a call's handler until its deadline: past it, the handler is dropped and its
/// outcome is 408.
pub(super) async fn within_deadline<T>(
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
pub(super) async fn within_context_age<T>(
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

pub(super) fn panicked(route: &str, panic: Box<dyn Any + Send>) -> Status {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
    tracing::error!(route, panic = %text, "handler panicked");
    Status::with_code(status::CODE_INTERNAL_SERVER_ERROR, format!("handler panicked: {text}"))
}
