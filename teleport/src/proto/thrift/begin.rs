//! The binary protocol's message header ("message begin") and the exception a Thrift
//! server answers with.
//!
//! ```text
//! strict (written):  i32 0x8001_0000 | type | i32 name length | name | i32 seqid
//! non-strict (read): i32 name length | name | u8 type | i32 seqid
//! ```

use bytes::{BufMut, Bytes, BytesMut};
use thrift::TConfiguration;
use thrift::protocol::TBinaryInputProtocol;

use crate::message::MessageType;
use crate::proto::{Cursor, ProtoError};
use crate::status::{CODE_UNKNOWN_ERROR, Status};

const VERSION_1: u32 = 0x8001_0000;
const VERSION_MASK: u32 = 0xFFFF_0000;

/// Thrift's message types.
pub(super) const CALL: u8 = 1;
pub(super) const REPLY: u8 = 2;
pub(super) const EXCEPTION: u8 = 3;
pub(super) const ONEWAY: u8 = 4;

/// What a message's type becomes, as Go's thriftproto maps it.
#[derive(Debug, PartialEq)]
pub(super) enum Kind {
    /// A message of ours.
    Message(MessageType),
    /// A Thrift exception: the payload is a `TApplicationException`.
    Exception,
}

/// The Thrift type of a message type. Auth messages have none: Go writes them as type 0,
/// which its reader takes for a push, so they cannot travel over this protocol.
pub(super) fn thrift_type(mtype: MessageType) -> Result<u8, ProtoError> {
    match mtype {
        MessageType::Call => Ok(CALL),
        MessageType::Reply => Ok(REPLY),
        MessageType::Push => Ok(ONEWAY),
        other => {
            let what = format!("{other:?} messages");
            Err(ProtoError::Unsupported { proto: "thrift", what })
        }
    }
}

/// Go reads CALL, REPLY and ONEWAY as they are, EXCEPTION as an error, anything else as a
/// push.
pub(super) fn kind(thrift_type: u8) -> Kind {
    match thrift_type {
        CALL => Kind::Message(MessageType::Call),
        REPLY => Kind::Message(MessageType::Reply),
        EXCEPTION => Kind::Exception,
        _ => Kind::Message(MessageType::Push),
    }
}

/// Writes a strict message begin.
pub(super) fn put(dst: &mut BytesMut, name: &str, thrift_type: u8, seq: i32) {
    dst.put_u32(VERSION_1 | u32::from(thrift_type));
    dst.put_u32(name.len() as u32);
    dst.put_slice(name.as_bytes());
    dst.put_i32(seq);
}

/// A message begin read from the payload.
pub(super) struct Begin {
    pub(super) name: String,
    pub(super) thrift_type: u8,
    pub(super) seq: i32,
}

/// Reads a strict or non-strict message begin.
pub(super) fn read(cursor: &mut Cursor) -> Result<Begin, ProtoError> {
    let first = cursor.u32("thrift message header")?;
    let (name, thrift_type) = if first & 0x8000_0000 != 0 {
        if first & VERSION_MASK != VERSION_1 {
            return Err(ProtoError::Malformed(format!("thrift version {first:#010x}")));
        }
        let len = cursor.u32("thrift message name length")?;
        (name(cursor, len)?, first as u8)
    } else {
        let name = name(cursor, first)?;
        (name, cursor.u8("thrift message type")?)
    };
    let seq = cursor.u32("thrift sequence id")? as i32;
    Ok(Begin { name, thrift_type, seq })
}

fn name(cursor: &mut Cursor, len: u32) -> Result<String, ProtoError> {
    let bytes = cursor.take(len as usize, "thrift message name")?;
    String::from_utf8(bytes.to_vec()).map_err(|_| ProtoError::ServiceMethodNotUtf8)
}

/// The status of a `TApplicationException` payload: its message, and its kind as the cause.
pub(super) fn exception_status(payload: &Bytes) -> Result<Status, ProtoError> {
    let config = TConfiguration::builder()
        .max_string_size(Some(payload.len()))
        .max_container_size(Some(payload.len()))
        .max_recursion_depth(Some(64))
        .max_message_size(None)
        .max_frame_size(None)
        .build()
        .map_err(|e| ProtoError::Malformed(format!("thrift exception: {e}")))?;
    let mut input = TBinaryInputProtocol::with_config(&payload[..], false, config);
    let exception = thrift::Error::read_application_error_from_in_protocol(&mut input)
        .map_err(|e| ProtoError::Malformed(format!("thrift exception: {e}")))?;
    let cause = format!("thrift exception {:?}", exception.kind);
    Ok(Status::new(CODE_UNKNOWN_ERROR, exception.message).cause(cause))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_and_non_strict_begins_read_alike() {
        let mut strict = BytesMut::new();
        put(&mut strict, "Home.Test", CALL, 7);
        assert_eq!(&strict[..4], &[0x80, 0x01, 0x00, 0x01]);
        let mut loose = BytesMut::new();
        loose.put_u32(9);
        loose.put_slice(b"Home.Test");
        loose.put_u8(CALL);
        loose.put_i32(7);
        for bytes in [strict, loose] {
            let begin = read(&mut Cursor::new(bytes.freeze())).unwrap();
            assert_eq!((begin.name.as_str(), begin.thrift_type, begin.seq), ("Home.Test", 1, 7));
        }
    }

    #[test]
    fn types_map_as_go_maps_them() {
        assert_eq!(kind(ONEWAY), Kind::Message(MessageType::Push));
        assert_eq!(kind(0), Kind::Message(MessageType::Push));
        assert_eq!(kind(9), Kind::Message(MessageType::Push));
        assert_eq!(kind(EXCEPTION), Kind::Exception);
        assert!(thrift_type(MessageType::AuthCall).is_err());
    }
}
