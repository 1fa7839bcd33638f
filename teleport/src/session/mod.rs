//! [`Session`]: one logical connection between two peers, carrying calls and pushes both
//! ways.

mod call;
mod dispatch;
mod handshake;
mod inherit;
mod redial;
mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

pub use call::{CallHandle, CallOptions, Reply};
pub use store::Store;

pub(crate) use redial::RedialTarget;

use crate::message::{Message, MessageType};
use crate::peer::Peer;
use crate::proto::Proto;
use crate::socket::{Socket, spawn_writer};
use crate::status::{self, Status};
use crate::transport::{Addr, Conn};

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

    /// When the session was created.
    pub fn created_at(&self) -> Instant {
        self.inner.created_at
    }

    /// When bytes last arrived on the session (its creation before any did).
    pub fn last_read(&self) -> Instant {
        let ms = self.inner.last_read_ms.load(Ordering::Relaxed);
        (self.inner.clock + Duration::from_millis(ms)).into_std()
    }

    /// When a message was last queued for writing (the creation before any was).
    pub fn last_write(&self) -> Instant {
        let ms = self.inner.last_write_ms.load(Ordering::Relaxed);
        (self.inner.clock + Duration::from_millis(ms)).into_std()
    }

    /// Notes a read at `at` (the read loop reads the clock once per read and passes it on).
    pub(crate) fn touch_read_at(&self, at: tokio::time::Instant) {
        let ms = at.saturating_duration_since(self.inner.clock).as_millis() as u64;
        self.inner.last_read_ms.store(ms, Ordering::Relaxed);
    }

    pub(crate) fn touch_write(&self) {
        let ms = self.inner.clock.elapsed().as_millis() as u64;
        self.inner.last_write_ms.store(ms, Ordering::Relaxed);
    }

    /// The session's maximum age: once it has passed (counted from when the session was
    /// created, or from the last [`set_session_age`](Self::set_session_age)), the connection
    /// is closed, as Go eRPC's read deadline does. Zero for no limit.
    pub fn session_age(&self) -> Duration {
        self.inner.session_age.lock().0
    }

    /// Sets the session's maximum age, counted from now; it applies from the next read on.
    pub fn set_session_age(&self, age: Duration) {
        let mut current = self.inner.session_age.lock();
        *current = age_deadline(age);
        let ns = nanos_from(self.inner.created_at, current.1);
        self.inner.age_deadline_ns.store(ns, Ordering::Release);
    }

    pub(crate) fn session_deadline(&self) -> Option<Instant> {
        match self.inner.age_deadline_ns.load(Ordering::Acquire) {
            u64::MAX => None,
            ns => Some(self.inner.created_at + Duration::from_nanos(ns)),
        }
    }

    /// How long a handler of this session may run before its call is answered 408; zero
    /// for no limit.
    pub fn context_age(&self) -> Duration {
        Duration::from_nanos(self.inner.context_age_ns.load(Ordering::Relaxed))
    }

    /// Sets the context age for handlers started from now on.
    pub fn set_context_age(&self, age: Duration) {
        self.inner.context_age_ns.store(duration_ns(age), Ordering::Relaxed);
    }

    /// The number of this session's calls waiting for replies.
    pub fn pending_calls(&self) -> usize {
        self.inner.socket.read().as_ref().map_or(0, |s| s.pending.len())
    }

    /// Closes the session for good: queued frames are flushed (bounded by the write
    /// timeout), pending calls end with 102 (503 when the peer is shutting down), and a
    /// redialing session stops redialing.
    pub async fn close(&self) {
        if self.inner.closing.swap(true, Ordering::AcqRel) {
            self.wait_closed().await;
            return;
        }
        self.set_state(SessionState::Closed);
        let socket = self.inner.socket.write().take();
        if let Some(socket) = &socket {
            // Before the close, which the read loop may see first and end them with 102.
            socket.pending.fail_all(&self.connection_ended());
            socket.close();
        }
        // Before the flush, so that a caller giving up on the flush (a shutdown deadline)
        // still leaves the session removed from its peer.
        self.finalize();
        if let Some(socket) = socket {
            socket.flushed(self.peer().config().write_timeout).await;
        }
    }

    /// Waits until the session is closed for good.
    pub async fn wait_closed(&self) {
        let mut state = self.inner.state.subscribe();
        let _ = state.wait_for(|s| *s == SessionState::Closed).await;
    }

    pub(crate) fn next_seq(&self) -> i32 {
        self.inner.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }

    pub(crate) fn same(&self, other: &Session) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn set_state(&self, state: SessionState) {
        self.inner.connected.store(state == SessionState::Connected, Ordering::Release);
        self.inner.state.send_replace(state);
    }

    /// The live socket: at once when the session is connected, else once it reconnects
    /// (waiting up to `deadline`). A redialing session fails at once with 503 unless the
    /// caller chose to wait. That wait is boxed: it is rare, and the future of every call
    /// would otherwise carry its state.
    pub(crate) async fn live_socket(
        &self,
        deadline: Option<tokio::time::Instant>,
        wait_for_redial: bool,
    ) -> Result<Arc<Socket>, Status> {
        if self.inner.connected.load(Ordering::Acquire) {
            if let Some(socket) = self.inner.socket.read().clone() {
                return Ok(socket);
            }
        }
        Box::pin(self.reconnected_socket(deadline, wait_for_redial)).await
    }

    async fn reconnected_socket(
        &self,
        deadline: Option<tokio::time::Instant>,
        wait_for_redial: bool,
    ) -> Result<Arc<Socket>, Status> {
        let mut state = self.inner.state.subscribe();
        loop {
            let current = *state.borrow_and_update();
            match current {
                SessionState::Connected => {
                    if let Some(socket) = self.inner.socket.read().clone() {
                        return Ok(socket);
                    }
                }
                SessionState::Closed => return Err(conn_closed()),
                SessionState::Redialing if !wait_for_redial => return Err(redialing()),
                SessionState::Connecting | SessionState::Redialing => {}
            }
            let changed = state.changed();
            let waited = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, changed).await,
                None => Ok(changed.await),
            };
            match waited {
                Err(_) => return Err(call_timeout()),
                Ok(Err(_)) => return Err(conn_closed()),
                Ok(Ok(())) => {}
            }
        }
    }

    /// Runs a new connection for this session: starts its writer and reader, runs the
    /// connect plugins, then opens it to calls and routing.
    pub(crate) async fn attach(
        &self,
        conn: Conn,
        proto: Arc<dyn Proto>,
        origin: Origin,
    ) -> Result<(), Status> {
        let config = self.peer().config();
        let socket = Socket::new(
            proto,
            config.max_outbound_bytes,
            self.peer().outbound().clone(),
            conn.writer,
            conn.direct_writes,
            conn.remote_addr.clone(),
            #[cfg(unix)]
            conn.raw_fd,
        );
        *self.inner.addrs.write() = (conn.local_addr, conn.remote_addr);
        let writer = spawn_writer(socket.clone(), config.write_timeout, {
            let remote = socket.remote_addr.clone();
            move |e| tracing::debug!(%remote, error = %e, "write failed; closing the connection")
        });
        socket.set_writer(writer);
        *self.inner.socket.write() = Some(socket.clone());
        tokio::spawn(dispatch::read_loop(self.clone(), socket.clone(), conn.reader));
        let plugins = self.peer().plugins();
        let hooked = match origin {
            Origin::Accepted => plugins.post_accept(self).await,
            Origin::Dialed { redial } => plugins.post_dial(self, redial).await,
        };
        if let Err(status) = hooked {
            socket.close();
            socket.flushed(config.write_timeout).await;
            return Err(status);
        }
        // Under the socket lock, so that a connection lost meanwhile is either seen here or
        // sees the session connected and handles it.
        let mut current = self.inner.socket.write();
        if socket.is_closed() || self.inner.closing.load(Ordering::Acquire) {
            if current.as_ref().is_some_and(|s| Arc::ptr_eq(s, &socket)) {
                *current = None;
            }
            return Err(conn_closed());
        }
        socket.open_gate();
        self.set_state(SessionState::Connected);
        Ok(())
    }

    /// The bytes waiting in the current connection's write queue, if connected.
    pub(crate) fn queued_bytes(&self) -> Option<usize> {
        self.inner.socket.read().as_ref().map(|socket| socket.queued_bytes())
    }

    /// Drops the current connection and what waits in its queue: the session is the
    /// slowest of a peer out of outbound room ([`PushPolicy::CloseSlowest`]).
    ///
    /// [`PushPolicy::CloseSlowest`]: crate::socket::PushPolicy::CloseSlowest
    pub(crate) fn close_as_slowest(&self, queued: usize) {
        let Some(socket) = self.inner.socket.read().clone() else { return };
        tracing::warn!(
            remote = %socket.remote_addr, queued,
            "closing the slowest session: no room left for outbound pushes"
        );
        self.peer().outbound().count_closed_slowest();
        socket.abort();
    }

    /// What pending calls end with when the connection goes: 503 when the peer is shutting
    /// down, else 102.
    fn connection_ended(&self) -> Status {
        if self.peer().is_shutting_down() { shut_down() } else { conn_closed() }
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

    /// Answers every call of the other side still running here with `status`, so that
    /// its callers learn why (a shutdown past its grace period) rather than seeing the
    /// connection drop; the handlers' own replies are then not sent.
    pub(crate) fn answer_running(&self, status: &Status) {
        let Some(socket) = self.inner.socket.read().clone() else { return };
        for seq in socket.running.drain() {
            let mut reply = Message::new(MessageType::Reply, seq, "");
            reply.status = status.clone();
            let _ = socket.try_send(&reply);
        }
    }

    /// Called by the read loop when its connection is gone. While the session is still
    /// connecting or redialing, the set-up in progress sees the closed socket and decides.
    pub(crate) fn on_connection_lost(&self, socket: &Arc<Socket>) {
        socket.close();
        socket.pending.fail_all(&self.connection_ended());
        {
            let mut current = self.inner.socket.write();
            let is_current = current.as_ref().is_some_and(|s| Arc::ptr_eq(s, socket));
            if !is_current || self.state() != SessionState::Connected || self.is_closing() {
                return;
            }
            *current = None;
            if self.can_redial() {
                self.set_state(SessionState::Redialing);
                tokio::spawn(redial::redial_loop(self.clone()));
                return;
            }
        }
        self.give_up();
    }

    fn can_redial(&self) -> bool {
        self.inner.redial.is_some() && !self.peer().is_shutting_down()
    }

    pub(crate) fn redial_target(&self) -> Option<&RedialTarget> {
        self.inner.redial.as_ref()
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.inner.closing.load(Ordering::Acquire)
    }

    /// Marks the session closed for good after a failed set-up or redial.
    pub(crate) fn give_up(&self) {
        self.inner.closing.store(true, Ordering::Release);
        self.set_state(SessionState::Closed);
        self.finalize();
    }

    /// Removes the session from its peer and runs the disconnect plugins, once.
    fn finalize(&self) {
        if self.inner.finalized.swap(true, Ordering::AcqRel) {
            return;
        }
        self.peer().hub().remove(&self.id(), self);
        crate::observe::metrics::sessions(-1.0); // observe
        let plugins = self.peer().plugins();
        for plugin in plugins.iter() {
            plugin.post_disconnect(self);
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

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `at` in nanoseconds from `origin`, `u64::MAX` for none.
fn nanos_from(origin: Instant, at: Option<Instant>) -> u64 {
    at.map_or(u64::MAX, |at| duration_ns(at.saturating_duration_since(origin)).min(u64::MAX - 1))
}

fn age_deadline(age: Duration) -> (Duration, Option<Instant>) {
    (age, (!age.is_zero()).then(|| Instant::now() + age))
}

pub(crate) fn conn_closed() -> Status {
    Status::with_code(status::CODE_CONN_CLOSED, "the connection closed")
}

/// What a call gets when its session is redialing and it chose not to wait.
fn redialing() -> Status {
    Status::with_code(
        status::CODE_SERVICE_UNAVAILABLE,
        "the session is redialing; the request was not sent (CallOptions::wait_for_redial waits)",
    )
}

/// What pending calls get when their peer shuts down.
pub(crate) fn shut_down() -> Status {
    Status::with_code(status::CODE_SERVICE_UNAVAILABLE, "the peer shut down")
}

pub(crate) fn call_timeout() -> Status {
    Status::with_code(status::CODE_HANDLE_TIMEOUT, "the call's deadline passed")
}
