//! Observability over real loopback sockets: the spans of calls and pushes on both sides,
//! the W3C trace context crossing peers (nested calls, the proxy plugin), and Go Teleport's
//! per-message lines.

mod capture;
#[path = "../support/wait.rs"]
#[allow(dead_code)] // wait_state serves other test binaries
mod wait;

mod lines;
mod spans;
mod trace;

use teleport::{Peer, PeerConfig, Session};

/// A configuration listening on loopback, port 0.
fn config() -> PeerConfig {
    PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() }
}

/// A listening peer with `config`, set up by `setup`, and its address.
async fn server(config: PeerConfig, setup: impl FnOnce(&Peer)) -> (Peer, String) {
    let peer = Peer::new(config).unwrap();
    setup(&peer);
    let addr = peer.listen().await.unwrap().to_string();
    (peer, addr)
}

/// A client peer with `config` and its session to `addr`.
async fn dial(config: PeerConfig, addr: &str) -> (Peer, Session) {
    let peer = Peer::new(config).unwrap();
    let session = peer.dial(addr).await.unwrap();
    (peer, session)
}

/// Whether `text` is `len` lower-case hex digits.
fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
