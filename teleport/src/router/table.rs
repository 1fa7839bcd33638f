//! [`RouteTable`]: the live routes a peer serves from, shared by the peer and the groups
//! that register into it. A group holds the table, never the peer.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use super::{RouteSnapshot, Router};
use crate::plugin::Plugins;

/// The routes and the peer-wide plugins (which every route runs first, and which hear of
/// each registration).
pub(crate) struct RouteTable {
    router: RwLock<Arc<Router>>,
    version: AtomicU64,
    plugins: Plugins,
}

impl RouteTable {
    pub(crate) fn new(plugins: Plugins) -> Self {
        RouteTable { router: RwLock::default(), version: AtomicU64::new(0), plugins }
    }

    /// The peer-wide plugins.
    pub(crate) fn plugins(&self) -> &Plugins {
        &self.plugins
    }

    /// Changes the routes. Registration replaces the shared copy, so that read loops keep
    /// looking routes up in theirs without a lock.
    pub(crate) fn update<T>(&self, f: impl FnOnce(&mut Router) -> T) -> T {
        let mut router = self.router.write();
        let out = f(Arc::make_mut(&mut router));
        // Bumped after the change and under the lock: whoever sees the new version reads
        // the new routes.
        self.version.fetch_add(1, Ordering::Release);
        out
    }

    /// The routes as they are now.
    pub(crate) fn current(&self) -> Arc<Router> {
        self.router.read().clone()
    }

    /// A snapshot of the routes, for a read loop to keep.
    pub(crate) fn snapshot(&self) -> RouteSnapshot {
        let version = self.version.load(Ordering::Acquire);
        RouteSnapshot { version, router: self.current() }
    }

    /// The routes, from `snapshot` unless a route was registered since it was taken.
    pub(crate) fn routes<'a>(&self, snapshot: &'a mut RouteSnapshot) -> &'a Router {
        if self.version.load(Ordering::Acquire) != snapshot.version {
            *snapshot = self.snapshot();
        }
        &snapshot.router
    }

    /// Runs the plugins' `post_register` hooks for a new route.
    pub(crate) fn notify_register(&self, name: &str, is_call: bool) {
        for plugin in self.plugins.iter() {
            if let Err(status) = plugin.post_register(name, is_call) {
                tracing::warn!(route = name, plugin = plugin.name(), %status, "post_register refused");
            }
        }
    }
}
