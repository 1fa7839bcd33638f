//! The items generated code names. Not a public API: no stability is promised.

pub use std::sync::Arc;

pub use crate::codec::{DecodeBody, EncodeBody};
pub use crate::context::{CallCtx, PushCtx};
pub use crate::router::Group;
pub use crate::service::{EncodeAs, IntoReply, ReplyError, Service};
pub use crate::session::{CallOptions, Reply, Session};
pub use crate::status::Status;

/// Checks at compile time that a handler's future can move between threads.
pub fn assert_send<F: core::future::Future + Send>(future: F) -> F {
    future
}
