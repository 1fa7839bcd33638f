//! Reading a json payload: the header members strictly, one at a time, and the body string
//! as Go's reader (gjson) reads it, so that a frame written by Go gives Go's body bytes.
//!
//! Go writes the body between quotes escaping only `"`, so its body string need not be JSON:
//! a backslash before a `"` of the body makes the string end early, a backslash at the end
//! of the body makes it never end, and escapes of its own are undone. Go's reader ends the
//! string at the first `"` after an even run of backslashes; when the string holds no
//! backslash, its bytes are the body as they are; otherwise it is unescaped, stopping at the
//! first raw control byte, unknown escape or short `\u` escape. Ours does the same.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::Seq;
use crate::message::MessageType;
use crate::proto::ProtoError;
use crate::proto::frame::Heard;

/// The members of a payload, each once at most.
#[derive(Default)]
pub(super) struct Members<'a> {
    pub(super) seq: Option<Result<i32, ProtoError>>,
    pub(super) mtype: Option<u8>,
    pub(super) service_method: Option<Cow<'a, str>>,
    pub(super) status: Option<Cow<'a, str>>,
    pub(super) meta: Option<Cow<'a, str>>,
    pub(super) body_codec: Option<u8>,
    pub(super) body: Option<Bytes>,
}

/// Reads the members of `payload`, noting the seq and type in `heard` as soon as they are
/// read. Members it does not know are skipped (but must be JSON).
pub(super) fn members<'a>(
    payload: &'a Bytes,
    heard: &mut Heard,
) -> Result<Members<'a>, ProtoError> {
    let p: &'a [u8] = payload;
    let mut members = Members::default();
    let mut at = skip_ws(p, 0);
    if p.get(at) != Some(&b'{') {
        return Err(malformed("the payload is not a JSON object"));
    }
    at = skip_ws(p, at + 1);
    if p.get(at) == Some(&b'}') {
        return only_ws(p, at + 1).map(|()| members);
    }
    loop {
        let (name, next) = value::<Cow<'a, str>>(p, at, "member name")?;
        at = skip_ws(p, next);
        if p.get(at) != Some(&b':') {
            return Err(malformed(format!("no ':' after the member name {name:?}")));
        }
        at = skip_ws(p, at + 1);
        let is_body = name == "body";
        at = match &*name {
            "body" => match read_body(payload, at, &mut members)? {
                Some(next) => next,
                // The string never ends (Go writes a body ending in a backslash so): Go's
                // reader finds no body, and reads it as empty.
                None => return go_layout(p).map(|()| members),
            },
            "seq" => {
                let (seq, next) = value::<Seq>(p, at, "seq")?;
                heard.seq = seq.0.as_ref().ok().copied();
                once(&mut members.seq, seq.0, "seq")?;
                next
            }
            "mtype" => {
                let (mtype, next) = value::<u8>(p, at, "mtype")?;
                heard.mtype = MessageType::from_u8(mtype);
                once(&mut members.mtype, mtype, "mtype")?;
                next
            }
            "serviceMethod" => text(p, at, &mut members.service_method, "serviceMethod")?,
            "status" => text(p, at, &mut members.status, "status")?,
            "meta" => text(p, at, &mut members.meta, "meta")?,
            "bodyCodec" => {
                let (codec, next) = value::<u8>(p, at, "bodyCodec")?;
                once(&mut members.body_codec, codec, "bodyCodec")?;
                next
            }
            _ => value::<IgnoredAny>(p, at, &name)?.1,
        };
        at = skip_ws(p, at);
        match p.get(at) {
            Some(b',') => at = skip_ws(p, at + 1),
            Some(b'}') if only_ws(p, at + 1).is_ok() => return Ok(members),
            // Go's reader took the body string to end at a `"` that the body held.
            _ if is_body => return go_layout(p).map(|()| members),
            _ => return Err(malformed(format!("no ',' or '}}' after the member {name:?}"))),
        }
    }
}

/// Reads the body string that starts at `at` into `members`; returns where it ends, or
/// `None` when it never does (the body is then empty).
fn read_body(
    payload: &Bytes,
    at: usize,
    members: &mut Members<'_>,
) -> Result<Option<usize>, ProtoError> {
    if payload.get(at) != Some(&b'"') {
        return Err(malformed("json: body: not a string"));
    }
    let start = at + 1;
    let (body, next) = match string_end(payload, start) {
        Some((end, false)) => (payload.slice(start..end), Some(end + 1)),
        Some((end, true)) => (Bytes::from(unescape(&payload[start..end])), Some(end + 1)),
        None => (Bytes::new(), None),
    };
    once(&mut members.body, body, "body")?;
    Ok(next)
}

/// Whether the payload ends as Go's writer ends it, `"}`, which lets the body string end
/// where Go's reader ends it, with what follows ignored.
fn go_layout(p: &[u8]) -> Result<(), ProtoError> {
    let end = p.iter().rposition(|b| !is_ws(*b)).map_or(0, |last| last + 1);
    if p[..end].ends_with(b"\"}") {
        Ok(())
    } else {
        Err(malformed("the body string is not followed by the end of the object"))
    }
}

/// Where the string starting at `start` ends, as Go's reader finds it: the first `"` not
/// after an odd run of backslashes; and whether the string holds a backslash.
fn string_end(p: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    let mut run = 0usize;
    for (i, &b) in p.iter().enumerate().skip(start) {
        match b {
            b'"' if run % 2 == 0 => return Some((i, escaped)),
            b'\\' => {
                escaped = true;
                run += 1;
                continue;
            }
            _ => {}
        }
        run = 0;
    }
    None
}

/// Undoes the escapes of a body string as Go's reader does: it stops at a raw control byte,
/// an unknown escape or a cut `\u` escape; a `\u` escape with bad hex digits is U+0000, and
/// a surrogate that does not pair is U+FFFD.
fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        i += 1;
        if b < b' ' {
            break;
        }
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let byte = match raw.get(i) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0C,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let Some(code) = raw.get(i + 1..i + 5).map(hex4) else { break };
                i += 5;
                let (c, used) = utf16(code, raw.get(i..i + 6));
                i += used;
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                continue;
            }
            _ => break,
        };
        out.push(byte);
        i += 1;
    }
    out
}

/// The character of a `\u` escape's code, pairing a surrogate with the `\uXXXX` in `next`
/// when there is one; and how many bytes of `next` that took.
fn utf16(code: u32, next: Option<&[u8]>) -> (char, usize) {
    const REPLACEMENT: char = char::REPLACEMENT_CHARACTER;
    if !(0xD800..0xE000).contains(&code) {
        return (char::from_u32(code).unwrap_or(REPLACEMENT), 0);
    }
    let Some(next) = next.filter(|next| next.starts_with(b"\\u")) else {
        return (REPLACEMENT, 0);
    };
    let low = hex4(&next[2..]);
    let paired = (0xD800..0xDC00).contains(&code) && (0xDC00..0xE000).contains(&low);
    let c = paired.then(|| 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00));
    (c.and_then(char::from_u32).unwrap_or(REPLACEMENT), 6)
}

/// Four hex digits, or 0 when they are not (as Go's reader takes them).
fn hex4(digits: &[u8]) -> u32 {
    digits.iter().try_fold(0u32, |n, &d| Some(n << 4 | (d as char).to_digit(16)?)).unwrap_or(0)
}

/// Reads one JSON value of type `T` at `at`; returns it and where it ends.
fn value<'a, T: Deserialize<'a>>(
    p: &'a [u8],
    at: usize,
    member: &str,
) -> Result<(T, usize), ProtoError> {
    let rest = p.get(at..).unwrap_or_default();
    let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, at + stream.byte_offset())),
        Some(Err(e)) => Err(malformed(format!("json: {member}: {e}"))),
        None => Err(malformed(format!("json: {member}: the payload ends"))),
    }
}

/// Reads a string member into `slot`.
fn text<'a>(
    p: &'a [u8],
    at: usize,
    slot: &mut Option<Cow<'a, str>>,
    member: &str,
) -> Result<usize, ProtoError> {
    let (text, next) = value::<Cow<'a, str>>(p, at, member)?;
    once(slot, text, member)?;
    Ok(next)
}

fn once<T>(slot: &mut Option<T>, value: T, member: &str) -> Result<(), ProtoError> {
    match slot.replace(value) {
        Some(_) => Err(malformed(format!("json: the member {member:?} appears twice"))),
        None => Ok(()),
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(p: &[u8], mut at: usize) -> usize {
    while p.get(at).is_some_and(|&b| is_ws(b)) {
        at += 1;
    }
    at
}

fn only_ws(p: &[u8], at: usize) -> Result<(), ProtoError> {
    match p.get(at..).unwrap_or_default().iter().all(|&b| is_ws(b)) {
        true => Ok(()),
        false => Err(malformed("bytes after the JSON object")),
    }
}

fn malformed(what: impl Into<String>) -> ProtoError {
    ProtoError::Malformed(what.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body Go's reader gets from the body string `raw` (between its quotes) and what
    /// follows it in Go's layout.
    fn go_reads(raw: &[u8]) -> Vec<u8> {
        let payload = [&br#"{"seq":1,"mtype":1,"body":""#[..], raw, b"\"}"].concat();
        let payload = Bytes::from(payload);
        let members = members(&payload, &mut Heard::default()).unwrap();
        members.body.unwrap().to_vec()
    }

    #[test]
    fn a_body_without_backslashes_is_taken_as_it_is() {
        assert_eq!(go_reads(b"a\tb\n\x00\x7f\xff\xc3("), b"a\tb\n\x00\x7f\xff\xc3(");
        assert_eq!(go_reads("许/<>".as_bytes()), "许/<>".as_bytes());
    }

    #[test]
    fn escapes_are_undone_as_go_undoes_them() {
        assert_eq!(go_reads(br#"\"a\tb\"\\\/\b\f\n\r"#), b"\"a\tb\"\\/\x08\x0c\n\r");
        assert_eq!(go_reads(br"\u00e9\u0041\u00FF"), "éAÿ".as_bytes());
        assert_eq!(go_reads(br"\ud83d\ude00x"), "😀x".as_bytes());
        // Bytes that are not UTF-8 stay as they are.
        assert_eq!(go_reads(b"\\n\xff\xfe"), b"\n\xff\xfe");
    }

    #[test]
    fn go_stops_unescaping_at_what_it_cannot_read() {
        // A raw control byte, once the string holds a backslash.
        assert_eq!(go_reads(b"\\ta\tb"), b"\ta");
        // An unknown escape, and a \u cut short.
        assert_eq!(go_reads(br"a\qb"), b"a");
        assert_eq!(go_reads(br"a\u12"), b"a");
        // Bad hex digits read as U+0000; a lone or badly paired surrogate as U+FFFD.
        assert_eq!(go_reads(br"a\u00zzb"), b"a\0b");
        assert_eq!(go_reads(br"\ud83dx"), "\u{fffd}x".as_bytes());
        assert_eq!(go_reads(br"\ude00x"), "\u{fffd}x".as_bytes());
        // A surrogate takes the `\u` escape after it, paired or not.
        assert_eq!(go_reads(br"\ude00\ud83d"), "\u{fffd}".as_bytes());
        assert_eq!(go_reads(br"\ud83d\u0041"), "\u{fffd}".as_bytes());
    }

    #[test]
    fn a_backslash_before_a_quote_of_the_body_ends_the_string_early() {
        // Go writes the body `a\"b` (4 bytes) as `a\\"b`: its reader gets `a\`.
        assert_eq!(go_reads(br#"a\\"b"#), b"a\\");
        // Go writes the body `a\` as `a\`: the string never ends, and the body is empty.
        assert_eq!(go_reads(br"a\"), b"");
    }

    #[test]
    fn string_ends_after_even_runs_of_backslashes() {
        assert_eq!(string_end(br#"ab"c"#, 0), Some((2, false)));
        assert_eq!(string_end(br#"a\"b"c"#, 0), Some((4, true)));
        assert_eq!(string_end(br#"a\\"b"#, 0), Some((3, true)));
        assert_eq!(string_end(br#"a\\\"b"#, 0), None);
        assert_eq!(string_end(b"", 0), None);
    }
}
