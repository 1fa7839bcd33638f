//! Fuzz target: arbitrary bytes from a socket into `RawProto::decode`.
//!
//! The first input byte chooses how the stream is cut into reads and which limits apply;
//! the rest is the stream. Bytes are appended one read at a time and decoded until the
//! decoder wants more or fails, as a connection's read loop does. Every decoded message must
//! re-encode (unless re-escaping or re-compressing made it outgrow a limit) and decode back
//! to itself. Allocations above 64 MiB abort, so "allocate before check" bugs are findings.

#![no_main]
// The workspace lints deny unsafe code; the capping allocator needs `unsafe impl GlobalAlloc`.
#![allow(unsafe_code)]

#[path = "../../teleport/tests/support/cap_alloc.rs"]
mod cap_alloc;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use teleport::proto::Limits;
use teleport::{Message, Proto, ProtoError, RawProto};

#[global_allocator]
static ALLOC: cap_alloc::CapAlloc = cap_alloc::CapAlloc;

fn check_round_trip(proto: &RawProto, msg: &Message) {
    let mut wire = BytesMut::new();
    match proto.encode(msg, &mut wire) {
        Ok(()) => {}
        // `+` and unreserved-looking bytes re-encode as `%XX`, and our gzip may compress
        // worse than the sender's: a message read within the limits may not fit them again.
        Err(
            ProtoError::StatusTooLong(_)
            | ProtoError::MetaTooLong { .. }
            | ProtoError::FrameTooLarge { .. },
        ) => {
            assert!(wire.is_empty(), "a failed encode appended bytes");
            return;
        }
        Err(e) => panic!("re-encoding a decoded message failed: {e}\n{msg:?}"),
    }
    let back = proto.decode(&mut wire).expect("our own frame decodes");
    assert_eq!(back.as_ref(), Some(msg), "round trip changed the message");
    assert!(wire.is_empty(), "our own frame left bytes behind");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, stream)) = data.split_first() else {
        return;
    };
    let proto = if mode & 0x80 != 0 {
        RawProto::new(Limits { max_frame: 512, max_meta: 64 }, Default::default())
    } else {
        RawProto::default()
    };
    let chunk = usize::from(mode & 0x3F) + 1;
    let chunk = if chunk == 64 { stream.len().max(1) } else { chunk };

    let mut src = BytesMut::new();
    for piece in stream.chunks(chunk) {
        src.extend_from_slice(piece);
        loop {
            let before = src.clone();
            match proto.decode(&mut src) {
                Ok(Some(msg)) => {
                    assert!(src.len() < before.len(), "a frame was decoded from nothing");
                    check_round_trip(&proto, &msg);
                }
                Ok(None) => {
                    assert_eq!(src, before, "waiting for more changed the buffer");
                    break;
                }
                Err(_) => return,
            }
        }
    }
});
