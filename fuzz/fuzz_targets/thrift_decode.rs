//! Fuzz target: arbitrary bytes from a socket into `ThriftProto::decode`, cut into arbitrary
//! reads, each decoded message checked to round-trip (see `socket_stream.rs`). Bit 6 of the
//! mode byte picks the struct variant instead of the binary one. Allocations above 64 MiB
//! abort, so "allocate before check" bugs are findings.

#![no_main]
// The workspace lints deny unsafe code; the capping allocator needs `unsafe impl GlobalAlloc`.
#![allow(unsafe_code)]

#[path = "../../teleport/tests/support/cap_alloc.rs"]
mod cap_alloc;
mod socket_stream;

use libfuzzer_sys::fuzz_target;
use teleport::proto::ThriftProto;

#[global_allocator]
static ALLOC: cap_alloc::CapAlloc = cap_alloc::CapAlloc;

fuzz_target!(|data: &[u8]| {
    let structs = data.first().is_some_and(|mode| mode & 0x40 != 0);
    socket_stream::run(data, |limits| {
        if structs {
            ThriftProto::structs(limits)
        } else {
            ThriftProto::binary(limits, Default::default())
        }
    });
});
