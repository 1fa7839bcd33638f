//! `cargo run -p contract-client [-- ADDR]`: talks to a running `contract-server`
//! (waiting up to a minute for it to start), then exits.

use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| contract_api::DEFAULT_ADDR.to_owned());
    contract_client::run(&addr, Duration::from_secs(60)).await?;
    Ok(())
}
