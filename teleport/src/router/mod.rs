//! Routing: from a message's path to its handler.
//!
//! Routes are exact paths (`/math/add`, `Math.Add`); a `?query` on the service method is
//! ignored for the lookup and read by the handler through its context. A call to an unknown
//! route is answered 404 unless an unknown-call handler is set; a push to an unknown route
//! is dropped with a log line unless an unknown-push handler is set.

mod group;
pub(crate) mod handler;
mod table;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use rustc_hash::FxBuildHasher;

pub use group::Group;
pub(crate) use handler::{CallHandler, Handling, PushHandler};

pub(crate) use table::RouteTable;

use crate::plugin::Plugins;

/// A registered call route.
pub(crate) struct CallRoute {
    pub(crate) name: String,
    pub(crate) handler: CallHandler,
    pub(crate) plugins: Plugins,
    /// Whether a synchronous handler of the route was seen holding its read loop too long
    /// (warned once).
    pub(crate) held_too_long: AtomicBool,
}

/// A registered push route.
pub(crate) struct PushRoute {
    pub(crate) name: String,
    pub(crate) handler: PushHandler,
    pub(crate) plugins: Plugins,
    /// See [`CallRoute::held_too_long`].
    pub(crate) held_too_long: AtomicBool,
}

/// The routes of a peer. Registration replaces the peer's copy (routes are shared), so a
/// read loop can keep a snapshot and look routes up without a lock.
#[derive(Clone, Default)]
pub(crate) struct Router {
    calls: Routes<CallRoute>,
    pushes: Routes<PushRoute>,
    unknown_call: Option<Arc<CallRoute>>,
    unknown_push: Option<Arc<PushRoute>>,
}

impl Router {
    pub(crate) fn add_call(&mut self, route: CallRoute) {
        if self.calls.contains_key(&route.name) {
            tracing::warn!(route = %route.name, "call route registered again; the new handler replaces the old");
        }
        self.calls.insert(route.name.clone(), Arc::new(route));
    }

    pub(crate) fn add_push(&mut self, route: PushRoute) {
        if self.pushes.contains_key(&route.name) {
            tracing::warn!(route = %route.name, "push route registered again; the new handler replaces the old");
        }
        self.pushes.insert(route.name.clone(), Arc::new(route));
    }

    pub(crate) fn set_unknown_call(&mut self, route: CallRoute) {
        self.unknown_call = Some(Arc::new(route));
    }

    pub(crate) fn set_unknown_push(&mut self, route: PushRoute) {
        self.unknown_push = Some(Arc::new(route));
    }

    /// The call route for `path`, else the unknown-call handler.
    pub(crate) fn call(&self, path: &str) -> Option<&Arc<CallRoute>> {
        self.calls.get(path).or(self.unknown_call.as_ref())
    }

    /// The push route for `path`, else the unknown-push handler.
    pub(crate) fn push(&self, path: &str) -> Option<&Arc<PushRoute>> {
        self.pushes.get(path).or(self.unknown_push.as_ref())
    }

    /// Every call route name, sorted.
    pub(crate) fn call_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.calls.keys().cloned().collect();
        names.sort();
        names
    }

    /// Every push route name, sorted.
    pub(crate) fn push_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.pushes.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Routes by name, hashed with rustc's FxHash, run once per message. Only registration
/// adds a name, so the keys are the application's own and a keyed hash (std's SipHash,
/// several times the cost of the rest of the lookup) buys nothing against flooding: a
/// message naming an unknown route only looks up.
type Routes<T> = HashMap<String, Arc<T>, FxBuildHasher>;

/// A read loop's copy of the peer's routes, refreshed when a route is registered.
pub(crate) struct RouteSnapshot {
    pub(crate) version: u64,
    pub(crate) router: Arc<Router>,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn route_hasher_tells_names_apart_and_finds_them() {
        let build = FxBuildHasher;
        let names: Vec<String> = (0..2000)
            .map(|i| format!("/service_{}/method_{i}", i % 7))
            .chain((0..64).map(|i| format!("Svc.{}", "M".repeat(i))))
            .collect();
        let hashes: HashSet<u64> = names.iter().map(|name| build.hash_one(name)).collect();
        assert_eq!(hashes.len(), names.len(), "no two of these names may collide");
        // The bucket index comes from the low bits: they must spread too.
        let low: HashSet<u64> = hashes.iter().map(|h| h & 0xfff).collect();
        assert!(low.len() > names.len() / 2, "low bits spread over {} of 4096", low.len());
        let map: HashMap<&str, usize, FxBuildHasher> =
            names.iter().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(map.get(name.as_str()), Some(&i));
        }
        assert_eq!(map.get("/service_0/method_2000"), None);
    }
}
