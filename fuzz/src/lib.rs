//! The one body of the fuzz targets (`raw_decode`, `json_decode`, `protobuf_decode`,
//! `http_decode`, `thrift_decode`), which differ only in the protocol they build: each is
//! `teleport_fuzz::protocol_target!(|mode, limits| <the protocol>)`. Allocations above 64 MiB
//! abort (the allocator of `teleport/tests/support/cap_alloc.rs`, set here for every target),
//! so "allocate before check" bugs are findings.
//!
//! The first input byte chooses how the stream is cut into reads (bits 0–5, 63 meaning all
//! at once) and which limits apply (bit 7: 512-byte frames, 64-byte meta); the rest is the
//! stream. Bytes are appended one read at a time and decoded until the decoder wants more or
//! fails, as a connection's read loop does. Every decoded message must re-encode (unless
//! re-escaping or re-compressing made it outgrow a limit) and decode back to itself.

// The capping allocator needs `unsafe impl GlobalAlloc`.
#![allow(unsafe_code)]

#[path = "../../teleport/tests/support/cap_alloc.rs"]
#[allow(dead_code, reason = "the per-thread counts are for the runtime's tests")]
mod cap_alloc;

use bytes::BytesMut;
pub use libfuzzer_sys;
use teleport::proto::Limits;
use teleport::{Message, Proto, ProtoError};

#[global_allocator]
static ALLOC: cap_alloc::CapAlloc = cap_alloc::CapAlloc;

/// A fuzz target of the protocol that `$make` builds: a closure taking the mode byte (bits
/// 6 and below are the target's to read too) and the chosen [`Limits`].
#[macro_export]
macro_rules! protocol_target {
    ($make:expr) => {
        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| $crate::run(data, $make));
    };
}

/// Decodes `data` as described above with the protocol `make` builds for its mode byte and
/// the chosen limits.
pub fn run<P: Proto>(data: &[u8], make: impl Fn(u8, Limits) -> P) {
    let Some((&mode, stream)) = data.split_first() else {
        return;
    };
    let proto = if mode & 0x80 != 0 {
        make(mode, Limits { max_frame: 512, max_meta: 64 })
    } else {
        make(mode, Limits::default())
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
                // A bad message costs its frame only: the next one is read.
                Err(ProtoError::BadMessage { .. }) => {
                    assert!(src.len() < before.len(), "a bad message stayed in the buffer");
                }
                Err(_) => return,
            }
        }
    }
}

fn check_round_trip(proto: &impl Proto, msg: &Message) {
    let mut wire = BytesMut::new();
    match proto.encode(msg, &mut wire) {
        Ok(()) => {}
        // `+` in meta re-encodes as `%20`, a raw control byte in a json body as an escape,
        // non-ASCII in an http path as `%XX`, an http head gains the headers its sender left
        // out, and our gzip may compress worse than the sender's: a message read within the
        // limits may not fit them again.
        Err(
            ProtoError::MetaTooLong { .. }
            | ProtoError::FrameTooLarge { .. }
            | ProtoError::HeadTooLarge { .. }
            | ProtoError::StatusTooLong(_),
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
