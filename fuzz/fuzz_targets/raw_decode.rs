//! Fuzz target: arbitrary bytes from a socket into `RawProto::decode`, cut into arbitrary
//! reads, each decoded message checked to round-trip (see `socket_stream.rs`: the first
//! input byte chooses how the stream is cut and which limits apply). Allocations above
//! 64 MiB abort, so "allocate before check" bugs are findings.

#![no_main]
// The workspace lints deny unsafe code; the capping allocator needs `unsafe impl GlobalAlloc`.
#![allow(unsafe_code)]

#[path = "../../teleport/tests/support/cap_alloc.rs"]
mod cap_alloc;
mod socket_stream;

use libfuzzer_sys::fuzz_target;
use teleport::RawProto;

#[global_allocator]
static ALLOC: cap_alloc::CapAlloc = cap_alloc::CapAlloc;

fuzz_target!(|data: &[u8]| {
    socket_stream::run(data, |limits| RawProto::new(limits, Default::default()));
});
