//! Helpers shared by the runtime tests.

#[path = "../support/wait.rs"]
mod wait;
pub(crate) use wait::{eventually, wait_state};

use teleport::{Peer, PeerConfig, Session};

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
