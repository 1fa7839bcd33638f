//! The benchmark's services. The server serves `Hello.Say` (and `Hello.Broadcast`, which
//! starts the push scenario); the client serves `Sink.Push`, where those pushes land.
//!
//! A route has one argument type, so each service comes twice: with
//! `teleport::codec::Protobuf<BenchmarkMessage>` for the protobuf codec, and with the serde
//! mirror (the same struct) for JSON and bincode. Both flavours share the route names.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use teleport as tp;
use teleport::codec::{EncodeBody, Protobuf};
use tokio::sync::Notify;

pub use crate::message::BenchmarkMessage;

/// `Hello.Say` and `Hello.Broadcast` for protobuf bodies.
pub struct Hello;

#[tp::service(mapper = "rpc")]
impl Hello {
    /// Sets field 1 to `"OK"` and field 2 to 100, and returns the message.
    fn say(&self, mut msg: Protobuf<BenchmarkMessage>) -> Protobuf<BenchmarkMessage> {
        msg.answer();
        msg
    }

    /// Pushes the client's message `rounds` times to every session (JSON argument).
    async fn broadcast(&self, ctx: &tp::CallCtx, rounds: u64) -> Result<u64, tp::Status> {
        broadcast(ctx, rounds, &Protobuf(BenchmarkMessage::client())).await
    }
}

/// `Hello.Say` and `Hello.Broadcast` for serde bodies (JSON, bincode).
pub struct HelloSerde;

#[tp::service(mapper = "rpc")]
impl HelloSerde {
    /// Sets field 1 to `"OK"` and field 2 to 100, and returns the message.
    #[tp(route = "Hello.Say")]
    fn say(&self, mut msg: BenchmarkMessage) -> BenchmarkMessage {
        msg.answer();
        msg
    }

    /// Pushes the client's message `rounds` times to every session (JSON argument).
    #[tp(route = "Hello.Broadcast")]
    async fn broadcast(&self, ctx: &tp::CallCtx, rounds: u64) -> Result<u64, tp::Status> {
        broadcast(ctx, rounds, &BenchmarkMessage::client()).await
    }
}

/// Pushes `body` to `Sink.Push` of every session of the peer, round after round. A push
/// returns once its frame is queued, so the loop runs as fast as the slowest session's write
/// queue drains. A session that fails a push (one of a previous row, still closing) gets no
/// more; the reply counts the pushes queued.
async fn broadcast(
    ctx: &tp::CallCtx,
    rounds: u64,
    body: &(impl EncodeBody + Sync),
) -> Result<u64, tp::Status> {
    let mut sessions = ctx.session().peer().sessions();
    let mut pushed = 0;
    for _ in 0..rounds {
        let mut failed = Vec::new();
        for (i, session) in sessions.iter().enumerate() {
            match session.push(SinkClient::PUSH, body).await {
                Ok(()) => pushed += 1,
                Err(_) => failed.push(i),
            }
        }
        for i in failed.into_iter().rev() {
            sessions.swap_remove(i);
        }
    }
    Ok(pushed)
}

/// Counts the pushes a client receives and wakes whoever waits for a number of them.
#[derive(Default)]
pub struct PushCounter {
    received: AtomicU64,
    wrong: AtomicU64,
    target: AtomicU64,
    reached: Notify,
}

impl PushCounter {
    fn record(&self, right: bool) {
        if !right {
            self.wrong.fetch_add(1, Ordering::Relaxed);
        }
        let received = self.received.fetch_add(1, Ordering::AcqRel) + 1;
        if received >= self.target.load(Ordering::Acquire) {
            self.reached.notify_one();
        }
    }

    /// The pushes received so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Acquire)
    }

    /// The pushes received whose field 1 was not the client's text.
    pub fn wrong(&self) -> u64 {
        self.wrong.load(Ordering::Relaxed)
    }

    /// Waits until `target` pushes in all have been received.
    pub async fn wait_for(&self, target: u64) {
        self.target.store(target, Ordering::Release);
        while self.received() < target {
            self.reached.notified().await;
        }
    }
}

/// `Sink.Push` for protobuf bodies: counts what the server pushes.
pub struct Sink(pub Arc<PushCounter>);

#[tp::service(mapper = "rpc")]
impl Sink {
    /// Counts one push.
    #[tp(push)]
    fn push(&self, msg: Protobuf<BenchmarkMessage>) {
        self.0.record(msg.field1 == crate::message::TEXT);
    }
}

/// `Sink.Push` for serde bodies.
pub struct SinkSerde(pub Arc<PushCounter>);

#[tp::service(mapper = "rpc")]
impl SinkSerde {
    /// Counts one push.
    #[tp(push, route = "Sink.Push")]
    fn push(&self, msg: BenchmarkMessage) {
        self.0.record(msg.field1 == crate::message::TEXT);
    }
}
