//! The table of transports and protocols, and a server/client pair on any of them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use teleport::peer::{Network, PeerBuilder};
use teleport::proto::{JsonProto, Limits};
use teleport::{Peer, PeerConfig, Proto, RawProto, Session, XferRegistry};

/// A protocol of the matrix: adding one is one line in [`PROTOCOLS`].
pub(crate) struct Protocol {
    pub(crate) name: &'static str,
    pub(crate) make: fn() -> Arc<dyn Proto>,
}

fn filters() -> Arc<XferRegistry> {
    Arc::new(XferRegistry::default())
}

pub(crate) const PROTOCOLS: &[Protocol] = &[
    Protocol { name: "raw", make: || Arc::new(RawProto::default()) },
    Protocol { name: "json", make: || Arc::new(JsonProto::new(Limits::default(), filters())) },
    #[cfg(feature = "protobuf")]
    Protocol {
        name: "protobuf",
        make: || Arc::new(teleport::proto::ProtobufProto::new(Limits::default(), filters())),
    },
    #[cfg(feature = "thrift")]
    Protocol {
        name: "thrift-binary",
        make: || Arc::new(teleport::proto::ThriftProto::binary(Limits::default(), filters())),
    },
];

/// A self-signed certificate for `127.0.0.1` and `localhost`, made once per test binary.
#[cfg(feature = "tls")]
pub(crate) fn cert() -> &'static teleport::transport::selfsigned::SelfSigned {
    static CERT: std::sync::OnceLock<teleport::transport::selfsigned::SelfSigned> =
        std::sync::OnceLock::new();
    CERT.get_or_init(|| {
        teleport::transport::selfsigned::generate(&["127.0.0.1", "localhost"]).unwrap()
    })
}

/// A configuration on `network`, on loopback port 0 (or a fresh socket path).
pub(crate) fn config(network: Network) -> PeerConfig {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let unix_path = network.is_unix().then(|| {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!("tp-transports-{}-{n}.sock", std::process::id()))
    });
    PeerConfig { network, local_ip: "127.0.0.1".into(), unix_path, ..PeerConfig::default() }
}

/// A builder with the protocol and, where the network needs them, the test certificate.
pub(crate) fn builder(config: PeerConfig, proto: &Protocol) -> PeerBuilder {
    let builder = Peer::builder(config).proto((proto.make)());
    #[cfg(feature = "tls")]
    let builder = builder.tls(cert().tls_config().unwrap());
    // KCP has no close: a server sees its client gone only by its silence, kept short here.
    #[cfg(feature = "kcp")]
    let builder = builder
        .kcp(teleport::transport::kcp::KcpSettings::default().idle_timeout(Duration::from_secs(1)));
    builder
}

/// A listening server, a client peer and the client's session to the server.
pub(crate) struct Pair {
    pub(crate) server: Peer,
    pub(crate) client: Peer,
    pub(crate) session: Session,
    unix_path: Option<PathBuf>,
}

impl Pair {
    /// Starts a server on `network` set up by `setup`, and dials it.
    pub(crate) async fn new(network: Network, proto: &Protocol, setup: impl FnOnce(&Peer)) -> Pair {
        let config = config(network);
        let unix_path = config.unix_path.clone();
        let server = builder(config.clone(), proto).build().unwrap();
        setup(&server);
        let addr = server.listen().await.unwrap();
        let target = match &unix_path {
            Some(path) => path.display().to_string(),
            None => addr.to_string(),
        };
        let client = builder(config, proto).build().unwrap();
        let session = client.dial(&target).await.unwrap();
        Pair { server, client, session, unix_path }
    }

    /// Closes both peers.
    pub(crate) async fn close(self) {
        self.client.close().await;
        self.server.close().await;
        if let Some(path) = self.unix_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Waits (bounded) until `cond` holds.
pub(crate) async fn eventually(mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(tokio::time::Instant::now() < deadline, "condition not reached in time");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
