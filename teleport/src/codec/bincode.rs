//! The bincode codec (`b`): bincode 2 with its standard configuration. Go eRPC has no
//! bincode codec, so only Rust peers understand it.

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CodecError;

use bincode::config::{Config, standard};

/// Encodes without a limit of its own: the protocol refuses a body over its frame limit.
pub(super) fn encode<T: Serialize + ?Sized>(
    value: &T,
    dst: &mut BytesMut,
) -> Result<(), CodecError> {
    bincode::serde::encode_into_std_write(value, &mut dst.writer(), standard())
        .map(drop)
        .map_err(|e| CodecError::encode("bincode", e))
}

/// Decodes, allocating at most about `limit` bytes for the lengths the body claims (the
/// caller's frame limit). Bincode takes its limit as a constant: `limit` is rounded up to
/// the next of 4, 16, 64 and 256 MiB, 1 and 4 GiB.
pub(super) fn decode<T: DeserializeOwned>(src: &[u8], limit: usize) -> Result<T, CodecError> {
    macro_rules! first_fit {
        ($($mib:literal),*) => {
            $(if limit <= $mib << 20 {
                return decode_with(src, standard().with_limit::<{ $mib << 20 }>());
            })*
        };
    }
    first_fit!(4, 16, 64, 256, 1024);
    decode_with(src, standard().with_limit::<{ u32::MAX as usize }>())
}

fn decode_with<T: DeserializeOwned>(src: &[u8], config: impl Config) -> Result<T, CodecError> {
    let (value, used) = bincode::serde::decode_from_slice(src, config)
        .map_err(|e| CodecError::decode("bincode", e))?;
    if used != src.len() {
        return Err(CodecError::decode("bincode", format!("{} trailing bytes", src.len() - used)));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let mut buf = BytesMut::new();
        encode(&(1u32, "x".to_string()), &mut buf).unwrap();
        assert_eq!(decode::<(u32, String)>(&buf, LIMIT).unwrap(), (1, "x".to_string()));
        assert!(decode::<(u32, String)>(&buf[..1], LIMIT).is_err());
        // A length that claims far more elements than there are bytes is an error, not an
        // allocation.
        assert!(decode::<Vec<u64>>(&[0xfc, 0xff, 0xff, 0xff, 0x7f], LIMIT).is_err());
    }

    const LIMIT: usize = 4 << 20;

    #[test]
    fn the_limit_is_the_callers() {
        let mut buf = BytesMut::new();
        let big = vec![7u8; 5 << 20];
        encode(&big, &mut buf).unwrap();
        assert!(decode::<Vec<u8>>(&buf, LIMIT).is_err());
        assert_eq!(decode::<Vec<u8>>(&buf, 8 << 20).unwrap(), big);
    }
}
