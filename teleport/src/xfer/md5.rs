//! The md5 filter: appends a digest of the payload and checks it on the way in.

use bytes::{Bytes, BytesMut};
use md5::{Digest, Md5 as Hasher};

use super::{XferError, XferFilter};

const DIGEST_LEN: usize = 16;

/// Appends the 16-byte MD5 digest of the payload; unpacking verifies and strips it.
///
/// This detects corruption, not tampering: anyone can recompute an MD5.
#[derive(Clone, Debug)]
pub struct Md5 {
    id: u8,
}

impl Md5 {
    /// An md5 filter under `id` (conventionally `b'm'`).
    pub fn new(id: u8) -> Self {
        Md5 { id }
    }
}

impl XferFilter for Md5 {
    fn id(&self) -> u8 {
        self.id
    }

    fn name(&self) -> &'static str {
        "md5"
    }

    fn pack(&self, src: Bytes) -> Result<Bytes, XferError> {
        let mut out = BytesMut::with_capacity(src.len() + DIGEST_LEN);
        out.extend_from_slice(&src);
        out.extend_from_slice(&Hasher::digest(&src));
        Ok(out.freeze())
    }

    fn unpack(&self, src: Bytes, _max_len: usize) -> Result<Bytes, XferError> {
        let Some(split) = src.len().checked_sub(DIGEST_LEN) else {
            return Err(XferError::Corrupt {
                filter: "md5",
                reason: "shorter than a digest".into(),
            });
        };
        if Hasher::digest(&src[..split])[..] != src[split..] {
            return Err(XferError::ChecksumMismatch);
        }
        Ok(src.slice(..split))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let md5 = Md5::new(b'm');
        let packed = md5.pack(Bytes::from_static(b"abc")).unwrap();
        assert_eq!(packed.len(), 3 + 16);
        assert_eq!(md5.unpack(packed.clone(), 0).unwrap(), Bytes::from_static(b"abc"));
        let mut bad = packed.to_vec();
        bad[0] ^= 1;
        assert_eq!(md5.unpack(bad.into(), 0), Err(XferError::ChecksumMismatch));
        assert!(md5.unpack(Bytes::from_static(b"short"), 0).is_err());
    }
}
