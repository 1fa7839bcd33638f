//! The `tracing` spans of calls and pushes, one per message on each side.
//!
//! Every span is made at `INFO` under the target [`TARGET_RPC`](super::TARGET_RPC): with no
//! subscriber, or one that leaves that target out, the macros return [`Span::none`] before
//! any field is evaluated, so the route is not even formatted.

use std::fmt;
use std::time::Duration;

use tracing::Span;
use tracing::field::Empty;

use super::TARGET_RPC;
use super::trace::TraceContext;
use crate::message::{Message, MessageType};
use crate::session::Session;
use crate::status::Status;

/// The span of a call or push that arrived on `session`.
pub(super) fn incoming(session: &Session, input: &Message) -> Span {
    match input.mtype {
        MessageType::Push => tracing::info_span!(
            target: TARGET_RPC, "push",
            otel.name = input.path(), otel.kind = "consumer", otel.status_code = Empty,
            side = "server", route = input.path(), seq = input.seq,
            remote = %session.remote_addr(), session = %session.id(), codec = %Codec(input.body_codec),
            code = Empty, elapsed_us = Empty, trace_id = Empty, span_id = Empty, parent_span_id = Empty,
        ),
        _ => tracing::info_span!(
            target: TARGET_RPC, "call",
            otel.name = input.path(), otel.kind = "server", otel.status_code = Empty,
            side = "server", route = input.path(), seq = input.seq,
            remote = %session.remote_addr(), session = %session.id(), codec = %Codec(input.body_codec),
            code = Empty, elapsed_us = Empty, trace_id = Empty, span_id = Empty, parent_span_id = Empty,
        ),
    }
}

/// The span of a call or push that `session` sends; the seq is recorded once assigned.
pub(super) fn outgoing(session: &Session, msg: &Message, push: bool) -> Span {
    if push {
        tracing::info_span!(
            target: TARGET_RPC, "push",
            otel.name = msg.path(), otel.kind = "producer", otel.status_code = Empty,
            side = "client", route = msg.path(), seq = Empty,
            remote = %session.remote_addr(), session = %session.id(), codec = %Codec(msg.body_codec),
            code = Empty, elapsed_us = Empty, trace_id = Empty, span_id = Empty, parent_span_id = Empty,
        )
    } else {
        tracing::info_span!(
            target: TARGET_RPC, "call",
            otel.name = msg.path(), otel.kind = "client", otel.status_code = Empty,
            side = "client", route = msg.path(), seq = Empty,
            remote = %session.remote_addr(), session = %session.id(), codec = %Codec(msg.body_codec),
            code = Empty, elapsed_us = Empty, trace_id = Empty, span_id = Empty, parent_span_id = Empty,
        )
    }
}

/// Gives `span` its trace context: a child of `parent` (or the root of a new trace), with
/// the ids recorded as fields. A disabled span passes `parent` on unchanged.
pub(super) fn open(span: &Span, parent: Option<TraceContext>) -> Option<TraceContext> {
    if span.is_disabled() {
        return parent;
    }
    let own = exported(span, parent.as_ref()).unwrap_or_else(|| match &parent {
        Some(parent) => parent.child(),
        None => TraceContext::root(),
    });
    span.record("trace_id", tracing::field::display(Hex128(own.trace_id())));
    span.record("span_id", tracing::field::display(Hex64(own.span_id())));
    if let Some(parent) = &parent {
        span.record("parent_span_id", tracing::field::display(Hex64(parent.span_id())));
    }
    Some(own)
}

/// With an OpenTelemetry layer in the subscriber, the span's ids are the layer's, its
/// parent the remote `parent`; without one (or without the feature), `None`.
#[cfg(feature = "opentelemetry")]
fn exported(span: &Span, parent: Option<&TraceContext>) -> Option<TraceContext> {
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId};
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if let Some(p) = parent {
        let remote = SpanContext::new(
            TraceId::from_bytes(p.trace_id().to_be_bytes()),
            SpanId::from_bytes(p.span_id().to_be_bytes()),
            TraceFlags::new(p.flags()),
            true,
            Default::default(),
        );
        // Refused only without the layer, which the context below then shows.
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
    }
    let cx = span.context();
    let ids = cx.span().span_context().clone();
    ids.is_valid().then(|| {
        TraceContext::from_ids(
            u128::from_be_bytes(ids.trace_id().to_bytes()),
            u64::from_be_bytes(ids.span_id().to_bytes()),
            ids.trace_flags().to_u8(),
            parent.and_then(|p| p.tracestate()).map(Into::into),
        )
    })
}

#[cfg(not(feature = "opentelemetry"))]
fn exported(_span: &Span, _parent: Option<&TraceContext>) -> Option<TraceContext> {
    None
}

/// Records how the message ended: its status code and how long it took.
pub(super) fn close(span: &Span, status: &Status, elapsed: Duration) {
    if span.is_disabled() {
        return;
    }
    span.record("code", status.code());
    span.record("elapsed_us", i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX));
    if !status.is_ok() {
        span.record("otel.status_code", "ERROR");
    }
}

/// A body codec id as its letter (`j`, `p`...), or `none`.
struct Codec(u8);

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("none"),
            c if c.is_ascii_graphic() => write!(f, "{}", char::from(c)),
            c => write!(f, "{c}"),
        }
    }
}

struct Hex128(u128);

impl fmt::Display for Hex128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

struct Hex64(u64);

impl fmt::Display for Hex64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}
