//! Fuzz target: arbitrary bytes from a socket into `RawProto::decode`, cut into arbitrary
//! reads, each decoded message checked to round-trip (the body is `teleport_fuzz::run`).

#![no_main]

use teleport::RawProto;

teleport_fuzz::protocol_target!(|_mode, limits| RawProto::new(limits, Default::default()));
