//! Overload protection: a connection limit and token-bucket QPS limits, total and per route,
//! all changeable while the peer runs.
//!
//! Over the connection limit, a new session is refused with `503 Service Unavailable` and
//! closed (its dial or [`serve_conn`](crate::Peer::serve_conn) returns that status). Over a
//! QPS limit, a call is answered 503 and a push is dropped; both are counted in [`Stats`].
//! A limit of 0 means no limit. Each QPS limit is a token bucket refilled at that many
//! tokens per second, holding at most one second's worth (so bursts up to the limit pass).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use teleport::plugin::overloader::{Limits, Overloader};
//! use teleport::{Peer, PeerConfig, transport::memory};
//!
//! let overloader = Overloader::new(Limits { max_conn: 1000, ..Limits::default() });
//! let server = Peer::builder(PeerConfig::default()).plugin(overloader.clone()).build()?;
//! server.route_call_fn("/ping", |_ctx, _: ()| async { Ok("pong") });
//! let client = Peer::new(PeerConfig::default())?;
//! let (a, b) = memory::pair();
//! server.serve_conn(a).await?;
//! let session = client.serve_conn(b).await?;
//!
//! overloader.update(Limits { max_route_qps: [("/ping".into(), 1)].into(), ..overloader.limits() });
//! assert!(session.call::<String>("/ping", &()).await.is_ok());
//! assert_eq!(session.call::<String>("/ping", &()).await.unwrap_err().code(), 503);
//! assert_eq!(overloader.stats().refused_calls, 1);
//! # Ok(()) }
//! ```
//!
//! Differences from Go eRPC: refusals are 503 with a cause rather than 500; the buckets
//! refill continuously rather than per interval; a zero limit cannot divide by zero; the
//! connection count is kept while the limit is off, so turning it on later is exact.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock};
use tokio::time::Instant;

use crate::boxed::BoxFuture;
use crate::message::Message;
use crate::plugin::{HookResult, Plugin};
use crate::session::Session;
use crate::status::{self, Status};

/// The limits; 0 means no limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// The most sessions at once (accepted and dialed).
    pub max_conn: usize,
    /// Calls and pushes per second, all routes together.
    pub max_total_qps: u32,
    /// Calls and pushes per second, by route path (`/math/add`).
    pub max_route_qps: HashMap<String, u32>,
}

/// What the overloader counted since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Sessions open now.
    pub connections: usize,
    /// Sessions refused over the connection limit.
    pub refused_connections: u64,
    /// Calls answered 503 over a QPS limit.
    pub refused_calls: u64,
    /// Pushes dropped over a QPS limit.
    pub dropped_pushes: u64,
}

/// The overloader plugin. Cheap to clone; clones share limits and counters.
#[derive(Clone)]
pub struct Overloader {
    inner: Arc<Inner>,
}

struct Inner {
    limits: Mutex<Limits>,
    max_conn: AtomicUsize,
    conns: AtomicUsize,
    total: Mutex<Option<Bucket>>,
    routes: RwLock<HashMap<String, Arc<Mutex<Bucket>>>>,
    refused_conns: AtomicU64,
    refused_calls: AtomicU64,
    dropped_pushes: AtomicU64,
}

/// The overloaders that counted a session, kept in its store.
#[derive(Default)]
struct Slots(Vec<usize>);

impl Overloader {
    /// An overloader with these limits.
    pub fn new(limits: Limits) -> Self {
        let inner = Inner {
            limits: Mutex::new(Limits::default()),
            max_conn: AtomicUsize::new(0),
            conns: AtomicUsize::new(0),
            total: Mutex::new(None),
            routes: RwLock::new(HashMap::new()),
            refused_conns: AtomicU64::new(0),
            refused_calls: AtomicU64::new(0),
            dropped_pushes: AtomicU64::new(0),
        };
        let overloader = Overloader { inner: Arc::new(inner) };
        overloader.update(limits);
        overloader
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.inner.limits.lock().clone()
    }

    /// Replaces the limits, effective at once. Lowering the connection limit closes no
    /// session: new ones are refused until the count is under it. Buckets whose limit is
    /// unchanged keep their tokens.
    pub fn update(&self, limits: Limits) {
        let inner = &self.inner;
        inner.max_conn.store(limits.max_conn, Ordering::Release);
        Bucket::apply(&mut inner.total.lock(), limits.max_total_qps);
        {
            let mut routes = inner.routes.write();
            routes.retain(|route, _| limits.max_route_qps.get(route).is_some_and(|q| *q > 0));
            for (route, qps) in limits.max_route_qps.iter().filter(|(_, q)| **q > 0) {
                match routes.get(route) {
                    Some(bucket) => bucket.lock().set_qps(*qps),
                    None => {
                        routes.insert(route.clone(), Arc::new(Mutex::new(Bucket::new(*qps))));
                    }
                }
            }
        }
        *inner.limits.lock() = limits;
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        let inner = &self.inner;
        Stats {
            connections: inner.conns.load(Ordering::Acquire),
            refused_connections: inner.refused_conns.load(Ordering::Relaxed),
            refused_calls: inner.refused_calls.load(Ordering::Relaxed),
            dropped_pushes: inner.dropped_pushes.load(Ordering::Relaxed),
        }
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    fn take_conn(&self, session: &Session) -> HookResult {
        let inner = &self.inner;
        let max = inner.max_conn.load(Ordering::Acquire);
        let taken = inner.conns.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (max == 0 || n < max).then_some(n + 1)
        });
        if taken.is_err() {
            inner.refused_conns.fetch_add(1, Ordering::Relaxed);
            let cause = format!("connection limit {max} reached");
            return Err(Status::with_code(status::CODE_SERVICE_UNAVAILABLE, cause));
        }
        let id = self.id();
        let added = session.store().with::<Slots, _>(|slots| slots.map(|s| s.0.push(id)));
        if added.is_none() {
            session.store().insert(Slots(vec![id]));
        }
        Ok(())
    }

    fn release_conn(&self, session: &Session) {
        let id = self.id();
        let held = session.store().with::<Slots, _>(|slots| {
            let slots = slots?;
            let at = slots.0.iter().position(|s| *s == id)?;
            slots.0.swap_remove(at);
            Some(())
        });
        if held.is_some() {
            self.inner.conns.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Takes a token from the total bucket and the route's.
    fn admit(&self, path: &str) -> Result<(), Status> {
        let now = Instant::now();
        if let Some(total) = self.inner.total.lock().as_mut() {
            if !total.take(now) {
                let cause = format!("total QPS limit {} exceeded", total.qps);
                return Err(Status::with_code(status::CODE_SERVICE_UNAVAILABLE, cause));
            }
        }
        let bucket = self.inner.routes.read().get(path).cloned();
        if let Some(bucket) = bucket {
            let mut bucket = bucket.lock();
            if !bucket.take(now) {
                let cause = format!("QPS limit {} of {path} exceeded", bucket.qps);
                return Err(Status::with_code(status::CODE_SERVICE_UNAVAILABLE, cause));
            }
        }
        Ok(())
    }
}

impl Plugin for Overloader {
    fn name(&self) -> &str {
        "overloader"
    }

    fn post_dial<'a>(&'a self, session: &'a Session, redial: bool) -> BoxFuture<'a, HookResult> {
        // A redialing session keeps the slot it took on its first dial.
        let taken = if redial { Ok(()) } else { self.take_conn(session) };
        Box::pin(std::future::ready(taken))
    }

    fn post_accept<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, HookResult> {
        Box::pin(std::future::ready(self.take_conn(session)))
    }

    fn post_read_call_header(&self, _session: &Session, msg: &mut Message) -> HookResult {
        self.admit(msg.path()).inspect_err(|_| {
            self.inner.refused_calls.fetch_add(1, Ordering::Relaxed);
        })
    }

    fn post_read_push_header(&self, _session: &Session, msg: &mut Message) -> HookResult {
        self.admit(msg.path()).inspect_err(|_| {
            self.inner.dropped_pushes.fetch_add(1, Ordering::Relaxed);
        })
    }

    fn post_disconnect(&self, session: &Session) {
        self.release_conn(session);
    }
}

/// A token bucket: `qps` tokens a second, at most `qps` (and at least one) held.
struct Bucket {
    qps: u32,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(qps: u32) -> Self {
        Bucket { qps, tokens: f64::from(qps.max(1)), last: Instant::now() }
    }

    /// Sets `slot` to a bucket of `qps`, or to none for 0, keeping the tokens it had.
    fn apply(slot: &mut Option<Bucket>, qps: u32) {
        match (slot.as_mut(), qps) {
            (_, 0) => *slot = None,
            (Some(bucket), qps) => bucket.set_qps(qps),
            (None, qps) => *slot = Some(Bucket::new(qps)),
        }
    }

    fn set_qps(&mut self, qps: u32) {
        self.refill(Instant::now());
        self.qps = qps.max(1);
        self.tokens = self.tokens.min(self.burst());
    }

    fn burst(&self) -> f64 {
        f64::from(self.qps.max(1))
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(self.qps)).min(self.burst());
        self.last = now;
    }

    fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_refills_at_its_rate_up_to_its_burst() {
        let start = Instant::now();
        let mut bucket = Bucket::new(2);
        bucket.last = start;
        assert!(bucket.take(start) && bucket.take(start) && !bucket.take(start));
        assert!(bucket.take(start + Duration::from_millis(500)));
        assert!(!bucket.take(start + Duration::from_millis(600)));
        let later = start + Duration::from_secs(3600);
        assert!(bucket.take(later) && bucket.take(later) && !bucket.take(later));
        bucket.set_qps(u32::MAX);
        bucket.refill(later + Duration::from_secs(10 * 365 * 86_400));
        assert!(bucket.tokens.is_finite());
    }
}
