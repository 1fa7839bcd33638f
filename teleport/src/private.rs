//! The items generated code names. Not a public API: no stability is promised.

pub use std::sync::Arc;

pub use crate::codec::{DecodeBody, EncodeBody};
pub use crate::context::{CallCtx, PushCtx};
pub use crate::router::Group;
pub use crate::router::handler::{call_handler, push_handler};
pub use crate::service::{EncodeAs, IntoReply, ReplyError, Service};
pub use crate::session::{CallOptions, Reply, Session};
pub use crate::status::Status;

/// Checks at compile time that a handler's future can move between threads.
pub fn assert_send<F: core::future::Future + Send>(future: F) -> F {
    future
}

pub use crate::manifest::{RouteKind, RouteManifest, ServiceManifest, TypeManifest};
/// The serde the types that `teleport-build` generates derive with.
pub use serde;
/// The JSON value of fields whose schema `teleport-build` cannot express as a type.
pub use serde_json;

/// A service's manifest, as `#[service]` describes it.
pub fn service_manifest<const N: usize>(
    name: &str,
    docs: &str,
    mapper: &str,
    prefix: &str,
    routes: [RouteManifest; N],
) -> ServiceManifest {
    ServiceManifest {
        name: name.to_owned(),
        docs: docs.to_owned(),
        mapper: mapper.to_owned(),
        prefix: prefix.to_owned(),
        codec: String::new(),
        routes: routes.into(),
    }
}

/// One route of a service's manifest.
pub fn route_manifest(
    route: &str,
    method: &str,
    kind: RouteKind,
    docs: &str,
    arg: TypeManifest,
    reply: Option<TypeManifest>,
) -> RouteManifest {
    RouteManifest {
        route: route.to_owned(),
        method: method.to_owned(),
        kind,
        docs: docs.to_owned(),
        arg,
        reply,
    }
}

/// A type of a service's manifest.
pub fn type_manifest(rust: &str, schema: Option<serde_json::Value>) -> TypeManifest {
    TypeManifest { rust: rust.to_owned(), schema }
}

/// Finds the JSON Schema of `T` where there is one. Generated code calls
/// `(&SchemaProbe::<T>::NEW).schema()` with both [`WithSchema`] and [`NoSchema`] in scope:
/// method resolution takes [`WithSchema`] (no auto-ref needed) where `T` implements
/// `schemars::JsonSchema` and the runtime has the `schema` feature, and [`NoSchema`]
/// (one more auto-ref) everywhere else, so that a type without a schema still builds.
pub struct SchemaProbe<T: ?Sized>(core::marker::PhantomData<fn() -> Box<T>>);

impl<T: ?Sized> SchemaProbe<T> {
    /// The probe.
    pub const NEW: Self = SchemaProbe(core::marker::PhantomData);
}

/// The schema of a type that has one.
pub trait WithSchema {
    /// The type's JSON Schema.
    fn schema(&self) -> Option<serde_json::Value>;
}

#[cfg(feature = "schema")]
impl<T: schemars::JsonSchema + ?Sized> WithSchema for SchemaProbe<T> {
    fn schema(&self) -> Option<serde_json::Value> {
        let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
        Some(schema.to_value())
    }
}

/// The fallback: no schema.
pub trait NoSchema {
    /// Always `None`.
    fn schema(&self) -> Option<serde_json::Value>;
}

impl<T: ?Sized> NoSchema for &SchemaProbe<T> {
    fn schema(&self) -> Option<serde_json::Value> {
        None
    }
}
