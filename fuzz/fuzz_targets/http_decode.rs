//! Fuzz target: arbitrary bytes from a socket into `HttpProto::decode`, cut into arbitrary
//! reads, each decoded message checked to round-trip (the body is `teleport_fuzz::run`).

#![no_main]

use teleport::proto::HttpProto;

teleport_fuzz::protocol_target!(|_mode, limits| HttpProto::new(limits, Default::default()));
