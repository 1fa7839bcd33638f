//! What the http protocol remembers about one server connection: the request after which
//! it closes (`Connection: close`, HTTP/1.0, a body over the limit), and where in the
//! written stream the reply to it ends. Plain state: the peer's connection wrapper reads
//! it to shut the connection once those bytes are written.

use parking_lot::Mutex;

/// The state of one connection served with the http protocol.
#[derive(Debug, Default)]
pub(crate) struct HttpConn {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Bytes encoded so far: frames are written in the order they are encoded.
    encoded: u64,
    /// The last request read: its seq, and whether its body was over the limit.
    last: Option<(i32, bool)>,
    /// The stream offset after which the connection closes.
    close_at: Option<u64>,
}

impl HttpConn {
    /// Whether a request that ends the connection was read: nothing after it is.
    pub(super) fn read_last(&self) -> bool {
        self.state.lock().last.is_some()
    }

    /// Marks the request with `seq` as the last one read.
    pub(super) fn close_after(&self, seq: i32, too_large: bool) {
        self.state.lock().last.get_or_insert((seq, too_large));
    }

    /// Whether the reply with `seq` is the last one: `Some(too_large)` then.
    pub(super) fn closing_reply(&self, seq: i32) -> Option<bool> {
        let state = self.state.lock();
        match state.last {
            Some((last, too_large)) if last == seq && state.close_at.is_none() => Some(too_large),
            _ => None,
        }
    }

    /// Counts `len` encoded bytes; `closes` when they end the last reply.
    pub(super) fn encoded(&self, len: usize, closes: bool) {
        let mut state = self.state.lock();
        state.encoded += len as u64;
        if closes && state.close_at.is_none() {
            state.close_at = Some(state.encoded);
        }
    }

    /// Whether the connection is done once `written` bytes of it are written.
    pub(crate) fn done_at(&self, written: u64) -> bool {
        self.state.lock().close_at.is_some_and(|at| written >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_after_the_last_reply_is_written() {
        let conn = HttpConn::default();
        conn.encoded(10, false);
        assert!(!conn.read_last() && !conn.done_at(10));
        conn.close_after(3, false);
        conn.close_after(4, true);
        assert!(conn.read_last());
        assert_eq!((conn.closing_reply(4), conn.closing_reply(3)), (None, Some(false)));
        conn.encoded(5, true);
        assert_eq!(conn.closing_reply(3), None);
        assert!(!conn.done_at(14) && conn.done_at(15));
    }
}
