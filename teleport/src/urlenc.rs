//! Percent-encoding of status and meta values, as Go eRPC v6 writes them.
//!
//! Kept as is: `A-Z a-z 0-9 * - . _`. Every other byte becomes `%XX` with upper-case hex
//! (a space is `%20`). Decoding also accepts `+` for a space.
//!
//! Below both [`Meta`](crate::Meta) and [`Status`](crate::Status), which write their text
//! with it.

use bytes::BufMut;

/// A status or meta text that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// A `%` not followed by two hex digits.
    #[error("bad percent-escape")]
    BadEscape,
    /// The decoded text is not UTF-8.
    #[error("text is not utf-8")]
    NotUtf8,
    /// The status code is not a number.
    #[error("bad status code {0:?}")]
    BadCode(String),
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

/// Appends the percent-encoding of `src` to `dst`.
pub(crate) fn encode_into(mut src: &[u8], dst: &mut impl BufMut) {
    // Runs of bytes kept as they are go out whole: most keys and values are one such run.
    while !src.is_empty() {
        let kept = src.iter().position(|&b| !is_unreserved(b)).unwrap_or(src.len());
        dst.put_slice(&src[..kept]);
        let Some((&b, rest)) = src[kept..].split_first() else { break };
        dst.put_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        src = rest;
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one percent-encoded value into text.
pub(crate) fn decode(src: &[u8]) -> Result<String, MetaError> {
    let mut text = String::new();
    decode_into(src, &mut text)?;
    Ok(text)
}

/// Decodes one percent-encoded value and appends it to `dst` (left as it was on error).
pub(crate) fn decode_into(src: &[u8], dst: &mut String) -> Result<(), MetaError> {
    if src.iter().all(|&b| b != b'%' && b != b'+') {
        dst.push_str(std::str::from_utf8(src).map_err(|_| MetaError::NotUtf8)?);
        return Ok(());
    }
    let mut out = Vec::with_capacity(src.len());
    let mut i = 0;
    while let Some(&b) = src.get(i) {
        match b {
            b'%' => {
                let hi = src.get(i + 1).copied().and_then(hex_value);
                let lo = src.get(i + 2).copied().and_then(hex_value);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(MetaError::BadEscape);
                };
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    dst.push_str(std::str::from_utf8(&out).map_err(|_| MetaError::NotUtf8)?);
    Ok(())
}

/// Splits `k=v&k2=v2` into raw (still encoded) key and value slices. Empty pieces are
/// skipped; a piece without `=` has an empty value.
pub(crate) fn pairs(src: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    src.split(|&b| b == b'&').filter(|piece| !piece.is_empty()).map(|piece| {
        match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &piece[piece.len()..]),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        let mut out = Vec::new();
        encode_into(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn keeps_only_the_unreserved_set() {
        assert_eq!(enc("aZ09*-._"), "aZ09*-._");
        assert_eq!(enc("a b~'\\/"), "a%20b%7E%27%5C%2F");
        assert_eq!(enc("许"), "%E8%AE%B8");
    }

    #[test]
    fn decodes_plus_and_escapes() {
        assert_eq!(decode(b"a+b%20c%e8%ae%b8").unwrap(), "a b c许");
    }

    #[test]
    fn rejects_bad_escapes_and_bad_utf8() {
        assert_eq!(decode(b"%4"), Err(MetaError::BadEscape));
        assert_eq!(decode(b"%zz"), Err(MetaError::BadEscape));
        assert_eq!(decode(b"%FF"), Err(MetaError::NotUtf8));
    }

    #[test]
    fn splits_pairs() {
        let got: Vec<_> = pairs(b"a=1&&b&c=x=y").collect();
        assert_eq!(got, vec![(&b"a"[..], &b"1"[..]), (b"b", b""), (b"c", b"x=y")]);
    }
}
