//! Handler contexts: what a call or push handler knows about the message it handles.

use std::ops::Deref;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::cancel::Cancel;
use crate::message::{Message, Meta, MetaError};
use crate::observe::{Handled, TraceContext};
use crate::peer::Peer;
use crate::plugin::Plugins;
use crate::session::Session;
use crate::xfer::XferPipe;

/// The meta key by which a caller asks for the reply's body codec (decimal codec id).
pub const META_ACCEPT_BODY_CODEC: &str = "X-Accept-Body-Codec";
/// The meta key a proxy sets to the original client's IP.
pub const META_REAL_IP: &str = "X-Real-IP";
/// The meta key by which a call carries its caller's remaining time: whole milliseconds,
/// relative, so that the two clocks need not agree. The callee's handler gets the shorter
/// of it and the callee's own limits as its deadline. A Go eRPC peer ignores it.
pub const META_TIMEOUT: &str = "X-Tp-Timeout";
/// The reserved push route by which a caller that stopped waiting for a call (it was
/// dropped, or its deadline passed) tells the callee: the body is the call's seq in
/// decimal (plain codec). A Go eRPC peer drops it as a push to an unknown route.
pub const ROUTE_CANCEL: &str = "/_tp/cancel";
/// The meta key that counts how many times a message was forwarded (decimal; absent: 0).
/// A Go eRPC peer passes it on as ordinary meta.
pub const META_HOPS: &str = "X-Tp-Hops";

/// What every handler context offers: the session and the received message.
pub struct Incoming {
    session: Session,
    input: Message,
    received_at: Instant,
    plugins: Plugins,
    /// The message's span and trace context (observe).
    observed: Handled,
}

impl Incoming {
    fn new(session: Session, input: Message, received_at: Instant, plugins: Plugins) -> Self {
        let observed = Handled::new(&session, &input);
        Incoming { session, input, received_at, plugins, observed }
    }

    /// The peer that received the message.
    pub fn peer(&self) -> &Peer {
        self.session.peer()
    }

    /// The session the message came on: push or call back through it.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The message's sequence number.
    pub fn seq(&self) -> i32 {
        self.input.seq
    }

    /// The full service method, with its `?query` if any.
    pub fn service_method(&self) -> &str {
        &self.input.service_method
    }

    /// The route path (the service method without its query).
    pub fn path(&self) -> &str {
        self.input.path()
    }

    /// The raw query after `?`, if any.
    pub fn raw_query(&self) -> Option<&str> {
        self.input.raw_query()
    }

    /// The query, parsed.
    pub fn query(&self) -> Result<Meta, MetaError> {
        self.input.query()
    }

    /// The received meta.
    pub fn input_meta(&self) -> &Meta {
        &self.input.meta
    }

    /// The received body, still encoded.
    pub fn body(&self) -> &Bytes {
        &self.input.body
    }

    /// The received body's codec id (0 for none).
    pub fn body_codec(&self) -> u8 {
        self.input.body_codec
    }

    /// The transfer filters of the received frame.
    pub fn xfer_pipe(&self) -> &XferPipe {
        &self.input.xfer_pipe
    }

    /// The whole received message.
    pub fn input(&self) -> &Message {
        &self.input
    }

    /// The message to forward upstream, for a proxy or an unknown-route handler: the same
    /// type, service method, meta, body codec and body (still encoded), with the hop count
    /// ([`META_HOPS`]) one higher. A message that was already forwarded the peer's
    /// `max_hops` times (or carries a hop count that does not parse) is refused with 508
    /// Loop Detected instead: a proxy pointed at itself ends at once rather than filling
    /// every handler slot.
    pub fn forward_message(&self) -> Result<Message, crate::status::Status> {
        use crate::status::{CODE_LOOP_DETECTED, Status};
        let max = self.peer().config().max_hops;
        let hops = match self.input.meta.get(META_HOPS) {
            None => 0,
            Some(text) => text.parse::<u32>().unwrap_or(u32::MAX),
        };
        if hops >= max {
            let cause = format!("forwarded {hops} times already; max_hops is {max}");
            return Err(Status::with_code(CODE_LOOP_DETECTED, cause));
        }
        let input = &self.input;
        let mut msg = Message::new(input.mtype, 0, input.service_method.clone());
        msg.meta = input.meta.clone();
        msg.meta.set(META_HOPS, (hops + 1).to_string());
        msg.body_codec = input.body_codec;
        msg.body = input.body.clone();
        Ok(msg)
    }

    /// The plugins in force for this message: the peer's, then its group's and route's.
    pub(crate) fn route_plugins(&self) -> &Plugins {
        &self.plugins
    }

    /// When the message was read.
    pub fn received_at(&self) -> Instant {
        self.received_at
    }

    /// The W3C trace context of this message, which calls the handler makes carry on: its
    /// span's own when the span is recorded (a child of the caller's, or a new trace), else
    /// the caller's as it came in meta `traceparent` / `tracestate`; `None` when untraced.
    pub fn trace_context(&self) -> Option<&TraceContext> {
        self.observed.trace()
    }

    pub(crate) fn observed(&self) -> &Handled {
        &self.observed
    }

    /// The client's IP: meta `X-Real-IP` when a proxy set it, else the socket's address.
    ///
    /// `X-Real-IP` is whatever the sender wrote; only trust it from proxies you run.
    pub fn real_ip(&self) -> String {
        match self.input.meta.get(META_REAL_IP) {
            Some(ip) if !ip.is_empty() => ip.to_owned(),
            _ => {
                let remote = self.session.remote_addr();
                remote.ip().map_or_else(|| remote.to_string(), |ip| ip.to_string())
            }
        }
    }
}

struct CallState {
    incoming: Incoming,
    output_meta: Mutex<Meta>,
    reply_codec: AtomicU8,
    deadline: Option<Instant>,
    /// Made when first needed: a handler that finishes at once is never cancelled.
    cancel: OnceLock<Arc<Cancel>>,
}

/// The context of a call handler. Cheap to clone.
#[derive(Clone)]
pub struct CallCtx {
    state: Arc<CallState>,
}

/// The context of an unknown-call handler: the same as a call's, the body left encoded.
pub type UnknownCallCtx = CallCtx;

impl CallCtx {
    pub(crate) fn new(
        session: Session,
        input: Message,
        plugins: Plugins,
        received_at: Instant,
        deadline: Option<Instant>,
    ) -> Self {
        CallCtx {
            state: Arc::new(CallState {
                incoming: Incoming::new(session, input, received_at, plugins),
                output_meta: Mutex::new(Meta::new()),
                reply_codec: AtomicU8::new(0),
                deadline,
                cancel: OnceLock::new(),
            }),
        }
    }

    /// When the handler's time is up: the shorter of the caller's remaining time (meta
    /// [`META_TIMEOUT`], counted from when the call was read) and the session's context
    /// age. Past it the call is answered 408 and the handler is dropped. `None`: no limit.
    ///
    /// Calls the handler makes on its own task inherit this deadline (a nested call's own
    /// timeout can only shorten it), so a budget shrinks hop by hop along a chain.
    pub fn deadline(&self) -> Option<Instant> {
        self.state.deadline
    }

    /// The time left until [`deadline`](Self::deadline) (zero once it passed); `None`
    /// without a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.state.deadline.map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Whether the caller cancelled the call (it stopped waiting, or its deadline passed).
    /// The dispatcher drops the handler's future then; work the handler handed elsewhere (a
    /// blocking thread, a spawned task) can poll this to stop early.
    pub fn is_cancelled(&self) -> bool {
        self.state.cancel.get().is_some_and(|cancel| cancel.is_cancelled())
    }

    /// Waits until the caller cancels the call (see [`is_cancelled`](Self::is_cancelled)).
    /// Cancel-safe.
    pub async fn cancelled(&self) {
        self.cancel_signal().cancelled().await;
    }

    pub(crate) fn cancel_signal(&self) -> &Arc<Cancel> {
        self.state.cancel.get_or_init(Arc::default)
    }

    /// Sets a meta pair on the reply, replacing the key's first value.
    pub fn set_meta(&self, key: impl Into<String>, value: impl Into<String>) {
        self.state.output_meta.lock().set(key, value);
    }

    /// Adds a meta pair to the reply.
    pub fn add_meta(&self, key: impl Into<String>, value: impl Into<String>) {
        self.state.output_meta.lock().add(key, value);
    }

    /// A copy of the reply's meta so far.
    pub fn output_meta(&self) -> Meta {
        self.state.output_meta.lock().clone()
    }

    pub(crate) fn take_output_meta(&self) -> Meta {
        std::mem::take(&mut *self.state.output_meta.lock())
    }

    /// Chooses the reply's body codec, overriding the caller's wish.
    pub fn set_reply_codec(&self, codec: u8) {
        self.state.reply_codec.store(codec, Ordering::Relaxed);
    }

    /// The reply's body codec, as Go eRPC picks it: the handler's choice, else the
    /// caller's `X-Accept-Body-Codec`, else the call's own codec, else the peer's default.
    pub fn reply_codec(&self) -> u8 {
        let chosen = self.state.reply_codec.load(Ordering::Relaxed);
        if chosen != 0 {
            return chosen;
        }
        let accepted = self.input_meta().get(META_ACCEPT_BODY_CODEC).and_then(|v| v.parse().ok());
        match accepted {
            Some(codec) if codec != 0 => codec,
            _ if self.body_codec() != 0 => self.body_codec(),
            _ => self.peer().default_codec(),
        }
    }
}

impl Deref for CallCtx {
    type Target = Incoming;
    fn deref(&self) -> &Incoming {
        &self.state.incoming
    }
}

/// The context of a push handler. Cheap to clone.
#[derive(Clone)]
pub struct PushCtx {
    incoming: Arc<Incoming>,
}

/// The context of an unknown-push handler: the same as a push's, the body left encoded.
pub type UnknownPushCtx = PushCtx;

impl PushCtx {
    pub(crate) fn new(
        session: Session,
        input: Message,
        plugins: Plugins,
        received_at: Instant,
    ) -> Self {
        PushCtx { incoming: Arc::new(Incoming::new(session, input, received_at, plugins)) }
    }
}

impl Deref for PushCtx {
    type Target = Incoming;
    fn deref(&self) -> &Incoming {
        &self.incoming
    }
}
