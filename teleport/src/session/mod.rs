//! [`Session`]: one logical connection between two peers, carrying calls and pushes both
//! ways.

mod call;
mod clocks;
mod dispatch;
pub(crate) mod forward;
mod handling;
mod handshake;
mod inherit;
mod lifecycle;
mod read_loop;
mod redial;
mod reply;
mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

pub use call::{CallHandle, CallOptions, Reply};
pub(crate) use forward::Forwarder;
pub use store::Store;

pub(crate) use redial::RedialTarget;

use clocks::{age_deadline, duration_ns, nanos_from};
use lifecycle::{call_timeout, conn_closed};

use crate::peer::Peer;
use crate::socket::Socket;
use crate::transport::Addr;

/// Where a session stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionState {
    /// Being set up: connect plugins (auth...) are running.
    Connecting,
    /// Connected and usable.
    Connected,
    /// The connection dropped; the session reconnects in the background.
    Redialing,
    /// Closed for good.
    Closed,
}

/// How a connection was obtained, for the connect plugins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Accepted,
    Dialed { redial: bool },
}

pub(crate) struct SessionInner {
    peer: Peer,
    id: RwLock<Arc<str>>,
    socket: RwLock<Option<Arc<Socket>>>,
    addrs: RwLock<(Addr, Addr)>,
    state: watch::Sender<SessionState>,
    seq: AtomicI32,
    store: Store,
    created_at: Instant,
    /// The clock of the activity times below: tokio's, so that paused test time moves them.
    clock: tokio::time::Instant,
    /// The session age and the deadline it sets (from when it was set).
    session_age: Mutex<(Duration, Option<Instant>)>,
    /// That deadline in nanoseconds from `created_at` (`u64::MAX`: none), for the read
    /// loop to check on every read without the lock.
    age_deadline_ns: AtomicU64,
    /// Whether `state` is `Connected`, for callers to check without the channel's lock.
    connected: AtomicBool,
    /// Nanoseconds; read on every call, so an atomic rather than a lock.
    context_age_ns: AtomicU64,
    redial: Option<RedialTarget>,
    /// Whether this side dialed the connection (else it accepted it).
    dialed: bool,
    /// Whether a caller's unusable `X-Tp-Timeout` was logged (once per session).
    bad_timeout_logged: AtomicBool,
    closing: AtomicBool,
    finalized: AtomicBool,
    /// Milliseconds from `clock` to the last read and the last write.
    last_read_ms: AtomicU64,
    last_write_ms: AtomicU64,
}

/// A session: a cheap-to-clone handle to one connection between two peers.
///
/// Either side may call and push. Many calls may be in flight at once; replies are matched
/// by seq. Every call ends exactly once: with its reply, with an error status, with 408 when
/// its deadline passes, or with 102 as soon as the connection drops.
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

impl Session {
    pub(crate) fn new(
        peer: Peer,
        conn_addrs: (Addr, Addr),
        origin: Origin,
        redial: Option<RedialTarget>,
    ) -> Self {
        let config = peer.config();
        let id: Arc<str> = conn_addrs.1.to_string().into();
        let created_at = Instant::now();
        let session_age = age_deadline(config.default_session_age);
        crate::observe::metrics::sessions(1.0); // observe
        Session {
            inner: Arc::new(SessionInner {
                age_deadline_ns: AtomicU64::new(nanos_from(created_at, session_age.1)),
                session_age: Mutex::new(session_age),
                connected: AtomicBool::new(false),
                context_age_ns: AtomicU64::new(duration_ns(config.default_context_age)),
                peer,
                id: RwLock::new(id),
                socket: RwLock::new(None),
                addrs: RwLock::new(conn_addrs),
                state: watch::Sender::new(SessionState::Connecting),
                seq: AtomicI32::new(0),
                store: Store::default(),
                created_at,
                clock: tokio::time::Instant::now(),
                redial,
                dialed: matches!(origin, Origin::Dialed { .. }),
                bad_timeout_logged: AtomicBool::new(false),
                closing: AtomicBool::new(false),
                finalized: AtomicBool::new(false),
                last_read_ms: AtomicU64::new(0),
                last_write_ms: AtomicU64::new(0),
            }),
        }
    }

    /// Whether this peer dialed the session (`true`) or accepted it (`false`). A proxy
    /// forwards only what arrives on accepted sessions unless told otherwise.
    pub fn is_dialed(&self) -> bool {
        self.inner.dialed
    }

    /// The peer this session belongs to.
    pub fn peer(&self) -> &Peer {
        &self.inner.peer
    }

    /// The session's id: by default the remote address; unique within its peer.
    pub fn id(&self) -> Arc<str> {
        self.inner.id.read().clone()
    }

    /// Changes the id. Another session of the peer with the same id is closed, as Go eRPC
    /// does (the newer session wins).
    pub fn set_id(&self, id: impl Into<Arc<str>>) {
        let id = id.into();
        let old = std::mem::replace(&mut *self.inner.id.write(), id.clone());
        self.peer().hub().rename(&old, id, self);
    }

    pub(crate) fn replace_id(&self, id: Arc<str>) {
        *self.inner.id.write() = id;
    }

    /// Our address.
    pub fn local_addr(&self) -> Addr {
        self.inner.addrs.read().0.clone()
    }

    /// The other side's address.
    pub fn remote_addr(&self) -> Addr {
        self.inner.addrs.read().1.clone()
    }

    /// The connection's raw file descriptor (TCP and Unix sockets), for socket options the
    /// runtime does not set. Do not close it or read from it.
    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    pub fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        self.inner.socket.read().as_ref().and_then(|s| s.raw_fd)
    }

    /// Values attached to this session.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Where the session stands.
    pub fn state(&self) -> SessionState {
        *self.inner.state.borrow()
    }

    /// A receiver of the session's state changes (to wait for a reconnection, say).
    pub fn watch_state(&self) -> watch::Receiver<SessionState> {
        self.inner.state.subscribe()
    }

    /// Whether the session is connected and usable.
    pub fn health(&self) -> bool {
        self.state() == SessionState::Connected
            && self.inner.socket.read().as_ref().is_some_and(|s| !s.is_closed())
    }

    /// The number of this session's calls waiting for replies.
    pub fn pending_calls(&self) -> usize {
        self.inner.socket.read().as_ref().map_or(0, |s| s.pending.len())
    }

    pub(crate) fn next_seq(&self) -> i32 {
        self.inner.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }

    pub(crate) fn same(&self, other: &Session) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Logs, once per session, a caller's remaining time that could not be used.
    pub(crate) fn note_bad_timeout(&self, text: &str) {
        if !self.inner.bad_timeout_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                remote = %self.remote_addr(), value = text,
                "ignoring an X-Tp-Timeout that is not whole milliseconds from 0 to a day; \
                 the peer's own limits apply (logged once per session)"
            );
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id())
            .field("remote_addr", &self.remote_addr())
            .field("state", &self.state())
            .finish()
    }
}
