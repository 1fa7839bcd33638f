//! Clients of the examples' server made by `teleport-build` in `build.rs`, with no
//! dependency on the server's code:
//!
//! - [`from_manifest`]: from `math.manifest.json`, the manifest the `server` example writes
//!   (`cargo run --example server -- --manifest examples/build-client/math.manifest.json`),
//!   the same JSON the server answers at `/_tp/manifest`;
//! - [`from_source`]: from `../seed_api.rs`, the Rust source of the `#[tp::service]`
//!   contract the server implements;
//! - [`shapes`]: from `shapes.manifest.json`, the manifest of a service of the tests whose
//!   types derive `schemars::JsonSchema`, to show the types made from their schemas;
//! - [`go_arith`]: from `go_arith.manifest.json`, written by hand for a Go eRPC service; its
//!   argument and reply types are generated from the JSON Schemas in it.
//!
//! ```no_run
//! # async fn run() -> Result<(), teleport::Status> {
//! let peer = teleport::Peer::new(teleport::PeerConfig::default()).unwrap();
//! let session = peer.dial("127.0.0.1:9090").await?;
//! let sum = build_client::from_manifest::MathClient::add(&session, &[1, 2, 3]).await?;
//! assert_eq!(sum, 6);
//! # Ok(())
//! # }
//! ```

/// The server's `Math`, from the manifest it writes.
pub mod from_manifest {
    teleport::include_client!("math_manifest");
}

/// The server's `Math` and the `Push` route its clients serve, from the contract's source.
pub mod from_source {
    teleport::include_client!("math_source");
}

/// The `Shapes` service of the tests, with its types generated from their JSON Schemas.
pub mod shapes {
    teleport::include_client!("shapes");
}

/// A Go eRPC service's `Arith`, from a hand-written manifest.
pub mod go_arith {
    teleport::include_client!("go_arith");
}
