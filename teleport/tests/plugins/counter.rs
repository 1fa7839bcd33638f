//! The README's example plugin: a per-route call counter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use teleport::plugin::HookResult;
use teleport::{CallCtx, Plugin};

use crate::common::{config, pair};

/// Counts the calls of each route. Clones share the counts.
#[derive(Clone, Default)]
struct CallCounter {
    counts: Arc<Mutex<HashMap<String, u64>>>,
}

impl CallCounter {
    fn count(&self, route: &str) -> u64 {
        self.counts.lock().unwrap().get(route).copied().unwrap_or(0)
    }
}

impl Plugin for CallCounter {
    fn name(&self) -> &str {
        "call-counter"
    }

    // Runs once the route is known, before the body is decoded: calls to unknown
    // routes (answered 404) are not counted.
    fn pre_read_call_body(&self, ctx: &CallCtx) -> HookResult {
        *self.counts.lock().unwrap().entry(ctx.path().to_owned()).or_default() += 1;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_counter_counts_calls_per_route() {
    let counter = CallCounter::default();
    let server = teleport::Peer::builder(config()).plugin(counter.clone());
    let (_server, _client, session) = pair(server, teleport::Peer::builder(config()), |peer| {
        peer.route_call_fn("/math/add", |_ctx: CallCtx, n: Vec<i64>| async move {
            Ok(n.iter().sum::<i64>())
        });
    })
    .await;
    for _ in 0..2 {
        session.call::<i64>("/math/add?x=1", &[1, 2]).await.unwrap();
    }
    assert!(session.call::<i64>("/nope", &[1]).await.is_err());
    assert_eq!(counter.count("/math/add"), 2);
    assert_eq!(counter.count("/nope"), 0);
}
