//! What a peer tells about its traffic: a `tracing` span per call and push on each side,
//! W3C trace context carried in meta, Go Teleport's detail and slow lines, and metrics.
//!
//! - **Spans** (target `teleport::rpc`, level `INFO`): `call` or `push`, with `side`
//!   (`client` or `server`), `route`, `seq`, `remote`, `session`, `codec`, and when it ends
//!   `code` and `elapsed_us`; `trace_id`, `span_id` and `parent_span_id` when recorded; and
//!   `otel.name` / `otel.kind` / `otel.status_code` for `tracing-opentelemetry`. A handler
//!   runs inside its span. With no subscriber, or one that leaves the target out, no span
//!   is made and nothing is formatted.
//! - **Trace context**: a call or push carries meta `traceparent` (and `tracestate`) when
//!   its span is recorded: a child of the context it inherits (the handler's, when a handler
//!   makes it; else one its meta already holds), or the root of a new trace. A new trace id
//!   is only made for a recorded span, so an untraced peer adds nothing to the wire; it
//!   passes on a context it received, unchanged, to the calls its handlers make (the proxy
//!   plugin too). A Go peer sees ordinary meta.
//! - **Lines** (target `teleport::detail`): see the `detail` settings of `PeerConfig`
//!   (`print_detail`, `print_body_max`, `count_time`, `slow_comet_duration`).
//! - **Metrics** (feature `metrics`): see the table in the README's "Operating it".

mod detail;
pub(crate) mod metrics;
mod span;
mod trace;

use std::time::Instant;

use bytes::Bytes;
use tracing::Span;

pub use trace::{META_TRACEPARENT, META_TRACESTATE, TraceContext};

use crate::context::{Incoming, META_REAL_IP};
use crate::message::{Message, MessageType, Meta};
use crate::session::Session;
use crate::status::Status;
#[cfg(feature = "metrics")]
use metrics::Side;

/// The target of the call and push spans.
pub(crate) const TARGET_RPC: &str = "teleport::rpc";
/// The target of the per-message lines.
pub(crate) const TARGET_DETAIL: &str = "teleport::detail";

/// What is observed of a message handled here, kept in its handler's context.
pub(crate) struct Handled {
    span: Span,
    trace: Option<TraceContext>,
    #[cfg(feature = "metrics")]
    metrics: std::sync::Arc<metrics::RouteMetrics>,
}

impl Handled {
    /// Opens the span of `input`, read on `session`, under the trace context it carries.
    pub(crate) fn new(session: &Session, input: &Message) -> Self {
        let span = span::incoming(session, input);
        let parent =
            if input.meta.is_empty() { None } else { TraceContext::from_meta(&input.meta) };
        let trace = span::open(&span, parent);
        #[cfg(feature = "metrics")]
        let metrics = {
            let metrics = metrics::route(Side::Server, input.path());
            metrics.began(input.mtype == MessageType::Push);
            metrics
        };
        Handled {
            span,
            trace,
            #[cfg(feature = "metrics")]
            metrics,
        }
    }

    /// The message's span (disabled when nothing records it).
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// The trace context calls made by the handler inherit.
    pub(crate) fn trace(&self) -> Option<&TraceContext> {
        self.trace.as_ref()
    }
}

#[cfg(feature = "metrics")]
impl Drop for Handled {
    fn drop(&mut self) {
        self.metrics.left();
    }
}

/// Ends a message handled here, answered with `reply` (a call) or ended with `status` (a
/// push): its span's status and duration, its line, its metrics.
pub(crate) fn handled(ctx: &Incoming, reply: Option<&Message>, status: &Status) {
    let config = ctx.peer().config();
    let observed = ctx.observed();
    let line = detail::wanted(config);
    if observed.span.is_disabled() && !line && !cfg!(feature = "metrics") {
        return;
    }
    let elapsed = ctx.received_at().elapsed();
    span::close(&observed.span, status, elapsed);
    #[cfg(feature = "metrics")]
    {
        let out = reply.map_or(0, |r| r.body.len());
        observed.metrics.ended(status, elapsed, ctx.body().len(), out);
        metrics::queued_bytes(ctx.peer().outbound_stats().queued_bytes);
    }
    if !line {
        return;
    }
    let input = ctx.input();
    let remote = ctx.session().remote_addr().to_string();
    let push = input.mtype == MessageType::Push;
    let first = part(input, None);
    let push_status = (push && !status.is_ok()).then_some(status);
    detail::log(
        config,
        &detail::Line {
            arrow: if push { "PUSH<-" } else { "CALL<-" },
            remote: &remote,
            real_ip: input.meta.get(META_REAL_IP),
            route: &input.service_method,
            first: detail::Part { status: push_status, ..first },
            second: reply.map(|r| part(r, Some(&r.status))),
            cost: config.count_time.then_some(elapsed),
        },
    );
}

fn part<'a>(msg: &'a Message, status: Option<&'a Status>) -> detail::Part<'a> {
    detail::Part {
        seq: msg.seq,
        mtype: msg.mtype,
        status,
        meta: &msg.meta,
        codec: msg.body_codec,
        body: &msg.body,
    }
}

/// What is observed of a call or push sent from here, from its start to its end.
pub(crate) struct Outgoing {
    span: Span,
    started: Option<Instant>,
    /// What the line shows of the request, kept when a line may be logged.
    sent: Option<Box<Sent>>,
    bytes_out: usize,
    #[cfg(feature = "metrics")]
    metrics: Option<std::sync::Arc<metrics::RouteMetrics>>,
}

struct Sent {
    route: String,
    seq: i32,
    meta: Meta,
    codec: u8,
    body: Bytes,
}

impl Outgoing {
    /// Opens the span of `msg`, to be sent on `session`, and writes its trace context into
    /// its meta: a child of `inherited` (the context of the handler making the call) or of
    /// the one its meta holds, or a new trace; untraced, `inherited` as it is.
    pub(crate) fn start(
        session: &Session,
        msg: &mut Message,
        push: bool,
        inherited: Option<TraceContext>,
    ) -> Self {
        let span = span::outgoing(session, msg, push);
        let config = session.peer().config();
        let line = detail::wanted(config);
        let from_handler = inherited.is_some();
        let parent = inherited.or_else(|| {
            if msg.meta.is_empty() { None } else { TraceContext::from_meta(&msg.meta) }
        });
        if let Some(own) = span::open(&span, parent) {
            // Untraced, a context from the meta is already there as it is.
            if from_handler || !span.is_disabled() {
                own.write_to(&mut msg.meta);
            }
        }
        let timed = !span.is_disabled() || line || cfg!(feature = "metrics");
        let sent = line.then(|| {
            let route = msg.service_method.clone();
            Box::new(Sent { route, seq: 0, meta: Meta::new(), codec: 0, body: Bytes::new() })
        });
        Outgoing {
            #[cfg(feature = "metrics")]
            metrics: Some({
                let metrics = metrics::route(Side::Client, msg.path());
                metrics.began(push);
                metrics
            }),
            span,
            started: timed.then(Instant::now),
            sent,
            bytes_out: 0,
        }
    }

    /// Notes the seq `msg` was given.
    pub(crate) fn seq(&self, seq: i32) {
        self.span.record("seq", seq);
    }

    /// Notes that `msg` was written, taking what its line shows out of it: the caller
    /// drops it next.
    pub(crate) fn written(&mut self, msg: &mut Message) {
        self.bytes_out = msg.body.len();
        if let Some(sent) = &mut self.sent {
            sent.seq = msg.seq;
            sent.meta = std::mem::take(&mut msg.meta);
            sent.codec = msg.body_codec;
            sent.body = std::mem::take(&mut msg.body);
        }
    }

    /// Ends a call with its reply, or the status it failed with.
    pub(crate) fn end_call(self, session: &Session, result: &Result<Message, Status>) {
        let (status, reply) = match result {
            Ok(reply) => (&reply.status, Some(reply)),
            Err(status) => (status, None),
        };
        self.end(session, status, reply, false);
    }

    /// Ends a push once written, or failed.
    pub(crate) fn end_push(self, session: &Session, result: &Result<(), Status>) {
        let ok = Status::OK;
        self.end(session, result.as_ref().err().unwrap_or(&ok), None, true);
    }

    fn end(mut self, session: &Session, status: &Status, reply: Option<&Message>, push: bool) {
        let Some(started) = self.started else { return };
        let elapsed = started.elapsed();
        span::close(&self.span, status, elapsed);
        #[cfg(feature = "metrics")]
        if let Some(metrics) = self.metrics.take() {
            metrics.ended(status, elapsed, reply.map_or(0, |r| r.body.len()), self.bytes_out);
            metrics.left();
            metrics::queued_bytes(session.peer().outbound_stats().queued_bytes);
        }
        let Some(sent) = self.sent.take() else { return };
        let config = session.peer().config();
        let remote = session.remote_addr().to_string();
        let mtype = if push { MessageType::Push } else { MessageType::Call };
        let first = detail::Part {
            seq: sent.seq,
            mtype,
            status: (push && !status.is_ok()).then_some(status),
            meta: &sent.meta,
            codec: sent.codec,
            body: &sent.body,
        };
        let empty = (Meta::new(), Bytes::new());
        let second = match reply {
            Some(reply) => Some(part(reply, Some(&reply.status))),
            // No reply came: the line shows what the call ended with.
            None if !push => Some(detail::Part {
                seq: sent.seq,
                mtype: MessageType::Reply,
                status: Some(status),
                meta: &empty.0,
                codec: 0,
                body: &empty.1,
            }),
            None => None,
        };
        detail::log(
            config,
            &detail::Line {
                arrow: if push { "PUSH->" } else { "CALL->" },
                remote: &remote,
                real_ip: None,
                route: &sent.route,
                first,
                second,
                cost: config.count_time.then_some(elapsed),
            },
        );
    }
}

#[cfg(feature = "metrics")]
impl Drop for Outgoing {
    fn drop(&mut self) {
        // Dropped before it ended (its caller stopped waiting): no longer in flight.
        if let Some(metrics) = self.metrics.take() {
            metrics.left();
        }
    }
}
