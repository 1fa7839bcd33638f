//! Generates the clients of `src/lib.rs` into `OUT_DIR`.

fn main() -> Result<(), teleport_build::Error> {
    let builder = teleport_build::Builder::new();
    // What `cargo run --example server -- --manifest examples/build-client/math.manifest.json`
    // writes: the server's services, their types' JSON Schemas included.
    builder.manifest("math.manifest.json", "math_manifest")?;
    // The contract's Rust source: the same `#[tp::service]` trait the server implements.
    builder.source("../seed_api.rs", "math_source")?;
    // The `Shapes` service of `tests/shapes.rs`, whose types derive `JsonSchema`: structs,
    // an enum, options, maps and tuples, all generated from the JSON Schemas.
    builder.manifest("shapes.manifest.json", "shapes")?;
    // A Go eRPC service, described by hand.
    builder.manifest("go_arith.manifest.json", "go_arith")?;
    Ok(())
}
