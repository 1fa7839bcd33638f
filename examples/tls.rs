//! TLS: a server and a client in one process over the `tls` network. The server's
//! certificate is self-signed and written to PEM files, which both sides load as they would
//! real ones; a client that trusts another certificate is refused.
//!
//! Run with `cargo run --example tls`.

use teleport as tp;
use tp::peer::Network;
use tp::transport::{selfsigned, tls};

/// `/math/add`.
struct Math;

#[tp::service]
impl Math {
    /// Sums the numbers.
    fn add(&self, nums: Vec<i64>) -> i64 {
        nums.iter().sum()
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = tp::PeerConfig {
        network: Network::Tls,
        local_ip: "127.0.0.1".into(),
        ..tp::PeerConfig::default()
    };

    println!("1. make a self-signed certificate for localhost and write it as PEM");
    let dir = std::env::temp_dir().join(format!("teleport-tls-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    let cert = selfsigned::generate(&["localhost", "127.0.0.1"])?;
    std::fs::write(&cert_file, cert.cert_pem())?;
    std::fs::write(&key_file, cert.key_pem())?;

    println!("2. the server loads the certificate and key, and listens");
    let identity = tls::Identity::from_pem_files(&cert_file, &key_file)?;
    let server_tls = tls::TlsConfig::new().with_server(tls::server_config(&identity)?);
    let server = tp::Peer::builder(config.clone()).tls(server_tls).build()?;
    server.route(Math);
    let addr = server.listen().await?;
    println!("   listening on tls://{addr}");

    println!("3. the client trusts that certificate, dials and calls");
    let roots = tls::load_roots(&cert_file)?;
    let client_tls = tls::TlsConfig::new().with_client(tls::client_config(roots)?);
    let client = tp::Peer::builder(config.clone()).tls(client_tls).build()?;
    let session = client.dial(&addr).await?;
    let sum = MathClient::add(&session, &[1, 2, 3]).await?;
    println!("   [1,2,3] sums to {sum} over TLS");

    println!("4. a client trusting another certificate is refused");
    let stranger = selfsigned::generate(&["127.0.0.1"])?;
    let wrong_tls = tls::TlsConfig::new().with_client(stranger.client_config()?);
    let wrong = tp::Peer::builder(config).tls(wrong_tls).build()?;
    let refused = wrong.dial(&addr).await.err().ok_or("the dial should fail")?;
    println!("   {refused}");

    client.close().await;
    server.close().await;
    std::fs::remove_dir_all(&dir)?;
    println!("done");
    Ok(())
}
