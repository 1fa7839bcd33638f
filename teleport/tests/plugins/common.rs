//! Helpers shared by the plugin tests.

#[path = "../support/wait.rs"]
mod wait;
pub(crate) use wait::{eventually, wait_state};

use std::time::Duration;

use teleport::{Peer, PeerBuilder, PeerConfig, Session};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A configuration listening on loopback, port 0.
pub(crate) fn config() -> PeerConfig {
    PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() }
}

/// A listening server built by `server` and a client built by `client`, dialed to it.
pub(crate) async fn pair(
    server: PeerBuilder,
    client: PeerBuilder,
    routes: impl FnOnce(&Peer),
) -> (Peer, Peer, Session) {
    let server = server.build().unwrap();
    routes(&server);
    let addr = server.listen().await.unwrap();
    let client = client.build().unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    (server, client, session)
}

/// The frame named `name` of Go's second capture, as bytes.
pub(crate) fn go_frame(name: &str) -> Vec<u8> {
    frame_in(include_str!("../data/erpc-v6-more.jsonl"), name)
}

/// The frame named `name` of Go's first capture, as bytes.
pub(crate) fn go_frame_v1(name: &str) -> Vec<u8> {
    frame_in(include_str!("../data/erpc-v6-frames.jsonl"), name)
}

fn frame_in(text: &str, name: &str) -> Vec<u8> {
    let line = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no frame {name}"));
    hex(line["hex"].as_str().unwrap())
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// A raw TCP client, for byte-exact exchanges.
pub(crate) struct RawClient {
    stream: TcpStream,
}

impl RawClient {
    pub(crate) async fn connect(addr: &str) -> Self {
        RawClient { stream: TcpStream::connect(addr).await.unwrap() }
    }

    pub(crate) async fn send(&mut self, frame: &[u8]) {
        self.stream.write_all(frame).await.unwrap();
    }

    /// Reads one raw frame (its 4-byte length counts itself); `None` at end of stream.
    pub(crate) async fn recv(&mut self) -> Option<Vec<u8>> {
        let read = async {
            let mut len = [0u8; 4];
            self.stream.read_exact(&mut len).await.ok()?;
            let mut frame = len.to_vec();
            frame.resize(u32::from_be_bytes(len) as usize, 0);
            self.stream.read_exact(&mut frame[4..]).await.ok()?;
            Some(frame)
        };
        tokio::time::timeout(Duration::from_secs(20), read).await.expect("no frame in time")
    }

    /// Waits (bounded) for the server to close the connection, discarding what comes.
    pub(crate) async fn wait_closed(&mut self) {
        let mut rest = Vec::new();
        let read = self.stream.read_to_end(&mut rest);
        let _ = tokio::time::timeout(Duration::from_secs(20), read).await.expect("not closed");
    }
}
