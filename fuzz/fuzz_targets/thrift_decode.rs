//! Fuzz target: arbitrary bytes from a socket into `ThriftProto::decode`, cut into arbitrary
//! reads, each decoded message checked to round-trip (the body is `teleport_fuzz::run`).
//! Bit 6 of the mode byte picks the struct variant instead of the binary one.

#![no_main]

use teleport::proto::ThriftProto;

teleport_fuzz::protocol_target!(|mode, limits| if mode & 0x40 != 0 {
    ThriftProto::structs(limits)
} else {
    ThriftProto::binary(limits, Default::default())
});
