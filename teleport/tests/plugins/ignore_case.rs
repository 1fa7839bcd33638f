//! Ignore-case: any casing reaches the registered route, under either mapper.

use teleport::plugin::ignore_case::IgnoreCase;
use teleport::{CallCtx, Peer, PushCtx};
use tokio::sync::mpsc;

use crate::common::{config, pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_pushes_match_routes_whatever_their_case() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let server = Peer::builder(config()).plugin(IgnoreCase::new());
    let (_server, _client, session) = pair(server, Peer::builder(config()), move |peer| {
        peer.route_call_fn("/math/add", |ctx: CallCtx, n: Vec<i64>| async move {
            Ok(format!("{}={}", ctx.service_method(), n.iter().sum::<i64>()))
        });
        peer.route_call_fn("Math.Mul", |ctx: CallCtx, n: Vec<i64>| async move {
            Ok(format!("{}={}", ctx.service_method(), n.iter().product::<i64>()))
        });
        peer.route_push_fn("/chat/Say", move |ctx: PushCtx, _: String| {
            let tx = tx.clone();
            async move {
                tx.send(ctx.service_method().to_owned()).unwrap();
                Ok(())
            }
        });
        peer.set_unknown_call(|ctx: CallCtx| async move {
            Ok(format!("unknown {}", ctx.service_method()))
        });
    })
    .await;
    let cases = [
        ("/math/add", "/math/add=5"),
        ("/MATH/Add?Author=X", "/math/add?Author=X=5"),
        ("math.mul", "Math.Mul=6"),
        ("MATH.MUL", "Math.Mul=6"),
        ("/No/Such?Q=1", "unknown /no/such?Q=1"),
    ];
    for (sent, answered) in cases {
        assert_eq!(session.call::<String>(sent, &[2, 3]).await.unwrap(), answered, "{sent}");
    }
    for sent in ["/CHAT/SAY", "/chat/say?x=Y"] {
        session.push(sent, "hi").await.unwrap();
    }
    let mut seen = [rx.recv().await.unwrap(), rx.recv().await.unwrap()];
    seen.sort();
    assert_eq!(seen, ["/chat/Say", "/chat/Say?x=Y"]);
}
