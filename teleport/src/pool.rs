//! [`SessionPool`]: up to N sessions to one address, each call on the least-loaded one (Go
//! eRPC's multiclient).
//!
//! A session multiplexes calls already; a pool spreads them over several connections (and
//! so several read and write loops, and TCP windows) when one is not enough. Sessions are
//! dialed on demand: a call takes the session (or dial under way) with the fewest calls in
//! flight if it has none; otherwise a new session is dialed while the pool is under its
//! size, and the least-loaded one is shared beyond that, so a burst of calls spreads evenly
//! over the sessions being dialed. Sessions idle for [`PoolConfig::idle_timeout`] are
//! closed; broken ones are dropped and replaced on demand.
//!
//! ```no_run
//! # async fn demo(peer: teleport::Peer) -> Result<(), teleport::Status> {
//! use teleport::pool::{PoolConfig, SessionPool};
//!
//! let pool = SessionPool::new(peer, "127.0.0.1:9090", PoolConfig::default());
//! let sum: i64 = pool.call("/math/add", &[1, 2, 3]).await?;
//! println!("{sum}, {:?}", pool.stats());
//! # Ok(()) }
//! ```

mod calls;
mod lease;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

pub use lease::PooledSession;

use crate::peer::{DialOptions, Peer};
use crate::session::Session;
use crate::status::{self, Status};
use lease::{Lease, Slot};

/// The settings of a [`SessionPool`].
#[derive(Clone)]
pub struct PoolConfig {
    /// The most sessions open at once, at least 1. Default 8.
    pub max_sessions: usize,
    /// How long a session may go without calls before it is closed; zero keeps sessions
    /// open. Default 60 s.
    pub idle_timeout: Duration,
    /// How new sessions are dialed (protocol, timeout). Redial is always off: the pool
    /// replaces a broken session itself. Default: the peer's settings.
    pub dial: DialOptions,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_sessions: 8,
            idle_timeout: Duration::from_secs(60),
            dial: DialOptions::default(),
        }
    }
}

impl std::fmt::Debug for PoolConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolConfig")
            .field("max_sessions", &self.max_sessions)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// A snapshot of a pool's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Sessions open.
    pub sessions: usize,
    /// Sessions being dialed.
    pub dialing: usize,
    /// Calls and pushes in flight (sessions leased).
    pub in_flight: usize,
    /// Calls and pushes finished, with any outcome.
    pub done: u64,
}

#[derive(Default)]
struct State {
    /// Sessions, and dials under way, each with its load.
    slots: Vec<Arc<Slot>>,
    closed: bool,
}

pub(crate) struct PoolInner {
    peer: Peer,
    addr: String,
    config: PoolConfig,
    state: Mutex<State>,
    done: AtomicU64,
    epoch: Instant,
}

/// Sessions to one address, shared by calls on the least-loaded one. Cheap to clone; the
/// last clone dropped closes the sessions.
#[derive(Clone)]
pub struct SessionPool {
    inner: Arc<PoolInner>,
}

impl SessionPool {
    /// A pool of sessions that `peer` dials to `addr` on its network. Nothing is dialed
    /// before the first call. Must be called within a Tokio runtime (it starts the task that
    /// closes idle sessions).
    pub fn new(peer: Peer, addr: impl Into<String>, config: PoolConfig) -> Self {
        let mut config = config;
        config.max_sessions = config.max_sessions.max(1);
        config.dial.redial = Some(false);
        let inner = Arc::new(PoolInner {
            peer,
            addr: addr.into(),
            config,
            state: Mutex::new(State::default()),
            done: AtomicU64::new(0),
            epoch: Instant::now(),
        });
        let idle = inner.config.idle_timeout;
        if !idle.is_zero() {
            tokio::spawn(reap_idle(Arc::downgrade(&inner), idle));
        }
        SessionPool { inner }
    }

    /// The peer that dials.
    pub fn peer(&self) -> &Peer {
        &self.inner.peer
    }

    /// The address sessions are dialed to.
    pub fn addr(&self) -> &str {
        &self.inner.addr
    }

    /// The counters: sessions, dials under way, calls in flight, calls done.
    pub fn stats(&self) -> PoolStats {
        let state = self.inner.state.lock();
        let sessions = state.slots.iter().filter(|slot| slot.session().is_some()).count();
        PoolStats {
            sessions,
            dialing: state.slots.len() - sessions,
            in_flight: state.slots.iter().map(|slot| slot.in_flight()).sum(),
            done: self.inner.done.load(Ordering::Relaxed),
        }
    }

    /// Leases the least-loaded session, dialing a new one when every session (or dial under
    /// way) is busy and the pool has room. The lease counts as a call in flight until
    /// dropped. A failed dial is `105 Dial Failed` for the calls that waited on it; a closed
    /// pool is `102 Connection Closed`. Cancel-safe: a dial started here goes on without it.
    pub async fn session(&self) -> Result<PooledSession, Status> {
        let lease = self.lease()?;
        let session = lease.slot().ready().await?;
        Ok(PooledSession::new(lease, session))
    }

    /// Picks the slot with the fewest calls in flight, or starts a dial for a new one, and
    /// counts the call on it, all under the lock so that concurrent callers spread.
    fn lease(&self) -> Result<Lease, Status> {
        let mut state = self.inner.state.lock();
        if state.closed {
            return Err(pool_closed());
        }
        state.slots.retain(|slot| !slot.is_closed());
        let least = state.slots.iter().min_by_key(|slot| slot.in_flight()).cloned();
        let full = state.slots.len() >= self.inner.config.max_sessions;
        let slot = match least {
            Some(slot) if slot.in_flight() == 0 || full => slot,
            _ => {
                let slot = Arc::new(Slot::dialing(self.inner.now_ms()));
                state.slots.push(slot.clone());
                tokio::spawn(dial(self.inner.clone(), slot.clone()));
                slot
            }
        };
        Ok(Lease::new(slot, self.inner.clone()))
    }

    /// Closes every session; later calls fail with 102.
    pub async fn close(&self) {
        let slots = {
            let mut state = self.inner.state.lock();
            state.closed = true;
            std::mem::take(&mut state.slots)
        };
        let sessions: Vec<Session> = slots.iter().filter_map(|slot| slot.session()).collect();
        futures_util::future::join_all(sessions.iter().map(Session::close)).await;
    }
}

/// Dials the session of `slot` and settles it; a failed dial leaves the pool.
async fn dial(pool: Arc<PoolInner>, slot: Arc<Slot>) {
    let dialed = pool.peer.dial_with(&pool.addr, pool.config.dial.clone()).await;
    let closed = {
        let mut state = pool.state.lock();
        if dialed.is_err() || state.closed {
            state.slots.retain(|other| !Arc::ptr_eq(other, &slot));
        }
        state.closed
    };
    match dialed {
        Ok(session) if closed => {
            session.close().await;
            slot.settle(Err(pool_closed()));
        }
        outcome => slot.settle(outcome),
    }
}

impl PoolInner {
    pub(crate) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub(crate) fn finished(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes out the sessions idle for at least `idle`.
    fn take_idle(&self, idle: Duration) -> Vec<Session> {
        let now = self.now_ms();
        let idle_ms = idle.as_millis() as u64;
        let mut state = self.state.lock();
        let (gone, kept) = std::mem::take(&mut state.slots)
            .into_iter()
            .partition(|slot: &Arc<Slot>| slot.idle_for(now) >= Some(idle_ms));
        state.slots = kept;
        gone.iter().filter_map(|slot| slot.session()).collect()
    }
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        let slots = std::mem::take(&mut self.state.get_mut().slots);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            for session in slots.iter().filter_map(|slot| slot.session()) {
                runtime.spawn(async move { session.close().await });
            }
        }
    }
}

pub(crate) fn pool_closed() -> Status {
    Status::with_code(status::CODE_CONN_CLOSED, "the pool is closed")
}

/// Closes sessions idle for `idle`, checking twice per period, until the pool is gone.
async fn reap_idle(pool: Weak<PoolInner>, idle: Duration) {
    let period = (idle / 2).clamp(Duration::from_millis(10), Duration::from_secs(30));
    loop {
        tokio::time::sleep(period).await;
        let Some(pool) = pool.upgrade() else { return };
        if pool.state.lock().closed {
            return;
        }
        let idle_sessions = pool.take_idle(idle);
        drop(pool);
        for session in idle_sessions {
            tracing::debug!(id = %session.id(), "closing an idle pooled session");
            session.close().await;
        }
    }
}
