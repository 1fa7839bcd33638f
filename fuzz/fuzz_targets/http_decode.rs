//! Fuzz target: arbitrary bytes from a socket into `HttpProto::decode`, cut into arbitrary
//! reads, each decoded request or response checked to round-trip (see `socket_stream.rs`).
//! Allocations above 64 MiB abort, so "allocate before check" bugs are findings.

#![no_main]
// The workspace lints deny unsafe code; the capping allocator needs `unsafe impl GlobalAlloc`.
#![allow(unsafe_code)]

#[path = "../../teleport/tests/support/cap_alloc.rs"]
mod cap_alloc;
mod socket_stream;

use libfuzzer_sys::fuzz_target;
use teleport::proto::HttpProto;

#[global_allocator]
static ALLOC: cap_alloc::CapAlloc = cap_alloc::CapAlloc;

fuzz_target!(|data: &[u8]| {
    socket_stream::run(data, |limits| HttpProto::new(limits, Default::default()));
});
