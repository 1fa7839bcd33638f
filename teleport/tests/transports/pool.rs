//! The session pool: calls spread over its sessions; idle sessions closed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use teleport::peer::Network;
use teleport::plugin::proxy::Proxy;
use teleport::pool::{PoolConfig, SessionPool};
use teleport::{CallCtx, Peer};

use crate::common::{config, eventually};

/// A server counting the calls each of its sessions served.
async fn counting_server() -> (Peer, String, Arc<Mutex<HashMap<String, usize>>>) {
    let served = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let server = Peer::new(config(Network::Tcp)).unwrap();
    let counts = served.clone();
    server.route_call_fn("/work", move |ctx: CallCtx, n: u64| {
        *counts.lock().unwrap().entry(ctx.session().id().to_string()).or_default() += 1;
        async move {
            // Long enough for the calls to overlap.
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(n + 1)
        }
    });
    let addr = server.listen().await.unwrap().to_string();
    (server, addr, served)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_calls_spread_over_the_sessions() {
    let (server, addr, served) = counting_server().await;
    let client = Peer::new(config(Network::Tcp)).unwrap();
    let pool_config = PoolConfig { max_sessions: 4, ..PoolConfig::default() };
    let pool = SessionPool::new(client.clone(), addr, pool_config);

    let calls = (0..1000u64).map(|n| {
        let pool = pool.clone();
        async move { pool.call::<u64>("/work", &n).await }
    });
    let replies: Vec<u64> = join_all(calls).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(replies, (1..=1000).collect::<Vec<_>>());

    let stats = pool.stats();
    assert_eq!((stats.sessions, stats.dialing, stats.in_flight, stats.done), (4, 0, 0, 1000));
    let served = served.lock().unwrap().clone();
    assert_eq!(served.len(), 4, "{served:?}");
    assert!(served.values().all(|&n| n >= 50), "uneven spread: {served:?}");

    pool.close().await;
    let status = pool.call::<u64>("/work", &1).await.unwrap_err();
    assert_eq!(status.code(), teleport::status::CODE_CONN_CLOSED);
    eventually(|| server.session_count() == 0).await;
    client.close().await;
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_closed_and_replaced_on_demand() {
    let (server, addr, _served) = counting_server().await;
    let client = Peer::new(config(Network::Tcp)).unwrap();
    let idle_timeout = Duration::from_millis(100);
    let pool_config = PoolConfig { max_sessions: 2, idle_timeout, ..PoolConfig::default() };
    let pool = SessionPool::new(client.clone(), addr, pool_config);

    let calls = (0..10u64).map(|n| {
        let pool = pool.clone();
        async move { pool.call::<u64>("/work", &n).await }
    });
    assert!(join_all(calls).await.iter().all(Result::is_ok));
    assert_eq!(pool.stats().sessions, 2);
    eventually(|| pool.stats().sessions == 0).await;
    eventually(|| server.session_count() == 0 && client.session_count() == 0).await;

    // A later call dials again.
    assert_eq!(pool.call::<u64>("/work", &41).await.unwrap(), 42);
    assert_eq!(pool.stats().sessions, 1);
    drop(pool);
    eventually(|| server.session_count() == 0).await;
    client.close().await;
    server.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_is_a_session_and_a_failed_dial_is_105() {
    let (server, addr, _served) = counting_server().await;
    let client = Peer::new(config(Network::Tcp)).unwrap();
    let pool = SessionPool::new(client.clone(), addr.clone(), PoolConfig::default());
    {
        let lease = pool.session().await.unwrap();
        assert_eq!(lease.call::<u64>("/work", &1).await.unwrap(), 2);
        assert_eq!(pool.stats().in_flight, 1);
    }
    assert_eq!(pool.stats().in_flight, 0);
    server.close().await;
    eventually(|| client.session_count() == 0).await;
    // The broken session is dropped; the new dial finds no server.
    let status = pool.call::<u64>("/work", &1).await.unwrap_err();
    assert_eq!(status.code(), teleport::status::CODE_DIAL_FAILED, "{status}");
    assert_eq!(pool.stats().sessions, 0);
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_forwards_through_a_pool() {
    let (backend, addr, served) = counting_server().await;
    let front = Peer::new(config(Network::Tcp)).unwrap();
    let pool_config = PoolConfig { max_sessions: 2, ..PoolConfig::default() };
    let pool = SessionPool::new(front.clone(), addr, pool_config);
    let upstream = pool.clone();
    let proxy = Peer::builder(config(Network::Tcp))
        .plugin(Proxy::new(move |_label| Some(upstream.clone())))
        .build()
        .unwrap();
    let proxy_addr = proxy.listen().await.unwrap().to_string();
    let client = Peer::new(config(Network::Tcp)).unwrap();
    let session = client.dial(&proxy_addr).await.unwrap();

    let calls = (0..100u64).map(|n| {
        let session = session.clone();
        async move { session.call::<u64>("/work", &n).await }
    });
    let replies: Vec<u64> = join_all(calls).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(replies, (1..=100).collect::<Vec<_>>());
    assert_eq!(served.lock().unwrap().len(), 2, "both pooled sessions carried calls");
    assert_eq!(pool.stats().done, 100);

    let status = session.call::<u64>("/missing", &1).await.unwrap_err();
    assert_eq!(status.code(), teleport::status::CODE_NOT_FOUND, "{status}");
    for peer in [client, proxy, front, backend] {
        peer.close().await;
    }
}
