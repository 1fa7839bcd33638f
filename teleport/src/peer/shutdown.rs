//! Graceful shutdown of a peer, and the signal helper.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Peer;
use crate::status::{self, Status};

impl Peer {
    /// Shuts the peer down gracefully, returning within `timeout` whatever the other sides
    /// do: stops accepting, answers new incoming calls `503` and fails new outgoing ones,
    /// lets running handlers finish and write their replies, then closes every session
    /// (its pending calls end with 503). Handlers still running at the deadline are
    /// abandoned: their callers are answered 503 "the peer shut down before the handler
    /// finished".
    pub async fn shutdown(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        self.inner.shutting_down.store(true, Ordering::Release);
        self.stop_accepting().await;
        loop {
            let idle = self.inner.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.handlers_in_flight() == 0 {
                break;
            }
            if tokio::time::timeout_at(deadline.into(), idle).await.is_err() {
                tracing::warn!(
                    running = self.handlers_in_flight(),
                    "shutdown deadline: abandoning handlers"
                );
                break;
            }
        }
        let sessions = self.sessions();
        let abandoned = Status::with_code(
            status::CODE_SERVICE_UNAVAILABLE,
            "the peer shut down before the handler finished",
        );
        for session in &sessions {
            session.answer_running(&abandoned);
        }
        let close_all = futures_util::future::join_all(sessions.iter().map(|s| s.close()));
        let _ = tokio::time::timeout_at(deadline.into(), close_all).await;
        self.inner.stopped.notify_waiters();
        tracing::info!("peer shut down");
    }

    /// Stops accepting connections and leaves everything else running: sessions go on
    /// calling and serving. Each listener is closed on return (its port is free, unless
    /// another process shares the socket: a graceful restart stops accepting this way and
    /// lets the next process take the connections waiting in the backlog). Called by
    /// [`Peer::shutdown`] first.
    pub async fn stop_accepting(&self) {
        let accept_loops: Vec<_> = self.inner.accept_loops.lock().drain(..).collect();
        for task in accept_loops {
            // Awaiting the aborted task drops its listener. The task is aborted only while
            // it waits for a connection: one accepted is always handed to its own task.
            task.abort();
            let _ = task.await;
        }
    }

    /// Closes the peer at once: [`Peer::shutdown`] with no grace period.
    pub async fn close(&self) {
        self.shutdown(Duration::ZERO).await;
    }

    /// Waits until the peer has shut down.
    pub async fn stopped(&self) {
        let stopped = self.inner.stopped.notified();
        tokio::pin!(stopped);
        stopped.as_mut().enable();
        if self.is_shutting_down() && self.session_count() == 0 {
            return;
        }
        stopped.await;
    }
}

/// Waits for SIGINT or SIGTERM (Ctrl-C elsewhere), then shuts every peer down with
/// `timeout` (the seed's `GraceSignal`).
pub async fn graceful_signal(peers: &[Peer], timeout: Duration) {
    wait_for_signal().await;
    tracing::info!("signal received; shutting down");
    futures_util::future::join_all(peers.iter().map(|p| p.shutdown(timeout))).await;
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
