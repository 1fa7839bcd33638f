//! The protobuf protocol: Go eRPC v6's `proto/pbproto`, a proto3 message in the shared
//! framing.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use prost::Message as _;

use super::frame::{Framed, Framing, Heard, framed_proto};
use super::{Limits, ProtoError};
use crate::message::{Message, MessageType, Meta};
use crate::status::Status;
use crate::xfer::{XferPipe, XferRegistry};

/// Go eRPC v6's protobuf protocol (`proto/pbproto`), byte-compatible with it.
///
/// After the length prefix (which, unlike raw's, does not count its own 4 bytes) and the
/// transfer pipe comes a proto3 message:
///
/// ```text
/// message payload {
///     int32  seq           = 1;
///     int32  mtype         = 2;
///     string serviceMethod = 3;
///     bytes  status        = 4;  // percent-encoded, as in the raw protocol
///     bytes  meta          = 5;  // percent-encoded, as in the raw protocol
///     int32  bodyCodec     = 6;
///     bytes  body          = 7;
/// }
/// ```
///
/// As in proto3, a field holding zero or nothing is left out: a reply has no field 3, an
/// error reply no field 6 or 7. Fields are written in number order, as Go's golang/protobuf
/// writes them, so the bytes are Go's. The reader takes any valid encoding of the message
/// (fields in any order or repeated, unknown fields skipped); it refuses an `mtype` outside
/// 1–5 and a `bodyCodec` outside 0–255, which Go would truncate to a byte.
#[derive(Clone, Debug, Default)]
pub struct ProtobufProto {
    limits: Limits,
    filters: Arc<XferRegistry>,
}

/// Go's `pb.Payload`. Every field is shared with the frame when read, not copied.
#[derive(Clone, PartialEq, prost::Message)]
struct Payload {
    #[prost(int32, tag = "1")]
    seq: i32,
    #[prost(int32, tag = "2")]
    mtype: i32,
    /// A `string` in Go's schema, with the same encoding; read as bytes so that one which is
    /// not UTF-8 is [`ProtoError::ServiceMethodNotUtf8`], as in the raw protocol.
    #[prost(bytes = "bytes", tag = "3")]
    service_method: Bytes,
    #[prost(bytes = "bytes", tag = "4")]
    status: Bytes,
    #[prost(bytes = "bytes", tag = "5")]
    meta: Bytes,
    #[prost(int32, tag = "6")]
    body_codec: i32,
    #[prost(bytes = "bytes", tag = "7")]
    body: Bytes,
}

impl ProtobufProto {
    /// A protobuf protocol with the given limits and transfer filters.
    pub fn new(limits: Limits, filters: Arc<XferRegistry>) -> Self {
        ProtobufProto { limits, filters }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn max_meta(&self) -> usize {
        self.limits.max_meta.min(usize::from(u16::MAX))
    }
}

impl Framed for ProtobufProto {
    const NAME: &'static str = "protobuf";
    /// The length prefix counts only what follows it; an empty message is valid protobuf.
    const FRAMING: Framing = Framing { counts_itself: false, min_payload: 0 };

    fn framing_parts(&self) -> (&Limits, &XferRegistry) {
        (&self.limits, &self.filters)
    }

    fn encode_payload(&self, msg: &Message, dst: &mut BytesMut) -> Result<(), ProtoError> {
        let mut text = BytesMut::new();
        msg.status.encode_into(&mut text);
        let status = text.split().freeze();
        msg.meta.encode_into(&mut text);
        if text.len() > self.max_meta() {
            return Err(ProtoError::MetaTooLong { len: text.len(), max: self.max_meta() });
        }
        let payload = Payload {
            seq: msg.seq,
            mtype: i32::from(msg.mtype as u8),
            service_method: Bytes::copy_from_slice(msg.service_method.as_bytes()),
            status,
            meta: text.freeze(),
            body_codec: i32::from(msg.body_codec),
            body: msg.body.clone(),
        };
        // A BytesMut grows as needed, so prost's capacity check cannot fail; were it to, the
        // message is refused rather than a panic.
        payload.encode(dst).map_err(|e| ProtoError::Malformed(format!("protobuf: {e}")))
    }

    fn decode_payload(&self, payload: Bytes, heard: &mut Heard) -> Result<Message, ProtoError> {
        let fields = Payload::decode(payload)
            .map_err(|e| ProtoError::Malformed(format!("protobuf: {e}")))?;
        heard.seq = Some(fields.seq);
        let mtype = u8::try_from(fields.mtype)
            .map_err(|_| ProtoError::Malformed(format!("message type {}", fields.mtype)))?;
        let mtype = MessageType::from_u8(mtype).ok_or(ProtoError::UnknownMessageType(mtype))?;
        heard.mtype = Some(mtype);
        let service_method = String::from_utf8(fields.service_method.to_vec())
            .map_err(|_| ProtoError::ServiceMethodNotUtf8)?;
        let status = Status::decode(&fields.status).map_err(ProtoError::BadStatus)?;
        if fields.meta.len() > self.max_meta() {
            return Err(ProtoError::MetaTooLong { len: fields.meta.len(), max: self.max_meta() });
        }
        let meta = Meta::decode(&fields.meta).map_err(ProtoError::BadMeta)?;
        let body_codec = u8::try_from(fields.body_codec)
            .map_err(|_| ProtoError::Malformed(format!("body codec {}", fields.body_codec)))?;
        Ok(Message {
            mtype,
            seq: fields.seq,
            service_method,
            status,
            meta,
            body_codec,
            body: fields.body,
            xfer_pipe: XferPipe::new(),
        })
    }
}

framed_proto!(ProtobufProto);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Proto;

    /// Negative int32 values take ten bytes (sign-extended), as in every protobuf runtime.
    #[test]
    fn negative_seq_is_a_ten_byte_varint() {
        let proto = ProtobufProto::default();
        let msg = Message::new(MessageType::Reply, -1, "");
        let mut wire = BytesMut::new();
        proto.encode(&msg, &mut wire).unwrap();
        let field = [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        assert_eq!(&wire[5..16], &field);
        assert_eq!(proto.decode(&mut wire).unwrap(), Some(msg));
    }

    #[test]
    fn zero_fields_are_left_out() {
        let proto = ProtobufProto::default();
        let mut msg = Message::new(MessageType::Reply, 0, "");
        msg.status = Status::new(404, "");
        let mut wire = BytesMut::new();
        proto.encode(&msg, &mut wire).unwrap();
        assert_eq!(&wire[..], b"\x00\x00\x00\x0d\x00\x10\x02\x22\x08code=404");
    }
}
