//! Failover: idempotent calls survive a server killed under load; a call that is not
//! idempotent is never sent twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use teleport::{CallCtx, Peer, PeerConfig};
use teleport_discovery::{BalancedOptions, Balancer, BalancerConfig, Registry};

use crate::{Etcd, Server, eventually, registry};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_idempotent_call_fails_while_one_of_three_servers_is_killed() {
    let etcd = Etcd::start().await;
    let registry = registry(&etcd, "failover").await;
    let mut servers = Vec::new();
    let mut registrations = Vec::new();
    for _ in 0..3 {
        let server = Server::start(Duration::from_millis(5)).await;
        registrations.push(Some(server.register(&registry, "work").await));
        servers.push(server);
    }
    let client = Peer::new(PeerConfig::default()).unwrap();
    let members = registry.watch("work").await.unwrap();
    let balancer = Balancer::new(client.clone(), "work", members, BalancerConfig::default());
    balancer.mark_idempotent(["/work"]);

    let total = 3000u64;
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let workers = (0..30).map(|_| {
        let (balancer, next, failed) = (balancer.clone(), next.clone(), failed.clone());
        tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return;
                }
                if let Err(status) = balancer.call::<u64>("/work", &i).await {
                    eprintln!("call {i} failed: {status}");
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    });
    let workers: Vec<_> = workers.collect();

    // Killed mid-run, in the middle of calls, without deregistering: as a crash would.
    eventually("a third of the calls", || next.load(Ordering::Relaxed) >= total / 3).await;
    let victim = &servers[1];
    let in_flight_at_kill = victim.peer.handlers_in_flight();
    drop(registrations[1].take());
    victim.peer.close().await;
    let served_by_victim = victim.served();

    join_all(workers).await;
    let retries = balancer.retries();
    let served: Vec<usize> = servers.iter().map(Server::served).collect();
    eprintln!(
        "killed with {in_flight_at_kill} handlers running; {retries} calls failed over; \
         served {served:?}; failed {}",
        failed.load(Ordering::Relaxed)
    );
    assert_eq!(failed.load(Ordering::Relaxed), 0, "idempotent calls failed");
    assert!(retries > 0, "nothing failed over: was the server killed under load?");
    assert_eq!(servers[1].served(), served_by_victim, "a call reached the killed server");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_is_not_idempotent_is_never_sent_twice() {
    let etcd = Etcd::start().await;
    let registry = registry(&etcd, "once").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let mut servers = Vec::new();
    let mut registrations = Vec::new();
    for _ in 0..2 {
        let server = Server::start(Duration::ZERO).await;
        let counter = runs.clone();
        server.peer.route_call_fn("/charge", move |_ctx: CallCtx, amount: u64| {
            counter.fetch_add(1, Ordering::Relaxed);
            async move {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(amount)
            }
        });
        registrations.push(server.register(&registry, "pay").await);
        servers.push(server);
    }
    let client = Peer::new(PeerConfig::default()).unwrap();
    let members = registry.watch("pay").await.unwrap();
    let balancer = Balancer::new(client.clone(), "pay", members, BalancerConfig::default());
    balancer.mark_idempotent(["/work"]);

    let call = {
        let balancer = balancer.clone();
        tokio::spawn(async move { balancer.call::<u64>("/charge", &5).await })
    };
    eventually("the charge to run", || runs.load(Ordering::Relaxed) == 1).await;
    let victim = servers.iter().find(|s| s.peer.handlers_in_flight() == 1).unwrap();
    victim.peer.close().await;
    let status = call.await.unwrap().unwrap_err();
    assert!([102, 503].contains(&status.code()), "{status}");
    assert_eq!(runs.load(Ordering::Relaxed), 1, "the charge ran twice");
    assert_eq!(balancer.retries(), 0);

    // The same call marked idempotent on its own does fail over.
    let options = BalancedOptions::new().idempotent().timeout(Duration::from_secs(5));
    let survivor = servers.iter().find(|s| !s.peer.is_shutting_down()).unwrap();
    survivor.peer.route_call_fn("/quick", |_ctx: CallCtx, n: u64| async move { Ok(n) });
    assert_eq!(balancer.call_with::<u64>("/quick", &7, &options).await.unwrap().value, 7);
    client.close().await;
}
