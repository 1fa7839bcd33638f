//! One connection's machinery: the write queue and its writer task, and the table of calls
//! waiting for their replies. The read loop lives with the session, which dispatches what
//! it reads.

mod budget;
mod pending;
mod running;
#[cfg(test)]
mod tests;
mod writer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

pub(crate) use budget::OutboundBudget;
pub use budget::{OutboundStats, PushPolicy};
pub(crate) use pending::PendingCalls;
pub(crate) use running::RunningCalls;
pub(crate) use writer::spawn_writer;

use crate::message::Message;
use crate::proto::{Proto, ProtoError};
use crate::status::{self, Status};
use crate::transport::{Addr, BoxWrite};

/// Why a frame could not be queued.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The connection is closed.
    Closed,
    /// The frame could not be encoded (too large, bad field...).
    Encode(ProtoError),
}

impl SendError {
    pub(crate) fn into_status(self) -> Status {
        match self {
            SendError::Closed => {
                Status::with_code(status::CODE_CONN_CLOSED, "the connection is closed")
            }
            SendError::Encode(e) => Status::with_code(status::CODE_WRITE_FAILED, e.to_string()),
        }
    }
}

/// The most bytes a cork holds back: past it, the queue is written at once, cork or not.
const COALESCE_LIMIT: usize = 64 << 10;

/// Whether frames queued now are written at once or held back to go out together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cork {
    /// A frame queued on an idle connection is written at once by its sender.
    Open,
    /// The read loop is handling the frames of one read: what they produce stays queued
    /// until the end of the pass, then goes out in one write.
    Held,
    /// The pass is over but it woke tasks that are about to send (callers whose replies it
    /// delivered): the last of them to send writes everything in one write, or, if some do
    /// not send, the writer task once they have all had their turn.
    FlushAfterWakeups,
}

struct WriteState {
    buf: BytesMut,
    closed: bool,
    cork: Cork,
    /// Sends still expected from the tasks the read loop woke, before the held-back queue is
    /// written.
    awaited: usize,
    /// Someone (the writer task, or a sender writing directly) owns the write half and is
    /// writing; everyone else queues.
    writing: bool,
    /// Bytes the writer task took from `buf` and has not finished writing: they count
    /// against the queue's bound until written.
    held: usize,
    /// What this socket counts in the peer's budget (`buf.len() + held` when last settled).
    accounted: usize,
    /// Where the queued pushes of latest-wins routes sit in `buf`, oldest first.
    replaceable: Vec<QueuedPush>,
}

/// A push of a latest-wins route, still in the write queue.
struct QueuedPush {
    route: String,
    start: usize,
    len: usize,
}

impl WriteState {
    fn queued(&self) -> usize {
        self.buf.len() + self.held
    }

    /// Removes the oldest queued push of `route` from the queue; its size, if there was one.
    fn remove_queued_push(&mut self, route: &str) -> Option<usize> {
        let at = self.replaceable.iter().position(|q| q.route == route)?;
        let QueuedPush { start, len, .. } = self.replaceable.remove(at);
        self.buf.copy_within(start + len.., start);
        let new_len = self.buf.len() - len;
        self.buf.truncate(new_len);
        for later in &mut self.replaceable[at..] {
            later.start -= len;
        }
        Some(len)
    }
}

/// What became of a push offered with a policy.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued or written; its size.
    Sent(usize),
    /// No room: the caller waits (or closes the slowest session first, by its policy).
    Full,
    /// Dropped by its policy.
    Dropped,
}

/// The shared state of one live connection.
pub(crate) struct Socket {
    proto: Arc<dyn Proto>,
    write: Mutex<WriteState>,
    /// Wakes the writer task when frames are queued or the socket closes.
    write_ready: Notify,
    /// Wakes senders waiting for room in the write queue.
    space: Notify,
    max_outbound: usize,
    budget: Arc<OutboundBudget>,
    closed: AtomicBool,
    /// Notified once, when the socket closes.
    closed_notify: Notify,
    /// Calls and pushes are dispatched only once the connect plugins have run.
    gate_open: AtomicBool,
    gate: Notify,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The write half; used only by whoever set `WriteState::writing`.
    half: Mutex<Option<BoxWrite>>,
    /// Whether senders may write directly (the half needs no flush).
    direct_writes: bool,
    /// The first message read before the gate opened, for a connect plugin to take.
    early: Mutex<Option<Message>>,
    early_ready: Notify,
    pub(crate) pending: PendingCalls,
    /// The calls of the other side that this side handles in tasks of their own.
    pub(crate) running: RunningCalls,
    pub(crate) remote_addr: Addr,
    #[cfg(unix)]
    pub(crate) raw_fd: Option<std::os::fd::RawFd>,
}

impl Socket {
    pub(crate) fn new(
        proto: Arc<dyn Proto>,
        max_outbound: usize,
        budget: Arc<OutboundBudget>,
        half: BoxWrite,
        direct_writes: bool,
        remote_addr: Addr,
        #[cfg(unix)] raw_fd: Option<std::os::fd::RawFd>,
    ) -> Arc<Self> {
        Arc::new(Socket {
            proto,
            write: Mutex::new(WriteState {
                buf: BytesMut::new(),
                closed: false,
                cork: Cork::Open,
                awaited: 0,
                writing: false,
                held: 0,
                accounted: 0,
                replaceable: Vec::new(),
            }),
            write_ready: Notify::new(),
            space: Notify::new(),
            max_outbound: max_outbound.max(1),
            budget,
            closed: AtomicBool::new(false),
            closed_notify: Notify::new(),
            gate_open: AtomicBool::new(false),
            gate: Notify::new(),
            writer: Mutex::new(None),
            half: Mutex::new(Some(half)),
            direct_writes,
            early: Mutex::new(None),
            early_ready: Notify::new(),
            pending: PendingCalls::default(),
            running: RunningCalls::default(),
            remote_addr,
            #[cfg(unix)]
            raw_fd,
        })
    }

    pub(crate) fn proto(&self) -> &Arc<dyn Proto> {
        &self.proto
    }

    /// Encodes `msg` straight into the write queue, waiting while the queue is over its
    /// limit. When nothing else is queued or being written, the frame is written at once
    /// from this task (if the transport allows) instead of waking the writer task.
    /// Cancel-safe: if dropped while waiting, nothing was queued.
    pub(crate) async fn send(&self, msg: &Message) -> Result<usize, SendError> {
        if let Some(written) = self.try_send(msg)? {
            return Ok(written);
        }
        loop {
            let room = self.space.notified();
            let peer_room = self.budget.room();
            tokio::pin!(room, peer_room);
            room.as_mut().enable();
            peer_room.as_mut().enable();
            if let Some(written) = self.try_send(msg)? {
                return Ok(written);
            }
            tokio::select! {
                () = room => {}
                () = peer_room => {}
            }
        }
    }

    /// Queues (or writes) `msg` if the queue has room; `Ok(None)` when it is full: this
    /// session's queue holds `max_outbound` bytes (what the writer is writing included), or
    /// the peer's queues together hold their bound. The common case of
    /// [`send`](Self::send), kept out of its future so that a sender that never waits builds
    /// no waiting state.
    pub(crate) fn try_send(&self, msg: &Message) -> Result<Option<usize>, SendError> {
        let state = self.write.lock();
        if state.closed {
            return Err(SendError::Closed);
        }
        if state.queued() >= self.max_outbound || self.budget.is_over() {
            return Ok(None);
        }
        self.queue(state, msg, false).map(Some)
    }

    /// Queues a push whose route has `policy` (not [`PushPolicy::Wait`], which is
    /// [`try_send`](Self::try_send)): without room it is dropped, replaces the oldest
    /// queued push of its route, or is left to the caller.
    pub(crate) fn try_push(&self, msg: &Message, policy: PushPolicy) -> Result<Pushed, SendError> {
        let mut state = self.write.lock();
        if state.closed {
            return Err(SendError::Closed);
        }
        let latest_wins = policy == PushPolicy::DropOldest;
        if state.queued() < self.max_outbound && !self.budget.is_over() {
            return self.queue(state, msg, latest_wins).map(Pushed::Sent);
        }
        let route = msg.path();
        match policy {
            PushPolicy::DropOldest => {
                // The latest always goes in: in place of the one queued before it, or, with
                // none, as the route's one push over the bound.
                if state.remove_queued_push(route).is_some() {
                    self.budget.count_dropped_oldest(route);
                }
                self.queue(state, msg, true).map(Pushed::Sent)
            }
            PushPolicy::DropNewest => {
                self.budget.count_dropped_newest(route);
                Ok(Pushed::Dropped)
            }
            _ => Ok(Pushed::Full),
        }
    }

    /// Encodes `msg` into the queue and writes it at once if the connection is idle, or
    /// wakes the writer. A `replaceable` push is remembered for [`try_push`](Self::try_push).
    fn queue(
        &self,
        mut state: parking_lot::MutexGuard<'_, WriteState>,
        msg: &Message,
        replaceable: bool,
    ) -> Result<usize, SendError> {
        let open = state.cork == Cork::Open;
        if open && self.direct_writes && state.buf.is_empty() && !state.writing {
            // An idle connection: the frame is written at once from this thread's frame
            // buffer, and the connection's own queue (cold memory when a peer serves many
            // connections) is not touched.
            state.writing = true;
            drop(state);
            return self.write_direct(msg);
        }
        let before = state.buf.len();
        self.proto.encode(msg, &mut state.buf).map_err(SendError::Encode)?;
        let written = state.buf.len() - before;
        if replaceable {
            let route = msg.path().to_owned();
            state.replaceable.push(QueuedPush { route, start: before, len: written });
        }
        self.settle(&mut state);
        state.awaited = state.awaited.saturating_sub(1);
        if open {
            drop(state);
            self.write_ready.notify_one();
        } else if state.cork == Cork::FlushAfterWakeups && state.awaited == 0 {
            // The last of the woken senders: the batch is complete.
            state.cork = Cork::Open;
            self.flush(state);
        } else if state.buf.len() >= COALESCE_LIMIT {
            // A batch is bounded: a long pass does not hold back more than this.
            self.flush(state);
        }
        Ok(written)
    }

    /// Holds back what is queued from now on until [`uncork`](Self::uncork) or
    /// [`uncork_after_wakeups`](Self::uncork_after_wakeups): the read loop calls it when one
    /// read brought several frames, so that their replies go out in one write. Only the
    /// read loop corks, and it uncorks before anything it awaits.
    pub(crate) fn cork(&self) {
        self.write.lock().cork = Cork::Held;
    }

    /// Writes what was held back, now, in one write.
    pub(crate) fn uncork(&self) {
        let mut state = self.write.lock();
        state.cork = Cork::Open;
        state.awaited = 0;
        self.flush(state);
    }

    /// Keeps what is held back until the `woken` tasks the pass woke have sent (each send
    /// counts, whoever makes it): the last one writes everything in one write. The writer
    /// task is the fallback if some never send: it writes once the runtime's ready tasks
    /// have run. No timer.
    pub(crate) fn uncork_after_wakeups(&self, woken: usize) {
        {
            let mut state = self.write.lock();
            state.cork = Cork::FlushAfterWakeups;
            state.awaited += woken;
        }
        self.write_ready.notify_one();
    }

    /// Writes the whole queue in one write, at once if nobody else writes and the transport
    /// allows it; else leaves it to whoever writes (who hands over to the writer task when
    /// done) or to the writer task.
    fn flush(&self, mut state: parking_lot::MutexGuard<'_, WriteState>) {
        if state.buf.is_empty() || state.writing {
            return;
        }
        if !self.direct_writes {
            drop(state);
            self.write_ready.notify_one();
            return;
        }
        state.writing = true;
        let frames = state.buf.split();
        // Counted against the bound until written, as the writer task does.
        state.held = frames.len();
        state.replaceable.clear();
        drop(state);
        self.write_now(frames);
    }

    /// Brings the peer's budget up to date with this socket's queue.
    fn settle(&self, state: &mut WriteState) {
        let now = state.queued();
        if now != state.accounted {
            self.budget.settle(state.accounted, now);
            state.accounted = now;
        }
    }

    /// The bytes waiting in this socket's write queue, what the writer is writing included.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.write.lock().queued()
    }

    /// Whether the socket is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Marks the socket closed: no more frames are accepted; the writer flushes what is
    /// queued and shuts the write half down. Returns false if it was already closed.
    pub(crate) fn close(&self) -> bool {
        if self.closed.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.write.lock().closed = true;
        self.write_ready.notify_one();
        self.space.notify_waiters();
        self.closed_notify.notify_waiters();
        true
    }

    /// Closes the socket dropping what waits to be written, and stops the writer: for a
    /// session closed as the slowest, whose queue is what the peer needs back.
    pub(crate) fn abort(&self) {
        if let Some(writer) = self.writer.lock().take() {
            writer.abort();
        }
        {
            let mut state = self.write.lock();
            state.buf = BytesMut::new();
            state.cork = Cork::Open;
            state.awaited = 0;
            state.held = 0;
            state.replaceable.clear();
            self.settle(&mut state);
        }
        self.close();
    }

    pub(crate) fn set_writer(&self, writer: tokio::task::JoinHandle<()>) {
        *self.writer.lock() = Some(writer);
    }

    /// Waits (at most `timeout`) for the writer to flush the queue and stop; aborts it then.
    pub(crate) async fn flushed(&self, timeout: std::time::Duration) {
        let writer = self.writer.lock().take();
        if let Some(mut writer) = writer {
            if tokio::time::timeout(timeout, &mut writer).await.is_err() {
                writer.abort();
            }
        }
    }

    /// Lets the read loop dispatch calls and pushes.
    pub(crate) fn open_gate(&self) {
        self.gate_open.store(true, Ordering::Release);
        self.gate.notify_waiters();
    }

    /// Whether calls and pushes are dispatched yet.
    pub(crate) fn gate_is_open(&self) -> bool {
        self.gate_open.load(Ordering::Acquire)
    }

    /// Keeps the first message read before the gate opened.
    pub(crate) fn park_early(&self, msg: Message) {
        *self.early.lock() = Some(msg);
        self.early_ready.notify_one();
    }

    /// Takes the parked message, if any.
    pub(crate) fn take_early(&self) -> Option<Message> {
        self.early.lock().take()
    }

    /// Waits for the first message read before the gate opened.
    pub(crate) async fn next_early(&self) -> Option<Message> {
        loop {
            let ready = self.early_ready.notified();
            if let Some(msg) = self.take_early() {
                return Some(msg);
            }
            if self.is_closed() {
                return None;
            }
            tokio::select! {
                () = ready => {}
                () = self.closed() => {}
            }
        }
    }

    /// Waits until the gate is open (or the socket closed).
    pub(crate) async fn gate_opened(&self) {
        if self.gate_open.load(Ordering::Acquire) {
            return;
        }
        let opened = self.gate.notified();
        tokio::pin!(opened);
        opened.as_mut().enable();
        if self.gate_open.load(Ordering::Acquire) || self.is_closed() {
            return;
        }
        tokio::select! {
            () = opened => {}
            () = self.closed() => {}
        }
    }

    /// What a read loop selects on to stop when the socket closes. Polled on every wake-up
    /// of the loop, it re-arms the underlying notification only when the task's waker
    /// changed, so a busy loop takes no lock for it.
    pub(crate) fn closed_watch(&self) -> ClosedWatch<'_> {
        let mut notified = Box::pin(self.closed_notify.notified());
        notified.as_mut().enable();
        ClosedWatch { socket: self, notified, armed_with: None }
    }

    /// Waits until the socket closes.
    pub(crate) async fn closed(&self) {
        let notified = self.closed_notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_closed() {
            return;
        }
        notified.await;
    }
}

/// See [`Socket::closed_watch`].
pub(crate) struct ClosedWatch<'a> {
    socket: &'a Socket,
    notified: Pin<Box<Notified<'a>>>,
    /// The waker the notification holds, once polled.
    armed_with: Option<Waker>,
}

impl Future for ClosedWatch<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // `close` sets the flag before it notifies, and the notification wakes the waker
        // armed here: a close after this check still wakes the task.
        if self.socket.is_closed() {
            return Poll::Ready(());
        }
        if self.armed_with.as_ref().is_some_and(|armed| armed.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        if self.notified.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        self.armed_with = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Whatever was never written leaves the peer's budget with the socket.
        let state = self.write.get_mut();
        self.budget.settle(state.accounted, 0);
    }
}
