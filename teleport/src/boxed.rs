//! Boxed futures: what trait objects return when they cannot name their future (plugin
//! hooks, handlers, transports).

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
