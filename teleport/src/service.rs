//! [`Service`]: a set of routes registered together, as `#[service]` generates them.

use std::sync::Arc;

use crate::peer::Peer;
use crate::router::Group;

/// A set of routes registered together. `#[teleport::service]` implements it for an impl
/// block; implement it by hand to bundle hand-routed handlers.
pub trait Service: Send + Sync + 'static {
    /// Registers every route of the service in `group`; route names are relative to the
    /// group's prefix.
    fn register(self: Arc<Self>, group: &Group);
}

impl Group {
    /// Registers every route of `service` in this group.
    pub fn route<S: Service>(&self, service: S) -> &Self {
        self.route_arc(Arc::new(service))
    }

    /// Registers every route of a shared `service` in this group.
    pub fn route_arc<S: Service>(&self, service: Arc<S>) -> &Self {
        service.register(self);
        self
    }
}

impl Peer {
    /// Registers every route of `service` at the root (no prefix).
    pub fn route<S: Service>(&self, service: S) -> &Self {
        self.root().route(service);
        self
    }
}
