//! The gzip filter: each payload becomes one complete gzip member, as Go eRPC v6 writes it.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::Compression;
use flate2::bufread::GzDecoder;
use flate2::write::GzEncoder;

use super::{XferError, XferFilter};

/// Gzip compression of the payload.
///
/// Unpacking stops with [`XferError::TooLarge`] as soon as the output would pass the limit,
/// so a small frame cannot expand into a huge allocation. A payload is exactly one gzip
/// member, as Go writes it: bytes after the member (a second member, or anything else) are
/// [`XferError::Corrupt`], never silently dropped.
#[derive(Clone, Debug)]
pub struct Gzip {
    id: u8,
    level: u32,
}

impl Gzip {
    /// A gzip filter under `id` (conventionally `b'g'`) at compression `level` (0–9;
    /// larger values are treated as 9).
    pub fn new(id: u8, level: u32) -> Self {
        Gzip { id, level: level.min(9) }
    }
}

impl XferFilter for Gzip {
    fn id(&self) -> u8 {
        self.id
    }

    fn name(&self) -> &'static str {
        "gzip"
    }

    fn pack(&self, src: Bytes) -> Result<Bytes, XferError> {
        let mut encoder =
            GzEncoder::new(Vec::with_capacity(src.len() / 2 + 32), Compression::new(self.level));
        let corrupt =
            |e: std::io::Error| XferError::Corrupt { filter: "gzip", reason: e.to_string() };
        encoder.write_all(&src).map_err(corrupt)?;
        encoder.finish().map(Bytes::from).map_err(corrupt)
    }

    fn unpack(&self, src: Bytes, max_len: usize) -> Result<Bytes, XferError> {
        let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
        let mut out = Vec::with_capacity(src.len().saturating_mul(2).min(max_len));
        // Read from the slice itself, so that what the member leaves unread stays in it.
        let mut decoder = GzDecoder::new(&src[..]);
        (&mut decoder).take(limit).read_to_end(&mut out).map_err(|e| corrupt(e.to_string()))?;
        if out.len() > max_len {
            return Err(XferError::TooLarge { max: max_len });
        }
        match decoder.into_inner() {
            [] => Ok(out.into()),
            [0x1F, 0x8B, ..] => Err(corrupt("a second gzip member follows the first".into())),
            rest => Err(corrupt(format!("trailing bytes after the gzip member: {}", rest.len()))),
        }
    }
}

fn corrupt(reason: String) -> XferError {
    XferError::Corrupt { filter: "gzip", reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let gz = Gzip::new(b'g', 5);
        let data = Bytes::from(vec![7u8; 10_000]);
        let packed = gz.pack(data.clone()).unwrap();
        assert!(packed.len() < 200);
        assert_eq!(gz.unpack(packed, 10_000).unwrap(), data);
    }

    #[test]
    fn bomb_is_refused_at_the_limit() {
        let gz = Gzip::new(b'g', 9);
        let packed = gz.pack(Bytes::from(vec![0u8; 10 << 20])).unwrap();
        assert!(packed.len() < 64 << 10);
        assert_eq!(gz.unpack(packed, 4 << 20), Err(XferError::TooLarge { max: 4 << 20 }));
    }

    #[test]
    fn bytes_after_the_member_are_corrupt() {
        let gz = Gzip::new(b'g', 5);
        let member = gz.pack(Bytes::from_static(b"first")).unwrap();
        let corrupt = |reason: &str| XferError::Corrupt { filter: "gzip", reason: reason.into() };
        let trailing = Bytes::from([&member[..], b"junk"].concat());
        assert_eq!(
            gz.unpack(trailing, 1024),
            Err(corrupt("trailing bytes after the gzip member: 4"))
        );
        let zeros = Bytes::from([&member[..], &[0]].concat());
        assert_eq!(gz.unpack(zeros, 1024), Err(corrupt("trailing bytes after the gzip member: 1")));
        let second = gz.pack(Bytes::from_static(b"second")).unwrap();
        let two = Bytes::from([&member[..], &second[..]].concat());
        let err = corrupt("a second gzip member follows the first");
        assert_eq!(gz.unpack(two, 1024), Err(err));
        assert_eq!(gz.unpack(member, 1024).unwrap(), &b"first"[..]);
    }

    #[test]
    fn garbage_is_corrupt() {
        let gz = Gzip::new(b'g', 5);
        let err = gz.unpack(Bytes::from_static(b"not gzip at all"), 1024).unwrap_err();
        assert!(matches!(err, XferError::Corrupt { filter: "gzip", .. }));
    }
}
