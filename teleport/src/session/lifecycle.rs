//! A session's life: attaching a connection and running its connect plugins, the live
//! socket a call is sent on (waiting for a redial), losing the connection, closing.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Origin, RedialTarget, Session, SessionState, read_loop, redial};
use crate::message::{Message, MessageType};
use crate::proto::Proto;
use crate::socket::{Socket, spawn_writer};
use crate::status::{self, Status};
use crate::transport::Conn;

impl Session {
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
        tokio::spawn(read_loop::read_loop(self.clone(), socket.clone(), conn.reader));
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
fn shut_down() -> Status {
    Status::with_code(status::CODE_SERVICE_UNAVAILABLE, "the peer shut down")
}

pub(crate) fn call_timeout() -> Status {
    Status::with_code(status::CODE_HANDLE_TIMEOUT, "the call's deadline passed")
}
