//! Authentication: a one-shot handshake after connecting, before the session is usable.
//!
//! The dialing side adds a [`Bearer`], which sends credentials in an `AUTH_CALL` (message
//! type 4, empty service method) on every dial and redial; the accepting side adds a
//! [`Checker`], which reads them, may set the session's id or store the user in the session,
//! and answers with an `AUTH_REPLY` (type 5). Both messages take their seq from the session's
//! counter, so the first call after a successful auth is seq 2, as with Go eRPC.
//!
//! Until the checker has accepted, the server dispatches nothing from the session: no route
//! of an unauthenticated session ever runs. A refused session is closed once the refusal is
//! written; the client's dial then fails with the checker's status. A client that sends
//! anything but an `AUTH_CALL` first, or nothing within the auth timeout (5 s by default), is
//! refused with 401 and closed. A session authenticates once: a second `AUTH_CALL` on an
//! open session is answered 405 (cause "already authenticated") and the session is closed.
//!
//! Failed attempts are limited per remote IP ([`Checker::max_failures`], by default 10 within
//! a minute): past the limit, a connection from that IP is answered 401 at once, without
//! running the checker, until the window ends.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use teleport::plugin::auth::{Bearer, Checker};
//! use teleport::{Peer, PeerConfig, Status, codec};
//!
//! let checker = Checker::new(|session, token: String| async move {
//!     if token != "secret" {
//!         return Err(Status::new(403, "auth fail").cause("unknown token"));
//!     }
//!     session.set_id("alice");
//!     Ok("pass")
//! });
//! let config = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };
//! let server = Peer::builder(config.clone()).plugin(checker).build()?;
//! server.route_call_fn("/who", |ctx, _: ()| async move { Ok(ctx.session().id().to_string()) });
//! let addr = server.listen().await?;
//!
//! let bearer = Bearer::new(|_session| async { Ok("secret") }).codec(codec::PLAIN);
//! let client = Peer::builder(config).plugin(bearer).build()?;
//! let session = client.dial(&addr.to_string()).await?;
//! assert_eq!(session.call::<String>("/who", &()).await?, "alice");
//! # Ok(()) }
//! ```
//!
//! Differences from Go eRPC: a refused Go client's dial fails with `105 Dial Failed` and the
//! checker's cause; ours fails with the checker's own status (403 above). Go waits for the
//! credentials, and for its checker, without a time limit; we wait 5 s each, then refuse.
//! To a client that calls before authenticating, Go answers with an `AUTH_REPLY` 401 that
//! the client cannot match to its call; we answer the call itself with a `REPLY` 401.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::time::Instant;

use crate::boxed::BoxFuture;
use crate::codec::{DecodeBody, EncodeBody, encode_to_bytes};
use crate::message::{Message, MessageType, Meta};
use crate::plugin::{HookResult, Plugin};
use crate::session::Session;
use crate::status::{self, Status};

/// How long each side waits for the other's auth message, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Failed auth attempts allowed from one remote IP within [`DEFAULT_FAILURE_WINDOW`], by
/// default.
pub const DEFAULT_MAX_FAILURES: u32 = 10;
/// The window in which [`DEFAULT_MAX_FAILURES`] failed attempts are allowed, by default.
pub const DEFAULT_FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// The most remote IPs whose failures are remembered at once; past it the oldest record is
/// forgotten, so that many addresses cannot grow the table without bound.
const MAX_TRACKED_IPS: usize = 10_000;

type BearerFn = dyn Fn(Session, u8) -> BoxFuture<'static, Result<Bytes, Status>> + Send + Sync;
type CheckerFn =
    dyn Fn(Session, &Message, u8) -> BoxFuture<'static, Result<Bytes, Status>> + Send + Sync;

/// What the server answered to a successful auth, kept in the client session's
/// [`store`](Session::store).
#[derive(Clone, Debug, PartialEq)]
pub struct Granted {
    /// The reply's body codec.
    pub codec: u8,
    /// The reply's body, still encoded.
    pub body: Bytes,
    /// The reply's meta.
    pub meta: Meta,
}

impl Granted {
    /// The reply's body, decoded.
    pub fn decode<T: DecodeBody>(&self) -> Result<T, Status> {
        T::decode_body(self.codec, &self.body)
            .map_err(|e| Status::with_code(status::CODE_BAD_MESSAGE, e.to_string()))
    }
}

/// The client side: sends credentials on every dial and redial (`post_dial`).
#[derive(Clone)]
pub struct Bearer {
    credentials: Arc<BearerFn>,
    codec: Option<u8>,
    timeout: Duration,
}

impl Bearer {
    /// A bearer whose credentials `f` produces for each connection (from a token cache, a
    /// file...). An error status from `f` fails the dial with that status.
    pub fn new<C, F, Fut>(f: F) -> Self
    where
        C: EncodeBody + Send + 'static,
        F: Fn(Session) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C, Status>> + Send + 'static,
    {
        let credentials = Arc::new(move |session: Session, codec: u8| -> BoxFuture<'static, _> {
            let produced = f(session);
            Box::pin(async move { encode(&produced.await?, codec) })
        });
        Bearer { credentials, codec: None, timeout: DEFAULT_TIMEOUT }
    }

    /// The codec of the credentials (default: the peer's default codec). Go's examples use
    /// plain text, [`codec::PLAIN`](crate::codec::PLAIN).
    pub fn codec(mut self, codec: u8) -> Self {
        self.codec = Some(codec);
        self
    }

    /// How long to wait for the server's answer (default 5 s); the dial fails with 408
    /// after it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn authenticate(&self, session: &Session) -> HookResult {
        let codec = self.codec.unwrap_or_else(|| session.peer().default_codec());
        let mut call = Message::new(MessageType::AuthCall, 0, "");
        call.body_codec = codec;
        call.body = (self.credentials)(session.clone(), codec).await?;
        let reply = session.handshake_call(call, self.timeout).await.map_err(|s| {
            if s.code() == status::CODE_HANDLE_TIMEOUT {
                Status::with_code(s.code(), format!("no auth reply within {:?}", self.timeout))
            } else {
                s
            }
        })?;
        if reply.mtype != MessageType::AuthReply {
            let cause = format!("expected AUTH_REPLY, received {}", reply.mtype.name());
            return Err(Status::with_code(status::CODE_UNAUTHORIZED, cause));
        }
        reply.status.clone().into_result()?;
        let Message { body_codec: codec, body, meta, .. } = reply;
        session.store().insert(Granted { codec, body, meta });
        Ok(())
    }
}

impl Plugin for Bearer {
    fn name(&self) -> &str {
        "auth-bearer"
    }

    fn post_dial<'a>(&'a self, session: &'a Session, _redial: bool) -> BoxFuture<'a, HookResult> {
        Box::pin(self.authenticate(session))
    }
}

/// The server side: checks the credentials of every accepted session (`post_accept`).
#[derive(Clone)]
pub struct Checker {
    check: Arc<CheckerFn>,
    codec: Option<u8>,
    timeout: Duration,
    failures: Arc<Failures>,
}

impl Checker {
    /// A checker: `f` receives the session (to [`set_id`](Session::set_id) or
    /// [`store`](Session::store) the user) and the decoded credentials, and returns the
    /// reply body or the status that refuses the session.
    pub fn new<C, R, F, Fut>(f: F) -> Self
    where
        C: DecodeBody + Send + 'static,
        R: EncodeBody + Send + 'static,
        F: Fn(Session, C) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, Status>> + Send + 'static,
    {
        let check =
            Arc::new(move |session: Session, call: &Message, codec: u8| -> BoxFuture<'static, _> {
                let credentials = match C::decode_message(call, session.peer().config().max_frame) {
                    Ok(credentials) => credentials,
                    Err(status) => return Box::pin(std::future::ready(Err(status))),
                };
                let checked = f(session, credentials);
                Box::pin(async move { encode(&checked.await?, codec) })
            });
        Checker { check, codec: None, timeout: DEFAULT_TIMEOUT, failures: Arc::default() }
    }

    /// The codec of the reply (default: the codec the credentials came in).
    pub fn codec(mut self, codec: u8) -> Self {
        self.codec = Some(codec);
        self
    }

    /// How long to wait for the credentials, and then for the check (default 5 s). A client
    /// that sends nothing in time is refused with 401.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Limits failed attempts per remote IP: at most `max` within `window`, a window that
    /// starts at the first failure of that IP (default [`DEFAULT_MAX_FAILURES`] within
    /// [`DEFAULT_FAILURE_WINDOW`]; `max` 0 turns the limit off). Past the limit, a connection
    /// from that IP has its first message answered 401 at once, without running the checker,
    /// and is closed, until the window ends. A success forgets the IP's failures. A failure
    /// is any refusal: the checker's, a first message that is not an `AUTH_CALL`, or no
    /// credentials in time. IPv6 addresses count per /64, the block one host usually holds;
    /// sessions without an IP (Unix sockets, memory pipes) are not limited.
    pub fn max_failures(mut self, max: u32, window: Duration) -> Self {
        self.failures = Arc::new(Failures::new(max, window));
        self
    }

    async fn check(&self, session: &Session) -> HookResult {
        let ip = session.remote_addr().ip().map(ip_key);
        if let Some(refusal) = ip.and_then(|ip| self.failures.refusal(ip)) {
            return self.refuse_at_once(session, refusal).await;
        }
        let outcome = self.check_credentials(session).await;
        if let Some(ip) = ip {
            self.failures.record(ip, outcome.is_ok());
        }
        outcome
    }

    /// Answers the first message with `refusal` (without running the checker) and fails.
    async fn refuse_at_once(&self, session: &Session, refusal: Status) -> HookResult {
        if let Ok(first) = session.handshake_recv(self.timeout).await {
            let mtype = match first.mtype {
                MessageType::AuthCall => Some(MessageType::AuthReply),
                MessageType::Call => Some(MessageType::Reply),
                _ => None,
            };
            if let Some(mtype) = mtype {
                let mut reply = Message::new(mtype, first.seq, "");
                reply.status = refusal.clone();
                reply.xfer_pipe = first.xfer_pipe;
                let _ = session.handshake_send(&reply).await;
            }
        }
        Err(refusal)
    }

    async fn check_credentials(&self, session: &Session) -> HookResult {
        let first = session.handshake_recv(self.timeout).await.map_err(|s| {
            if s.code() == status::CODE_HANDLE_TIMEOUT {
                unauthorized(format!("no AUTH_CALL within {:?}", self.timeout))
            } else {
                s
            }
        })?;
        if first.mtype != MessageType::AuthCall {
            let refusal =
                unauthorized(format!("expected AUTH_CALL first, received {}", first.mtype.name()));
            if first.mtype == MessageType::Call {
                let mut reply = Message::new(MessageType::Reply, first.seq, "");
                reply.status = refusal.clone();
                reply.xfer_pipe = first.xfer_pipe;
                let _ = session.handshake_send(&reply).await;
            }
            return Err(refusal);
        }
        let codec = self.codec.unwrap_or(first.body_codec);
        let outcome = self.run_checker(session, &first, codec).await;
        let mut reply = Message::new(MessageType::AuthReply, first.seq, "");
        reply.body_codec = codec;
        reply.xfer_pipe = first.xfer_pipe;
        match &outcome {
            Ok(body) => reply.body = body.clone(),
            Err(status) => reply.status = status.clone(),
        }
        session.handshake_send(&reply).await?;
        outcome.map(drop)
    }

    /// Runs the checker on the credentials in `call`; its answer is encoded in `codec`.
    async fn run_checker(
        &self,
        session: &Session,
        call: &Message,
        codec: u8,
    ) -> Result<Bytes, Status> {
        let checked = (self.check)(session.clone(), call, codec);
        let checked = tokio::time::timeout(self.timeout, checked);
        match checked.await {
            Ok(Ok(body)) => Ok(body),
            Ok(Err(status)) if status.is_ok() => Err(unauthorized("refused by the checker")),
            Ok(Err(status)) => Err(status),
            Err(_) => Err(Status::with_code(
                status::CODE_HANDLE_TIMEOUT,
                format!("the auth checker did not answer within {:?}", self.timeout),
            )),
        }
    }
}

impl Plugin for Checker {
    fn name(&self) -> &str {
        "auth-checker"
    }

    fn post_accept<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, HookResult> {
        Box::pin(self.check(session))
    }
}

fn encode(value: &(impl EncodeBody + ?Sized), codec: u8) -> Result<Bytes, Status> {
    encode_to_bytes(value, codec)
        .map_err(|e| Status::with_code(status::CODE_BAD_MESSAGE, e.to_string()))
}

fn unauthorized(cause: impl Into<String>) -> Status {
    Status::with_code(status::CODE_UNAUTHORIZED, cause)
}

/// The IP that failures are counted under: IPv4 as it is (also when mapped into IPv6), IPv6
/// by its /64 prefix.
fn ip_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 => v4,
    }
}

/// Failed auth attempts per remote IP, shared by the clones of a checker.
#[derive(Debug)]
struct Failures {
    max: u32,
    window: Duration,
    by_ip: Mutex<HashMap<IpAddr, Record>>,
}

/// One IP's failures in its current window.
#[derive(Clone, Copy, Debug)]
struct Record {
    since: Instant,
    count: u32,
}

impl Default for Failures {
    fn default() -> Self {
        Failures::new(DEFAULT_MAX_FAILURES, DEFAULT_FAILURE_WINDOW)
    }
}

impl Failures {
    fn new(max: u32, window: Duration) -> Self {
        Failures { max, window, by_ip: Mutex::default() }
    }

    /// The refusal for `ip` when it has used up its failures in the current window.
    fn refusal(&self, ip: IpAddr) -> Option<Status> {
        if self.max == 0 {
            return None;
        }
        let record = *self.by_ip.lock().get(&ip)?;
        let ends = record.since + self.window;
        if record.count < self.max || Instant::now() >= ends {
            return None;
        }
        let left = ends.saturating_duration_since(Instant::now()).as_secs() + 1;
        Some(unauthorized(format!(
            "too many failed auth attempts from {ip}: {} within {:?}; retry in {left} s",
            record.count, self.window
        )))
    }

    /// Notes the outcome of an attempt from `ip`.
    fn record(&self, ip: IpAddr, ok: bool) {
        if self.max == 0 {
            return;
        }
        let mut by_ip = self.by_ip.lock();
        if ok {
            by_ip.remove(&ip);
            return;
        }
        let now = Instant::now();
        if by_ip.len() >= MAX_TRACKED_IPS && !by_ip.contains_key(&ip) {
            by_ip.retain(|_, r| now < r.since + self.window);
            if by_ip.len() >= MAX_TRACKED_IPS {
                let oldest = by_ip.iter().min_by_key(|(_, r)| r.since).map(|(ip, _)| *ip);
                if let Some(oldest) = oldest {
                    by_ip.remove(&oldest);
                }
            }
        }
        let record = by_ip.entry(ip).or_insert(Record { since: now, count: 0 });
        if now >= record.since + self.window {
            *record = Record { since: now, count: 0 };
        }
        record.count = record.count.saturating_add(1);
    }
}
