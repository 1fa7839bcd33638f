//! Membership from the watch, the spread of each policy, ejection and return.

use std::time::Duration;

use futures_util::future::join_all;
use teleport::{Peer, PeerConfig};
use teleport_discovery::{BalancedOptions, Balancer, BalancerConfig, HashKey, Policy, Registry};

use crate::{Etcd, Server, eventually, loopback, registry};

/// `n` calls of `/work`, `concurrency` at a time; returns how many failed.
async fn load(balancer: &Balancer, n: u64, concurrency: usize) -> usize {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let workers = (0..concurrency).map(|_| {
        let (balancer, next) = (balancer.clone(), next.clone());
        async move {
            let mut failed = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return failed;
                }
                match balancer.call::<u64>("/work", &i).await {
                    Ok(reply) => assert_eq!(reply, i + 1),
                    Err(status) => {
                        eprintln!("call {i} failed: {status}");
                        failed += 1;
                    }
                }
            }
        }
    });
    join_all(workers).await.into_iter().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_come_and_go_as_the_watch_says() {
    let etcd = Etcd::start().await;
    let registry = registry(&etcd, "membership").await;
    let servers = [Server::start(Duration::ZERO).await, Server::start(Duration::ZERO).await];
    let client = Peer::new(PeerConfig::default()).unwrap();
    let members = registry.watch("work").await.unwrap();
    let balancer = Balancer::new(client.clone(), "work", members, BalancerConfig::default());
    assert_eq!(balancer.call::<u64>("/work", &1).await.unwrap_err().code(), 503);

    let first = servers[0].register(&registry, "work").await;
    eventually("the first instance", || balancer.instances().len() == 1).await;
    assert_eq!(load(&balancer, 50, 5).await, 0);
    assert_eq!(servers[0].served(), 50);

    let second = servers[1].register(&registry, "work").await;
    eventually("the second instance", || balancer.instances().len() == 2).await;
    assert_eq!(load(&balancer, 200, 10).await, 0);
    assert!(servers[1].served() > 0, "the newcomer got no call");

    first.deregister().await.unwrap();
    eventually("the first to leave", || balancer.instances().len() == 1).await;
    let before = servers[0].served();
    assert_eq!(load(&balancer, 100, 10).await, 0);
    assert_eq!(servers[0].served(), before, "a call went to an instance that left");
    second.deregister().await.unwrap();
    client.close().await;
    for server in servers {
        server.peer.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_of_two_choices_keeps_every_instance_within_twice_its_share() {
    let etcd = Etcd::start().await;
    let registry = registry(&etcd, "p2c").await;
    let mut servers = Vec::new();
    let mut registrations = Vec::new();
    for _ in 0..3 {
        let server = Server::start(Duration::from_millis(2)).await;
        registrations.push(server.register(&registry, "work").await);
        servers.push(server);
    }
    let client = Peer::new(PeerConfig::default()).unwrap();
    let members = registry.watch("work").await.unwrap();
    let balancer = Balancer::new(client.clone(), "work", members, BalancerConfig::default());
    assert_eq!(balancer.instances().len(), 3);

    let total = 3000;
    assert_eq!(load(&balancer, total, 30).await, 0);
    let served: Vec<usize> = servers.iter().map(Server::served).collect();
    eprintln!("p2c spread over 3 instances of {total} calls: {served:?}");
    let share = total as usize / 3;
    assert!(served.iter().all(|&n| n <= 2 * share), "above twice the share: {served:?}");
    assert!(served.iter().all(|&n| n > 0), "an instance got nothing: {served:?}");
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_and_consistent_hash() {
    let etcd = Etcd::start().await;
    let registry = registry(&etcd, "policies").await;
    let mut servers = Vec::new();
    let mut registrations = Vec::new();
    for _ in 0..3 {
        let server = Server::start(Duration::ZERO).await;
        registrations.push(server.register(&registry, "work").await);
        servers.push(server);
    }
    let client = Peer::new(PeerConfig::default()).unwrap();

    let config = BalancerConfig { policy: Policy::RoundRobin, ..BalancerConfig::default() };
    let members = registry.watch("work").await.unwrap();
    let rr = Balancer::new(client.clone(), "work", members.clone(), config);
    for i in 0..300u64 {
        rr.call::<u64>("/work", &i).await.unwrap();
    }
    let served: Vec<usize> = servers.iter().map(Server::served).collect();
    assert_eq!(served, [100, 100, 100]);

    let policy = Policy::ConsistentHash(HashKey::Meta("user".into()));
    let config = BalancerConfig { policy, ..BalancerConfig::default() };
    let hashed = Balancer::new(client.clone(), "work", members, config);
    let mut homes = std::collections::HashMap::new();
    for user in 0..20 {
        for call in 0..5u64 {
            let before: Vec<usize> = servers.iter().map(Server::served).collect();
            let options = BalancedOptions::new().set_meta("user", format!("u{user}"));
            hashed.call_with::<u64>("/work", &call, &options).await.unwrap();
            let after: Vec<usize> = servers.iter().map(Server::served).collect();
            let home = (0..3).find(|&i| after[i] > before[i]).unwrap();
            assert_eq!(*homes.entry(user).or_insert(home), home, "user {user} moved");
        }
    }
    let used: std::collections::HashSet<_> = homes.values().collect();
    assert!(used.len() > 1, "20 keys all on one instance: {homes:?}");

    // Keyed by the argument: the same argument, the same instance.
    let policy = Policy::ConsistentHash(HashKey::Argument);
    let config = BalancerConfig { policy, ..BalancerConfig::default() };
    let by_argument =
        Balancer::new(client.clone(), "work", registry.watch("work").await.unwrap(), config);
    let mut homes = std::collections::HashMap::new();
    for round in 0..3 {
        for arg in 0..20u64 {
            let before: Vec<usize> = servers.iter().map(Server::served).collect();
            by_argument.call::<u64>("/work", &arg).await.unwrap();
            let after: Vec<usize> = servers.iter().map(Server::served).collect();
            let home = (0..3).find(|&i| after[i] > before[i]).unwrap();
            assert_eq!(
                *homes.entry(arg).or_insert(home),
                home,
                "argument {arg} moved in round {round}"
            );
        }
    }
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_instance_is_ejected_then_tried_again() {
    let etcd = Etcd::start().await;
    let registry = registry(&etcd, "eject").await;
    let alive = Server::start(Duration::ZERO).await;
    let dying = Server::start(Duration::ZERO).await;
    let _registrations =
        [alive.register(&registry, "work").await, dying.register(&registry, "work").await];
    let client = Peer::new(PeerConfig::default()).unwrap();
    let config = BalancerConfig {
        eject_base: Duration::from_millis(300),
        eject_max: Duration::from_millis(300),
        ..BalancerConfig::default()
    };
    let members = registry.watch("work").await.unwrap();
    let balancer = Balancer::new(client.clone(), "work", members, config);
    eventually("both instances", || balancer.instances().len() == 2).await;
    assert_eq!(load(&balancer, 100, 4).await, 0);

    // The server dies but stays registered: its dials fail, it is ejected, and every
    // call still succeeds (a failed dial sent nothing, so any call fails over).
    let port = dying.addr.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    dying.peer.close().await;
    eventually("the client to see its sessions to the dead server close", || {
        client.sessions().iter().all(|s| s.remote_addr().to_string() != dying.addr)
    })
    .await;
    let before = alive.served();
    assert_eq!(load(&balancer, 200, 4).await, 0);
    assert_eq!(alive.served() - before, 200);
    let dead = balancer.instances().into_iter().find(|i| i.addr == dying.addr).unwrap();
    assert!(dead.ejections >= 1, "{dead:?}");
    // Ejected for 300 ms at a time: most calls never tried it.
    assert!(dead.calls < 100, "{dead:?}");

    // It comes back on the same port: once its ejection ends, it gets calls again.
    let back =
        Server::start_at(PeerConfig { listen_port: port, ..loopback() }, Duration::ZERO).await;
    eventually("the instance to be out of its ejection", || {
        !balancer.instances().iter().any(|i| i.ejected)
    })
    .await;
    let mut rounds = 0;
    while back.served() == 0 {
        assert_eq!(load(&balancer, 50, 4).await, 0);
        rounds += 1;
        assert!(rounds < 100, "the instance never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    client.close().await;
    back.peer.close().await;
    alive.peer.close().await;
}
