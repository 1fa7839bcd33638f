//! Calls and pushes, both directions, over TCP and Unix sockets.

use std::sync::Arc;

use teleport::status::CODE_NOT_FOUND;
use teleport::{CallCtx, CallOptions, Peer, PeerConfig, PushCtx, Status, codec};
use tokio::sync::mpsc;

use crate::common::{config, pair, pair_with};

fn math(peer: &Peer) {
    peer.route_call_fn("/math/add", |ctx: CallCtx, nums: Vec<i64>| async move {
        if let Some(author) = ctx.input_meta().get("author") {
            ctx.set_meta("echo-author", author);
        }
        Ok(nums.iter().sum::<i64>())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_with_meta_and_reply_meta() {
    let (_server, _client, session) = pair(math).await;
    let sum: i64 = session.call("/math/add", &[1, 2, 3, 4, 5]).await.unwrap();
    assert_eq!(sum, 15);
    let options = CallOptions::new().set_meta("author", "x");
    let reply = session.call_with::<i64>("/math/add", &vec![1, 2], &options).await.unwrap();
    assert_eq!(reply.value, 3);
    assert_eq!(reply.meta.get("echo-author"), Some("x"));
    assert_eq!(reply.codec, codec::JSON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_calls_and_pushes_to_the_client() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (server, client, session) = pair(|_| {}).await;
    client.route_call_fn("/client/echo", |_ctx: CallCtx, s: String| async move {
        Ok(format!("echo {s}"))
    });
    client.route_push_fn("/push/status", move |ctx: PushCtx, s: String| {
        let tx = tx.clone();
        async move {
            tx.send(format!("{} {s}", ctx.path())).unwrap();
            Ok(())
        }
    });
    // The server sees the session it accepted and calls the route the client registered.
    crate::common::eventually(|| server.session_count() == 1).await;
    let accepted = server.sessions().pop().unwrap();
    let echoed: String = accepted.call("/client/echo", "hi").await.unwrap();
    assert_eq!(echoed, "echo hi");
    for s in server.sessions() {
        s.push("/push/status", "up").await.unwrap();
    }
    assert_eq!(rx.recv().await.unwrap(), "/push/status up");
    assert!(session.health());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_pushes_to_the_server() {
    let (tx, mut rx) = mpsc::unbounded_channel::<(String, Option<String>)>();
    let (_server, _client, session) = pair(move |peer| {
        peer.route_push_fn("/push/hello", move |ctx: PushCtx, s: String| {
            let tx = tx.clone();
            async move {
                tx.send((s, ctx.query().unwrap().get("x").map(str::to_owned))).unwrap();
                Ok(())
            }
        });
    })
    .await;
    session.push("/push/hello?x=1", "hi from rust").await.unwrap();
    assert_eq!(rx.recv().await.unwrap(), ("hi from rust".to_owned(), Some("1".to_owned())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_handlers_answer_calls_and_take_pushes() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let (_server, _client, session) = pair(move |peer| {
        peer.route_call_sync_fn("/sync/echo", |ctx: &CallCtx, s: String| {
            ctx.set_meta("seen", ctx.query().unwrap().get("x").unwrap_or("-"));
            Ok::<_, teleport::Status>(format!("{s}!"))
        });
        peer.route_push_sync_fn("/sync/note", move |_ctx: &PushCtx, s: String| {
            tx.send(s).unwrap();
            Ok(())
        });
    })
    .await;
    let reply =
        session.call_with::<String>("/sync/echo?x=7", "hi", &CallOptions::new()).await.unwrap();
    assert_eq!((reply.value.as_str(), reply.meta.get("seen")), ("hi!", Some("7")));
    session.push("/sync/note", "noted").await.unwrap();
    assert_eq!(rx.recv().await.unwrap(), "noted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_calls_on_one_session() {
    let (_server, _client, session) = pair(|peer| {
        peer.route_call_fn("/math/double", |_ctx: CallCtx, n: u64| async move {
            tokio::task::yield_now().await;
            Ok(n * 2)
        });
    })
    .await;
    let calls = (0..1000u64).map(|n| {
        let session = session.clone();
        async move { (n, session.call::<u64>("/math/double", &n).await) }
    });
    let results = futures_util::future::join_all(calls).await;
    for (n, result) in results {
        assert_eq!(result.unwrap(), n * 2);
    }
    assert_eq!(session.pending_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_call_handle_and_codecs() {
    let (_server, _client, session) = pair(math).await;
    let handle = session.call_async::<i64>("/math/add", &[10, 20], &CallOptions::new());
    let other: i64 = session.call("/math/add", &[1]).await.unwrap();
    assert_eq!(other, 1);
    assert_eq!(handle.await.unwrap().value, 30);
    // Reply codec: the caller's accept codec wins over the request's codec.
    let options = CallOptions::new().accept_codec(codec::PLAIN);
    let reply = session.call_with::<i64>("/math/add", &[2, 3], &options).await.unwrap();
    assert_eq!((reply.value, reply.codec), (5, codec::PLAIN));
    let reply = session.call_with::<i64>("/math/add", &[2, 3], &CallOptions::new()).await.unwrap();
    assert_eq!(reply.codec, codec::JSON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_bodies_through_unknown_handlers() {
    let (_server, _client, session) = pair(|peer| {
        peer.set_unknown_call(|ctx: CallCtx| async move {
            // Echo the body untouched, answering in plain text with the route and codec.
            ctx.set_reply_codec(codec::PLAIN);
            let text = format!(
                "{} {} {}",
                ctx.path(),
                ctx.body_codec() as char,
                String::from_utf8_lossy(ctx.body())
            );
            Ok(codec::RawBody(text.into_bytes().into()))
        });
    })
    .await;
    let got: String = session.call("/any/thing", &[1, 2]).await.unwrap();
    assert_eq!(got, "/any/thing j [1,2]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_route_is_404_with_gos_status() {
    let (_server, _client, session) = pair(math).await;
    let err = session.call::<i64>("/math/nope", &[1]).await.unwrap_err();
    assert_eq!(err, Status::with_code(CODE_NOT_FOUND, ""));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_pushes_over_unix_sockets() {
    let dir = std::env::temp_dir().join(format!("teleport-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("unix-calls.sock");
    let unix = PeerConfig {
        network: teleport::peer::Network::Unix,
        unix_path: Some(path.clone()),
        ..config()
    };
    let server = Peer::new(unix.clone()).unwrap();
    math(&server);
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let tx = Arc::new(tx);
    server.route_push_fn("/push/hello", move |_ctx: PushCtx, s: String| {
        let tx = tx.clone();
        async move {
            tx.send(s).unwrap();
            Ok(())
        }
    });
    server.listen().await.unwrap();
    let client = Peer::new(unix).unwrap();
    let session = client.dial(path.to_str().unwrap()).await.unwrap();
    assert!(session.raw_fd().is_some());
    let sum: i64 = session.call("/math/add", &[4, 5]).await.unwrap();
    assert_eq!(sum, 9);
    session.push("/push/hello", "over unix").await.unwrap();
    assert_eq!(rx.recv().await.unwrap(), "over unix");
    server.shutdown(std::time::Duration::from_secs(5)).await;
    crate::common::eventually(|| !path.exists()).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_beyond_the_permits_wait_for_one() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (gate_tx, gate_rx) = tokio::sync::watch::channel(false);
    let server_config = PeerConfig { max_in_flight_handlers: 2, ..config() };
    let (r, m) = (running.clone(), most.clone());
    let (_server, _client, session) = pair_with(server_config, config(), move |peer| {
        peer.route_call_fn("/slow", move |_ctx: CallCtx, n: u32| {
            let (running, most, mut gate) = (r.clone(), m.clone(), gate_rx.clone());
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let _ = gate.wait_for(|open| *open).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(n)
            }
        });
    })
    .await;
    let calls: Vec<_> =
        (0..10u32).map(|n| session.call_async::<u32>("/slow", &n, &CallOptions::new())).collect();
    crate::common::eventually(|| running.load(Ordering::SeqCst) == 2).await;
    // The others wait for a permit, not in a handler.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(running.load(Ordering::SeqCst), 2);
    gate_tx.send(true).unwrap();
    for (n, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().value, n as u32);
    }
    assert_eq!(most.load(Ordering::SeqCst), 2);
}
