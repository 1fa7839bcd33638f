//! Thrift frames built by hand from the documented layout (THeader frame, string headers,
//! strict binary message begin, body), for `tests/wire_thrift.rs` and the thrift table of
//! `tests/wire_malformed/` (through `#[path]`).

use std::sync::Arc;

use bytes::BufMut;
use teleport::XferRegistry;
use teleport::proto::{Limits, ThriftProto};

/// The binary variant under the default limits.
pub(crate) fn binary() -> ThriftProto {
    ThriftProto::binary(Limits::default(), Arc::new(XferRegistry::default()))
}

/// The struct variant under the default limits.
pub(crate) fn structs() -> ThriftProto {
    ThriftProto::structs(Limits::default())
}

/// A THeader info block of string headers, from the layout: protocol id 0 (binary), no
/// transforms, info id 1 (key-value), the count, then each key and value with a varint
/// length (all shorter than 128 here), zero-padded to a multiple of 4.
pub(crate) fn header_block(headers: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = vec![0, 0, 1, headers.len() as u8];
    for (key, value) in headers {
        out.push(key.len() as u8);
        out.extend_from_slice(key.as_bytes());
        out.push(value.len() as u8);
        out.extend_from_slice(value);
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// A THeader frame: length (of what follows), magic 0x0FFF, flags 0, sequence number,
/// header size in words, the header block, the payload.
pub(crate) fn theader(seq: i32, block: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.put_u32((10 + block.len() + payload.len()) as u32);
    out.put_u16(0x0FFF);
    out.put_u16(0);
    out.put_i32(seq);
    out.put_u16((block.len() / 4) as u16);
    out.extend_from_slice(block);
    out.extend_from_slice(payload);
    out
}

/// A strict binary message begin: version 1 and type, the name, the seqid.
pub(crate) fn begin(name: &str, thrift_type: u8, seq: i32) -> Vec<u8> {
    let mut out = vec![0x80, 0x01, 0x00, thrift_type];
    out.put_u32(name.len() as u32);
    out.extend_from_slice(name.as_bytes());
    out.put_i32(seq);
    out
}

/// A thrift `binary`: i32 length, then the bytes.
pub(crate) fn binary_field(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}
