//! The raw protocol: Go eRPC v6's default framing, byte for byte.
//!
//! ```text
//! u32 frame length (counts itself) | u8 pipe length | pipe ids |
//! -- from here on transformed by the pipe --
//! u8 seq length | seq (base 36) | u8 type | u8 method length | method |
//! u16 status length | status | u16 meta length | meta | u8 body codec | body
//! ```

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};

use super::frame::{Framed, Framing, Heard, framed_proto};
use super::{Cursor, Limits, ProtoError};
use crate::message::{Message, MessageType, Meta};
use crate::status::Status;
use crate::xfer::{XferPipe, XferRegistry};

/// The fixed part of an unfiltered payload: every length byte, the type and the codec.
const MIN_PAYLOAD: usize = 8;

/// Go eRPC v6's raw protocol (its id 6), the default.
#[derive(Clone, Debug, Default)]
pub struct RawProto {
    limits: Limits,
    filters: Arc<XferRegistry>,
}

impl RawProto {
    /// A raw protocol with the given limits and transfer filters.
    pub fn new(limits: Limits, filters: Arc<XferRegistry>) -> Self {
        RawProto { limits, filters }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

impl Framed for RawProto {
    const NAME: &'static str = "raw";
    /// The length prefix counts itself.
    const FRAMING: Framing = Framing { counts_itself: true, min_payload: MIN_PAYLOAD };

    fn framing_parts(&self) -> (&Limits, &XferRegistry) {
        (&self.limits, &self.filters)
    }

    fn encode_payload(&self, msg: &Message, dst: &mut BytesMut) -> Result<(), ProtoError> {
        if msg.service_method.len() > 255 {
            return Err(ProtoError::ServiceMethodTooLong(msg.service_method.len()));
        }
        let mut seq = [0u8; 8];
        let seq = encode_seq(msg.seq, &mut seq);
        dst.reserve(MIN_PAYLOAD + seq.len() + msg.service_method.len() + 16 + msg.body.len());
        dst.put_u8(seq.len() as u8);
        dst.put_slice(seq);
        dst.put_u8(msg.mtype as u8);
        dst.put_u8(msg.service_method.len() as u8);
        dst.put_slice(msg.service_method.as_bytes());
        let status_len = put_u16_prefixed(dst, |dst| msg.status.encode_into(dst));
        if status_len > usize::from(u16::MAX) {
            return Err(ProtoError::StatusTooLong(status_len));
        }
        let meta_len = put_u16_prefixed(dst, |dst| msg.meta.encode_into(dst));
        let max_meta = self.limits.max_meta.min(usize::from(u16::MAX));
        if meta_len > max_meta {
            return Err(ProtoError::MetaTooLong { len: meta_len, max: max_meta });
        }
        dst.put_u8(msg.body_codec);
        dst.put_slice(&msg.body);
        Ok(())
    }

    fn decode_payload(&self, payload: Bytes, heard: &mut Heard) -> Result<Message, ProtoError> {
        let mut cursor = Cursor::new(payload);
        let seq_len = cursor.u8("seq length")?;
        let seq = decode_seq(cursor.slice(usize::from(seq_len), "seq")?)?;
        heard.seq = Some(seq);
        let mtype = cursor.u8("message type")?;
        let mtype = MessageType::from_u8(mtype).ok_or(ProtoError::UnknownMessageType(mtype))?;
        heard.mtype = Some(mtype);
        let method_len = cursor.u8("service method length")?;
        let method = cursor.slice(usize::from(method_len), "service method")?;
        let service_method =
            std::str::from_utf8(method).map_err(|_| ProtoError::ServiceMethodNotUtf8)?.to_owned();
        let status_len = cursor.u16("status length")?;
        let status = cursor.slice(usize::from(status_len), "status")?;
        let status = Status::decode(status).map_err(ProtoError::BadStatus)?;
        let meta_len = usize::from(cursor.u16("meta length")?);
        if meta_len > self.limits.max_meta {
            return Err(ProtoError::MetaTooLong { len: meta_len, max: self.limits.max_meta });
        }
        let meta = Meta::decode(cursor.slice(meta_len, "meta")?).map_err(ProtoError::BadMeta)?;
        let body_codec = cursor.u8("body codec")?;
        Ok(Message {
            mtype,
            seq,
            service_method,
            status,
            meta,
            body_codec,
            body: cursor.rest(),
            xfer_pipe: XferPipe::new(),
        })
    }
}

framed_proto!(RawProto);

/// Writes a u16 length, then what `write` appends, and patches the length in. Returns the
/// length written by `write` (which may exceed u16; the caller checks).
fn put_u16_prefixed(dst: &mut BytesMut, write: impl FnOnce(&mut BytesMut)) -> usize {
    let at = dst.len();
    dst.put_u16(0);
    write(dst);
    let len = dst.len() - at - 2;
    dst[at..at + 2].copy_from_slice(&(len as u16).to_be_bytes());
    len
}

/// Writes `seq` in lower-case base 36 into `buf`, returning the digits.
pub(crate) fn encode_seq(seq: i32, buf: &mut [u8; 8]) -> &[u8] {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = i64::from(seq).unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = DIGITS[(n % 36) as usize];
        n /= 36;
        if n == 0 {
            break;
        }
    }
    if seq < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

/// Reads a base-36 seq (either case, optional sign), as Go's `ParseInt(s, 36, 32)`.
pub(crate) fn decode_seq(digits: &[u8]) -> Result<i32, ProtoError> {
    let text = || String::from_utf8_lossy(digits).into_owned();
    let (negative, body) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, digits),
    };
    if body.is_empty() {
        return Err(ProtoError::BadSeq(text()));
    }
    let mut n: i64 = 0;
    for &d in body {
        let v = (d as char).to_digit(36).ok_or_else(|| ProtoError::BadSeq(text()))?;
        n = n * 36 + i64::from(v);
        if n > i64::from(i32::MAX) + 1 {
            return Err(ProtoError::SeqOutOfRange(text()));
        }
    }
    let n = if negative { -n } else { n };
    i32::try_from(n).map_err(|_| ProtoError::SeqOutOfRange(text()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Proto;

    #[test]
    fn seq_base36_round_trips_at_the_edges() {
        for seq in [0, 1, 10, 35, 36, 100, i32::MAX, i32::MIN, -1] {
            let mut buf = [0; 8];
            let digits = encode_seq(seq, &mut buf).to_vec();
            assert_eq!(decode_seq(&digits).unwrap(), seq, "{}", String::from_utf8_lossy(&digits));
        }
        let mut buf = [0; 8];
        assert_eq!(encode_seq(100, &mut buf), b"2s");
        assert_eq!(decode_seq(b"2S").unwrap(), 100);
    }

    #[test]
    fn seq_errors() {
        assert!(matches!(decode_seq(b""), Err(ProtoError::BadSeq(_))));
        assert!(matches!(decode_seq(b"-"), Err(ProtoError::BadSeq(_))));
        assert!(matches!(decode_seq(b"a!"), Err(ProtoError::BadSeq(_))));
        assert!(matches!(decode_seq(b"zik0zk"), Err(ProtoError::SeqOutOfRange(_))));
        assert!(matches!(decode_seq(b"zzzzzzzzzzzzzzzzzzzz"), Err(ProtoError::SeqOutOfRange(_))));
        assert!(matches!(decode_seq(b"-zik0zl"), Err(ProtoError::SeqOutOfRange(_))));
    }

    #[test]
    fn partial_frames_wait_for_more() {
        let proto = RawProto::default();
        let mut msg = Message::new(MessageType::Call, 7, "/a/b");
        msg.body = Bytes::from_static(b"[1]");
        msg.body_codec = b'j';
        let mut frame = BytesMut::new();
        proto.encode(&msg, &mut frame).unwrap();
        let mut buf = BytesMut::new();
        for (i, b) in frame.iter().enumerate() {
            assert_eq!(proto.decode(&mut buf).unwrap(), None, "byte {i}");
            buf.put_u8(*b);
        }
        assert_eq!(proto.decode(&mut buf).unwrap(), Some(msg));
        assert!(buf.is_empty());
    }

    #[test]
    fn oversize_write_appends_nothing() {
        let limits = Limits { max_frame: 64, ..Limits::default() };
        let proto = RawProto::new(limits, Default::default());
        let mut msg = Message::new(MessageType::Call, 1, "/x");
        let mut dst = BytesMut::from(&b"keep"[..]);
        msg.body = Bytes::from(vec![0; 60]);
        assert!(matches!(proto.encode(&msg, &mut dst), Err(ProtoError::FrameTooLarge { .. })));
        msg.body = Bytes::from(vec![0; 65]);
        assert!(matches!(proto.encode(&msg, &mut dst), Err(ProtoError::FrameTooLarge { .. })));
        msg.body = Bytes::new();
        msg.service_method = "x".repeat(256);
        assert_eq!(proto.encode(&msg, &mut dst), Err(ProtoError::ServiceMethodTooLong(256)));
        assert_eq!(&dst[..], b"keep");
    }
}
