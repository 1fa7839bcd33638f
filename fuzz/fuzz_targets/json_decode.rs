//! Fuzz target: arbitrary bytes from a socket into `JsonProto::decode`, cut into arbitrary
//! reads, each decoded message checked to round-trip (the body is `teleport_fuzz::run`).

#![no_main]

use teleport::proto::JsonProto;

teleport_fuzz::protocol_target!(|_mode, limits| JsonProto::new(limits, Default::default()));
