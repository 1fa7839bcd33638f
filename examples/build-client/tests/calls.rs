//! The built clients against the examples' server over loopback: the `Math` the `server`
//! example serves (its contract and implementation, included from `examples/`), and a
//! stand-in for the Go service of `go_arith.manifest.json`.

use std::sync::{Arc, Mutex};

use build_client::{from_manifest, from_source, go_arith};
use teleport as tp;
use tokio::io::AsyncReadExt;

#[allow(dead_code)]
#[path = "../../seed_api.rs"]
mod seed_api;
#[path = "../../seed_math.rs"]
mod seed_math;

fn config() -> tp::PeerConfig {
    tp::PeerConfig {
        local_ip: "127.0.0.1".into(),
        serve_manifest: true,
        ..tp::PeerConfig::default()
    }
}

/// The `server` example's peer, on a free port.
async fn examples_server() -> (tp::Peer, String) {
    let server = tp::Peer::new(config()).unwrap();
    server.route(seed_api::MathServer::new(seed_math::MathImpl));
    let addr = server.listen().await.unwrap().to_string();
    (server, addr)
}

async fn session(addr: &str) -> (tp::Peer, tp::Session) {
    let client = tp::Peer::new(tp::PeerConfig::default()).unwrap();
    let session = client.dial(addr).await.unwrap();
    (client, session)
}

#[tokio::test]
async fn both_built_clients_call_the_examples_server() {
    let (_server, addr) = examples_server().await;
    let (_client, session) = session(&addr).await;
    assert_eq!(from_manifest::MathClient::add(&session, &[1, 2, 3, 4, 5]).await.unwrap(), 15);
    assert_eq!(from_source::MathClient::add(&session, &vec![40, 2]).await.unwrap(), 42);

    let options = tp::CallOptions::new().set_meta("author", "build");
    let reply = from_manifest::MathClient::add_with(&session, &[1], &options).await.unwrap();
    assert_eq!((reply.value, reply.meta.get("echo-author")), (1, Some("build")));
    let reply = from_source::MathClient::add_with(&session, &[2], &options).await.unwrap();
    assert_eq!((reply.value, reply.meta.get("echo-author")), (2, Some("build")));
}

#[tokio::test]
async fn the_committed_manifest_is_what_the_examples_server_serves() {
    let (server, addr) = examples_server().await;
    let (_client, session) = session(&addr).await;
    let committed: tp::manifest::Manifest =
        serde_json::from_str(include_str!("../math.manifest.json")).unwrap();
    let served: tp::manifest::Manifest =
        session.call(tp::manifest::MANIFEST_ROUTE, &()).await.unwrap();
    assert_eq!(served, server.manifest());
    assert_eq!(
        committed, served,
        "regenerate: cargo run --example server -- --manifest examples/build-client/math.manifest.json"
    );
}

/// The first frame a client writes, read by a bare listener that then hangs up.
async fn first_frame<F, Fut>(call: F) -> Vec<u8>
where
    F: FnOnce(tp::Session) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let read = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut len = [0; 4];
        conn.read_exact(&mut len).await.unwrap();
        let mut frame = vec![0; u32::from_be_bytes(len) as usize - 4];
        conn.read_exact(&mut frame).await.unwrap();
        frame
    });
    let (_client, session) = session(&addr).await;
    call(session).await;
    read.await.unwrap()
}

#[tokio::test]
async fn the_macro_and_both_built_clients_write_the_same_bytes() {
    assert_eq!(seed_api::MathClient::ADD, from_source::MathClient::ADD);
    assert_eq!(seed_api::MathClient::ADD, from_manifest::MathClient::ADD);
    assert_eq!(seed_api::PushClient::STATUS, from_source::PushClient::STATUS);
    let options = || tp::CallOptions::new().set_meta("k", "v");
    // Each call fails once the listener hangs up; only what it wrote matters here.
    let by_macro = first_frame(|s| async move {
        let _ = seed_api::MathClient::add_with(&s, &[7, 8], &options()).await;
    })
    .await;
    let by_source = first_frame(|s| async move {
        let _ = from_source::MathClient::add_with(&s, &[7, 8], &options()).await;
    })
    .await;
    let by_manifest = first_frame(|s| async move {
        let _ = from_manifest::MathClient::add_with(&s, &[7, 8], &options()).await;
    })
    .await;
    assert!(by_macro.windows(9).any(|w| w == b"/math/add"), "{by_macro:?}");
    assert_eq!(by_source, by_macro);
    assert_eq!(by_manifest, by_macro);

    let push_by_macro = first_frame(|s| async move {
        seed_api::PushClient::status(&s, "up").await.unwrap();
        s.close().await;
    })
    .await;
    let push_by_source = first_frame(|s| async move {
        from_source::PushClient::status(&s, "up").await.unwrap();
        s.close().await;
    })
    .await;
    assert_eq!(push_by_source, push_by_macro);
}

/// What the Go service of `go_arith.manifest.json` does, routed by hand on a Rust peer
/// that reads and writes the JSON a Go peer would (Go's field names, `null` for nil).
async fn go_arith_server(logged: Arc<Mutex<Vec<String>>>) -> (tp::Peer, String) {
    use serde_json::{Value, json};
    let server = tp::Peer::new(config()).unwrap();
    server.route_call_sync_fn("Arith.Mul", |_: &tp::CallCtx, args: Value| {
        let (a, b) = (args["A"].as_i64(), args["B"].as_i64());
        match (a, b) {
            (Some(a), Some(b)) => Ok(json!(a * b)),
            _ => Err(tp::Status::new(tp::status::CODE_BAD_MESSAGE, "want A and B")),
        }
    });
    server.route_call_sync_fn("Arith.Stats", |_: &tp::CallCtx, _: Value| {
        Ok(json!({"Calls": 3, "LastOp": "mul", "Tags": {"lang": "go"}, "Recent": [{"A": 6, "B": 7}]}))
    });
    server.route_push_sync_fn("Arith.Log", move |_: &tp::PushCtx, line: String| {
        logged.lock().unwrap().push(line);
        Ok(())
    });
    let addr = server.listen().await.unwrap().to_string();
    (server, addr)
}

#[tokio::test]
async fn a_go_service_gets_a_typed_client_from_its_manifest() {
    let logged = Arc::new(Mutex::new(Vec::new()));
    let (_server, addr) = go_arith_server(logged.clone()).await;
    let (_client, session) = session(&addr).await;
    use go_arith::{Args, ArithClient, Op, Stats};
    assert_eq!(ArithClient::MUL, "Arith.Mul");
    assert_eq!(ArithClient::mul(&session, &Args { a: 6, b: 7 }).await.unwrap(), 42);
    let stats: Stats = ArithClient::stats(&session).await.unwrap();
    assert_eq!(stats.calls, 3);
    assert_eq!(stats.last_op, Some(Op::Mul));
    assert_eq!(stats.tags.unwrap()["lang"], "go");
    assert_eq!(stats.recent, [Args { a: 6, b: 7 }]);
    ArithClient::log(&session, "hello from Rust").await.unwrap();
    // A push has no reply: a call after it on the same session is handled after it.
    ArithClient::mul(&session, &Args { a: 1, b: 1 }).await.unwrap();
    assert_eq!(*logged.lock().unwrap(), ["hello from Rust"]);
}
