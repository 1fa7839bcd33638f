//! Heartbeats: [`Ping`] keeps a session alive by calling or pushing `/heartbeat` when it has
//! written nothing for its rate; [`Pong`] answers them and closes the sessions whose peer
//! has been silent for more than twice the rate it announced.
//!
//! A ping carries its rate in whole seconds in meta `hb_`, Go eRPC's key, with the peer's
//! default codec and an empty body; the pong replies JSON `null` to a call and nothing to a
//! push, as Go does. The route is registered literally, so it works under either mapper.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use teleport::plugin::heartbeat::{self, Ping, Pong};
//! use teleport::{Peer, PeerConfig, transport::memory};
//!
//! let server = Peer::builder(PeerConfig::default()).plugin(Pong::new()).build()?;
//! let ping = Ping::new(Duration::from_secs(10), true);
//! let client = Peer::builder(PeerConfig::default()).plugin(ping).build()?;
//! let (a, b) = memory::pair();
//! let served = server.serve_conn(a).await?;
//! let session = client.serve_conn(b).await?;
//!
//! tokio::time::sleep(Duration::from_secs(60)).await; // idle, but pinging every 10 s
//! assert!(session.health() && served.health());
//! assert_eq!(heartbeat::announced_rate(&served), Some(Duration::from_secs(10)));
//! # Ok(()) }
//! ```
//!
//! Differences from Go eRPC: a rate a peer announces is clamped to [5 s, 5 min] (Go takes
//! any rate, and its own minimum is 3 s: a Go peer pinging every 3 s is watched as if it
//! had announced 5 s, so it is closed after 10 s of silence instead of 6 s). Our ping counts
//! only what it writes as activity, since that is all the other side sees; Go's also counts
//! what it reads. A failed Go ping closes the session; ours closes it only when the call's
//! deadline (the rate) passes without an answer: an error reply still proves the peer alive.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::boxed::BoxFuture;
use crate::codec::{JSON, RawBody};
use crate::message::{Message, MessageType, Meta};
use crate::peer::Peer;
use crate::plugin::{HookResult, Plugin};
use crate::router::handler::{raw_call_handler, raw_push_handler};
use crate::session::{Session, SessionState};
use crate::status::{self, Status};

/// The heartbeat route.
pub const SERVICE_METHOD: &str = "/heartbeat";
/// The meta key of the announced rate, in whole seconds.
pub const META_RATE: &str = "hb_";
/// The lowest rate a peer may announce; lower ones are raised to it.
pub const MIN_RATE: Duration = Duration::from_secs(5);
/// The highest rate a peer may announce; higher ones are lowered to it.
pub const MAX_RATE: Duration = Duration::from_secs(300);

/// A rate within [`MIN_RATE`, `MAX_RATE`], in whole seconds (rounded up).
pub fn clamp_rate(rate: Duration) -> Duration {
    let secs = rate.as_secs() + u64::from(rate.subsec_nanos() > 0);
    Duration::from_secs(secs).clamp(MIN_RATE, MAX_RATE)
}

/// The rate the peer of `session` announced in its last heartbeat, clamped; `None` before
/// its first heartbeat or without a [`Pong`].
pub fn announced_rate(session: &Session) -> Option<Duration> {
    session.store().get::<Arc<Watch>>().map(|w| w.rate())
}

/// The sending side: pings each session after `rate` without writing.
#[derive(Clone)]
pub struct Ping {
    inner: Arc<PingState>,
}

struct PingState {
    rate_secs: AtomicU64,
    use_call: AtomicBool,
}

impl Ping {
    /// Pings every `rate` of idleness (clamped to [5 s, 5 min], whole seconds), with a call
    /// (`use_call`, answered by the pong) or a push.
    pub fn new(rate: Duration, use_call: bool) -> Self {
        let state = PingState {
            rate_secs: AtomicU64::new(clamp_rate(rate).as_secs()),
            use_call: AtomicBool::new(use_call),
        };
        Ping { inner: Arc::new(state) }
    }

    /// The rate.
    pub fn rate(&self) -> Duration {
        self.inner.rate()
    }

    /// Changes the rate of every session from its next ping on.
    pub fn set_rate(&self, rate: Duration) {
        self.inner.rate_secs.store(clamp_rate(rate).as_secs(), Ordering::Relaxed);
    }

    /// Pings with calls (`true`) or pushes.
    pub fn set_use_call(&self, use_call: bool) {
        self.inner.use_call.store(use_call, Ordering::Relaxed);
    }

    /// Sends one heartbeat now. A call waits for the answer (at most the rate); a push
    /// returns once queued.
    pub async fn ping(&self, session: &Session) -> Result<(), Status> {
        self.inner.ping(session).await
    }
}

impl PingState {
    fn rate(&self) -> Duration {
        Duration::from_secs(self.rate_secs.load(Ordering::Relaxed))
    }

    async fn ping(&self, session: &Session) -> Result<(), Status> {
        let rate = self.rate();
        let mut msg = Message::new(MessageType::Call, 0, SERVICE_METHOD);
        msg.meta.set(META_RATE, rate.as_secs().to_string());
        msg.body_codec = session.peer().default_codec();
        if !self.use_call.load(Ordering::Relaxed) {
            return session.push_raw(msg, Some(rate)).await;
        }
        let reply = session.call_raw_reply(msg, Some(rate)).await?;
        if !reply.status.is_ok() {
            tracing::debug!(session = %session.id(), status = %reply.status, "heartbeat answered with an error");
        }
        Ok(())
    }

    /// Pings `session` whenever it has written nothing for the rate, until it closes.
    async fn run(self: Arc<Self>, session: Session) {
        let mut state = session.watch_state();
        loop {
            let current = *state.borrow_and_update();
            match current {
                SessionState::Closed => return,
                SessionState::Connected => {}
                _ => {
                    if state.changed().await.is_err() {
                        return;
                    }
                    continue;
                }
            }
            let rate = self.rate();
            let due = Instant::from_std(session.last_write()) + rate;
            let wake = if Instant::now() < due {
                due
            } else {
                match self.ping(&session).await {
                    Err(s) if s.code() == status::CODE_HANDLE_TIMEOUT => {
                        tracing::info!(session = %session.id(), "heartbeat unanswered; closing");
                        session.close().await;
                        return;
                    }
                    Err(s) => {
                        tracing::debug!(session = %session.id(), status = %s, "heartbeat failed")
                    }
                    Ok(()) => {}
                }
                // Not before a rate from now, whatever the outcome: no busy loop.
                Instant::now() + rate
            };
            tokio::select! {
                () = tokio::time::sleep_until(wake) => {}
                changed = state.changed() => if changed.is_err() { return },
            }
        }
    }
}

impl Plugin for Ping {
    fn name(&self) -> &str {
        "heartbeat-ping"
    }

    fn post_dial<'a>(&'a self, session: &'a Session, redial: bool) -> BoxFuture<'a, HookResult> {
        // One task per session, which lives through its redials.
        if !redial {
            tokio::spawn(self.inner.clone().run(session.clone()));
        }
        Box::pin(async { Ok(()) })
    }

    fn post_accept<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, HookResult> {
        tokio::spawn(self.inner.clone().run(session.clone()));
        Box::pin(async { Ok(()) })
    }
}

/// The answering side: registers `/heartbeat` (call and push) and watches the sessions that
/// sent one.
#[derive(Clone, Default)]
pub struct Pong {
    own_writes_count: bool,
}

/// What a pong knows of one session.
struct Watch {
    rate_secs: AtomicU64,
}

impl Watch {
    fn rate(&self) -> Duration {
        Duration::from_secs(self.rate_secs.load(Ordering::Relaxed))
    }
}

impl Pong {
    /// A pong that counts what the peer sends as its life.
    pub fn new() -> Self {
        Pong::default()
    }

    /// Also counts what we write to the peer as life, as Go eRPC's pong does. Needed for Go
    /// pingers on sessions that only receive: Go's ping stays silent while it reads.
    pub fn own_writes_count(mut self, yes: bool) -> Self {
        self.own_writes_count = yes;
        self
    }

    /// Records a heartbeat, and starts watching the session on its first.
    fn beat(&self, session: &Session, meta: &Meta) -> Result<(), Status> {
        let rate = match meta.get(META_RATE) {
            None | Some("") => None,
            Some(text) => match text.parse::<u64>() {
                Ok(secs) => Some(clamp_rate(Duration::from_secs(secs))),
                Err(_) => {
                    let cause = format!("invalid heartbeat rate {text:?}");
                    return Err(Status::with_code(status::CODE_BAD_MESSAGE, cause));
                }
            },
        };
        let Some(rate) = rate else { return Ok(()) };
        let started = session.store().with::<Arc<Watch>, _>(|watch| match watch {
            Some(watch) => {
                watch.rate_secs.store(rate.as_secs(), Ordering::Relaxed);
                None
            }
            None => Some(Arc::new(Watch { rate_secs: AtomicU64::new(rate.as_secs()) })),
        });
        if let Some(watch) = started {
            if let Some(earlier) = session.store().insert(watch.clone()) {
                // A concurrent first heartbeat won: keep its watch.
                earlier.rate_secs.store(rate.as_secs(), Ordering::Relaxed);
                session.store().insert(earlier);
                return Ok(());
            }
            tokio::spawn(self.clone().watch(session.clone(), watch));
        }
        Ok(())
    }

    /// The last sign of life of the session's peer.
    fn last_life(&self, session: &Session) -> Instant {
        let read = session.last_read();
        let life = if self.own_writes_count { read.max(session.last_write()) } else { read };
        Instant::from_std(life)
    }

    /// Closes `session` once it has been silent for twice the announced rate.
    async fn watch(self, session: Session, watch: Arc<Watch>) {
        let mut state = session.watch_state();
        loop {
            let current = *state.borrow_and_update();
            match current {
                SessionState::Closed => return,
                SessionState::Connected => {
                    let deadline = self.last_life(&session) + watch.rate() * 2;
                    if Instant::now() >= deadline {
                        tracing::info!(session = %session.id(), rate = ?watch.rate(), "peer silent for twice its heartbeat rate; closing");
                        session.close().await;
                        return;
                    }
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        changed = state.changed() => if changed.is_err() { return },
                    }
                }
                _ => {
                    if state.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

impl Plugin for Pong {
    fn name(&self) -> &str {
        "heartbeat-pong"
    }

    fn post_new_peer(&self, peer: &Peer) -> HookResult {
        let (on_call, on_push) = (self.clone(), self.clone());
        let call = raw_call_handler(move |ctx| {
            let beat = on_call.beat(ctx.session(), ctx.input_meta());
            // Go answers `null` in JSON; other codecs get an empty body.
            let body = if ctx.reply_codec() == JSON { &b"null"[..] } else { b"" };
            std::future::ready(beat.map(|()| RawBody(Bytes::from_static(body))))
        });
        let push = raw_push_handler(move |ctx| {
            std::future::ready(on_push.beat(ctx.session(), ctx.input_meta()))
        });
        peer.root().route_call(SERVICE_METHOD, call, Vec::new());
        peer.root().route_push(SERVICE_METHOD, push, Vec::new());
        Ok(())
    }
}
