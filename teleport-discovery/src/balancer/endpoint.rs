//! One instance as a balancer keeps it: its session pool, its load, its health.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use teleport::pool::SessionPool;
use teleport::status::{self, Status};

use crate::instance::Instance;

/// When an instance is ejected, and for how long.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EjectPolicy {
    pub(crate) max_failures: u32,
    pub(crate) base: Duration,
    pub(crate) max: Duration,
}

#[derive(Default)]
struct Health {
    /// Failures (5xx, 102, 104) since the last success.
    failures: u32,
    /// Ejections since the last success: each one doubles the backoff.
    ejections: u32,
    ejected_until: Option<Instant>,
}

/// An instance with its pool and counters.
pub(crate) struct Endpoint {
    pub(crate) instance: Instance,
    pub(crate) pool: SessionPool,
    in_flight: AtomicUsize,
    calls: AtomicU64,
    ejections_total: AtomicU64,
    health: Mutex<Health>,
}

/// How an attempt on an instance ended, for its health.
pub(crate) enum Outcome<'a> {
    /// The instance answered (any status it chose to answer with, below 500).
    Answered,
    /// Its dial failed: it is ejected at once.
    DialFailed(&'a Status),
    /// It failed the call: 5xx, or its connection was lost (102, 104).
    Failed(&'a Status),
    /// Nothing to learn about the instance (our deadline, our own peer closing).
    Neutral,
}

impl<'a> Outcome<'a> {
    pub(crate) fn of(status: Option<&'a Status>, from_dial: bool) -> Self {
        let Some(status) = status else { return Outcome::Answered };
        match status.code() {
            _ if from_dial && status.code() == status::CODE_DIAL_FAILED => {
                Outcome::DialFailed(status)
            }
            status::CODE_HANDLE_TIMEOUT => Outcome::Neutral,
            status::CODE_CONN_CLOSED | status::CODE_WRITE_FAILED => Outcome::Failed(status),
            code if (500..600).contains(&code) => Outcome::Failed(status),
            _ if from_dial => Outcome::Neutral,
            _ => Outcome::Answered,
        }
    }
}

impl Endpoint {
    pub(crate) fn new(instance: Instance, pool: SessionPool) -> Self {
        Endpoint {
            instance,
            pool,
            in_flight: AtomicUsize::new(0),
            calls: AtomicU64::new(0),
            ejections_total: AtomicU64::new(0),
            health: Mutex::new(Health::default()),
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub(crate) fn ejections(&self) -> u64 {
        self.ejections_total.load(Ordering::Relaxed)
    }

    /// Whether the instance sits out a backoff now.
    pub(crate) fn is_ejected(&self) -> bool {
        self.health.lock().ejected_until.is_some_and(|until| Instant::now() < until)
    }

    /// Counts an attempt in flight until the guard drops.
    pub(crate) fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Notes how an attempt ended; ejects the instance after a failed dial, or after
    /// `max_failures` failures in a row.
    pub(crate) fn record(&self, outcome: Outcome<'_>, policy: &EjectPolicy) {
        let mut health = self.health.lock();
        let status = match outcome {
            Outcome::Neutral => return,
            Outcome::Answered => {
                *health = Health::default();
                return;
            }
            Outcome::DialFailed(status) => {
                health.failures = policy.max_failures;
                status
            }
            Outcome::Failed(status) => {
                health.failures += 1;
                status
            }
        };
        let already = health.ejected_until.is_some_and(|until| Instant::now() < until);
        if health.failures < policy.max_failures.max(1) || already {
            return;
        }
        let backoff = policy.base.saturating_mul(1 << health.ejections.min(16)).min(policy.max);
        health.ejections += 1;
        health.failures = 0;
        health.ejected_until = Some(Instant::now() + backoff);
        self.ejections_total.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            addr = %self.instance.addr,
            service = %self.instance.service,
            code = status.code(),
            ?backoff,
            "ejecting an instance"
        );
    }
}

/// One attempt counted on an endpoint.
pub(crate) struct InFlight<'a>(&'a Endpoint);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use teleport::pool::PoolConfig;
    use teleport::{Peer, PeerConfig};

    use super::*;

    fn endpoint() -> Endpoint {
        let peer = Peer::new(PeerConfig::default()).unwrap();
        let config = PoolConfig { idle_timeout: Duration::ZERO, ..PoolConfig::default() };
        let pool = SessionPool::new(peer, "127.0.0.1:1", config);
        Endpoint::new(Instance::new("svc", "127.0.0.1:1"), pool)
    }

    const POLICY: EjectPolicy = EjectPolicy {
        max_failures: 3,
        base: Duration::from_secs(60),
        max: Duration::from_secs(60),
    };

    #[tokio::test]
    async fn a_failed_dial_ejects_at_once() {
        let endpoint = endpoint();
        let dial_failed = Status::with_code(status::CODE_DIAL_FAILED, "refused");
        endpoint.record(Outcome::of(Some(&dial_failed), true), &POLICY);
        assert!(endpoint.is_ejected());
        assert_eq!(endpoint.ejections(), 1);
    }

    #[tokio::test]
    async fn failures_in_a_row_eject_and_an_answer_clears_them() {
        let endpoint = endpoint();
        let closed = Status::with_code(status::CODE_CONN_CLOSED, "gone");
        let internal = Status::new(status::CODE_INTERNAL_SERVER_ERROR, "boom");
        let not_found = Status::new(status::CODE_NOT_FOUND, "no route");
        let timeout = Status::new(status::CODE_HANDLE_TIMEOUT, "late");
        endpoint.record(Outcome::of(Some(&closed), false), &POLICY);
        endpoint.record(Outcome::of(Some(&internal), false), &POLICY);
        // An answer, even an error one, clears the count; a deadline says nothing.
        endpoint.record(Outcome::of(Some(&not_found), false), &POLICY);
        endpoint.record(Outcome::of(Some(&closed), false), &POLICY);
        endpoint.record(Outcome::of(Some(&timeout), false), &POLICY);
        endpoint.record(Outcome::of(Some(&internal), false), &POLICY);
        assert!(!endpoint.is_ejected());
        endpoint.record(Outcome::of(Some(&internal), false), &POLICY);
        assert!(endpoint.is_ejected());
        assert_eq!(endpoint.ejections(), 1);
    }
}
