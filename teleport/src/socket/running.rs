//! The calls this side is handling in tasks of their own, by seq: a seq runs once at a time,
//! and a running call can be cancelled by its caller.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use tokio::task::AbortHandle;

use crate::cancel::Cancel;

/// One running call: its cancellation signal, and its task once spawned.
struct Entry {
    cancel: Arc<Cancel>,
    task: Option<AbortHandle>,
}

/// The calls of one connection whose handlers run in tasks of their own. Handlers that
/// finish at once never enter: checking costs one atomic load while none run. The seqs are
/// the other side's choice, so the map keeps std's keyed hasher.
#[derive(Default)]
pub(crate) struct RunningCalls {
    calls: Mutex<HashMap<i32, Entry>>,
    count: AtomicUsize,
}

impl RunningCalls {
    /// Whether a call with `seq` is running.
    pub(crate) fn contains(&self, seq: i32) -> bool {
        self.count.load(Ordering::Acquire) != 0 && self.calls.lock().contains_key(&seq)
    }

    /// Notes that the call `seq` runs, cancelled through `cancel`; false if it already did.
    pub(crate) fn insert(&self, seq: i32, cancel: Arc<Cancel>) -> bool {
        let mut calls = self.calls.lock();
        if calls.contains_key(&seq) {
            return false;
        }
        calls.insert(seq, Entry { cancel, task: None });
        self.count.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Attaches the task that runs the call `seq`, to abort it on cancellation.
    pub(crate) fn set_task(&self, seq: i32, task: AbortHandle) {
        if let Some(entry) = self.calls.lock().get_mut(&seq) {
            entry.task = Some(task);
        }
    }

    /// Notes that the call `seq` ended.
    pub(crate) fn remove(&self, seq: i32) {
        if self.calls.lock().remove(&seq).is_some() {
            self.count.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Cancels the call `seq` if it runs: its handler is dropped and no reply is written.
    /// Unknown or finished seqs are ignored. Returns whether a call was cancelled.
    pub(crate) fn cancel(&self, seq: i32) -> bool {
        if self.count.load(Ordering::Acquire) == 0 {
            return false;
        }
        let Some(entry) = self.calls.lock().remove(&seq) else { return false };
        self.count.fetch_sub(1, Ordering::AcqRel);
        entry.cancel.cancel();
        if let Some(task) = entry.task {
            task.abort();
        }
        true
    }

    /// The seqs of every running call, which stop counting as running.
    pub(crate) fn drain(&self) -> Vec<i32> {
        let drained: Vec<i32> = self.calls.lock().drain().map(|(seq, _)| seq).collect();
        self.count.fetch_sub(drained.len(), Ordering::AcqRel);
        drained
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seq_runs_once_at_a_time_and_cancels_once() {
        let running = RunningCalls::default();
        assert!(!running.contains(7));
        let cancel = Arc::new(Cancel::default());
        assert!(running.insert(7, cancel.clone()));
        assert!(!running.insert(7, Arc::default()));
        assert!(running.contains(7) && !running.contains(8));
        running.insert(8, Arc::default());
        assert!(running.cancel(7) && cancel.is_cancelled());
        assert!(!running.cancel(7) && !running.cancel(99));
        assert_eq!(running.drain(), vec![8]);
        assert!(!running.contains(8));
        assert_eq!(running.count.load(Ordering::Acquire), 0);
    }
}
