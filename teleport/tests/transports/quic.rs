//! QUIC's own case: the accepting side learns of a session with the dialer's first frame.

use std::time::Duration;

use teleport::CallCtx;
use teleport::peer::Network;
use teleport::transport::quic;
use tokio::io::AsyncReadExt;

use crate::common::{PROTOCOLS, builder, cert, config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_dialer_has_no_session_and_ends_with_the_listener() {
    let server = builder(config(Network::Quic), &PROTOCOLS[0]).build().unwrap();
    server.route_call_fn("/ping", |_ctx: CallCtx, n: u32| async move { Ok(n) });
    let addr = server.listen().await.unwrap().to_string();
    // Connected, stream opened, nothing sent: the server has nothing to serve yet.
    let mut silent = quic::dial(&addr, &cert().tls_config().unwrap()).await.unwrap();

    let client = builder(config(Network::Quic), &PROTOCOLS[0]).build().unwrap();
    let session = client.dial(&addr).await.unwrap();
    assert_eq!(session.call::<u32>("/ping", &1).await.unwrap(), 1);
    assert_eq!(server.session_count(), 1);

    server.close().await;
    let mut buf = [0u8; 8];
    let read = tokio::time::timeout(Duration::from_secs(10), silent.reader.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "still open: {read:?}");
    client.close().await;
}
