//! The peer's manifest, fetched from its reserved route.

use teleport::codec;
use teleport::manifest::{MANIFEST_ROUTE, Manifest, RouteManifest};
use teleport::status::CODE_NOT_FOUND;
use teleport::{Message, MessageType, Session};

use crate::connect::Budget;
use crate::failure::Failure;

/// What `tp routes` says to a peer that answers the manifest route with 404.
pub(crate) const NOT_SERVED: &str = "the peer does not serve its manifest (turn on serve_manifest)";

/// Calls [`MANIFEST_ROUTE`]: `None` when the peer answers 404 (a peer without
/// `serve_manifest`, or a Go eRPC peer).
pub(crate) async fn fetch(session: &Session, budget: Budget) -> Result<Option<Manifest>, Failure> {
    let mut call = Message::new(MessageType::Call, 0, MANIFEST_ROUTE);
    call.body_codec = codec::JSON;
    call.body = "null".into();
    let reply = session
        .call_raw_reply(call, Some(budget.left()))
        .await
        .map_err(|status| Failure::status(format!("call {MANIFEST_ROUTE}"), status))?;
    if reply.status.code() == CODE_NOT_FOUND {
        return Ok(None);
    }
    if !reply.status.is_ok() {
        return Err(Failure::status(format!("call {MANIFEST_ROUTE}"), reply.status));
    }
    serde_json::from_slice(&reply.body)
        .map(Some)
        .map_err(|e| Failure::Other(format!("the peer's manifest does not parse: {e}")))
}

/// The route named `route` (its path, without a `?query`), if the manifest lists it.
pub(crate) fn find<'m>(manifest: &'m Manifest, route: &str) -> Option<&'m RouteManifest> {
    let path = route.split_once('?').map_or(route, |(path, _)| path);
    manifest.services.iter().flat_map(|s| &s.routes).find(|r| r.route == path)
}
