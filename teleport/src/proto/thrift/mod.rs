//! The thrift protocols: Go eRPC v6's `proto/thriftproto`, both variants, over the THeader
//! transport with the binary protocol.
//!
//! ```text
//! THeader frame (see `header.rs`), info headers Tp-Status, Tp-Meta (and in the binary
//! variant Tp-BodyCodec, Tp-XferPipe); payload:
//!   message begin (strict binary): name = service method, type, seqid = seq
//!   binary variant: the packed body as one thrift `binary` (i32 length, bytes)
//!   struct variant: the body struct itself (codec thrift)
//! ```

mod begin;
mod header;

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use self::begin::Kind;
use super::{Cursor, Limits, Proto, ProtoError};
use crate::codec;
use crate::message::{Message, MessageType, Meta};
use crate::status::Status;
use crate::xfer::{XferPipe, XferRegistry};

const STATUS: &str = "Tp-Status";
const META: &str = "Tp-Meta";
const BODY_CODEC: &str = "Tp-BodyCodec";
const XFER_PIPE: &str = "Tp-XferPipe";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Binary,
    Struct,
}

/// Go eRPC v6's thrift protocols (`proto/thriftproto`), feature `thrift`.
///
/// Each message is one THeader frame (binary protocol, no transforms) whose payload starts
/// with a strict binary message begin: the name is the service method, the seqid the seq,
/// and the type CALL, REPLY or ONEWAY for a call, reply or push. The status and meta travel
/// as the string headers `Tp-Status` and `Tp-Meta`, percent-encoded as in the raw protocol.
///
/// - [`binary`](Self::binary) (Go's `NewBinaryProtoFunc`): the body, packed by the transfer
///   filters, is one thrift `binary`; the headers `Tp-BodyCodec` (the codec id as a one-byte
///   string) and `Tp-XferPipe` (the filter ids) carry the rest, so any codec and filter works.
/// - [`structs`](Self::structs) (Go's `NewStructProtoFunc`): the body is the thrift struct
///   itself, so the body codec is thrift (`t`, see [`codec::Thrift`](crate::codec)) and
///   there are no filters; a body in another codec or with filters is refused when written.
///   An empty body without codec (an error reply) is written as the empty struct.
///
/// Where Go differs: Go writes auth messages with type 0, which its reader takes for a push,
/// so auth cannot work over these protocols; here writing one is refused with
/// [`ProtoError::Unsupported`]. Go's reader fails the connection on an EXCEPTION message;
/// here it becomes a reply with status -1, the exception's message and its kind as cause,
/// so only that call fails. Like Go, any other unknown type reads as a push. Reading takes
/// strict and non-strict message begins; THeader frames with another protocol id (compact),
/// transforms (zlib) or info blocks other than key-value are refused. Go writes its headers
/// in map order; the reader takes them in any order.
#[derive(Clone, Debug)]
pub struct ThriftProto {
    variant: Variant,
    limits: Limits,
    filters: Arc<XferRegistry>,
}

impl ThriftProto {
    /// The binary variant (Go's `thrift-binary`): any body codec and transfer filters.
    pub fn binary(limits: Limits, filters: Arc<XferRegistry>) -> Self {
        ThriftProto { variant: Variant::Binary, limits, filters }
    }

    /// The struct variant (Go's `thrift-struct`): thrift bodies only, no transfer filters.
    pub fn structs(limits: Limits) -> Self {
        ThriftProto { variant: Variant::Struct, limits, filters: Arc::default() }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn max_meta(&self) -> usize {
        self.limits.max_meta.min(usize::from(u16::MAX))
    }

    /// The body as written: packed by the filters (binary), or checked to be a thrift
    /// struct (struct).
    fn body_out(&self, msg: &Message) -> Result<Bytes, ProtoError> {
        if msg.body.len() > self.limits.max_frame {
            let len = msg.body.len() as u64;
            return Err(ProtoError::FrameTooLarge { len, max: self.limits.max_frame });
        }
        match self.variant {
            Variant::Binary if msg.xfer_pipe.is_empty() => Ok(msg.body.clone()),
            Variant::Binary => Ok(msg.xfer_pipe.pack(&self.filters, msg.body.clone())?),
            Variant::Struct => {
                let unsupported =
                    |what: String| ProtoError::Unsupported { proto: self.name(), what };
                if !msg.xfer_pipe.is_empty() {
                    return Err(unsupported("transfer filters".to_owned()));
                }
                match msg.body_codec {
                    codec::THRIFT => Ok(msg.body.clone()),
                    codec::NONE if msg.body.is_empty() => Ok(Bytes::from_static(b"\x00")),
                    other => Err(unsupported(format!("body codec {other} (only thrift, t)"))),
                }
            }
        }
    }

    /// The message of a frame taken whole from the stream: anything wrong in it fails this
    /// message only ([`ProtoError::BadMessage`], with the seq and type once they were read).
    fn message(&self, frame: header::HeaderFrame) -> Result<Message, ProtoError> {
        let mut cursor = Cursor::new(frame.payload.clone());
        let begin = begin::read(&mut cursor).map_err(|e| bad_message(None, None, e))?;
        let (seq, mtype) = match begin::kind(begin.thrift_type) {
            Kind::Message(mtype) => (Some(begin.seq), Some(mtype)),
            Kind::Exception => (Some(begin.seq), Some(MessageType::Reply)),
        };
        self.fill(&frame, cursor, begin).map_err(|e| bad_message(seq, mtype, e))
    }

    fn fill(
        &self,
        frame: &header::HeaderFrame,
        mut cursor: Cursor,
        begin: begin::Begin,
    ) -> Result<Message, ProtoError> {
        let header = |key| frame.get(key).map(|v| &v[..]).unwrap_or_default();
        let meta = header(META);
        if meta.len() > self.max_meta() {
            return Err(ProtoError::MetaTooLong { len: meta.len(), max: self.max_meta() });
        }
        let mut msg = Message::new(MessageType::Reply, begin.seq, begin.name);
        msg.meta = Meta::decode(meta).map_err(ProtoError::BadMeta)?;
        msg.status = Status::decode(header(STATUS)).map_err(ProtoError::BadStatus)?;
        match begin::kind(begin.thrift_type) {
            Kind::Exception => {
                msg.status = begin::exception_status(&cursor.rest())?;
                return Ok(msg);
            }
            Kind::Message(mtype) => msg.mtype = mtype,
        }
        match self.variant {
            Variant::Binary => {
                let len = cursor.u32("thrift body length")?;
                let body = cursor.take(len as usize, "thrift body")?;
                msg.body_codec = header(BODY_CODEC).first().copied().unwrap_or(codec::NONE);
                msg.xfer_pipe = XferPipe::from_ids(header(XFER_PIPE))?;
                msg.body = if msg.xfer_pipe.is_empty() {
                    body
                } else {
                    msg.xfer_pipe.unpack(&self.filters, body, self.limits.max_frame)?
                };
            }
            Variant::Struct => {
                msg.body_codec = codec::THRIFT;
                msg.body = cursor.rest();
            }
        }
        Ok(msg)
    }
}

/// A message-level error: the frame was taken whole, its content is bad.
fn bad_message(seq: Option<i32>, mtype: Option<MessageType>, error: ProtoError) -> ProtoError {
    ProtoError::BadMessage { seq, mtype, error: Box::new(error) }
}

impl Proto for ThriftProto {
    fn name(&self) -> &'static str {
        match self.variant {
            Variant::Binary => "thrift-binary",
            Variant::Struct => "thrift-struct",
        }
    }

    fn encode(&self, msg: &Message, dst: &mut BytesMut) -> Result<(), ProtoError> {
        let thrift_type = begin::thrift_type(msg.mtype)?;
        let body = self.body_out(msg)?;
        let mut status = BytesMut::new();
        msg.status.encode_into(&mut status);
        // The raw protocol's bound, which also keeps the headers within THeader's size field.
        if status.len() > usize::from(u16::MAX) {
            return Err(ProtoError::StatusTooLong(status.len()));
        }
        let mut meta = BytesMut::new();
        msg.meta.encode_into(&mut meta);
        if meta.len() > self.max_meta() {
            return Err(ProtoError::MetaTooLong { len: meta.len(), max: self.max_meta() });
        }
        let codec = [msg.body_codec];
        let mut headers: Vec<(&str, &[u8])> = vec![(STATUS, &status), (META, &meta)];
        if self.variant == Variant::Binary {
            headers.extend([(BODY_CODEC, &codec[..]), (XFER_PIPE, msg.xfer_pipe.ids())]);
        }
        header::encode(&self.limits, msg.seq, &headers, dst, |dst| {
            dst.reserve(16 + msg.service_method.len() + body.len());
            begin::put(dst, &msg.service_method, thrift_type, msg.seq);
            if self.variant == Variant::Binary {
                dst.put_u32(body.len() as u32);
            }
            dst.put_slice(&body);
            Ok(())
        })
    }

    fn decode(&self, src: &mut BytesMut) -> Result<Option<Message>, ProtoError> {
        match header::decode(&self.limits, src)? {
            Some(frame) => self.message(frame).map(Some),
            None => Ok(None),
        }
    }
}
