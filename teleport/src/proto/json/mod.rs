//! The json protocol: Go eRPC v6's `proto/jsonproto`, a JSON text in the shared framing.
//!
//! ```text
//! u32 length (not counting itself) | u8 pipe length | pipe ids |
//! -- from here on transformed by the pipe --
//! {"seq":1,"mtype":1,"serviceMethod":"/a","status":"code=0","meta":"","bodyCodec":106,"body":"[1]"}
//! ```

mod read;

use std::fmt;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;
use serde::de::{Deserializer, Visitor};

use super::frame::{Framed, Framing, Heard, framed_proto};
use super::{Limits, ProtoError};
use crate::message::{Message, MessageType, Meta};
use crate::status::Status;
use crate::xfer::{XferPipe, XferRegistry};

/// Go eRPC v6's json protocol (`proto/jsonproto`).
///
/// After the length prefix (which, unlike raw's, does not count its own 4 bytes) and the
/// transfer pipe comes a JSON object with the members `seq` (decimal), `mtype`,
/// `serviceMethod`, `status` and `meta` (the percent-encoded texts of the raw protocol),
/// `bodyCodec` (the codec id as a number) and `body` (a string), in this order.
///
/// # The body string
///
/// A JSON string holds text; a body holds any bytes. Go puts the body between quotes escaping
/// only `"`, and its reader (gjson) reads that string back leniently: it ends the string at
/// the first `"` after an even run of backslashes, takes a string without backslashes as it
/// is (raw control bytes and bytes that are not UTF-8 included), and otherwise undoes JSON's
/// escapes, stopping at the first raw control byte, unknown escape or cut `\u` escape. So a
/// body with a backslash arrives changed (the JSON body `"a\tb"` arrives holding a TAB), and
/// one ending in a backslash arrives empty.
///
/// This protocol reads the body string exactly as Go's reader does, so a frame gives the
/// body bytes a Go peer would get from it, whatever the body held; what follows a body string
/// that ended early is ignored when the payload ends as Go ends it (`"}`), as Go ignores it.
/// It writes as serde_json escapes: `"`, `\`, and every byte below 0x20 (`\b \f \n \r \t`,
/// else `\u00XX`); every other byte is copied as it is, including bytes that are not UTF-8
/// (no JSON escape stands for a lone byte). Read back, by us or by Go, that gives the body
/// sent, whatever it holds. A body without backslashes and control bytes is written exactly
/// as Go writes it, so Go's frames are reproduced byte for byte.
///
/// # Reading
///
/// Stricter than Go's reader for the other members: all seven must be present, once each,
/// with their JSON types, `seq` an integer within i32 ([`ProtoError::BadSeq`],
/// [`ProtoError::SeqOutOfRange`]), `mtype` 1–5 and `bodyCodec` 0–255; other members are
/// skipped but must be JSON; anything else is [`ProtoError::Malformed`]. Every such fault is
/// the message's ([`ProtoError::BadMessage`], with the seq and type when they came before
/// it): the connection lives on. The service method is escaped like the body; Go writes it
/// with `%q`, which gives the same bytes for printable text.
#[derive(Clone, Debug, Default)]
pub struct JsonProto {
    limits: Limits,
    filters: Arc<XferRegistry>,
}

impl JsonProto {
    /// A json protocol with the given limits and transfer filters.
    pub fn new(limits: Limits, filters: Arc<XferRegistry>) -> Self {
        JsonProto { limits, filters }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn max_meta(&self) -> usize {
        self.limits.max_meta.min(usize::from(u16::MAX))
    }
}

impl Framed for JsonProto {
    const NAME: &'static str = "json";
    /// The length prefix counts only what follows it; the JSON text is checked by its parser.
    const FRAMING: Framing = Framing { counts_itself: false, min_payload: 0 };

    fn framing_parts(&self) -> (&Limits, &XferRegistry) {
        (&self.limits, &self.filters)
    }

    fn encode_payload(&self, msg: &Message, dst: &mut BytesMut) -> Result<(), ProtoError> {
        dst.reserve(96 + msg.service_method.len() + msg.body.len());
        dst.put_slice(b"{\"seq\":");
        put_decimal(dst, i64::from(msg.seq));
        dst.put_slice(b",\"mtype\":");
        put_decimal(dst, i64::from(msg.mtype as u8));
        dst.put_slice(b",\"serviceMethod\":\"");
        escape_into(msg.service_method.as_bytes(), dst);
        // Status and meta are percent-encoded: no byte of them needs a JSON escape.
        dst.put_slice(b"\",\"status\":\"");
        msg.status.encode_into(dst);
        dst.put_slice(b"\",\"meta\":\"");
        let meta_at = dst.len();
        msg.meta.encode_into(dst);
        let meta_len = dst.len() - meta_at;
        if meta_len > self.max_meta() {
            return Err(ProtoError::MetaTooLong { len: meta_len, max: self.max_meta() });
        }
        dst.put_slice(b"\",\"bodyCodec\":");
        put_decimal(dst, i64::from(msg.body_codec));
        dst.put_slice(b",\"body\":\"");
        escape_into(&msg.body, dst);
        dst.put_slice(b"\"}");
        Ok(())
    }

    fn decode_payload(&self, payload: Bytes, heard: &mut Heard) -> Result<Message, ProtoError> {
        let members = read::members(&payload, heard)?;
        let missing = |name: &str| ProtoError::Malformed(format!("json: no member {name:?}"));
        let seq = members.seq.ok_or_else(|| missing("seq"))??;
        let mtype = members.mtype.ok_or_else(|| missing("mtype"))?;
        let mtype = MessageType::from_u8(mtype).ok_or(ProtoError::UnknownMessageType(mtype))?;
        let service_method = members.service_method.ok_or_else(|| missing("serviceMethod"))?;
        let status = members.status.ok_or_else(|| missing("status"))?;
        let status = Status::decode(status.as_bytes()).map_err(ProtoError::BadStatus)?;
        let meta = members.meta.ok_or_else(|| missing("meta"))?;
        if meta.len() > self.max_meta() {
            return Err(ProtoError::MetaTooLong { len: meta.len(), max: self.max_meta() });
        }
        let meta = Meta::decode(meta.as_bytes()).map_err(ProtoError::BadMeta)?;
        Ok(Message {
            mtype,
            seq,
            service_method: service_method.into_owned(),
            status,
            meta,
            body_codec: members.body_codec.ok_or_else(|| missing("bodyCodec"))?,
            body: members.body.ok_or_else(|| missing("body"))?,
            xfer_pipe: XferPipe::new(),
        })
    }
}

framed_proto!(JsonProto);

/// The `seq` member, held as the outcome of reading it so that a bad number becomes a typed
/// error rather than a parser message.
struct Seq(Result<i32, ProtoError>);

impl<'de> Deserialize<'de> for Seq {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SeqVisitor)
    }
}

struct SeqVisitor;

impl Visitor<'_> for SeqVisitor {
    type Value = Seq;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer")
    }

    fn visit_i64<E>(self, v: i64) -> Result<Seq, E> {
        Ok(Seq(i32::try_from(v).map_err(|_| ProtoError::SeqOutOfRange(v.to_string()))))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Seq, E> {
        Ok(Seq(i32::try_from(v).map_err(|_| ProtoError::SeqOutOfRange(v.to_string()))))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Seq, E> {
        // serde_json reads an integer beyond u64 as a float; anything else here is a
        // fraction or an exponent, which Go never writes for seq.
        let whole = v.is_finite() && v.fract() == 0.0;
        let outside = !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&v);
        let text = format!("{v:?}");
        Ok(Seq(Err(if whole && outside {
            ProtoError::SeqOutOfRange(text)
        } else {
            ProtoError::BadSeq(text)
        })))
    }
}

/// Appends `n` in decimal, as Go's `%d` writes it.
fn put_decimal(dst: &mut BytesMut, n: i64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    dst.put_slice(&buf[at..]);
}

/// Appends `src` as the inside of a JSON string: `"`, `\` and bytes below 0x20 escaped as
/// serde_json escapes them, every other byte as it is.
fn escape_into(src: &[u8], dst: &mut BytesMut) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut unicode = *b"\\u0000";
    let mut copied = 0;
    for (i, &b) in src.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0x00..=0x1F => {
                unicode[4] = HEX[usize::from(b >> 4)];
                unicode[5] = HEX[usize::from(b & 15)];
                &unicode
            }
            _ => continue,
        };
        dst.put_slice(&src[copied..i]);
        dst.put_slice(escape);
        copied = i + 1;
    }
    dst.put_slice(&src[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(src: &[u8]) -> Vec<u8> {
        let mut dst = BytesMut::new();
        escape_into(src, &mut dst);
        dst.to_vec()
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_bytes_only() {
        assert_eq!(escaped(b"\"hi\""), b"\\\"hi\\\"");
        let want = br"a\\tb\tc\n\r\b\f\u0000\u001f";
        assert_eq!(escaped(b"a\\tb\tc\n\r\x08\x0c\x00\x1f"), want);
        assert_eq!(escaped(b"\x7f"), b"\x7f");
        assert_eq!(escaped("许/<>".as_bytes()), "许/<>".as_bytes());
        assert_eq!(escaped(b"\xff\xc3("), b"\xff\xc3(");
    }

    #[test]
    fn escaping_matches_serde_json_for_text() {
        let text: String = (0u8..=0x7f).map(char::from).chain("é许😀".chars()).collect();
        let mut want = serde_json::to_vec(&text).unwrap();
        want.pop();
        assert_eq!(escaped(text.as_bytes()), &want[1..]);
    }

    #[test]
    fn decimals() {
        for n in [0, 7, -1, 106, i64::from(i32::MIN), i64::MAX, i64::MIN] {
            let mut dst = BytesMut::new();
            put_decimal(&mut dst, n);
            assert_eq!(dst, n.to_string().as_bytes());
        }
    }
}
