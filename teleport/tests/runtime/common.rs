//! Helpers shared by the runtime tests.

use std::time::Duration;

use teleport::{Peer, PeerConfig, Session, SessionState};

/// A configuration listening on loopback, port 0.
pub(crate) fn config() -> PeerConfig {
    PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() }
}

/// A listening server peer built by `setup`, and a client session dialed to it.
pub(crate) async fn pair(setup: impl FnOnce(&Peer)) -> (Peer, Peer, Session) {
    pair_with(config(), config(), setup).await
}

/// Like [`pair`] with explicit configurations.
pub(crate) async fn pair_with(
    server: PeerConfig,
    client: PeerConfig,
    setup: impl FnOnce(&Peer),
) -> (Peer, Peer, Session) {
    let server = Peer::new(server).unwrap();
    setup(&server);
    let addr = server.listen().await.unwrap();
    let client = Peer::new(client).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    (server, client, session)
}

/// Waits (bounded) until `session` reaches `state`.
pub(crate) async fn wait_state(session: &Session, state: SessionState) {
    let mut watch = session.watch_state();
    tokio::time::timeout(Duration::from_secs(20), watch.wait_for(|s| *s == state))
        .await
        .expect("state not reached in time")
        .expect("session dropped");
}

/// Waits (bounded) until `cond` holds, re-checking when `tick` fires.
pub(crate) async fn eventually(mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "condition not reached in time");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
