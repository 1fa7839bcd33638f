//! The three-crate example (`examples/contract`) end to end over loopback: its server crate
//! and its client crate, which know each other only through the api crate.

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_calls_the_store_and_the_store_calls_back() {
    let server = tp_renamed::Peer::new(contract_server::config("127.0.0.1:0").unwrap()).unwrap();
    let addr = contract_server::serve(&server).await.unwrap();
    let lines = contract_client::run(&addr.to_string(), Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        lines[1..],
        [
            "put color=blue, replaced None",
            "callback: color None -> blue",
            "put color=green, replaced Some(\"blue\"), store-size Some(\"1\")",
            "callback: color Some(\"blue\") -> green",
            "get color = green",
            "get size: status 10404 no such key: size",
        ]
    );
    server.shutdown(Duration::from_secs(5)).await;
}
