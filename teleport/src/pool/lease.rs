//! A pool's slots (a session, or the dial of one, with its load) and the leases that count
//! the calls on them.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::watch;

use super::{PoolInner, pool_closed};
use crate::session::{Session, SessionState};
use crate::status::Status;

/// One session of a pool, or the dial of one, with its load.
pub(crate) struct Slot {
    /// Empty while dialing; then the session or why the dial failed.
    dialed: watch::Sender<Option<Result<Session, Status>>>,
    in_flight: AtomicUsize,
    /// When the last lease ended, in milliseconds since the pool's epoch.
    released_ms: AtomicU64,
}

impl Slot {
    pub(crate) fn dialing(now_ms: u64) -> Self {
        Slot {
            dialed: watch::Sender::new(None),
            in_flight: AtomicUsize::new(0),
            released_ms: AtomicU64::new(now_ms),
        }
    }

    /// The session, once dialed.
    pub(crate) fn session(&self) -> Option<Session> {
        match &*self.dialed.borrow() {
            Some(Ok(session)) => Some(session.clone()),
            _ => None,
        }
    }

    /// Whether the session has closed for good.
    pub(crate) fn is_closed(&self) -> bool {
        self.session().is_some_and(|s| s.state() == SessionState::Closed)
    }

    pub(crate) fn settle(&self, outcome: Result<Session, Status>) {
        self.dialed.send_replace(Some(outcome));
    }

    /// Waits for the dial to end.
    pub(crate) async fn ready(&self) -> Result<Session, Status> {
        let mut dialed = self.dialed.subscribe();
        match dialed.wait_for(Option::is_some).await {
            Ok(outcome) => outcome.clone().unwrap_or_else(|| Err(pool_closed())),
            Err(_) => Err(pool_closed()),
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// How long the session has had no call, or `None` while it has one or is dialing.
    pub(crate) fn idle_for(&self, now_ms: u64) -> Option<u64> {
        if self.in_flight() > 0 || self.session().is_none() {
            return None;
        }
        Some(now_ms.saturating_sub(self.released_ms.load(Ordering::Acquire)))
    }
}

/// One call counted on a slot, until dropped.
pub(crate) struct Lease {
    slot: Arc<Slot>,
    pool: Arc<PoolInner>,
}

impl Lease {
    /// Counts a call on `slot`; taken under the pool's lock, so concurrent picks see it.
    pub(crate) fn new(slot: Arc<Slot>, pool: Arc<PoolInner>) -> Self {
        slot.in_flight.fetch_add(1, Ordering::AcqRel);
        Lease { slot, pool }
    }

    pub(crate) fn slot(&self) -> &Slot {
        &self.slot
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.slot.released_ms.store(self.pool.now_ms(), Ordering::Release);
        self.slot.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.pool.finished();
    }
}

/// A session leased from a [`SessionPool`](super::SessionPool): it derefs to the
/// [`Session`] (typed stubs take `&lease`), and counts as one call in flight until dropped.
pub struct PooledSession {
    session: Session,
    _lease: Lease,
}

impl PooledSession {
    pub(crate) fn new(lease: Lease, session: Session) -> Self {
        PooledSession { session, _lease: lease }
    }

    /// The session.
    pub fn session(&self) -> &Session {
        &self.session
    }
}

impl Deref for PooledSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl std::fmt::Debug for PooledSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledSession").field("session", &self.session).finish()
    }
}
