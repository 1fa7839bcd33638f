//! Each transport with each protocol: one test per transport runs the same exchange over
//! every protocol of the table.

use futures_util::future::join_all;
use teleport::peer::Network;
use teleport::{CallCtx, CallOptions, Peer, PushCtx, Status};
use tokio::sync::mpsc;

use crate::common::{PROTOCOLS, Pair, Protocol, eventually};

/// The routes of the server, reporting the pushes it gets on `pushed`.
fn routes(peer: &Peer, pushed: mpsc::UnboundedSender<String>) {
    peer.route_call_fn("/math/add", |ctx: CallCtx, nums: Vec<i64>| async move {
        if let Some(author) = ctx.input_meta().get("author") {
            ctx.set_meta("echo-author", author);
        }
        Ok(nums.iter().sum::<i64>())
    });
    peer.route_call_fn("/math/double", |_ctx: CallCtx, n: u64| async move { Ok(n * 2) });
    peer.route_call_fn("/echo", |_ctx: CallCtx, s: String| async move { Ok(s) });
    peer.route_call_fn("/fail", |_ctx: CallCtx, n: i64| async move {
        Err::<i64, _>(Status::new(10_001, "too big").cause(format!("n={n}")))
    });
    peer.route_push_fn("/note", move |ctx: PushCtx, s: String| {
        let pushed = pushed.clone();
        async move {
            pushed.send(format!("{} {s}", ctx.path())).unwrap();
            Ok(())
        }
    });
}

/// Calls, an error status, pushes both ways, a 1 MiB body and 100 concurrent calls.
async fn exchange(network: Network, proto: &Protocol) {
    let label = format!("{network}/{}", proto.name);
    let (to_server, mut server_got) = mpsc::unbounded_channel();
    let pair = Pair::new(network, proto, |peer| routes(peer, to_server)).await;
    let (to_client, mut client_got) = mpsc::unbounded_channel();
    pair.client.route_push_fn("/back", move |_ctx: PushCtx, s: String| {
        let to_client = to_client.clone();
        async move {
            to_client.send(s).unwrap();
            Ok(())
        }
    });
    let session = &pair.session;

    let options = CallOptions::new().set_meta("author", "tp");
    let reply = session.call_with::<i64>("/math/add", &[1, 2, 3], &options).await.unwrap();
    assert_eq!((reply.value, reply.meta.get("echo-author")), (6, Some("tp")), "{label}");

    let status = session.call::<i64>("/fail", &7).await.unwrap_err();
    assert_eq!(status.code(), 10_001, "{label}");
    assert_eq!((status.msg(), status.cause_text()), ("too big", Some("n=7")), "{label}");

    session.push("/note?x=1", "from the client").await.unwrap();
    assert_eq!(server_got.recv().await.unwrap(), "/note from the client", "{label}");
    eventually(|| pair.server.session_count() == 1).await;
    for accepted in pair.server.sessions() {
        accepted.push("/back", "from the server").await.unwrap();
    }
    assert_eq!(client_got.recv().await.unwrap(), "from the server", "{label}");

    let big = "x".repeat(1 << 20);
    let echoed: String = session.call("/echo", &big).await.unwrap();
    assert!(echoed == big, "{label}: the 1 MiB body came back changed");

    let calls = (0..100u64).map(|n| async move { session.call::<u64>("/math/double", &n).await });
    let doubled: Vec<u64> = join_all(calls).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(doubled, (0..100).map(|n| n * 2).collect::<Vec<_>>(), "{label}");

    session.close().await;
    eventually(|| pair.server.session_count() == 0).await;
    pair.close().await;
}

async fn every_protocol(network: Network) {
    for proto in PROTOCOLS {
        exchange(network, proto).await;
    }
}

/// One test per transport; adding a transport is one line here.
macro_rules! transports {
    ($($(#[$attr:meta])* $name:ident => $network:expr;)*) => {$(
        $(#[$attr])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            every_protocol($network).await;
        }
    )*};
}

transports! {
    tcp => Network::Tcp;
    #[cfg(unix)] unix => Network::Unix;
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    unixpacket => Network::Unixpacket;
    #[cfg(feature = "tls")] tls => Network::Tls;
    #[cfg(feature = "quic")] quic => Network::Quic;
    #[cfg(feature = "ws")] ws => Network::Ws;
    #[cfg(all(feature = "ws", feature = "tls"))] wss => Network::Wss;
    #[cfg(feature = "kcp")] kcp => Network::Kcp;
}
