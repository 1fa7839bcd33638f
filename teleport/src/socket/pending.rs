//! Calls waiting for their replies, matched by seq.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::message::Message;
use crate::status::Status;

/// Where a reply (or the status that ends the call) is delivered.
pub(crate) type ReplySlot = oneshot::Sender<Result<Message, Status>>;

/// The calls of one connection that wait for a reply. Each entry is taken out exactly once:
/// by its reply, by its deadline, or when the connection closes.
#[derive(Default)]
pub(crate) struct PendingCalls {
    calls: Mutex<PendingState>,
}

#[derive(Default)]
struct PendingState {
    map: HashMap<i32, ReplySlot, BuildHasherDefault<SeqHasher>>,
    closed: bool,
}

impl PendingCalls {
    /// Registers a call; gives the slot back if the connection already closed.
    pub(crate) fn insert(&self, seq: i32, slot: ReplySlot) -> Result<(), ReplySlot> {
        let mut calls = self.calls.lock();
        if calls.closed {
            return Err(slot);
        }
        calls.map.insert(seq, slot);
        Ok(())
    }

    /// Takes the call waiting on `seq`, if it still waits.
    pub(crate) fn take(&self, seq: i32) -> Option<ReplySlot> {
        self.calls.lock().map.remove(&seq)
    }

    /// Ends every waiting call with `status` and refuses new ones.
    pub(crate) fn fail_all(&self, status: &Status) {
        let drained: Vec<ReplySlot> = {
            let mut calls = self.calls.lock();
            calls.closed = true;
            calls.map.drain().map(|(_, slot)| slot).collect()
        };
        for slot in drained {
            let _ = slot.send(Err(status.clone()));
        }
    }

    /// The number of calls waiting.
    pub(crate) fn len(&self) -> usize {
        self.calls.lock().map.len()
    }
}

/// Hashes a seq with one multiplication. Seqs are ours (they count up per session), so the
/// map needs no defence against chosen keys, only a spread of the high bits.
#[derive(Default)]
struct SeqHasher(u64);

impl Hasher for SeqHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(FIBONACCI);
        }
    }

    fn write_i32(&mut self, seq: i32) {
        self.0 = u64::from(seq as u32).wrapping_mul(FIBONACCI);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

const FIBONACCI: u64 = 0x9e37_79b9_7f4a_7c15;
