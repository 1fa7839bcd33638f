//! Redial, graceful shutdown, session age and ids.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use teleport::status::CODE_SERVICE_UNAVAILABLE;
use teleport::{CallCtx, CallOptions, Peer, PeerConfig, SessionState};
use tokio::sync::{Notify, watch};

use crate::common::{config, eventually, pair, pair_with, wait_state};

fn add(peer: &Peer) {
    peer.route_call_fn("/math/add", |_ctx: CallCtx, nums: Vec<i64>| async move {
        Ok(nums.iter().sum::<i64>())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redial_after_the_server_restarts_on_the_same_port() {
    let server = Peer::new(config()).unwrap();
    add(&server);
    let addr = server.listen().await.unwrap();
    let client_config =
        PeerConfig { redial_times: -1, redial_interval: Duration::from_millis(20), ..config() };
    let client = Peer::new(client_config).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    let id = session.id();
    assert_eq!(session.call::<i64>("/math/add", &[1, 2]).await.unwrap(), 3);

    server.shutdown(Duration::from_secs(5)).await;
    wait_state(&session, SessionState::Redialing).await;

    let port = match addr {
        teleport::transport::Addr::Tcp(a) => a.port(),
        other => panic!("unexpected {other}"),
    };
    let restarted = Peer::new(PeerConfig { listen_port: port, ..config() }).unwrap();
    add(&restarted);
    restarted.listen().await.unwrap();
    // Made while the session is down by a caller that chose to wait: waits for the
    // reconnection, then succeeds.
    let waiting = CallOptions::new().wait_for_redial();
    let sum = session.call_with::<i64>("/math/add", &[20, 22], &waiting).await.unwrap();
    assert_eq!(sum.value, 42);
    assert_eq!(session.id(), id, "the session keeps its id");
    assert_eq!(client.session_count(), 1);
    session.close().await;
    restarted.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_returns_every_in_flight_reply() {
    let started = Arc::new(AtomicUsize::new(0));
    let all_started = Arc::new(Notify::new());
    let (release_tx, release_rx) = watch::channel(false);
    let (s, n) = (started.clone(), all_started.clone());
    let (server, _client, session) = pair_with(
        config(),
        PeerConfig { call_timeout: Duration::from_secs(60), ..config() },
        move |peer| {
            peer.route_call_fn("/wait", move |_ctx: CallCtx, i: u32| {
                let (s, n, mut release) = (s.clone(), n.clone(), release_rx.clone());
                async move {
                    if s.fetch_add(1, Ordering::SeqCst) + 1 == 100 {
                        n.notify_one();
                    }
                    let _ = release.wait_for(|r| *r).await;
                    Ok(i)
                }
            });
        },
    )
    .await;
    let calls: Vec<_> =
        (0..100u32).map(|i| session.call_async::<u32>("/wait", &i, &CallOptions::new())).collect();
    all_started.notified().await;
    assert_eq!(server.handlers_in_flight(), 100);

    let shutting = {
        let server = server.clone();
        tokio::spawn(async move { server.shutdown(Duration::from_secs(30)).await })
    };
    eventually(|| server.is_shutting_down()).await;
    // A call arriving now is refused with a clear status.
    let err = session.call::<u32>("/wait", &1000).await.unwrap_err();
    assert_eq!(err.code(), CODE_SERVICE_UNAVAILABLE);

    release_tx.send(true).unwrap();
    for (i, call) in calls.into_iter().enumerate() {
        assert_eq!(call.await.unwrap().value, i as u32);
    }
    shutting.await.unwrap();
    assert_eq!(server.session_count(), 0);
    wait_state(&session, SessionState::Closed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_with_a_stuck_handler_returns_within_its_timeout() {
    let entered = Arc::new(Notify::new());
    let e = entered.clone();
    let (server, _client, session) = pair(move |peer| {
        peer.route_call_fn("/stuck", move |_ctx: CallCtx, _: ()| {
            let e = e.clone();
            async move {
                e.notify_one();
                std::future::pending::<()>().await;
                Ok(())
            }
        });
    })
    .await;
    let call = session.call_async::<()>("/stuck", &(), &CallOptions::new());
    entered.notified().await;
    let start = Instant::now();
    server.shutdown(Duration::from_millis(300)).await;
    // Bounded by its timeout (plus scheduling slack on a busy machine), not by the handler.
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    // Its caller learns that the peer shut down, not that the connection crashed.
    assert_eq!(call.await.unwrap_err().code(), CODE_SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_age_closes_an_idle_session() {
    let server_config = PeerConfig { default_session_age: Duration::from_millis(200), ..config() };
    let (server, _client, session) = pair_with(server_config, config(), add).await;
    assert_eq!(session.call::<i64>("/math/add", &[1]).await.unwrap(), 1);
    wait_state(&session, SessionState::Closed).await;
    eventually(|| server.session_count() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_to_one_server_get_distinct_ids() {
    let (_server, client, first) = pair(add).await;
    let addr = first.remote_addr().to_string();
    let mut sessions = vec![first];
    for _ in 0..200 {
        sessions.push(client.dial(&addr).await.unwrap());
    }
    let mut ids: Vec<String> = sessions.iter().map(|s| s.id().to_string()).collect();
    assert_eq!(ids[0], addr);
    assert_eq!(ids[1], format!("{addr}#2"));
    assert_eq!(ids[200], format!("{addr}#201"));
    ids.sort();
    ids.dedup();
    assert_eq!((ids.len(), client.session_count()), (201, 201));
    // A freed suffix is not reused while the address is taken; the newcomer gets the next.
    let second = sessions.remove(1);
    second.close().await;
    let newcomer = client.dial(&addr).await.unwrap();
    assert_eq!(&*newcomer.id(), format!("{addr}#202"));
    assert_eq!(client.get_session(&newcomer.id()).unwrap().local_addr(), newcomer.local_addr());
    // Once every session is gone, the address is a plain id again.
    for session in sessions.into_iter().chain([newcomer]) {
        session.close().await;
    }
    assert_eq!(client.session_count(), 0);
    let again = client.dial(&addr).await.unwrap();
    assert_eq!(&*again.id(), addr);
    assert_eq!(again.call::<i64>("/math/add", &[2, 3]).await.unwrap(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_id_clash_closes_the_older_session() {
    let (server, client, first) = pair(add).await;
    let second = client.dial(&first.remote_addr().to_string()).await.unwrap();
    eventually(|| server.session_count() == 2).await;
    let mut accepted = server.sessions();
    accepted.sort_by_key(|s| s.created_at());
    let (older, newer) = (accepted[0].clone(), accepted[1].clone());
    older.set_id("user-1");
    assert_eq!(server.get_session("user-1").unwrap().remote_addr(), older.remote_addr());
    newer.set_id("user-1");
    wait_state(&older, SessionState::Closed).await;
    assert_eq!(server.session_count(), 1);
    assert_eq!(server.get_session("user-1").unwrap().remote_addr(), newer.remote_addr());
    // Whichever client session was the older one is closed; the other still works.
    let (closed, alive) =
        if older.remote_addr() == first.local_addr() { (first, second) } else { (second, first) };
    wait_state(&closed, SessionState::Closed).await;
    assert_eq!(alive.call::<i64>("/math/add", &[5]).await.unwrap(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_files_build_working_peers() {
    let dir = std::env::temp_dir().join(format!("teleport-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = dir.join("server.toml");
    std::fs::write(
        &toml,
        "local_ip = \"127.0.0.1\"\ncall_timeout = \"5s\"\nredial_interval = \"100ms\"\n",
    )
    .unwrap();
    let yaml = dir.join("client.yaml");
    std::fs::write(&yaml, "local_ip: 127.0.0.1\ncall_timeout: 2s\nredial_times: 3\n").unwrap();
    let server_config = PeerConfig::from_file(&toml).unwrap();
    let client_config = PeerConfig::from_file(&yaml).unwrap();
    assert_eq!(server_config.call_timeout, Duration::from_secs(5));
    assert_eq!(client_config.redial_times, 3);
    let (_server, _client, session) = pair_with(server_config, client_config, add).await;
    assert_eq!(session.call::<i64>("/math/add", &[2, 2]).await.unwrap(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}
