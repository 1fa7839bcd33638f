//! Teleport's benchmark (Teleport's published method, BENCH.md): what its three programs
//! share. `bench-client` measures teleport against the ceilings, `bench-server` serves
//! `Hello.Say` (or a ceiling), and `bench-report` writes `docs/benchmarks.md` from the rows.
//!
//! ```text
//! cargo run --release -p teleport-bench --bin bench-client -- -c 100,500,1000 --compare
//! ```
//!
//! `scripts/bench.sh` runs the whole benchmark and writes the report.

pub mod ceiling;
pub mod certs;
pub mod cli;
pub mod hello;
pub mod message;
pub mod row;
pub mod serve;
