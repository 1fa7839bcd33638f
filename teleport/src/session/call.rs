//! Calls and pushes from a session: options, typed replies, handles.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::oneshot;
// Tokio's clock, so that deadlines follow paused test time.
use tokio::time::Instant;

use super::{Session, call_timeout, conn_closed};
use crate::codec::{DecodeBody, EncodeBody, encode_to_bytes};
use crate::context::META_ACCEPT_BODY_CODEC;
use crate::message::{Message, MessageType, Meta};
use crate::router::handler::bad_body;
use crate::socket::SendError;
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
        let reply = self.call_message(msg, deadline).await?;
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
                let session = self.clone();
                tokio::spawn(async move {
                    let reply = session.call_message(msg, deadline).await;
                    let _ = tx.send(reply.and_then(|m| session.decode_reply(m)));
                });
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
        let mut reply = self.call_message(msg, deadline).await?;
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
        self.push_message(msg, deadline).await
    }

    /// Sends a message of type PUSH as it is (the seq is assigned here).
    pub async fn push_raw(&self, msg: Message, timeout: Option<Duration>) -> Result<(), Status> {
        self.push_message(msg, self.deadline(timeout)).await
    }

    fn deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        let timeout = timeout.unwrap_or(self.peer().config().call_timeout);
        (!timeout.is_zero()).then(|| Instant::now() + timeout)
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

    async fn call_message(
        &self,
        mut msg: Message,
        deadline: Option<Instant>,
    ) -> Result<Message, Status> {
        self.peer().check_open()?;
        let socket = self.live_socket(deadline).await?;
        msg.mtype = MessageType::Call;
        msg.seq = self.next_seq();
        let seq = msg.seq;
        let (tx, rx) = oneshot::channel();
        socket.pending.insert(seq, tx).map_err(|_| conn_closed())?;
        let plugins = self.peer().plugins();
        if !plugins.is_empty() {
            if let Err(status) = plugins.run(|p| p.pre_write_call(self, &mut msg)) {
                socket.pending.take(seq);
                return Err(status);
            }
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
        if let Err(status) = sent {
            socket.pending.take(seq);
            return Err(status);
        }
        self.touch_write();
        if !plugins.is_empty() {
            let _ = plugins.run(|p| p.post_write_call(self, &msg));
        }
        drop(msg);
        let result = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, rx).await {
                Ok(reply) => reply.unwrap_or_else(|_| Err(conn_closed())),
                Err(_) => Err(call_timeout()),
            },
            None => rx.await.unwrap_or_else(|_| Err(conn_closed())),
        };
        if result.is_err() {
            // Frees the entry when the deadline passed; a no-op when the reply itself
            // carried the error.
            socket.pending.take(seq);
        }
        result
    }

    async fn push_message(
        &self,
        mut msg: Message,
        deadline: Option<Instant>,
    ) -> Result<(), Status> {
        self.peer().check_open()?;
        let socket = self.live_socket(deadline).await?;
        msg.mtype = MessageType::Push;
        msg.seq = self.next_seq();
        let plugins = self.peer().plugins();
        if !plugins.is_empty() {
            plugins.run(|p| p.pre_write_push(self, &mut msg))?;
        }
        if socket.try_send(&msg).map_err(SendError::into_status)?.is_none() {
            Box::pin(with_deadline(deadline, socket.send(&msg)))
                .await?
                .map_err(SendError::into_status)?;
        }
        self.touch_write();
        if !plugins.is_empty() {
            let _ = plugins.run(|p| p.post_write_push(self, &msg));
        }
        Ok(())
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
        let value = R::decode_body(reply.body_codec, &reply.body).map_err(bad_body)?;
        let plugins = self.peer().plugins();
        if !plugins.is_empty() {
            plugins.run(|p| p.post_read_reply_body(self, &reply))?;
        }
        Ok(Reply { value, meta: reply.meta, codec: reply.body_codec })
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
