//! Declarative validation of handler arguments, before the handler runs.
//!
//! A handler that takes [`Bind<T>`] instead of `T` gets its argument decoded, completed
//! with values taken from the meta, and checked against the rules `T` declares in its
//! [`Bindable`] implementation. The first rule that fails answers the call with
//! `400 Invalid Parameter` (or the field's own status) and a cause naming the field and the
//! rule, such as `name: rule len(3, 16) failed: length 2`; the handler does not run. A push
//! that fails is dropped. The rules are built once per type.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use teleport::plugin::binder::{Bind, Bindable, Rules};
//! use teleport::{CallOptions, Peer, PeerConfig, transport::memory};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Signup {
//!     name: String,
//!     age: u32,
//!     #[serde(default)]
//!     invited_by: String,
//! }
//!
//! impl Bindable for Signup {
//!     fn rules(rules: &mut Rules<Self>) {
//!         rules.field("name", |s| &s.name).required().len(3, 16).regex("^[a-z_]+$");
//!         rules.field("age", |s| &s.age).range(18, 130).status(10018, "too young");
//!         rules.meta("invited_by", "X-Invite", |s| &mut s.invited_by).required();
//!     }
//! }
//!
//! let server = Peer::new(PeerConfig::default())?;
//! server.route_call_fn("/user/signup", |_ctx, Bind(user): Bind<Signup>| async move {
//!     Ok(format!("{} invited by {}", user.name, user.invited_by))
//! });
//! let client = Peer::new(PeerConfig::default())?;
//! let (a, b) = memory::pair();
//! server.serve_conn(a).await?;
//! let session = client.serve_conn(b).await?;
//!
//! let invite = CallOptions::new().set_meta("X-Invite", "bob");
//! let ok = Signup { name: "alice".into(), age: 30, invited_by: String::new() };
//! let reply = session.call_with::<String>("/user/signup", &ok, &invite).await?;
//! assert_eq!(reply.value, "alice invited by bob");
//!
//! let young = Signup { age: 7, ..ok };
//! let err = session.call_with::<String>("/user/signup", &young, &invite).await.unwrap_err();
//! assert_eq!((err.code(), err.msg()), (10018, "too young"));
//! assert_eq!(err.cause_text(), Some("age: rule range(18, 130) failed: 7"));
//! # Ok(()) }
//! ```
//!
//! Why not a validation crate: `validator` and `garde` check fields well, but neither binds
//! values from the meta nor gives each field a status code, both need a newer Rust than this
//! workspace's 1.85, and `validator` brings `url` and `idna` into a networking runtime. The
//! rules here are a small builder over the same ideas, with `regex` as their one dependency.
//!
//! Differences from Go eRPC: Go declares the rules in struct tags (`param:"<len:3:16>"`) and
//! reads them by reflection on every call; here they are code, checked by the compiler
//! (`len` only on values with a length...) and built once. Go's `swap` source has no
//! equivalent: handlers read the session store themselves. Lengths count characters.

mod rules;
mod value;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;

pub use rules::{CODE_INVALID_PARAMETER, Field, MSG_INVALID_PARAMETER, Rules};
pub use value::{Length, Number, Text, Zero};

use crate::codec::{CodecError, DEFAULT_DECODE_LIMIT, DecodeBody};
use crate::message::{Message, Meta};
use crate::status::Status;

/// A type whose values are checked before a handler gets them, as [`Bind<Self>`].
pub trait Bindable: DecodeBody + Send + 'static {
    /// Declares the rules; called once per type, the first time a value is bound.
    fn rules(rules: &mut Rules<Self>);
}

/// A handler argument that was decoded, bound from the meta and checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bind<T>(pub T);

impl<T> Bind<T> {
    /// The checked value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Bind<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Bind<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Bindable> DecodeBody for Bind<T> {
    /// Decodes and checks a body alone, within the default limit (see
    /// [`decode_body_within`](Self::decode_body_within)).
    fn decode_body(codec: u8, src: &[u8]) -> Result<Self, CodecError> {
        Self::decode_body_within(codec, src, DEFAULT_DECODE_LIMIT)
    }

    /// Decodes and checks a body alone: the meta rules see no meta.
    fn decode_body_within(codec: u8, src: &[u8], limit: usize) -> Result<Self, CodecError> {
        let mut value = T::decode_body_within(codec, src, limit)?;
        rules_of::<T>().apply(&mut value, &Meta::new()).map_err(|status| CodecError::Decode {
            codec: "binder",
            reason: status.cause_text().unwrap_or_default().to_owned(),
        })?;
        Ok(Bind(value))
    }

    fn decode_message(msg: &Message, limit: usize) -> Result<Self, Status> {
        let mut value = T::decode_message(msg, limit)?;
        rules_of::<T>().apply(&mut value, &msg.meta)?;
        Ok(Bind(value))
    }
}

type Cache = RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>;

/// The rules of `T`, built on first use.
fn rules_of<T: Bindable>() -> Arc<Rules<T>> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let cached = cache.read().get(&TypeId::of::<T>()).cloned();
    if let Some(Ok(rules)) = cached.map(Arc::downcast::<Rules<T>>) {
        return rules;
    }
    let mut rules = Rules::new();
    T::rules(&mut rules);
    let rules = Arc::new(rules);
    cache.write().insert(TypeId::of::<T>(), rules.clone());
    rules
}
