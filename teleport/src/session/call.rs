//! Calls and pushes from a session: options, typed replies, handles.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;
// Tokio's clock, so that deadlines follow paused test time.
use tokio::time::Instant;

use super::{Session, call_timeout, conn_closed, inherit};
use crate::codec::{DecodeBody, EncodeBody, encode_to_bytes};
use crate::context::{META_ACCEPT_BODY_CODEC, META_TIMEOUT, ROUTE_CANCEL};
use crate::message::{Message, MessageType, Meta};
use crate::observe::Outgoing;
use crate::router::handler::bad_body;
use crate::socket::{PushPolicy, Pushed, SendError, Socket};
use crate::status::{self, Status};
use crate::xfer::XferPipe;

/// Options of one call or push. The defaults come from the peer's configuration.
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    codec: Option<u8>,
    accept_codec: Option<u8>,
    meta: Meta,
    xfer_pipe: XferPipe,
    timeout: Option<Duration>,
    wait_for_redial: bool,
}

impl CallOptions {
    /// Default options.
    pub const fn new() -> Self {
        CallOptions {
            codec: None,
            accept_codec: None,
            meta: Meta::new(),
            xfer_pipe: XferPipe::new(),
            timeout: None,
            wait_for_redial: false,
        }
    }

    /// The body codec of the request (default: the peer's default codec).
    pub fn codec(mut self, codec: u8) -> Self {
        self.codec = Some(codec);
        self
    }

    /// Asks for the reply in this codec (meta `X-Accept-Body-Codec`).
    pub fn accept_codec(mut self, codec: u8) -> Self {
        self.accept_codec = Some(codec);
        self
    }

    /// Sets a meta pair, replacing the key's first value.
    pub fn set_meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.meta.set(key, value);
        self
    }

    /// Adds a meta pair, keeping earlier values of the key.
    pub fn add_meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.meta.add(key, value);
        self
    }

    /// Sends the frame through these transfer filters (ids registered with the peer). The
    /// reply comes back through the same filters.
    pub fn xfer_pipe(mut self, pipe: XferPipe) -> Self {
        self.xfer_pipe = pipe;
        self
    }

    /// The call's timeout, counted from the start of the call (default: the peer's
    /// `call_timeout`); when it passes the call ends with `408`. Zero means none.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// When the session is redialing, waits for it to reconnect (within the deadline)
    /// instead of failing at once with 503 Service Unavailable, cause "the session is
    /// redialing". Either way the request is sent at most once.
    pub fn wait_for_redial(mut self) -> Self {
        self.wait_for_redial = true;
        self
    }
}

/// What `call` and `push` use, so that their futures hold a reference, not the options.
static DEFAULT_OPTIONS: CallOptions = CallOptions::new();

/// A decoded reply with its meta and codec.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply<R> {
    /// The reply value.
    pub value: R,
    /// The reply's meta.
    pub meta: Meta,
    /// The reply's body codec.
    pub codec: u8,
}

/// A call in flight, started by [`Session::call_async`]; await it for the reply.
///
/// Dropping the handle does not cancel the call: it still ends (and its pending entry is
/// freed) by its reply, its timeout or the connection's end.
pub struct CallHandle<R> {
    rx: oneshot::Receiver<Result<Reply<R>, Status>>,
}

impl<R> Future for CallHandle<R> {
    type Output = Result<Reply<R>, Status>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| r.unwrap_or_else(|_| Err(conn_closed())))
    }
}

impl Session {
    /// Calls `service_method` with `arg` and waits for the typed reply.
    ///
    /// Cancel-safe: dropping the future abandons the call; a late reply is discarded.
    pub async fn call<R: DecodeBody>(
        &self,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
    ) -> Result<R, Status> {
        self.call_with(service_method, arg, &DEFAULT_OPTIONS).await.map(|r| r.value)
    }

    /// Calls with options, returning the reply's value, meta and codec.
    pub async fn call_with<R: DecodeBody>(
        &self,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
        options: &CallOptions,
    ) -> Result<Reply<R>, Status> {
        let (msg, deadline) = self.request(MessageType::Call, service_method, arg, options)?;
        let reply = self.call_message(msg, deadline, options.wait_for_redial).await?;
        self.decode_reply(reply)
    }

    /// Starts a call now and returns a handle to await its reply later (the seed's async
    /// call). The request is encoded before this returns, so `arg` is not borrowed.
    pub fn call_async<R: DecodeBody + Send + 'static>(
        &self,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
        options: &CallOptions,
    ) -> CallHandle<R> {
        let (tx, rx) = oneshot::channel();
        match self.request(MessageType::Call, service_method, arg, options) {
            Err(status) => {
                let _ = tx.send(Err(status));
            }
            Ok((msg, deadline)) => {
                let (session, wait) = (self.clone(), options.wait_for_redial);
                // observe: the spawned call keeps the trace context of the task starting it.
                tokio::spawn(inherit::within(inherit::current(), async move {
                    let reply = session.call_message(msg, deadline, wait).await;
                    let _ = tx.send(reply.and_then(|m| session.decode_reply(m)));
                }));
            }
        }
        CallHandle { rx }
    }

    /// Sends a message of type CALL as it is (the seq is assigned here) and returns the raw
    /// reply: for proxies, which forward bodies without decoding them. An error status in
    /// the reply is returned as `Err`.
    pub async fn call_raw(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> Result<Message, Status> {
        let reply = self.call_raw_reply(msg, timeout).await?;
        if !reply.status.is_ok() {
            return Err(reply.status);
        }
        Ok(reply)
    }

    /// Like [`call_raw`](Self::call_raw), but a reply with an error status comes back as
    /// it is, meta included, so that a proxy passes it on unchanged. `Err` means that no
    /// reply came: the connection failed, the timeout passed, or a plugin refused.
    pub async fn call_raw_reply(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> Result<Message, Status> {
        let deadline = self.deadline(timeout);
        let mut reply = self.call_message(msg, deadline, false).await?;
        self.reply_hooks(&mut reply)?;
        Ok(reply)
    }

    /// Pushes `arg` to `service_method`; returns once the frame is queued for writing.
    pub async fn push(
        &self,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
    ) -> Result<(), Status> {
        self.push_with(service_method, arg, &DEFAULT_OPTIONS).await
    }

    /// Pushes with options.
    pub async fn push_with(
        &self,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
        options: &CallOptions,
    ) -> Result<(), Status> {
        let (msg, deadline) = self.request(MessageType::Push, service_method, arg, options)?;
        self.push_message(msg, deadline, options.wait_for_redial).await
    }

    /// Sends a message of type PUSH as it is (the seq is assigned here).
    pub async fn push_raw(&self, msg: Message, timeout: Option<Duration>) -> Result<(), Status> {
        self.push_message(msg, self.deadline(timeout), false).await
    }

    /// A call's deadline: its own timeout (default `call_timeout`; zero for none), shortened
    /// to the deadline of the call whose handler makes it, if any.
    fn deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        let timeout = timeout.unwrap_or(self.peer().config().call_timeout);
        let own = (!timeout.is_zero()).then(|| Instant::now() + timeout);
        inherit::earlier(own, inherit::inherited())
    }

    fn request(
        &self,
        mtype: MessageType,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
        options: &CallOptions,
    ) -> Result<(Message, Option<Instant>), Status> {
        let codec = options.codec.unwrap_or_else(|| self.peer().default_codec());
        let body = encode_to_bytes(arg, codec)
            .map_err(|e| Status::with_code(status::CODE_BAD_MESSAGE, e.to_string()))?;
        let mut msg = Message::new(mtype, 0, service_method);
        msg.body_codec = codec;
        msg.body = body;
        msg.meta = options.meta.clone();
        if let Some(accept) = options.accept_codec {
            msg.meta.set(META_ACCEPT_BODY_CODEC, accept.to_string());
        }
        msg.xfer_pipe = options.xfer_pipe.clone();
        Ok((msg, self.deadline(options.timeout)))
    }

    /// Sends a call and waits for its reply, observed (its span, trace context, line and
    /// metrics: `observe`).
    async fn call_message(
        &self,
        mut msg: Message,
        deadline: Option<Instant>,
        wait_for_redial: bool,
    ) -> Result<Message, Status> {
        let mut observed = Outgoing::start(self, &mut msg, false, inherit::inherited_trace());
        let result = self.call_unobserved(msg, deadline, wait_for_redial, &mut observed).await;
        observed.end_call(self, &result);
        result
    }

    async fn call_unobserved(
        &self,
        mut msg: Message,
        deadline: Option<Instant>,
        wait_for_redial: bool,
        observed: &mut Outgoing,
    ) -> Result<Message, Status> {
        self.peer().check_open()?;
        let socket = self.live_socket(deadline, wait_for_redial).await?;
        msg.mtype = MessageType::Call;
        msg.seq = self.next_seq();
        let seq = msg.seq;
        observed.seq(seq); // observe
        // The callee learns how long the caller waits (a forwarded call's entry is replaced).
        match deadline {
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now()).as_millis();
                // Formatted on the stack: the call allocates nothing for it.
                msg.meta.set_str(META_TIMEOUT, itoa::Buffer::new().format(left));
            }
            None if !msg.meta.is_empty() => {
                msg.meta.remove(META_TIMEOUT);
            }
            None => {}
        }
        let (tx, rx) = oneshot::channel();
        socket.pending.insert(seq, tx).map_err(|_| conn_closed())?;
        // From here on, a caller that stops waiting frees the entry and tells the callee.
        let mut waiting = Waiting { session: self, socket: &socket, seq, sent: false };
        let plugins = self.peer().plugins();
        if !plugins.is_empty() {
            plugins.run(|p| p.pre_write_call(self, &mut msg))?;
        }
        // The deadline covers the wait for room in the write queue and for the reply.
        let sent = match socket.try_send(&msg) {
            Ok(Some(_)) => Ok(()),
            // Boxed, as the wait for a reconnection in `live_socket`: both are rare, and
            // their state would otherwise weigh on every call's future.
            Ok(None) => Box::pin(with_deadline(deadline, socket.send(&msg)))
                .await
                .and_then(|sent| sent.map(drop).map_err(SendError::into_status)),
            Err(e) => Err(e.into_status()),
        };
        sent?;
        waiting.sent = true;
        self.touch_write();
        if !plugins.is_empty() {
            let _ = plugins.run(|p| p.post_write_call(self, &msg));
        }
        observed.written(&mut msg); // observe
        drop(msg);
        let answered = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, rx).await.ok(),
            None => Some(rx.await),
        };
        match answered {
            // The read loop took the entry to answer: nothing is left to free.
            Some(reply) => {
                std::mem::forget(waiting);
                reply.unwrap_or_else(|_| Err(conn_closed()))
            }
            // The deadline passed: `waiting` frees the entry and cancels the call.
            None => Err(call_timeout()),
        }
    }

    /// Sends a push, observed (`observe`).
    async fn push_message(
        &self,
        mut msg: Message,
        deadline: Option<Instant>,
        wait_for_redial: bool,
    ) -> Result<(), Status> {
        let mut observed = Outgoing::start(self, &mut msg, true, inherit::inherited_trace());
        let result = self.push_unobserved(msg, deadline, wait_for_redial, &mut observed).await;
        observed.end_push(self, &result);
        result
    }

    async fn push_unobserved(
        &self,
        mut msg: Message,
        deadline: Option<Instant>,
        wait_for_redial: bool,
        observed: &mut Outgoing,
    ) -> Result<(), Status> {
        self.peer().check_open()?;
        let socket = self.live_socket(deadline, wait_for_redial).await?;
        msg.mtype = MessageType::Push;
        msg.seq = self.next_seq();
        observed.seq(msg.seq); // observe
        let plugins = self.peer().plugins();
        if !plugins.is_empty() {
            plugins.run(|p| p.pre_write_push(self, &mut msg))?;
        }
        let latest_wins = self.peer().outbound().has_latest_wins();
        if latest_wins || socket.try_send(&msg).map_err(SendError::into_status)?.is_none() {
            Box::pin(self.push_without_room(&socket, &msg, deadline)).await?;
        }
        self.touch_write();
        if !plugins.is_empty() {
            let _ = plugins.run(|p| p.post_write_push(self, &msg));
        }
        observed.written(&mut msg); // observe
        Ok(())
    }

    /// Sends a push that found no room (or whose route is latest-wins) by its route's
    /// [`PushPolicy`].
    async fn push_without_room(
        &self,
        socket: &Socket,
        msg: &Message,
        deadline: Option<Instant>,
    ) -> Result<(), Status> {
        let budget = self.peer().outbound();
        let policy = budget.policy(msg.path());
        if policy != PushPolicy::Wait {
            match socket.try_push(msg, policy).map_err(SendError::into_status)? {
                Pushed::Sent(_) => return Ok(()),
                Pushed::Dropped => {
                    return Err(Status::with_code(
                        status::CODE_WRITE_FAILED,
                        "push dropped: no room in the outbound queues",
                    ));
                }
                Pushed::Full if budget.is_over() => self.peer().close_slowest(),
                Pushed::Full => self.close_as_slowest(socket.queued_bytes()),
            }
        }
        with_deadline(deadline, socket.send(msg)).await?.map(drop).map_err(SendError::into_status)
    }

    fn reply_hooks(&self, reply: &mut Message) -> Result<(), Status> {
        let plugins = self.peer().plugins();
        if plugins.is_empty() {
            return Ok(());
        }
        plugins.run(|p| p.post_read_reply_header(self, reply))?;
        plugins.run(|p| p.pre_read_reply_body(self, reply))
    }

    fn decode_reply<R: DecodeBody>(&self, mut reply: Message) -> Result<Reply<R>, Status> {
        self.reply_hooks(&mut reply)?;
        if !reply.status.is_ok() {
            return Err(reply.status);
        }
        let limit = self.peer().config().max_frame;
        let value =
            R::decode_body_within(reply.body_codec, &reply.body, limit).map_err(bad_body)?;
        let plugins = self.peer().plugins();
        if !plugins.is_empty() {
            plugins.run(|p| p.post_read_reply_body(self, &reply))?;
        }
        Ok(Reply { value, meta: reply.meta, codec: reply.body_codec })
    }
}

/// A call waiting for its reply, with its pending entry. Dropped while the entry is still
/// there (the caller's future was dropped, or its deadline passed), it frees the entry and,
/// when the request was written, tells the callee with a push to [`ROUTE_CANCEL`], so that
/// the handler is dropped there too (and, through it, the calls it made in turn).
struct Waiting<'a> {
    session: &'a Session,
    socket: &'a Socket,
    seq: i32,
    sent: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.socket.pending.take(self.seq).is_none() || !self.sent {
            return;
        }
        let mut cancel = Message::new(MessageType::Push, self.session.next_seq(), ROUTE_CANCEL);
        cancel.body_codec = crate::codec::PLAIN;
        cancel.body = self.seq.to_string().into();
        // Best effort: with no room in the queue, the callee's own deadline ends the handler.
        let _ = self.socket.try_send(&cancel);
    }
}

/// Runs `fut` until `deadline`, turning expiry into 408.
async fn with_deadline<T>(
    deadline: Option<Instant>,
    fut: impl Future<Output = T>,
) -> Result<T, Status> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, fut).await.map_err(|_| call_timeout()),
        None => Ok(fut.await),
    }
}
