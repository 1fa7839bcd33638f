//! The outbound budget shared by every connection of a peer: how many bytes may wait to be
//! written, all sessions together, and what a push does when it would go over.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// What a push does when it cannot be queued at once: its session's write queue is full
/// (`max_outbound_bytes`) or the peer's queues together are (`max_outbound_bytes_total`).
/// Calls and replies always wait (bounded by their deadline); pushes follow the policy of
/// their route (`PeerConfig::push_policies`, else `PeerConfig::default_push_policy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PushPolicy {
    /// Wait for room, bounded by the push's deadline (then 408). The default.
    #[default]
    Wait,
    /// Drop this push: it fails with 104 Write Failed at once.
    DropNewest,
    /// Latest wins, for state updates: drop the oldest push of the same route still queued
    /// for this session and queue this one in its place. With none queued, this one is
    /// queued all the same, so the bound may be passed by one push per route and session.
    DropOldest,
    /// Close the slowest session: the one holding the most queued bytes when the peer is
    /// over its budget, else this push's own session (its queue is full); then wait.
    CloseSlowest,
}

/// How the peer's outbound budget stands, and what its push policies did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboundStats {
    /// Bytes waiting to be written, all sessions together (not counting a frame being
    /// written directly by its sender).
    pub queued_bytes: usize,
    /// The bound on `queued_bytes` (`PeerConfig::max_outbound_bytes_total`).
    pub max_bytes: usize,
    /// Pushes dropped because they found no room.
    pub dropped_newest: u64,
    /// Queued pushes replaced by a later push of their route.
    pub dropped_oldest: u64,
    /// Sessions closed as the slowest.
    pub closed_slowest: u64,
}

/// The peer-wide count of queued outbound bytes, and the push policies.
#[derive(Debug)]
pub(crate) struct OutboundBudget {
    max: usize,
    queued: AtomicUsize,
    /// Wakes senders waiting for the peer to go back under its bound.
    room: Notify,
    default_policy: PushPolicy,
    policies: BTreeMap<String, PushPolicy>,
    latest_wins: bool,
    dropped_newest: AtomicU64,
    dropped_oldest: AtomicU64,
    closed_slowest: AtomicU64,
}

impl OutboundBudget {
    pub(crate) fn new(
        max: usize,
        default_policy: PushPolicy,
        policies: BTreeMap<String, PushPolicy>,
    ) -> Self {
        let latest_wins = default_policy == PushPolicy::DropOldest
            || policies.values().any(|p| *p == PushPolicy::DropOldest);
        OutboundBudget {
            max: max.max(1),
            queued: AtomicUsize::new(0),
            room: Notify::new(),
            default_policy,
            policies,
            latest_wins,
            dropped_newest: AtomicU64::new(0),
            dropped_oldest: AtomicU64::new(0),
            closed_slowest: AtomicU64::new(0),
        }
    }

    /// Whether the peer's queues together hold their bound or more.
    pub(crate) fn is_over(&self) -> bool {
        self.queued.load(Ordering::Relaxed) >= self.max
    }

    /// The policy of pushes to `route` (a path, without query).
    pub(crate) fn policy(&self, route: &str) -> PushPolicy {
        if self.policies.is_empty() {
            return self.default_policy;
        }
        self.policies.get(route).copied().unwrap_or(self.default_policy)
    }

    /// Whether some route keeps the pushes it queues replaceable.
    pub(crate) fn has_latest_wins(&self) -> bool {
        self.latest_wins
    }

    /// Moves the count from `before` to `after` bytes for one socket.
    pub(crate) fn settle(&self, before: usize, after: usize) {
        if after > before {
            self.queued.fetch_add(after - before, Ordering::Relaxed);
        } else if before > after {
            let was = self.queued.fetch_sub(before - after, Ordering::Relaxed);
            if was >= self.max && was - (before - after) < self.max {
                self.room.notify_waiters();
            }
        }
    }

    /// A notification of room, to arm before checking [`is_over`](Self::is_over).
    pub(crate) fn room(&self) -> tokio::sync::futures::Notified<'_> {
        self.room.notified()
    }

    pub(crate) fn count_dropped_newest(&self, route: &str) {
        self.dropped_newest.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(route, "push dropped: no room in the outbound queue");
    }

    pub(crate) fn count_dropped_oldest(&self, route: &str) {
        self.dropped_oldest.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(route, "queued push replaced by a later one");
    }

    pub(crate) fn count_closed_slowest(&self) {
        self.closed_slowest.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> OutboundStats {
        OutboundStats {
            queued_bytes: self.queued.load(Ordering::Relaxed),
            max_bytes: self.max,
            dropped_newest: self.dropped_newest.load(Ordering::Relaxed),
            dropped_oldest: self.dropped_oldest.load(Ordering::Relaxed),
            closed_slowest: self.closed_slowest.load(Ordering::Relaxed),
        }
    }
}

impl Default for OutboundBudget {
    fn default() -> Self {
        OutboundBudget::new(usize::MAX, PushPolicy::Wait, BTreeMap::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settle_counts_both_ways_and_policies_fall_back_to_the_default() {
        let policies = BTreeMap::from([("/state".to_owned(), PushPolicy::DropOldest)]);
        let budget = OutboundBudget::new(100, PushPolicy::DropNewest, policies);
        budget.settle(0, 150);
        assert!(budget.is_over());
        budget.settle(150, 40);
        assert!(!budget.is_over());
        assert_eq!(budget.stats().queued_bytes, 40);
        assert_eq!(budget.policy("/state"), PushPolicy::DropOldest);
        assert_eq!(budget.policy("/other"), PushPolicy::DropNewest);
        assert!(budget.has_latest_wins());
        assert!(!OutboundBudget::default().has_latest_wins());
    }
}
