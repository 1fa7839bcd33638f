//! Calls and pushes through a pool, each on a leased session like a `Session`'s own; and
//! the pool as a [`Forwarder`] of the proxy plugin.

use std::time::Duration;

use super::SessionPool;
use crate::boxed::BoxFuture;
use crate::codec::{DecodeBody, EncodeBody};
use crate::message::Message;
use crate::session::{CallOptions, Forwarder, Reply};
use crate::status::Status;

impl SessionPool {
    /// Calls `service_method` on the least-loaded session; see [`Session::call`](crate::Session::call).
    pub async fn call<R: DecodeBody>(
        &self,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
    ) -> Result<R, Status> {
        self.session().await?.call(service_method, arg).await
    }

    /// Calls with options; see [`Session::call_with`](crate::Session::call_with).
    pub async fn call_with<R: DecodeBody>(
        &self,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
        options: &CallOptions,
    ) -> Result<Reply<R>, Status> {
        self.session().await?.call_with(service_method, arg, options).await
    }

    /// Pushes on the least-loaded session; see [`Session::push`](crate::Session::push).
    pub async fn push(
        &self,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
    ) -> Result<(), Status> {
        self.session().await?.push(service_method, arg).await
    }

    /// Pushes with options; see [`Session::push_with`](crate::Session::push_with).
    pub async fn push_with(
        &self,
        service_method: &str,
        arg: &(impl EncodeBody + ?Sized),
        options: &CallOptions,
    ) -> Result<(), Status> {
        self.session().await?.push_with(service_method, arg, options).await
    }

    /// Forwards a CALL message as it is and returns the raw reply, as
    /// [`Session::call_raw`](crate::Session::call_raw) does: a proxy forwards through a pool with it.
    pub async fn call_raw(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> Result<Message, Status> {
        self.session().await?.call_raw(msg, timeout).await
    }

    /// Forwards a PUSH message as it is; see [`Session::push_raw`](crate::Session::push_raw).
    pub async fn push_raw(&self, msg: Message, timeout: Option<Duration>) -> Result<(), Status> {
        self.session().await?.push_raw(msg, timeout).await
    }
}

/// A proxy forwards through a pool as through one session: each message on the least-loaded
/// session, the reply passed on whatever its status.
impl Forwarder for SessionPool {
    fn forward_call(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> BoxFuture<'_, Result<Message, Status>> {
        Box::pin(async move { self.session().await?.call_raw_reply(msg, timeout).await })
    }

    fn forward_push(
        &self,
        msg: Message,
        timeout: Option<Duration>,
    ) -> BoxFuture<'_, Result<(), Status>> {
        Box::pin(self.push_raw(msg, timeout))
    }
}
