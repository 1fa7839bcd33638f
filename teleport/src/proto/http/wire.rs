//! The pieces of HTTP text both directions share: content types, the framing header names,
//! the status JSON and the escaping of the request target.

use bytes::{BufMut, BytesMut};
use serde::{Deserialize, Serialize};

use super::unsupported;
use crate::codec;
use crate::proto::ProtoError;
use crate::status::{Code, Status};

/// Body codecs and their media types: the one read, and the text written.
const CONTENT_TYPES: [(u8, &str, &str); 6] = [
    (codec::JSON, "application/json", "application/json;charset=utf-8"),
    (codec::PROTOBUF, "application/x-protobuf", "application/x-protobuf;charset=utf-8"),
    (
        codec::FORM,
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded;charset=utf-8",
    ),
    (codec::PLAIN, "text/plain", "text/plain;charset=utf-8"),
    (b'x', "text/xml", "text/xml;charset=utf-8"),
    (codec::BINCODE, "application/x-bincode", "application/x-bincode"),
];

/// The `Content-Type` written for a body codec; `None` for codec 0 (no header).
pub(super) fn content_type(codec: u8) -> Result<Option<&'static str>, ProtoError> {
    if codec == codec::NONE {
        return Ok(None);
    }
    match CONTENT_TYPES.iter().find(|(id, ..)| *id == codec) {
        Some((.., written)) => Ok(Some(written)),
        None => Err(unsupported(format!("body codec {codec} (no Content-Type for it)"))),
    }
}

/// The body codec of a `Content-Type` value: its media type, parameters dropped, in any
/// case; 0 when unknown.
pub(super) fn codec_of(content_type: &[u8]) -> u8 {
    let media = content_type.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
    let known =
        CONTENT_TYPES.iter().find(|(_, read, _)| media.eq_ignore_ascii_case(read.as_bytes()));
    known.map_or(codec::NONE, |(id, ..)| *id)
}

/// A header the protocol reads and writes itself; never meta.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    ContentLength,
    ContentType,
    ContentEncoding,
    TransferEncoding,
    XContentEncoding,
    XMtype,
    XSeq,
    Connection,
}

impl Framing {
    const ALL: [(Framing, &'static str); 8] = [
        (Framing::Connection, "Connection"),
        (Framing::ContentLength, "Content-Length"),
        (Framing::ContentType, "Content-Type"),
        (Framing::ContentEncoding, "Content-Encoding"),
        (Framing::TransferEncoding, "Transfer-Encoding"),
        (Framing::XContentEncoding, "X-Content-Encoding"),
        (Framing::XMtype, "X-Mtype"),
        (Framing::XSeq, "X-Seq"),
    ];

    /// The framing header `name` stands for, in any case.
    pub(super) fn of(name: &str) -> Option<Framing> {
        Self::ALL.iter().find(|(_, n)| name.eq_ignore_ascii_case(n)).map(|(f, _)| *f)
    }

    /// The name as written.
    pub(super) fn name(self) -> &'static str {
        Self::ALL.iter().find(|(f, _)| *f == self).map_or("", |(_, n)| n)
    }
}

/// The body codec a request's `Accept` asks for: the first media type of its list that has
/// a codec (parameters and weights ignored); `None` when none has, or for `*/*`.
pub(super) fn accepted_codec(accept: &[u8]) -> Option<u8> {
    accept.split(|&b| b == b',').map(codec_of).find(|&id| id != codec::NONE)
}

/// Whether a comma-separated header value holds `token`, in any case.
pub(super) fn has_token(value: &[u8], token: &str) -> bool {
    value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// The HTTP status line that answers an error status when HTTP status codes are on.
///
/// A code that is an HTTP error code (400 to 599) is answered as itself, but for 408 (the
/// handler ran out of time: the request itself arrived whole) which is 504 Gateway
/// Timeout. 102 Connection Closed and 105 Dial Failed (an upstream a handler or the proxy
/// needed) are 502 Bad Gateway; every other code (custom business codes above 1000, 1,
/// -1, 104) is 500 Internal Server Error.
pub(super) fn http_status(code: Code) -> (u16, &'static str) {
    let http = match code {
        408 => 504,
        102 | 105 => 502,
        400..=599 => code as u16,
        _ => 500,
    };
    (http, reason(http))
}

/// The reason phrase of an HTTP status code this protocol writes.
fn reason(http: u16) -> &'static str {
    match http {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        508 => "Loop Detected",
        _ if http < 500 => "Client Error",
        _ => "Server Error",
    }
}

/// Whether `name` may be a header name: a non-empty RFC 9110 token.
pub(super) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` may be a header value: no control byte but HTAB.
pub(super) fn is_field_value(value: &str) -> bool {
    value.bytes().all(|b| b == b'\t' || (b >= b' ' && b != 0x7F))
}

/// The bytes a `Name: value\r\n` line takes: what the meta limit counts.
pub(super) fn line_len(name: &str, value: &[u8]) -> usize {
    name.len() + value.len() + 4
}

#[derive(Serialize)]
struct StatusOut<'a> {
    code: Code,
    msg: &'a str,
    cause: &'a str,
}

#[derive(Deserialize)]
struct StatusIn {
    code: Code,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    cause: String,
}

/// Appends the status as Go's `Status.MarshalJSON` writes it: all three members, in order.
pub(super) fn put_status(status: &Status, dst: &mut BytesMut) -> Result<(), ProtoError> {
    let out = StatusOut {
        code: status.code(),
        msg: status.msg(),
        cause: status.cause_text().unwrap_or(""),
    };
    serde_json::to_writer(dst.writer(), &out)
        .map_err(|e| ProtoError::Malformed(format!("status: {e}")))
}

/// Reads the status of a 299 reply; a missing `msg` or `cause` is empty, an empty cause is
/// none, and code 0 is refused (a 299 is an error).
pub(super) fn read_status(json: &[u8]) -> Result<Status, ProtoError> {
    let fields: StatusIn = serde_json::from_slice(json)
        .map_err(|e| ProtoError::Malformed(format!("status JSON: {e}")))?;
    if fields.code == 0 {
        return Err(ProtoError::Malformed("a 299 reply with status code 0".into()));
    }
    let status = Status::new(fields.code, fields.msg);
    Ok(if fields.cause.is_empty() { status } else { status.cause(fields.cause) })
}

/// Reads the status of a 4xx or 5xx reply (HTTP status codes on): the status JSON when the
/// body is one, else the HTTP code with its reason phrase, as any HTTP server may answer.
pub(super) fn read_http_error(code: u16, reason: &str, body: &[u8]) -> Status {
    match read_status(body) {
        Ok(status) => status,
        Err(_) => Status::new(Code::from(code), reason),
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn put_escaped(b: u8, dst: &mut BytesMut) {
    dst.put_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

/// Appends a path, escaping every byte but the unreserved ones, sub-delimiters, `:`, `@`
/// and `/` (so `%`, `?`, `#`, spaces and non-ASCII are escaped): decoding gives it back.
pub(super) fn put_path(path: &str, dst: &mut BytesMut) {
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            dst.put_u8(b);
        } else {
            put_escaped(b, dst);
        }
    }
}

/// Appends a query as it is but for the bytes a request target cannot hold (spaces,
/// control bytes) and `#`, which are escaped.
pub(super) fn put_query(query: &str, dst: &mut BytesMut) {
    for b in query.bytes() {
        if b <= b' ' || b == 0x7F || b == b'#' {
            put_escaped(b, dst);
        } else {
            dst.put_u8(b);
        }
    }
}

/// Percent-decodes a path (`+` stays a plus).
pub(super) fn decode_path(path: &[u8]) -> Result<String, ProtoError> {
    let mut out = Vec::with_capacity(path.len());
    let mut rest = path;
    while let Some((&b, tail)) = rest.split_first() {
        if b != b'%' {
            out.push(b);
            rest = tail;
            continue;
        }
        let byte = match tail {
            [hi, lo, ..] => (char::from(*hi).to_digit(16)).zip(char::from(*lo).to_digit(16)),
            _ => None,
        };
        let (hi, lo) = byte.ok_or_else(|| ProtoError::Malformed("bad percent-escape".into()))?;
        let byte = (hi << 4 | lo) as u8;
        out.push(byte);
        rest = &tail[2..];
    }
    String::from_utf8(out).map_err(|_| ProtoError::ServiceMethodNotUtf8)
}

/// Splits a whole URL (`http://host/path`, `https://...`, scheme in any case) into its
/// authority and the rest; `None` for anything else.
pub(super) fn split_url(target: &str) -> Option<(&str, &str)> {
    let after = ["http://", "https://"].iter().find_map(|scheme| {
        let head = target.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme).then(|| &target[scheme.len()..])
    })?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    Some(after.split_at(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_both_ways() {
        assert_eq!(content_type(b'j').unwrap(), Some("application/json;charset=utf-8"));
        assert_eq!(content_type(0).unwrap(), None);
        assert!(matches!(content_type(b'q'), Err(ProtoError::Unsupported { .. })));
        assert_eq!(codec_of(b"application/json"), b'j');
        assert_eq!(codec_of(b" Application/JSON ; charset=utf-8"), b'j');
        assert_eq!(codec_of(b"text/plain;charset=utf-8"), b's');
        assert_eq!(codec_of(b"application/octet-stream"), 0);
        assert_eq!(codec_of(b""), 0);
    }

    #[test]
    fn accept_and_connection_tokens() {
        assert_eq!(accepted_codec(b"text/html, application/json;q=0.9"), Some(b'j'));
        assert_eq!(accepted_codec(b"*/*"), None);
        assert_eq!(accepted_codec(b""), None);
        assert!(has_token(b"keep-alive, Close", "close"));
        assert!(!has_token(b"closed", "close"));
    }

    #[test]
    fn error_codes_map_to_http() {
        assert_eq!(http_status(404), (404, "Not Found"));
        assert_eq!(http_status(408), (504, "Gateway Timeout"));
        assert_eq!(http_status(503), (503, "Service Unavailable"));
        assert_eq!(http_status(105), (502, "Bad Gateway"));
        assert_eq!(http_status(1001), (500, "Internal Server Error"));
        assert_eq!(http_status(-1), (500, "Internal Server Error"));
        assert_eq!(http_status(418), (418, "Client Error"));
        assert_eq!(read_http_error(404, "Not Found", b"<html>"), Status::new(404, "Not Found"));
    }

    #[test]
    fn framing_names_in_any_case() {
        assert_eq!(Framing::of("x-seq"), Some(Framing::XSeq));
        assert_eq!(Framing::of("CONTENT-LENGTH"), Some(Framing::ContentLength));
        assert_eq!(Framing::of("Host"), None);
        assert_eq!(Framing::XContentEncoding.name(), "X-Content-Encoding");
    }

    #[test]
    fn status_json_is_gos() {
        let mut dst = BytesMut::new();
        put_status(&Status::new(1, "test error").cause("this is test:110"), &mut dst).unwrap();
        assert_eq!(&dst[..], br#"{"code":1,"msg":"test error","cause":"this is test:110"}"#);
        assert_eq!(
            read_status(&dst).unwrap(),
            Status::new(1, "test error").cause("this is test:110")
        );
        dst.clear();
        put_status(&Status::new(404, ""), &mut dst).unwrap();
        assert_eq!(&dst[..], br#"{"code":404,"msg":"","cause":""}"#);
        assert_eq!(read_status(&dst).unwrap(), Status::new(404, ""));
        assert_eq!(read_status(br#"{"code":7,"x":[1]}"#).unwrap(), Status::new(7, ""));
        assert!(matches!(read_status(br#"{"code":0}"#), Err(ProtoError::Malformed(_))));
        assert!(matches!(read_status(b"{}"), Err(ProtoError::Malformed(_))));
        assert!(matches!(read_status(br#"{"code":1e99}"#), Err(ProtoError::Malformed(_))));
    }

    #[test]
    fn paths_round_trip() {
        for path in ["/math/add", "/a b/%41/?#/é", "/", "", "/a+b;c=d@e:f"] {
            let mut dst = BytesMut::new();
            put_path(path, &mut dst);
            assert!(dst.iter().all(|b| b.is_ascii_graphic()), "{dst:?}");
            assert_eq!(decode_path(&dst).unwrap(), path);
        }
        assert_eq!(decode_path(b"/a%2fb+c").unwrap(), "/a/b+c");
        assert!(matches!(decode_path(b"/%4"), Err(ProtoError::Malformed(_))));
        assert!(matches!(decode_path(b"/%+1"), Err(ProtoError::Malformed(_))));
        assert_eq!(decode_path(b"/%FF"), Err(ProtoError::ServiceMethodNotUtf8));
    }

    #[test]
    fn urls_split() {
        assert_eq!(split_url("http://h:1/a?b"), Some(("h:1", "/a?b")));
        assert_eq!(split_url("HTTPS://h?b"), Some(("h", "?b")));
        assert_eq!(split_url("http://h"), Some(("h", "")));
        assert_eq!(split_url("/a"), None);
        assert_eq!(split_url("ftp://h/a"), None);
    }
}
