//! Allocation limits under an allocator that refuses anything above 64 MiB.
//!
//! RELIABILITY.md principle 2, "check before you allocate": a peer must not make us
//! allocate by announcing a size. The global allocator of this binary aborts the process on
//! any single allocation above 64 MiB, so a decoder that reserves what a length prefix
//! claims crashes here instead of passing on a machine with memory to spare.

// The workspace denies unsafe code; a `GlobalAlloc` implementation needs `unsafe impl`.
// This test binary (and the fuzz target) are the only places allowed to have it.
#![allow(unsafe_code)]

#[path = "support/cap_alloc.rs"]
mod cap_alloc;

use bytes::{BufMut, BytesMut};
use teleport::proto::{DEFAULT_MAX_FRAME, Limits};
use teleport::xfer::{Gzip, XferError, XferFilter, XferRegistry};
use teleport::{Message, MessageType, Proto, ProtoError, RawProto};

#[global_allocator]
static ALLOC: cap_alloc::CapAlloc = cap_alloc::CapAlloc;

#[test]
fn the_allocator_refuses_above_the_cap() {
    let mut v: Vec<u8> = Vec::new();
    assert!(v.try_reserve_exact(cap_alloc::CAP + 1).is_err());
    assert!(v.try_reserve_exact(1 << 20).is_ok());
}

#[test]
fn four_gib_prefix_is_refused_without_allocating() {
    let proto = RawProto::default();
    let mut src = BytesMut::from(&[0xFF, 0xFF, 0xFF, 0xFF][..]);
    let before = cap_alloc::count();
    let result = proto.decode(&mut src);
    let allocations = cap_alloc::count() - before;
    assert_eq!(result, Err(ProtoError::FrameTooLarge { len: 0xFFFF_FFFF, max: DEFAULT_MAX_FRAME }));
    assert_eq!(allocations, 0);
    assert_eq!(src.len(), 4, "the prefix is left in place");
}

/// With no frame limit at all, a 4 GiB announcement is legal, but the decoder must buffer
/// what arrives rather than reserve the whole announced size up front.
#[test]
fn four_gib_prefix_under_no_limit_just_waits() {
    let limits = Limits { max_frame: usize::MAX, ..Limits::default() };
    let proto = RawProto::new(limits, Default::default());
    let mut src = BytesMut::from(&[0xFF, 0xFF, 0xFF, 0xFF][..]);
    cap_alloc::take_largest();
    assert_eq!(proto.decode(&mut src), Ok(None));
    assert!(cap_alloc::take_largest() <= 1 << 20);
    assert!(src.capacity() <= 1 << 20, "reserved {} bytes", src.capacity());
    // Feed 8 MiB in socket-sized pieces: the buffer grows with the data, not with the claim.
    let chunk = vec![0u8; 64 << 10];
    for _ in 0..128 {
        src.put_slice(&chunk);
        assert_eq!(proto.decode(&mut src), Ok(None));
    }
    assert_eq!(src.len(), 4 + (8 << 20));
    assert!(src.capacity() <= 32 << 20, "reserved {} bytes", src.capacity());
    assert!(cap_alloc::take_largest() <= 32 << 20);
}

/// Under the default 4 MiB limit, a 4 MiB announcement is legal; a few bytes of it must not
/// make the decoder reserve 4 MiB either (a cheap way to pin memory on many connections).
#[test]
fn a_legal_but_large_prefix_does_not_reserve_it_all() {
    let proto = RawProto::default();
    let mut src = BytesMut::new();
    src.put_u32(DEFAULT_MAX_FRAME as u32);
    src.put_u8(0);
    cap_alloc::take_largest();
    assert_eq!(proto.decode(&mut src), Ok(None));
    assert!(src.capacity() < 1 << 20, "reserved {} bytes", src.capacity());
    assert!(cap_alloc::take_largest() < 1 << 20);
}

#[test]
fn gzip_bomb_is_refused_at_the_frame_limit() {
    // 10 MiB of zeros: a valid payload (seq, type, method, status, meta, codec) and body.
    let mut plain = BytesMut::with_capacity(10 << 20);
    plain.put_slice(b"\x011\x01\x02/x\x00\x00\x00\x00j");
    plain.resize(10 << 20, 0);
    let packed = Gzip::new(b'g', 9).pack(plain.freeze()).unwrap();
    assert!(packed.len() < 64 << 10, "{} bytes", packed.len());

    let mut frame = BytesMut::new();
    frame.put_u32(4 + 2 + packed.len() as u32);
    frame.put_slice(b"\x01g");
    frame.put_slice(&packed);

    let proto = RawProto::default();
    cap_alloc::take_largest();
    let err = proto.decode(&mut frame).unwrap_err();
    // The frame was read whole: only this message fails.
    let too_large = Box::new(ProtoError::Xfer(XferError::TooLarge { max: DEFAULT_MAX_FRAME }));
    assert_eq!(err, ProtoError::BadMessage { seq: None, mtype: None, error: too_large });
    // The output buffer may grow by doubling up to the limit, never towards 10 MiB.
    let largest = cap_alloc::take_largest();
    assert!(largest <= 2 * DEFAULT_MAX_FRAME, "largest allocation {largest}");
    assert!(frame.is_empty(), "the bad frame was consumed");
}

/// The same bomb is fine when the limit allows it: the refusal above is the limit's doing.
#[test]
fn gzip_bomb_within_a_larger_limit_decodes() {
    let mut msg = Message::new(MessageType::Push, 1, "/x");
    msg.body_codec = b'j';
    msg.body = vec![b' '; 10 << 20].into();
    msg.xfer_pipe.push(b'g').unwrap();
    let limits = Limits { max_frame: 16 << 20, ..Limits::default() };
    let proto = RawProto::new(limits, XferRegistry::default().into());
    let mut wire = BytesMut::new();
    proto.encode(&msg, &mut wire).unwrap();
    assert!(wire.len() < 64 << 10);
    assert_eq!(proto.decode(&mut wire), Ok(Some(msg)));
}
