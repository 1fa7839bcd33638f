//! Fuzz target: arbitrary bytes from a socket into `ProtobufProto::decode`, cut into arbitrary
//! reads, each decoded message checked to round-trip (the body is `teleport_fuzz::run`).

#![no_main]

use teleport::proto::ProtobufProto;

teleport_fuzz::protocol_target!(|_mode, limits| ProtobufProto::new(limits, Default::default()));
