//! Plugins: hooks at every stage of a peer's life and of each message.
//!
//! A [`Plugin`] implements the hooks it cares about; every hook has a no-op default. Hooks
//! run in Go eRPC's order:
//!
//! | stage | hooks |
//! |---|---|
//! | peer | `pre_new_peer`, `post_new_peer`, `post_register`, `post_listen` |
//! | connect | `post_dial`, `post_accept` (async: they may exchange messages) |
//! | sending | `pre_write_call` / `post_write_call`, `pre_write_push` / `post_write_push` |
//! | receiving | `pre_read_header`, then per type: `post_read_call_header`, `pre_read_call_body`, `post_read_call_body`; `post_read_push_header`, `pre_read_push_body`, `post_read_push_body`; `post_read_reply_header`, `pre_read_reply_body`, `post_read_reply_body` |
//! | replying | `pre_write_reply` / `post_write_reply` |
//! | closing | `post_disconnect` |
//!
//! A non-OK status from a hook stops the message: a call is answered (or ends) with that
//! status, a push is dropped, a dial or accept fails and its session closes. Plugins attach
//! to the peer, or to a group or route for the hooks that run once the route is known (from
//! `pre_read_call_body` / `pre_read_push_body` on). A peer without plugins skips the hooks
//! altogether.

pub mod auth;
#[cfg(feature = "binder")]
#[cfg_attr(docsrs, doc(cfg(feature = "binder")))]
pub mod binder;
pub mod heartbeat;
pub mod ignore_case;
pub mod overloader;
pub mod proxy;
#[cfg(feature = "secure")]
#[cfg_attr(docsrs, doc(cfg(feature = "secure")))]
pub mod secure;

use std::sync::Arc;

use crate::boxed::BoxFuture;
use crate::context::{CallCtx, PushCtx};
use crate::message::Message;
use crate::peer::{Peer, PeerConfig};
use crate::session::Session;
use crate::status::Status;
use crate::transport::Addr;

/// The result of a hook.
pub type HookResult = Result<(), Status>;

/// A set of hooks. Implement only those you need.
#[allow(unused_variables)]
pub trait Plugin: Send + Sync + 'static {
    /// A name for logs.
    fn name(&self) -> &str;

    /// The peer is about to be built from `config`: the hook may change it (the peer checks
    /// it afterwards). A non-OK status aborts the build with
    /// [`ConfigError::Refused`](crate::peer::ConfigError::Refused) carrying that status.
    fn pre_new_peer(&self, config: &mut PeerConfig) -> HookResult {
        Ok(())
    }
    /// The peer was built.
    fn post_new_peer(&self, peer: &Peer) -> HookResult {
        Ok(())
    }
    /// A route was registered.
    fn post_register(&self, route: &str, is_call: bool) -> HookResult {
        Ok(())
    }
    /// The peer listens on `addr`.
    fn post_listen(&self, addr: &Addr) -> HookResult {
        Ok(())
    }
    /// A dialed session is connected (`redial` on reconnection); it is not usable until
    /// every plugin returned.
    fn post_dial<'a>(&'a self, session: &'a Session, redial: bool) -> BoxFuture<'a, HookResult> {
        Box::pin(async { Ok(()) })
    }
    /// An accepted session is connected; it is not routed until every plugin returned.
    fn post_accept<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, HookResult> {
        Box::pin(async { Ok(()) })
    }
    /// A call is about to be written.
    fn pre_write_call(&self, session: &Session, msg: &mut Message) -> HookResult {
        Ok(())
    }
    /// A call was queued for writing.
    fn post_write_call(&self, session: &Session, msg: &Message) -> HookResult {
        Ok(())
    }
    /// A reply is about to be written.
    fn pre_write_reply(&self, ctx: &CallCtx, msg: &mut Message) -> HookResult {
        Ok(())
    }
    /// A reply was queued for writing.
    fn post_write_reply(&self, ctx: &CallCtx, msg: &Message) -> HookResult {
        Ok(())
    }
    /// A push is about to be written.
    fn pre_write_push(&self, session: &Session, msg: &mut Message) -> HookResult {
        Ok(())
    }
    /// A push was queued for writing.
    fn post_write_push(&self, session: &Session, msg: &Message) -> HookResult {
        Ok(())
    }
    /// A frame was read and is about to be handled. A non-OK status closes the session.
    fn pre_read_header(&self, session: &Session) -> HookResult {
        Ok(())
    }
    /// A call's header was read, before routing: the hook may rewrite the service method
    /// or meta (the route is looked up afterwards).
    fn post_read_call_header(&self, session: &Session, msg: &mut Message) -> HookResult {
        Ok(())
    }
    /// A call's body is about to be decoded.
    fn pre_read_call_body(&self, ctx: &CallCtx) -> HookResult {
        Ok(())
    }
    /// A call's body was decoded; the handler runs next.
    fn post_read_call_body(&self, ctx: &CallCtx) -> HookResult {
        Ok(())
    }
    /// A push's header was read, before routing: the hook may rewrite the service method
    /// or meta.
    fn post_read_push_header(&self, session: &Session, msg: &mut Message) -> HookResult {
        Ok(())
    }
    /// A push's body is about to be decoded.
    fn pre_read_push_body(&self, ctx: &PushCtx) -> HookResult {
        Ok(())
    }
    /// A push's body was decoded; the handler runs next.
    fn post_read_push_body(&self, ctx: &PushCtx) -> HookResult {
        Ok(())
    }
    /// A reply's header was read: the hook may change the message (decrypt its body...)
    /// before it is decoded.
    fn post_read_reply_header(&self, session: &Session, msg: &mut Message) -> HookResult {
        Ok(())
    }
    /// A reply's body is about to be decoded.
    fn pre_read_reply_body(&self, session: &Session, msg: &Message) -> HookResult {
        Ok(())
    }
    /// A reply's body was decoded.
    fn post_read_reply_body(&self, session: &Session, msg: &Message) -> HookResult {
        Ok(())
    }
    /// The session's connection is gone.
    fn post_disconnect(&self, session: &Session) {}
}

/// An ordered list of plugins; the empty list costs one branch per hook site, and
/// cloning it touches no shared counter (every handler context holds a copy).
#[derive(Clone, Default)]
pub(crate) struct Plugins {
    list: Option<Arc<[Arc<dyn Plugin>]>>,
}

impl Plugins {
    /// A list of the given plugins.
    pub(crate) fn new(list: Vec<Arc<dyn Plugin>>) -> Self {
        Plugins { list: (!list.is_empty()).then(|| list.into()) }
    }

    /// These plugins followed by `more`.
    pub(crate) fn with(&self, more: &[Arc<dyn Plugin>]) -> Self {
        if more.is_empty() {
            return self.clone();
        }
        Plugins { list: Some(self.iter().chain(more).cloned().collect()) }
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_none()
    }

    /// The plugins, in order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Arc<dyn Plugin>> {
        self.list.as_deref().unwrap_or_default().iter()
    }

    /// Runs a hook on every plugin in order, stopping at the first non-OK status.
    pub(crate) fn run(&self, mut hook: impl FnMut(&dyn Plugin) -> HookResult) -> HookResult {
        for plugin in self.iter() {
            hook(plugin.as_ref())?;
        }
        Ok(())
    }

    pub(crate) async fn post_dial(&self, session: &Session, redial: bool) -> HookResult {
        for plugin in self.iter() {
            plugin.post_dial(session, redial).await?;
        }
        Ok(())
    }

    pub(crate) async fn post_accept(&self, session: &Session) -> HookResult {
        for plugin in self.iter() {
            plugin.post_accept(session).await?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter().map(|p| p.name().to_owned())).finish()
    }
}
