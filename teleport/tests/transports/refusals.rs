//! What the secure transports refuse: a certificate nobody vouches for, a client without a
//! certificate, an upgrade the hook turns down; and what they survive: a client that stalls
//! its handshake.

use teleport::peer::Network;
use teleport::status::CODE_DIAL_FAILED;
use teleport::{CallCtx, Peer, Status};

use crate::common::{PROTOCOLS, builder, config};

fn assert_dial_failed(status: &Status, cause: &str) {
    assert_eq!(status.code(), CODE_DIAL_FAILED, "{status}");
    let text = status.cause_text().unwrap_or_default();
    assert!(text.contains(cause), "cause {text:?} lacks {cause:?}");
}

async fn server_on(
    network: Network,
    setup: impl FnOnce(teleport::PeerBuilder) -> teleport::PeerBuilder,
) -> (Peer, String) {
    let server = setup(builder(config(network), &PROTOCOLS[0])).build().unwrap();
    server.route_call_fn("/ping", |_ctx: CallCtx, n: u32| async move { Ok(n) });
    let addr = server.listen().await.unwrap().to_string();
    (server, addr)
}

#[cfg(feature = "tls")]
mod tls {
    use std::time::Duration;

    use teleport::transport::selfsigned;
    use teleport::transport::tls::{self, TlsConfig};
    use tokio::io::AsyncReadExt;

    use super::*;

    /// A client that trusts another certificate than the server's.
    async fn wrong_certificate(network: Network) {
        let (server, addr) = server_on(network, |b| b).await;
        let other = selfsigned::generate(&["127.0.0.1"]).unwrap();
        let client = Peer::builder(config(network))
            .tls(TlsConfig::new().with_client(other.client_config().unwrap()))
            .build()
            .unwrap();
        let status = client.dial(&addr).await.unwrap_err();
        assert_dial_failed(&status, "UnknownIssuer");
        assert!(status.cause_text().unwrap().contains("handshake failed"), "{status}");
        assert_eq!(server.session_count(), 0);
        server.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrong_certificate_fails_the_dial() {
        wrong_certificate(Network::Tls).await;
        #[cfg(feature = "quic")]
        wrong_certificate(Network::Quic).await;
        #[cfg(feature = "ws")]
        wrong_certificate(Network::Wss).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_server_name_other_than_the_certificate_fails_the_dial() {
        let (server, addr) = server_on(Network::Tls, |b| b).await;
        let tls = crate::common::cert().tls_config().unwrap().with_server_name("example.com");
        let client = Peer::builder(config(Network::Tls)).tls(tls).build().unwrap();
        assert_dial_failed(&client.dial(&addr).await.unwrap_err(), "not valid for name");
        server.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn client_certificates_are_verified_when_asked() {
        let server_cert = crate::common::cert();
        let client_cert = selfsigned::generate(&["client.local"]).unwrap();
        let server_tls = TlsConfig::new().with_server(
            tls::server_config_verifying_clients(
                &server_cert.identity(),
                client_cert.roots().unwrap(),
            )
            .unwrap(),
        );
        let (server, addr) = server_on(Network::Tls, |b| b.tls(server_tls)).await;

        let with_cert =
            tls::client_config_with_identity(server_cert.roots().unwrap(), &client_cert.identity())
                .unwrap();
        let client = Peer::builder(config(Network::Tls))
            .tls(TlsConfig::new().with_client(with_cert))
            .build()
            .unwrap();
        let session = client.dial(&addr).await.unwrap();
        assert_eq!(session.call::<u32>("/ping", &7).await.unwrap(), 7);

        // Without a certificate: a TLS 1.3 client finishes its handshake before the server
        // checks, so the refusal ends the dial (102 or 105) or else the first call.
        let anonymous = Peer::builder(config(Network::Tls))
            .tls(TlsConfig::new().with_client(server_cert.client_config().unwrap()))
            .build()
            .unwrap();
        if let Ok(session) = anonymous.dial(&addr).await {
            assert!(session.call::<u32>("/ping", &7).await.is_err());
        }
        assert_eq!(server.session_count(), 1);
        client.close().await;
        anonymous.close().await;
        server.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn certificates_load_from_pem_files() {
        let cert = selfsigned::generate(&["localhost"]).unwrap();
        let dir = std::env::temp_dir().join(format!("tp-pem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert.cert_pem()).unwrap();
        std::fs::write(&key_path, cert.key_pem()).unwrap();

        let identity = tls::Identity::from_pem_files(&cert_path, &key_path).unwrap();
        let server_tls = TlsConfig::new().with_server(tls::server_config(&identity).unwrap());
        let (server, addr) = server_on(Network::Tls, |b| b.tls(server_tls)).await;
        let client_tls = TlsConfig::new()
            .with_client(tls::client_config(tls::load_roots(&cert_path).unwrap()).unwrap())
            .with_server_name("localhost");
        let client = Peer::builder(config(Network::Tls)).tls(client_tls).build().unwrap();
        let session = client.dial(&addr).await.unwrap();
        assert_eq!(session.call::<u32>("/ping", &3).await.unwrap(), 3);

        let err = tls::Identity::from_pem_files(dir.join("missing.pem"), &key_path).unwrap_err();
        assert!(err.to_string().contains("missing.pem"), "{err}");
        let err = tls::Identity::from_pem(b"not pem", cert.key_pem().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
        client.close().await;
        server.close().await;
    }

    /// A client that connects and never starts its handshake holds up nobody, and is
    /// dropped when the handshake timeout passes.
    async fn stalled_handshake(network: Network) {
        let short = crate::common::cert()
            .tls_config()
            .unwrap()
            .with_handshake_timeout(Duration::from_millis(200));
        #[cfg(feature = "ws")]
        let ws = teleport::transport::ws::WsConfig::new()
            .with_handshake_timeout(Duration::from_millis(200));
        let (server, addr) = server_on(network, |b| {
            #[cfg(feature = "ws")]
            let b = b.ws(ws);
            b.tls(short)
        })
        .await;
        let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();

        let client = builder(config(network), &PROTOCOLS[0]).build().unwrap();
        let session = client.dial(&addr).await.unwrap();
        assert_eq!(session.call::<u32>("/ping", &5).await.unwrap(), 5);

        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buf)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{network}: not dropped: {read:?}");
        client.close().await;
        server.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_handshake_blocks_nothing_and_times_out() {
        stalled_handshake(Network::Tls).await;
        #[cfg(feature = "ws")]
        stalled_handshake(Network::Wss).await;
        #[cfg(feature = "ws")]
        stalled_handshake(Network::Ws).await;
    }

    #[cfg(feature = "quic")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_quic_dial_to_a_silent_port_ends_at_the_dial_timeout() {
        let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap().to_string();
        let client = builder(config(Network::Quic), &PROTOCOLS[0]).build().unwrap();
        let timeout = Some(Duration::from_millis(300));
        let options = teleport::peer::DialOptions { timeout, ..Default::default() };
        let started = std::time::Instant::now();
        let status = client.dial_with(&addr, options).await.unwrap_err();
        assert_dial_failed(&status, "timed out");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[cfg(feature = "ws")]
mod ws {
    use teleport::transport::ws::WsConfig;

    use super::*;

    fn guarded() -> WsConfig {
        WsConfig::new().with_path("/rpc").with_hook(|request| {
            let query = request.uri().query().unwrap_or_default();
            if query.split('&').any(|pair| pair == "token=secret") {
                Ok(())
            } else {
                Err("bad token".to_owned())
            }
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_upgrade_hook_refuses_with_403() {
        let (server, addr) = server_on(Network::Ws, |b| b.ws(guarded())).await;
        let client = builder(config(Network::Ws), &PROTOCOLS[0]).build().unwrap();

        let status = client.dial(&format!("ws://{addr}/rpc?token=guess")).await.unwrap_err();
        assert_dial_failed(&status, "403 Forbidden bad token");
        let status = client.dial(&format!("ws://{addr}/elsewhere?token=secret")).await.unwrap_err();
        assert_dial_failed(&status, "404 Not Found");
        // A bare address takes the client's path, `/` here.
        assert_dial_failed(&client.dial(&addr).await.unwrap_err(), "404");
        assert_eq!(server.session_count(), 0);

        let session = client.dial(&format!("ws://{addr}/rpc?token=secret")).await.unwrap();
        assert_eq!(session.call::<u32>("/ping", &9).await.unwrap(), 9);
        client.close().await;
        server.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_urls_fail_the_dial() {
        let client = builder(config(Network::Ws), &PROTOCOLS[0]).build().unwrap();
        assert_dial_failed(&client.dial("http://127.0.0.1:1/").await.unwrap_err(), "scheme");
        assert_dial_failed(&client.dial("ws://").await.unwrap_err(), "ws://");
    }
}
