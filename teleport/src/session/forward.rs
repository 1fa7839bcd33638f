//! [`Forwarder`]: where a proxy sends the messages it forwards, as they are. A session and
//! a session pool both are one.

use std::sync::Arc;
use std::time::Duration;

use super::Session;
use crate::boxed::BoxFuture;
use crate::message::Message;
use crate::status::Status;

/// Where a proxy sends a message: a session to a backend, or a pool of them.
pub trait Forwarder: Send + Sync + 'static {
    /// Sends a call (type CALL, seq assigned by the forwarder) and returns the upstream's
    /// reply whatever its status; `Err` when no reply came.
    fn forward_call(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> BoxFuture<'_, Result<Message, Status>>;

    /// Sends a push; returns once it is queued upstream.
    fn forward_push(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), Status>>;
}

impl Forwarder for Session {
    fn forward_call(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> BoxFuture<'_, Result<Message, Status>> {
        Box::pin(self.call_raw_reply(msg, timeout))
    }

    fn forward_push(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), Status>> {
        Box::pin(self.push_raw(msg, timeout))
    }
}

impl<F: Forwarder + ?Sized> Forwarder for Arc<F> {
    fn forward_call(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> BoxFuture<'_, Result<Message, Status>> {
        (**self).forward_call(msg, timeout)
    }

    fn forward_push(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), Status>> {
        (**self).forward_push(msg, timeout)
    }
}
