//! Registration, expiry, deregistration and the watch.

use std::time::Duration;

use teleport_discovery::{Instance, Registry, RegistryError};

use crate::{Etcd, registry};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_is_seen_kept_alive_and_expires_when_dropped() {
    let etcd = Etcd::start().await;
    let registry = registry(&etcd, "expiry").await;
    let mut members = registry.watch("math").await.unwrap();
    assert!(members.current().is_empty());

    let instance = Instance::new("math", "127.0.0.1:7001").weight(3).protocol("json");
    let registration = registry.register(instance.clone(), Duration::from_secs(1)).await.unwrap();
    let seen = members.wait_for(|list| !list.is_empty()).await.unwrap();
    assert_eq!(&*seen, &[instance.clone()][..]);

    // Kept alive past several TTLs.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(registration.is_alive());
    assert_eq!(&*members.current(), &[instance][..]);

    // Dropped as by a crash: the entry goes when its lease expires.
    drop(registration);
    let gone = tokio::time::timeout(Duration::from_secs(10), members.wait_for(|l| l.is_empty()));
    assert!(gone.await.is_ok(), "the entry outlived its lease");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deregister_removes_at_once_and_watches_see_every_change() {
    let etcd = Etcd::start().await;
    let registry = registry(&etcd, "deregister").await;
    let ttl = Duration::from_secs(30);
    let a = registry.register(Instance::new("svc", "127.0.0.1:7001"), ttl).await.unwrap();
    let b = registry.register(Instance::new("svc", "127.0.0.1:7002"), ttl).await.unwrap();
    let _other = registry.register(Instance::new("other", "127.0.0.1:7003"), ttl).await.unwrap();

    let mut members = registry.watch("svc").await.unwrap();
    let addrs = |list: &[Instance]| list.iter().map(|i| i.addr.clone()).collect::<Vec<_>>();
    assert_eq!(addrs(&members.current()), ["127.0.0.1:7001", "127.0.0.1:7002"]);

    // Far sooner than the 30 s lease.
    a.deregister().await.unwrap();
    let wait = members.wait_for(|list| list.len() == 1);
    let list = tokio::time::timeout(Duration::from_secs(5), wait).await.unwrap().unwrap();
    assert_eq!(addrs(&list), ["127.0.0.1:7002"]);

    // Registering an address again replaces its entry.
    let b2 =
        registry.register(Instance::new("svc", "127.0.0.1:7002").weight(5), ttl).await.unwrap();
    let list = members.wait_for(|list| list.first().is_some_and(|i| i.weight == 5)).await.unwrap();
    assert_eq!(list.len(), 1);
    drop(b);
    b2.deregister().await.unwrap();
    members.wait_for(|list| list.is_empty()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_an_error() {
    let etcd = Etcd::start().await;
    let registry = registry(&etcd, "bad").await;
    let ttl = Duration::from_secs(5);
    let refused = registry.register(Instance::new("a/b", "127.0.0.1:1"), ttl).await;
    assert!(matches!(refused, Err(RegistryError::Invalid(_))), "{refused:?}");
    let refused = registry.register(Instance::new("a", "127.0.0.1:1").weight(0), ttl).await;
    assert!(matches!(refused, Err(RegistryError::Invalid(_))), "{refused:?}");
    let refused = registry.register(Instance::new("a", "127.0.0.1:1"), Duration::ZERO).await;
    assert!(matches!(refused, Err(RegistryError::Ttl(_))), "{refused:?}");
    assert!(matches!(registry.watch("").await, Err(RegistryError::Invalid(_))));

    // A value that is not an instance is skipped, not fatal.
    let mut client = etcd_client::Client::connect([&etcd.endpoint], None).await.unwrap();
    client.put("/test/bad/svc/junk", "not json", None).await.unwrap();
    let _ok = registry.register(Instance::new("svc", "127.0.0.1:7001"), ttl).await.unwrap();
    let members = registry.watch("svc").await.unwrap();
    assert_eq!(members.current().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_and_watches_outlive_an_etcd_that_restarts_empty() {
    let mut etcd = Etcd::start().await;
    let registry = registry(&etcd, "outage").await;
    let instance = Instance::new("svc", "127.0.0.1:7001");
    let registration = registry.register(instance.clone(), Duration::from_secs(1)).await.unwrap();
    let mut members = registry.watch("svc").await.unwrap();
    members.wait_for(|list| list.len() == 1).await.unwrap();

    // etcd comes back with no keys and no leases: the keep-alive finds its lease gone and
    // registers again; the watch reads the service again and follows the new server.
    etcd.restart_empty().await;
    let key = "/test/outage/svc/127.0.0.1:7001";
    let mut client = etcd_client::Client::connect([&etcd.endpoint], None).await.unwrap();
    let started = std::time::Instant::now();
    while client.get(key, None).await.map(|r| r.kvs().is_empty()).unwrap_or(true) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the instance was not registered again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The key is visible once etcd stored it, a moment before the keep-alive task hears
    // back and marks the registration alive again.
    while !registration.is_alive() {
        assert!(started.elapsed() < Duration::from_secs(20), "the registration stayed dead");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let newcomer = Instance::new("svc", "127.0.0.1:7002");
    let _second = registry.register(newcomer, Duration::from_secs(5)).await.unwrap();
    let wait = members.wait_for(|list| list.len() == 2);
    let list = tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("the watch stayed blind")
        .unwrap();
    assert_eq!(list[0], instance);
    registration.deregister().await.unwrap();
}
