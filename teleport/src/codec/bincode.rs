//! The bincode codec (`b`): bincode 2 with its standard configuration. Go eRPC has no
//! bincode codec, so only Rust peers understand it.

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CodecError;

/// Bodies never exceed the frame limit, so neither may what bincode decodes.
const LIMIT: usize = crate::proto::DEFAULT_MAX_FRAME;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<LIMIT>()
}

pub(super) fn encode<T: Serialize + ?Sized>(
    value: &T,
    dst: &mut BytesMut,
) -> Result<(), CodecError> {
    bincode::serde::encode_into_std_write(value, &mut dst.writer(), config())
        .map(drop)
        .map_err(|e| CodecError::encode("bincode", e))
}

pub(super) fn decode<T: DeserializeOwned>(src: &[u8]) -> Result<T, CodecError> {
    let (value, used) = bincode::serde::decode_from_slice(src, config())
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
        assert_eq!(decode::<(u32, String)>(&buf).unwrap(), (1, "x".to_string()));
        assert!(decode::<(u32, String)>(&buf[..1]).is_err());
        // A length that claims far more elements than there are bytes is an error, not an
        // allocation.
        assert!(decode::<Vec<u64>>(&[0xfc, 0xff, 0xff, 0xff, 0x7f]).is_err());
    }
}
