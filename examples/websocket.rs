//! WebSocket: servers and clients in one process over the `ws` and `wss` networks. The
//! server accepts upgrades on `/ws` when the query carries the right token; each upgraded
//! connection is a session whose frames travel in binary messages, statuses included.
//!
//! Run with `cargo run --example websocket`.

use teleport as tp;
use tp::peer::Network;
use tp::transport::selfsigned;
use tp::transport::ws::WsConfig;

/// `/math/add` and `/math/div`.
struct Math;

#[tp::service]
impl Math {
    /// Sums the numbers.
    fn add(&self, nums: Vec<i64>) -> i64 {
        nums.iter().sum()
    }

    /// Divides the first number by the second.
    fn div(&self, pair: (i64, i64)) -> Result<i64, tp::Status> {
        match pair {
            (_, 0) => Err(tp::Status::new(10_001, "division by zero").cause("pair.1 = 0")),
            (a, b) => Ok(a / b),
        }
    }
}

/// Accepts upgrades on `/ws` whose query holds `token=let-me-in`.
fn guarded() -> WsConfig {
    WsConfig::new().with_path("/ws").with_hook(|request| {
        let query = request.uri().query().unwrap_or_default();
        match query.split('&').any(|pair| pair == "token=let-me-in") {
            true => Ok(()),
            false => Err("missing or wrong token".to_owned()),
        }
    })
}

async fn server(
    network: Network,
    tls: &tp::transport::tls::TlsConfig,
) -> Result<(tp::Peer, String), Box<dyn std::error::Error>> {
    let config = tp::PeerConfig { network, local_ip: "127.0.0.1".into(), ..Default::default() };
    let server = tp::Peer::builder(config).tls(tls.clone()).ws(guarded()).build()?;
    server.route(Math);
    let addr = server.listen().await?.to_string();
    Ok((server, addr))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tls = selfsigned::generate(&["127.0.0.1"])?.tls_config()?;
    for (network, scheme) in [(Network::Ws, "ws"), (Network::Wss, "wss")] {
        let (server, addr) = server(network, &tls).await?;
        println!("{scheme}: server accepting upgrades on {scheme}://{addr}/ws");

        let config = tp::PeerConfig { network, ..Default::default() };
        let client = tp::Peer::builder(config).tls(tls.clone()).build()?;
        let refused = client.dial(&format!("{scheme}://{addr}/ws")).await.err();
        println!("   without a token: {}", refused.ok_or("the upgrade should be refused")?);

        let session = client.dial(&format!("{scheme}://{addr}/ws?token=let-me-in")).await?;
        println!(
            "   with the token: [1,2,3] sums to {}",
            MathClient::add(&session, &[1, 2, 3]).await?
        );
        let status = MathClient::div(&session, &(1, 0)).await.unwrap_err();
        println!("   1/0 answers {status} (code, message and cause intact)");

        client.close().await;
        server.close().await;
    }
    Ok(())
}
