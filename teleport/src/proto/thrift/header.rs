//! The THeader transport's frame, protocol id binary, no transforms, string info headers.
//!
//! ```text
//! u32 length (what follows it) | u16 magic 0x0FFF | u16 flags | u32 sequence number |
//! u16 header size / 4 | header: varint protocol id, varint transform count, info blocks
//! (varint 1 = key-value, varint count, count × (varint length, key, varint length,
//! value)), zero padding to a multiple of 4 | payload
//! ```
//!
//! Varints are unsigned LEB128, as in the compact protocol.

use bytes::{BufMut, Bytes, BytesMut};

use crate::proto::{Cursor, Limits, ProtoError};

/// The magic after the length that marks a THeader frame.
const MAGIC: u16 = 0x0FFF;
/// The protocol id of the binary protocol.
const PROTOCOL_BINARY: u32 = 0;
/// The info block of string key-value headers.
const INFO_KEYVALUE: u32 = 1;
/// The fixed part after the length: magic, flags, sequence number, header size.
const FIXED: usize = 2 + 2 + 4 + 2;
/// The length prefix is at most 2^30 - 1 in THeader (the top bits mark other framings).
const MAX_LENGTH: usize = 0x3FFF_FFFF;

/// A THeader frame's content: its info headers and payload. (The frame's sequence number
/// is not kept: the message begin carries the seq that counts, as Go reads it.)
#[derive(Debug, Default)]
pub(super) struct HeaderFrame {
    pub(super) headers: Vec<(Bytes, Bytes)>,
    pub(super) payload: Bytes,
}

impl HeaderFrame {
    /// The value of header `key`, if present.
    pub(super) fn get(&self, key: &str) -> Option<&Bytes> {
        self.headers.iter().find(|(k, _)| k == key.as_bytes()).map(|(_, v)| v)
    }
}

/// Appends one frame; `payload` writes the payload. Nothing is appended on error.
pub(super) fn encode(
    limits: &Limits,
    seq: i32,
    headers: &[(&str, &[u8])],
    dst: &mut BytesMut,
    payload: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>,
) -> Result<(), ProtoError> {
    let start = dst.len();
    let result = encode_frame(limits, seq, headers, dst, payload);
    if result.is_err() {
        dst.truncate(start);
    }
    result
}

fn encode_frame(
    limits: &Limits,
    seq: i32,
    headers: &[(&str, &[u8])],
    dst: &mut BytesMut,
    payload: impl FnOnce(&mut BytesMut) -> Result<(), ProtoError>,
) -> Result<(), ProtoError> {
    let start = dst.len();
    dst.put_u32(0);
    dst.put_u16(MAGIC);
    dst.put_u16(0);
    dst.put_i32(seq);
    dst.put_u16(0);
    let header_start = dst.len();
    put_varint(dst, PROTOCOL_BINARY);
    put_varint(dst, 0);
    put_varint(dst, INFO_KEYVALUE);
    put_varint(dst, headers.len() as u32);
    for (key, value) in headers {
        put_string(dst, key.as_bytes())?;
        put_string(dst, value)?;
    }
    let padding = (4 - (dst.len() - header_start) % 4) % 4;
    dst.put_bytes(0, padding);
    let words = (dst.len() - header_start) / 4;
    let words = u16::try_from(words).map_err(|_| {
        ProtoError::Malformed(format!(
            "thrift headers of {} bytes exceed the header size field",
            words * 4
        ))
    })?;
    dst[header_start - 2..header_start].copy_from_slice(&words.to_be_bytes());
    payload(dst)?;
    let len = dst.len() - start - 4;
    let max = limits.max_frame.min(MAX_LENGTH);
    if len > max {
        return Err(ProtoError::FrameTooLarge { len: len as u64, max });
    }
    dst[start..start + 4].copy_from_slice(&(len as u32).to_be_bytes());
    Ok(())
}

/// Takes one whole frame from the front of `src`, or `Ok(None)` until one is buffered.
/// The length is checked against the limit before anything is reserved for the frame.
pub(super) fn decode(
    limits: &Limits,
    src: &mut BytesMut,
) -> Result<Option<HeaderFrame>, ProtoError> {
    let Some(prefix) = src.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    let max = limits.max_frame.min(MAX_LENGTH);
    if len > max {
        return Err(ProtoError::FrameTooLarge { len: len as u64, max });
    }
    if len < FIXED {
        return Err(ProtoError::FrameTooShort { len: len as u64 });
    }
    if src.len() < 4 + len {
        src.reserve((4 + len - src.len()).min(64 << 10));
        return Ok(None);
    }
    let frame = src.split_to(4 + len).freeze();
    // Taken whole: from here on a fault costs this frame only.
    parse(frame.slice(4..)).map(Some).map_err(|error| ProtoError::BadMessage {
        seq: None,
        mtype: None,
        error: Box::new(error),
    })
}

fn parse(frame: Bytes) -> Result<HeaderFrame, ProtoError> {
    let mut cursor = Cursor::new(frame);
    let magic = cursor.u16("thrift header magic")?;
    if magic != MAGIC {
        return Err(ProtoError::Malformed(format!("not a THeader frame (magic {magic:#06x})")));
    }
    let _flags = cursor.u16("thrift header flags")?;
    let _seq = cursor.u32("thrift header sequence number")?;
    let words = cursor.u16("thrift header size")?;
    let header = cursor.take(usize::from(words) * 4, "thrift header")?;
    let headers = parse_header(header)?;
    Ok(HeaderFrame { headers, payload: cursor.rest() })
}

fn parse_header(header: Bytes) -> Result<Vec<(Bytes, Bytes)>, ProtoError> {
    let mut cursor = Cursor::new(header);
    let protocol = varint(&mut cursor, "thrift protocol id")?;
    if protocol != PROTOCOL_BINARY {
        let what = format!("protocol id {protocol} (only binary, 0)");
        return Err(ProtoError::Unsupported { proto: "thrift", what });
    }
    let transforms = varint(&mut cursor, "thrift transform count")?;
    if transforms != 0 {
        let what = format!("THeader transforms ({transforms})");
        return Err(ProtoError::Unsupported { proto: "thrift", what });
    }
    let mut headers = Vec::new();
    // Info blocks until the padding (zero) or the end.
    while !cursor.is_empty() {
        match varint(&mut cursor, "thrift info id")? {
            0 => break,
            INFO_KEYVALUE => {
                let count = varint(&mut cursor, "thrift header count")? as usize;
                // Each pair takes at least two bytes: a count beyond that is a lie.
                if count > cursor.remaining() / 2 {
                    return Err(ProtoError::Truncated { field: "thrift headers" });
                }
                headers.reserve(count);
                for _ in 0..count {
                    let key = string(&mut cursor, "thrift header key")?;
                    let value = string(&mut cursor, "thrift header value")?;
                    headers.push((key, value));
                }
            }
            // Other info blocks have no length to skip them by.
            other => {
                let what = format!("THeader info block {other}");
                return Err(ProtoError::Unsupported { proto: "thrift", what });
            }
        }
    }
    Ok(headers)
}

fn put_varint(dst: &mut BytesMut, mut n: u32) {
    while n >= 0x80 {
        dst.put_u8((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    dst.put_u8(n as u8);
}

fn put_string(dst: &mut BytesMut, s: &[u8]) -> Result<(), ProtoError> {
    let len = u32::try_from(s.len())
        .map_err(|_| ProtoError::Malformed("thrift header too long".to_owned()))?;
    put_varint(dst, len);
    dst.put_slice(s);
    Ok(())
}

fn varint(cursor: &mut Cursor, field: &'static str) -> Result<u32, ProtoError> {
    let mut n: u32 = 0;
    for shift in [0, 7, 14, 21, 28] {
        let b = cursor.u8(field)?;
        n |= u32::from(b & 0x7F) << shift;
        if b & 0x80 == 0 {
            if shift == 28 && b > 0x0F {
                break;
            }
            return Ok(n);
        }
    }
    Err(ProtoError::Malformed(format!("{field}: varint longer than 32 bits")))
}

fn string(cursor: &mut Cursor, field: &'static str) -> Result<Bytes, ProtoError> {
    let len = varint(cursor, field)? as usize;
    cursor.take(len, field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_overlong_ones_fail() {
        for n in [0, 1, 127, 128, 300, 16_384, u32::MAX] {
            let mut buf = BytesMut::new();
            put_varint(&mut buf, n);
            assert_eq!(varint(&mut Cursor::new(buf.freeze()), "n").unwrap(), n);
        }
        let overlong = Bytes::from_static(&[0xFF, 0xFF, 0xFF, 0xFF, 0x1F]);
        assert!(varint(&mut Cursor::new(overlong), "n").is_err());
        let unended = Bytes::from_static(&[0x80, 0x80]);
        assert!(matches!(
            varint(&mut Cursor::new(unended), "n"),
            Err(ProtoError::Truncated { .. })
        ));
    }
}
