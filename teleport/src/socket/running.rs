//! The calls this side is handling in tasks of their own, by seq: a seq runs once at a time.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

/// The seqs of the calls of one connection whose handlers run in tasks of their own.
/// Handlers that finish at once never enter: checking costs one atomic load while none run.
/// The seqs are the other side's choice, so the set keeps std's keyed hasher.
#[derive(Default)]
pub(crate) struct RunningCalls {
    seqs: Mutex<HashSet<i32>>,
    count: AtomicUsize,
}

impl RunningCalls {
    /// Whether a call with `seq` is running.
    pub(crate) fn contains(&self, seq: i32) -> bool {
        self.count.load(Ordering::Acquire) != 0 && self.seqs.lock().contains(&seq)
    }

    /// Notes that the call `seq` runs; false if it already did.
    pub(crate) fn insert(&self, seq: i32) -> bool {
        let inserted = self.seqs.lock().insert(seq);
        if inserted {
            self.count.fetch_add(1, Ordering::AcqRel);
        }
        inserted
    }

    /// Notes that the call `seq` ended.
    pub(crate) fn remove(&self, seq: i32) {
        if self.seqs.lock().remove(&seq) {
            self.count.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// The seqs of every running call, which stop counting as running.
    pub(crate) fn drain(&self) -> Vec<i32> {
        let drained: Vec<i32> = self.seqs.lock().drain().collect();
        self.count.fetch_sub(drained.len(), Ordering::AcqRel);
        drained
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seq_runs_once_at_a_time() {
        let running = RunningCalls::default();
        assert!(!running.contains(7));
        assert!(running.insert(7));
        assert!(!running.insert(7));
        assert!(running.contains(7) && !running.contains(8));
        running.insert(8);
        running.remove(7);
        assert_eq!(running.drain(), vec![8]);
        assert!(!running.contains(8));
        assert_eq!(running.count.load(Ordering::Acquire), 0);
    }
}
