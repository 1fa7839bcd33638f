//! The peer's side of the manifest: the services it registered, described, and the
//! reserved route that serves them when `PeerConfig::serve_manifest` is on.

use serde::de::IgnoredAny;

use super::Peer;
use crate::codec;
use crate::context::CallCtx;
use crate::manifest::{MANIFEST_ROUTE, Manifest, ServiceManifest};
use crate::router::Group;
use crate::status::Status;

impl Peer {
    /// The manifest of every service registered with [`route`](Peer::route) (or a group's),
    /// in registration order: what [`MANIFEST_ROUTE`] answers when
    /// [`PeerConfig::serve_manifest`](crate::PeerConfig::serve_manifest) is on. Routes
    /// registered by hand (`route_call_fn`...) are not in it: they carry no description.
    pub fn manifest(&self) -> Manifest {
        Manifest::new(self.inner.manifests.lock().clone())
    }

    /// Records a service registered under the group prefix `prefix`: its route names and
    /// prefix become the full ones, and its codec the peer's default.
    pub(crate) fn describe(&self, group: &Group, mut service: ServiceManifest) {
        if !group.prefix().is_empty() {
            service.prefix = match service.prefix.as_str() {
                "" => group.prefix().to_owned(),
                own => group.full_name(own),
            };
            for route in &mut service.routes {
                route.route = group.full_name(&route.route);
            }
        }
        service.codec = self.default_codec_name().to_owned();
        self.inner.manifests.lock().push(service);
    }

    fn default_codec_name(&self) -> &'static str {
        self.codecs().by_id(self.default_codec()).map_or("", |info| info.name)
    }

    /// Registers [`MANIFEST_ROUTE`] when the configuration asks for it.
    pub(crate) fn serve_manifest_route(&self) {
        if self.config().serve_manifest {
            self.route_call_sync_fn(MANIFEST_ROUTE, answer);
        }
    }
}

/// Any body (empty, `null`...) asks for the manifest; the reply is JSON whatever the
/// peer's default codec, as the readers of manifests expect.
fn answer(ctx: &CallCtx, _: IgnoredAny) -> Result<Manifest, Status> {
    ctx.set_reply_codec(codec::JSON);
    Ok(ctx.peer().manifest())
}
