//! The contract between the example's server and client: what each side serves, with its
//! types. Both crates depend on this one and never on each other.
//!
//! - [`Kv`]: a key-value store the server implements and the client calls.
//! - [`Watcher`]: a callback the client implements and the server calls, over the same
//!   session, when a watched key changes.

use serde::{Deserialize, Serialize};
use teleport as tp;

/// Where the example's server listens unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9191";

/// The status code of a missing key.
pub const CODE_NO_SUCH_KEY: i32 = 10404;

/// A key and its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// A change to a watched key, sent to the watcher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The key.
    pub key: String,
    /// The value before, if there was one.
    pub old: Option<String>,
    /// The value now.
    pub new: String,
}

/// A key-value store: `/kv/put`, `/kv/get`, `/kv/watch` and the push `/kv/forget`.
#[tp::service]
pub trait Kv {
    /// Stores the entry; returns the value it replaced. Every session watching the key is
    /// told through its [`Watcher`].
    async fn put(&self, ctx: &tp::CallCtx, entry: Entry) -> Result<Option<String>, tp::Status>;

    /// The value of a key, or the status [`CODE_NO_SUCH_KEY`].
    async fn get(&self, key: String) -> Result<String, tp::Status>;

    /// Watches a key: the calling session's [`Watcher`] is called on each change.
    async fn watch(&self, ctx: &tp::CallCtx, key: String) -> Result<(), tp::Status>;

    /// Stops watching every key (a push: no reply). The default does nothing, for stores
    /// that keep no watchers.
    #[tp(push)]
    fn forget(&self, _ctx: &tp::PushCtx) {}
}

/// What a client serves so that the store can call it back: `/watcher/changed`.
#[tp::service]
pub trait Watcher {
    /// A watched key changed; the reply says whether to keep watching it.
    async fn changed(&self, change: Change) -> bool;
}
