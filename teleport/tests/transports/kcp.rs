//! The `kcp` network under datagrams that are not KCP, or lie in their header: each is
//! dropped, and a real client is served afterwards.

use std::time::Duration;

use teleport::peer::Network;
use teleport::{CallCtx, Peer};
use tokio::net::UdpSocket;

use crate::common::{PROTOCOLS, builder, config};

/// A KCP segment header: conv, cmd, frg, wnd, ts, sn, una, len (little-endian).
fn segment(conv: u32, cmd: u8, frg: u8, len: u32, body: &[u8]) -> Vec<u8> {
    let mut out = conv.to_le_bytes().to_vec();
    out.extend_from_slice(&[cmd, frg]);
    out.extend_from_slice(&128u16.to_le_bytes());
    for field in [0u32, 0, 0, len] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(body);
    out
}

fn malformed() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("empty datagram", vec![]),
        ("one byte", vec![0x51]),
        ("shorter than a segment header", vec![0; 23]),
        ("header of zeros", vec![0; 24]),
        ("unknown command", segment(7, 99, 0, 0, b"")),
        ("length past the datagram", segment(7, 81, 0, u32::MAX, b"abc")),
        ("length shorter than the data", segment(7, 81, 0, 1, b"abcdef")),
        ("fragment count over the window", segment(7, 81, 255, 3, b"abc")),
        ("garbage after a good header", [segment(7, 82, 0, 0, b""), vec![0xFF; 1000]].concat()),
        ("a 60 KiB datagram", vec![0xAB; 60 << 10]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_datagrams_are_dropped_and_the_listener_serves_on() {
    let server = builder(config(Network::Kcp), &PROTOCOLS[0]).build().unwrap();
    server.route_call_fn("/echo", |_ctx: CallCtx, s: String| async move { Ok(s) });
    let addr = server.listen().await.unwrap();

    for (name, datagram) in malformed() {
        // Each from its own port, so that each looks like a new client to the listener.
        let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        raw.send_to(&datagram, addr.to_string()).await.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;

    let client: Peer = builder(config(Network::Kcp), &PROTOCOLS[0]).build().unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    let echoed: String = session.call("/echo", &"still here").await.unwrap();
    assert_eq!(echoed, "still here");
    client.close().await;
    server.close().await;
}
