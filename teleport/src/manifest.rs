//! Services that describe themselves: the manifest of a peer's services, as data.
//!
//! `#[teleport::service]` describes each service it generates: its routes, whether each is
//! a call or a push, the Rust names of the argument and reply types (and their JSON Schemas
//! with the `schema` feature), the doc comments, the mapper and prefix. A peer whose
//! [`PeerConfig::serve_manifest`](crate::PeerConfig::serve_manifest) is true answers a call
//! to [`MANIFEST_ROUTE`] (`/_tp/manifest`) with the [`Manifest`] of every service it
//! registered, encoded as JSON. A peer without it, or a Go eRPC peer, answers 404.
//!
//! The JSON is the format read by `teleport-build` and by the `tp` command-line client:
//!
//! ```json
//! {
//!   "manifest": 1,
//!   "services": [{
//!     "name": "Math", "docs": "Arithmetic.", "mapper": "http", "prefix": "", "codec": "json",
//!     "routes": [
//!       { "route": "/math/add", "method": "add", "kind": "call", "docs": "Adds.",
//!         "arg": { "rust": "Vec<i64>", "schema": { "type": "array", "items": { "type": "integer" } } },
//!         "reply": { "rust": "i64", "schema": { "type": "integer" } } },
//!       { "route": "/math/notify", "method": "notify", "kind": "push", "docs": "",
//!         "arg": { "rust": "String" } }
//!     ]
//!   }]
//! }
//! ```
//!
//! Readers ignore keys they do not know, so later versions may add some.

use serde::{Deserialize, Serialize};

/// The reserved route at which a peer serves its manifest (a call with an empty or `null`
/// body; the reply is a [`Manifest`] in JSON). Its path shape is what a Go eRPC peer routes,
/// so calling it on one is answered 404 (not found) rather than refused.
pub const MANIFEST_ROUTE: &str = "/_tp/manifest";

/// The format version written in [`Manifest::manifest`].
pub const MANIFEST_VERSION: u32 = 1;

/// The services of a peer: what `/_tp/manifest` answers, and what `teleport-build` reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The format version: [`MANIFEST_VERSION`].
    pub manifest: u32,
    /// One entry per registered service, in the order they were registered.
    #[serde(default)]
    pub services: Vec<ServiceManifest>,
}

impl Manifest {
    /// A manifest of the current version holding `services`.
    pub fn new(services: Vec<ServiceManifest>) -> Self {
        Manifest { manifest: MANIFEST_VERSION, services }
    }
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest::new(Vec::new())
    }
}

/// One service: a set of routes registered together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceManifest {
    /// The service's name: the type or trait `#[service]` was written on (`Math`).
    pub name: String,
    /// The doc comment of the impl block or trait, without the `///` markers.
    #[serde(default)]
    pub docs: String,
    /// The route mapper that named the routes: `"http"` or `"rpc"`.
    #[serde(default)]
    pub mapper: String,
    /// The prefix the routes were given (by `#[service(prefix = ..)]` and by the group the
    /// service was registered in), or `""`.
    #[serde(default)]
    pub prefix: String,
    /// The name of the body codec the serving peer uses by default (`"json"`...), as the
    /// codec registry names it; `""` when the manifest was not made by a peer.
    #[serde(default)]
    pub codec: String,
    /// The routes, in the order the methods are written.
    #[serde(default)]
    pub routes: Vec<RouteManifest>,
}

/// One route of a service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteManifest {
    /// The full route name, as a client sends it (`/math/add`, `Math.Add`).
    pub route: String,
    /// The Rust method's name (`add`): the client stub's name.
    pub method: String,
    /// A call (answered) or a push (one-way).
    pub kind: RouteKind,
    /// The method's doc comment, without the `///` markers.
    #[serde(default)]
    pub docs: String,
    /// The argument's type; `()` when the method takes none.
    pub arg: TypeManifest,
    /// The reply's type, for calls (`()` when the method returns nothing); absent for pushes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<TypeManifest>,
}

/// Whether a route is called or pushed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteKind {
    /// A call: the peer answers with a reply.
    Call,
    /// A push: one-way, never answered.
    Push,
}

/// A type of an argument or reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypeManifest {
    /// The type as written in Rust (`Vec<i64>`, `Point`, `()`).
    pub rust: String,
    /// Its JSON Schema (draft 2020-12, as `schemars` writes it, with the `$defs` it needs
    /// inline), when the peer was built with the `schema` feature and the type implements
    /// `schemars::JsonSchema`; `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
}

impl TypeManifest {
    /// A type known by its Rust name only.
    pub fn named(rust: impl Into<String>) -> Self {
        TypeManifest { rust: rust.into(), schema: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_shape_reads_and_writes_back() {
        let text = r#"{
          "manifest": 1,
          "services": [{
            "name": "Math", "docs": "Arithmetic.", "mapper": "http", "prefix": "/math",
            "codec": "json", "future_key": true,
            "routes": [
              { "route": "/math/add", "method": "add", "kind": "call", "docs": "Adds.",
                "arg": { "rust": "Vec<i64>", "schema": { "type": "array" } },
                "reply": { "rust": "i64", "schema": null } },
              { "route": "/math/notify", "method": "notify", "kind": "push",
                "arg": { "rust": "String" } }
            ]
          }]
        }"#;
        let m: Manifest = serde_json::from_str(text).unwrap();
        let service = &m.services[0];
        assert_eq!(
            (m.manifest, service.name.as_str(), service.codec.as_str()),
            (1, "Math", "json")
        );
        assert_eq!(service.routes[0].kind, RouteKind::Call);
        assert_eq!(service.routes[0].reply, Some(TypeManifest::named("i64")));
        assert_eq!(service.routes[1].kind, RouteKind::Push);
        assert_eq!(service.routes[1].reply, None);
        assert_eq!(service.routes[1].docs, "");
        let again: Manifest = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn a_push_is_written_without_reply_and_a_type_without_schema_without_the_key() {
        let route = RouteManifest {
            route: "/a/b".into(),
            method: "b".into(),
            kind: RouteKind::Push,
            docs: String::new(),
            arg: TypeManifest::named("()"),
            reply: None,
        };
        let json = serde_json::to_value(&route).unwrap();
        assert_eq!(json["kind"], "push");
        assert!(json.get("reply").is_none());
        assert!(json["arg"].get("schema").is_none());
    }
}
