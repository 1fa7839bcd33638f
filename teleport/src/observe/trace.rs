//! W3C trace context (`traceparent`, `tracestate`) as it travels in meta.

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use crate::message::Meta;

/// The meta key of the W3C `traceparent`: `00-<trace id>-<parent id>-<flags>` in lower-case
/// hex. A call carries it when the caller traces; a Go eRPC peer passes it on as ordinary
/// meta.
pub const META_TRACEPARENT: &str = "traceparent";
/// The meta key of the W3C `tracestate`, passed on unchanged with `traceparent`.
pub const META_TRACESTATE: &str = "tracestate";

/// The flag bit of a sampled trace.
const SAMPLED: u8 = 0x01;
/// The longest `tracestate` taken in: W3C asks carriers to keep at least 512 bytes.
const MAX_TRACESTATE: usize = 512;

/// A W3C trace context: the trace a call belongs to and the span that made it.
///
/// A call's handler sees the one that came with the call in its context
/// ([`Incoming::trace_context`](crate::Incoming::trace_context)): with the call's
/// span recorded, the context of that span (same trace, a new span id); otherwise the
/// caller's, unchanged. Calls made by the handler carry it on.
#[derive(Clone, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: u128,
    span_id: u64,
    flags: u8,
    state: Option<Arc<str>>,
}

impl TraceContext {
    /// Reads a `traceparent` (and its `tracestate`). `None` when the `traceparent` is not
    /// version `00` in the W3C layout, or names the all-zero trace or span.
    pub fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<Self> {
        let b = traceparent.as_bytes();
        if b.len() != 55 || &b[..3] != b"00-" || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let trace_id = hex(&b[3..35])?;
        let span_id = u64::try_from(hex(&b[36..52])?).ok()?;
        let flags = u8::try_from(hex(&b[53..55])?).ok()?;
        if trace_id == 0 || span_id == 0 {
            return None;
        }
        let state = tracestate
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= MAX_TRACESTATE)
            .map(Arc::from);
        Some(TraceContext { trace_id, span_id, flags, state })
    }

    /// Reads the trace context a message's meta carries, if any.
    pub fn from_meta(meta: &Meta) -> Option<Self> {
        let parent = meta.get(META_TRACEPARENT)?;
        Self::parse(parent, meta.get(META_TRACESTATE))
    }

    /// The 128-bit trace id.
    pub fn trace_id(&self) -> u128 {
        self.trace_id
    }

    /// The 64-bit id of the span this context names.
    pub fn span_id(&self) -> u64 {
        self.span_id
    }

    /// Whether the trace is sampled (flag `01`).
    pub fn is_sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The `tracestate` passed on with it, if any.
    pub fn tracestate(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The `traceparent` text: `00-<trace id>-<span id>-<flags>`.
    pub fn traceparent(&self) -> String {
        format!("00-{:032x}-{:016x}-{:02x}", self.trace_id, self.span_id, self.flags)
    }

    /// Writes it into `meta`, replacing what was there.
    pub fn write_to(&self, meta: &mut Meta) {
        meta.set(META_TRACEPARENT, self.traceparent());
        match &self.state {
            Some(state) => {
                meta.set(META_TRACESTATE, state.to_string());
            }
            None => {
                meta.remove(META_TRACESTATE);
            }
        }
    }

    /// A new span of the same trace whose parent is this one.
    pub(crate) fn child(&self) -> Self {
        TraceContext { span_id: random_span_id(), ..self.clone() }
    }

    /// The first span of a new trace, sampled.
    pub(crate) fn root() -> Self {
        let trace_id = (u128::from(random_u64()) << 64 | u128::from(random_u64())).max(1);
        TraceContext { trace_id, span_id: random_span_id(), flags: SAMPLED, state: None }
    }

    #[cfg(feature = "opentelemetry")]
    pub(crate) fn from_ids(
        trace_id: u128,
        span_id: u64,
        flags: u8,
        state: Option<Arc<str>>,
    ) -> Self {
        TraceContext { trace_id, span_id, flags, state }
    }

    #[cfg(feature = "opentelemetry")]
    pub(crate) fn flags(&self) -> u8 {
        self.flags
    }
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceContext")
            .field("traceparent", &self.traceparent())
            .field("tracestate", &self.state)
            .finish()
    }
}

/// Lower-case hex, as W3C requires, of at most 32 digits.
fn hex(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |acc, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            _ => return None,
        };
        Some(acc << 4 | u128::from(v))
    })
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(RandomState::new().hash_one(std::thread::current().id()));
}

/// A random 64-bit number (splitmix64 over a per-thread seed): ids, not secrets.
fn random_u64() -> u64 {
    RNG.with(|state| {
        let next = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

fn random_span_id() -> u64 {
    random_u64().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn reads_and_writes_the_w3c_example() {
        let tc = TraceContext::parse(EXAMPLE, Some("congo=t61rcWkgMzE")).unwrap();
        assert_eq!(tc.trace_id(), 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(tc.span_id(), 0x00f067aa0ba902b7);
        assert!(tc.is_sampled());
        assert_eq!(tc.traceparent(), EXAMPLE);
        assert_eq!(tc.tracestate(), Some("congo=t61rcWkgMzE"));
        let mut meta = Meta::new();
        tc.write_to(&mut meta);
        assert_eq!(TraceContext::from_meta(&meta), Some(tc));
    }

    #[test]
    fn refuses_what_w3c_calls_invalid() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse(bad, None), None, "{bad:?}");
        }
    }

    #[test]
    fn a_child_keeps_the_trace_and_gets_a_new_span() {
        let parent = TraceContext::parse(EXAMPLE, None).unwrap();
        let child = parent.child();
        assert_eq!(child.trace_id(), parent.trace_id());
        assert_ne!(child.span_id(), parent.span_id());
        let (a, b) = (TraceContext::root(), TraceContext::root());
        assert_ne!(a.trace_id(), b.trace_id());
        assert!(TraceContext::parse(&a.traceparent(), None).is_some());
    }
}
