//! Overloader: connection and QPS limits, live updates, counters that never drift.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use teleport::plugin::auth::Checker;
use teleport::plugin::overloader::{Limits, Overloader};
use teleport::transport::memory;
use teleport::{CallCtx, Peer, PeerConfig, PushCtx, Session, SessionState, Status};

use crate::common::{config, eventually, wait_state};

fn limits(max_conn: usize, max_total_qps: u32, routes: &[(&str, u32)]) -> Limits {
    let max_route_qps = routes.iter().map(|(r, q)| (r.to_string(), *q)).collect();
    Limits { max_conn, max_total_qps, max_route_qps }
}

/// A listening server with the overloader, `/ping`, `/other` and a counted `/note` push.
async fn server(overloader: &Overloader) -> (Peer, String, Arc<AtomicUsize>) {
    let server = Peer::builder(config()).plugin(overloader.clone()).build().unwrap();
    server.route_call_fn("/ping", |_ctx: CallCtx, _: ()| async { Ok("pong") });
    server.route_call_fn("/other", |_ctx: CallCtx, _: ()| async { Ok("other") });
    let notes = Arc::new(AtomicUsize::new(0));
    let counted = notes.clone();
    server.route_push_fn("/note", move |_ctx: PushCtx, _: ()| {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok(()) }
    });
    let addr = server.listen().await.unwrap().to_string();
    (server, addr, notes)
}

async fn dial(addr: &str) -> Session {
    Peer::new(config()).unwrap().dial(addr).await.unwrap()
}

/// Dials a server that refuses the session: the dial fails if the refusal is seen before
/// it returns, else the session closes right after.
async fn dial_refused(addr: &str) {
    match Peer::new(config()).unwrap().dial(addr).await {
        Ok(session) => wait_state(&session, SessionState::Closed).await,
        Err(status) => assert_eq!(status.code(), 102, "{status}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_over_the_connection_limit_are_refused_until_one_leaves() {
    let overloader = Overloader::new(limits(2, 0, &[]));
    let (_server, addr, _) = server(&overloader).await;
    let first = dial(&addr).await;
    let second = dial(&addr).await;
    assert_eq!(second.call::<String>("/ping", &()).await.unwrap(), "pong");
    dial_refused(&addr).await;
    assert_eq!(overloader.stats().refused_connections, 1);
    assert_eq!(overloader.stats().connections, 2);
    first.close().await;
    eventually(|| overloader.stats().connections == 1).await;
    let fourth = dial(&addr).await;
    assert_eq!(fourth.call::<String>("/ping", &()).await.unwrap(), "pong");
    // Lowered below the count: nobody is closed, newcomers are refused.
    overloader.update(limits(1, 0, &[]));
    dial_refused(&addr).await;
    assert!(second.health() && fourth.health());
    overloader.update(limits(0, 0, &[])); // unlimited
    assert_eq!(dial(&addr).await.call::<String>("/ping", &()).await.unwrap(), "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_count_never_drifts() {
    let overloader = Overloader::new(limits(5, 0, &[]));
    // A checker after the overloader refuses every other session: their slots come back.
    let refused = Arc::new(AtomicUsize::new(0));
    let counter = refused.clone();
    let checker = Checker::new(move |_session: Session, _: String| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move { if n % 2 == 0 { Ok("pass") } else { Err(Status::new(403, "no")) } }
    });
    let server =
        Peer::builder(config()).plugin(overloader.clone()).plugin(checker).build().unwrap();
    let addr = server.listen().await.unwrap().to_string();
    let bearer = teleport::plugin::auth::Bearer::new(|_s| async { Ok("me") });
    let client = Peer::builder(config()).plugin(bearer).build().unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, addr) = (client.clone(), addr.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                if let Ok(session) = client.dial(&addr).await {
                    session.close().await;
                }
            }
        }));
    }
    // Raw connections that say nothing and leave.
    for _ in 0..10 {
        drop(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    for task in tasks {
        task.await.unwrap();
    }
    eventually(|| overloader.stats().connections == 0 && server.session_count() == 0).await;
    assert!(overloader.stats().refused_connections > 0 || refused.load(Ordering::SeqCst) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_a_route_limit_get_503_and_others_pass() {
    let overloader = Overloader::new(limits(0, 0, &[("/ping", 1)]));
    let (_server, addr, _) = server(&overloader).await;
    let session = dial(&addr).await;
    let started = Instant::now();
    let calls = (0..20).map(|_| session.call::<String>("/ping", &()));
    let results = futures_util::future::join_all(calls).await;
    // One token, plus one a second: robust to a slow machine.
    let allowed = 1 + started.elapsed().as_secs_f64().ceil() as usize;
    let passed = results.iter().filter(|r| r.is_ok()).count();
    assert!(passed >= 1 && passed <= allowed, "{passed} passed, {allowed} allowed");
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(err.code(), 503);
        assert_eq!(err.cause_text(), Some("QPS limit 1 of /ping exceeded"));
    }
    assert_eq!(overloader.stats().refused_calls, (20 - passed) as u64);
    assert_eq!(session.call::<String>("/other", &()).await.unwrap(), "other");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_over_the_total_limit_are_dropped_and_counted() {
    let overloader = Overloader::new(limits(0, 2, &[]));
    let (_server, addr, notes) = server(&overloader).await;
    let session = dial(&addr).await;
    for _ in 0..20 {
        session.push("/note", &()).await.unwrap();
    }
    eventually(|| notes.load(Ordering::SeqCst) as u64 + overloader.stats().dropped_pushes == 20)
        .await;
    assert!(overloader.stats().dropped_pushes > 0);
}

#[tokio::test(start_paused = true)]
async fn limits_change_while_running_and_buckets_refill() {
    let overloader = Overloader::new(limits(0, 5, &[("/ping", 2)]));
    let server = Peer::builder(PeerConfig::default()).plugin(overloader.clone()).build().unwrap();
    server.route_call_fn("/ping", |_ctx: CallCtx, _: ()| async { Ok("pong") });
    server.route_call_fn("/other", |_ctx: CallCtx, _: ()| async { Ok("other") });
    let (a, b) = memory::pair();
    server.serve_conn(a).await.unwrap();
    let session = Peer::new(PeerConfig::default()).unwrap().serve_conn(b).await.unwrap();
    let outcomes = |route: &'static str, n: usize| {
        let session = session.clone();
        async move {
            let mut codes = Vec::new();
            for _ in 0..n {
                codes.push(
                    session.call::<String>(route, &()).await.map_or_else(|e| e.code(), |_| 0),
                );
            }
            codes
        }
    };
    assert_eq!(outcomes("/ping", 3).await, [0, 0, 503]);
    assert_eq!(outcomes("/other", 4).await, [0, 0, 503, 503], "total: 5 tokens, 3 used");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(outcomes("/other", 6).await, [0, 0, 0, 0, 0, 503]);
    overloader.update(limits(0, 0, &[("/ping", 0)]));
    assert_eq!(outcomes("/ping", 50).await, [0; 50]);
    overloader.update(limits(0, u32::MAX, &[("/ping", 1), ("/other", u32::MAX)]));
    assert_eq!(outcomes("/ping", 2).await, [0, 503]);
    assert_eq!(overloader.limits(), limits(0, u32::MAX, &[("/ping", 1), ("/other", u32::MAX)]));
    let stats = overloader.stats();
    assert_eq!((stats.connections, stats.refused_calls), (1, 5));
}
