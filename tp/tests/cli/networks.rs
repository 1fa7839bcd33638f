//! `--network` and `--proto`: the same call over every transport and protocol `tp` offers.

use std::path::PathBuf;

use teleport::Peer;
use teleport::peer::{Network, Protocol};
use teleport::transport::selfsigned::{self, SelfSigned};

use crate::support::{Server, parts, tp};

/// A self-signed certificate for 127.0.0.1, and its PEM in a file for `--ca`.
struct Cert {
    cert: SelfSigned,
    pem: PathBuf,
}

impl Cert {
    fn new(name: &str) -> Cert {
        let cert = selfsigned::generate(&["127.0.0.1", "localhost"]).unwrap();
        let pem = std::env::temp_dir().join(format!("tp-cli-{}-{name}.pem", std::process::id()));
        std::fs::write(&pem, cert.cert_pem()).unwrap();
        Cert { cert, pem }
    }
}

impl Drop for Cert {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pem);
    }
}

/// `tp call` of `/demo/add [1,2,3]` with `options` before the address; asserts it prints 6.
async fn adds(server: &Server, options: &[&str]) {
    let mut args = vec!["call"];
    args.extend_from_slice(options);
    args.extend_from_slice(&[&server.addr, "/demo/add", "[1,2,3]"]);
    let (code, out, err) = parts(&tp(&args).await);
    assert_eq!((code, out.as_str()), (Some(0), "6\n"), "{options:?}: {err}");
}

#[tokio::test]
async fn calls_over_unix_and_websocket() {
    let unix = Server::on(Network::Unix, |c| Peer::new(c).unwrap(), true).await;
    adds(&unix, &["--network", "unix"]).await;
    let ws = Server::on(Network::Ws, |c| Peer::new(c).unwrap(), true).await;
    adds(&ws, &["--network", "ws"]).await;
}

#[tokio::test]
async fn calls_over_tls_and_quic_trust_the_given_ca_only() {
    let cert = Cert::new("tls");
    let ca = cert.pem.to_str().unwrap();
    for network in [Network::Tls, Network::Quic] {
        let tls = cert.cert.tls_config().unwrap();
        let server =
            Server::on(network, |c| Peer::builder(c).tls(tls).build().unwrap(), true).await;
        let name = network.as_str();
        adds(&server, &["--network", name, "--ca", ca]).await;

        let (code, _, err) =
            parts(&tp(&["call", "--network", name, &server.addr, "/demo/add"]).await);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&format!("--network {name} needs --ca PEM_FILE")), "{err}");
    }
    let other = Cert::new("other");
    let tls = cert.cert.tls_config().unwrap();
    let server =
        Server::on(Network::Tls, |c| Peer::builder(c).tls(tls).build().unwrap(), true).await;
    let args =
        ["call", "--network", "tls", "--ca", other.pem.to_str().unwrap(), &server.addr, "/a"];
    let (code, _, err) = parts(&tp(&args).await);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("tls handshake failed"), "{err}");
}

#[tokio::test]
async fn calls_in_every_protocol() {
    for (protocol, name) in
        [(Protocol::Json, "json"), (Protocol::Protobuf, "protobuf"), (Protocol::Http, "http")]
    {
        let build = |c| Peer::builder(c).protocol(protocol).build().unwrap();
        let server = Server::on(Network::Tcp, build, true).await;
        adds(&server, &["--proto", name]).await;
        adds(&server, &["--proto", name, "--gzip"]).await;
    }
}
