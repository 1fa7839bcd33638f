//! Routes matched case-insensitively: `/Math/ADD` reaches `/math/add`.
//!
//! [`IgnoreCase`] learns the routes as they are registered and, before routing, rewrites
//! the path of every call and push to the registered name it matches when lower-cased. A
//! path that matches no route is lower-cased, as Go eRPC does, for the unknown handlers.
//! The `?query` is left as it is. Put it first among the plugins, so that the others see
//! the registered name.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use teleport::plugin::ignore_case::IgnoreCase;
//! use teleport::{Peer, PeerConfig, transport::memory};
//!
//! let server = Peer::builder(PeerConfig::default()).plugin(IgnoreCase::new()).build()?;
//! server.route_call_fn("Math.Add", |_ctx, nums: Vec<i64>| async move {
//!     Ok(nums.iter().sum::<i64>())
//! });
//! let client = Peer::new(PeerConfig::default())?;
//! let (a, b) = memory::pair();
//! server.serve_conn(a).await?;
//! let session = client.serve_conn(b).await?;
//! assert_eq!(session.call::<i64>("math.ADD", &[1, 2]).await?, 3);
//! # Ok(()) }
//! ```
//!
//! Differences from Go eRPC: Go lower-cases the whole service method, query included, so it
//! only finds routes whose names are lower case (the HTTP mapper's, not the RPC mapper's
//! `Math.Add`); we map to the registered name under either mapper and keep the query.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::message::Message;
use crate::plugin::{HookResult, Plugin};
use crate::session::Session;

/// The ignore-case plugin. Cheap to clone; clones share what they learned.
#[derive(Clone, Default)]
pub struct IgnoreCase {
    routes: Arc<RwLock<Routes>>,
}

/// Registered names by their lower-case form.
#[derive(Default)]
struct Routes {
    calls: HashMap<String, String>,
    pushes: HashMap<String, String>,
}

impl IgnoreCase {
    /// A plugin that knows no route yet; add it to the peer before registering routes.
    pub fn new() -> Self {
        IgnoreCase::default()
    }
}

impl Plugin for IgnoreCase {
    fn name(&self) -> &str {
        "ignore-case"
    }

    fn post_register(&self, route: &str, is_call: bool) -> HookResult {
        let mut routes = self.routes.write();
        let table = if is_call { &mut routes.calls } else { &mut routes.pushes };
        // The first of two names that differ only in case keeps the lower-case form; each
        // is still reached by its exact name.
        table.entry(route.to_lowercase()).or_insert_with(|| route.to_owned());
        Ok(())
    }

    fn post_read_call_header(&self, _session: &Session, msg: &mut Message) -> HookResult {
        rewrite(&self.routes.read().calls, msg);
        Ok(())
    }

    fn post_read_push_header(&self, _session: &Session, msg: &mut Message) -> HookResult {
        rewrite(&self.routes.read().pushes, msg);
        Ok(())
    }
}

/// Replaces `msg`'s path by the registered name it matches, or by its lower-case form.
fn rewrite(table: &HashMap<String, String>, msg: &mut Message) {
    let path = msg.path();
    if table.get(path).is_some_and(|name| name == path) {
        return; // the common case: already the registered name
    }
    let has_upper = path.chars().any(char::is_uppercase);
    let lower = has_upper.then(|| path.to_lowercase());
    let key = lower.as_deref().unwrap_or(path);
    let new_path = match table.get(key) {
        Some(name) if name != path => name.clone(),
        Some(_) => return,
        None => match lower {
            Some(lower) => lower,
            None => return,
        },
    };
    let query_at = msg.path().len();
    msg.service_method.replace_range(..query_at, &new_path);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::MessageType;

    #[test]
    fn paths_map_to_registered_names_and_queries_stay() {
        let plugin = IgnoreCase::new();
        plugin.post_register("/math/add", true).unwrap();
        plugin.post_register("Math.Mul", true).unwrap();
        let table = &plugin.routes.read().calls;
        let cases = [
            ("/math/add", "/math/add"),
            ("/MATH/Add?X=Y", "/math/add?X=Y"),
            ("math.mul", "Math.Mul"),
            ("MATH.MUL?a=B", "Math.Mul?a=B"),
            ("/Unknown/Route?Q", "/unknown/route?Q"),
            ("/ÄÖ", "/äö"),
        ];
        for (sent, routed) in cases {
            let mut msg = Message::new(MessageType::Call, 1, sent);
            rewrite(table, &mut msg);
            assert_eq!(msg.service_method, routed, "{sent}");
        }
    }
}
