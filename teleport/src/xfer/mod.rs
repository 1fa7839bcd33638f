//! Transfer filters: transformations of a frame's payload (compression, checksums).
//!
//! A frame names its filters by one-byte ids in its [`XferPipe`]. Packing applies them from
//! the last id to the first; unpacking undoes them from the first to the last. The ids
//! themselves are never transformed. Filters are looked up in an [`XferRegistry`] shared by
//! both ends; an id missing from the registry is an error.

#[cfg(feature = "gzip")]
mod gzip;
#[cfg(feature = "md5")]
mod md5;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

#[cfg(feature = "gzip")]
#[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
pub use gzip::Gzip;
#[cfg(feature = "md5")]
#[cfg_attr(docsrs, doc(cfg(feature = "md5")))]
pub use md5::Md5;

/// Why a filter could not pack or unpack.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XferError {
    /// No filter is registered under this id.
    #[error("unknown transfer filter id {0}")]
    UnknownFilter(u8),
    /// A pipe may hold at most 255 filters.
    #[error("transfer pipe holds more than 255 filters")]
    TooManyFilters,
    /// Unpacking would produce more than the frame limit allows.
    #[error("unpacked payload exceeds {max} bytes")]
    TooLarge {
        /// The limit that was hit.
        max: usize,
    },
    /// The checksum does not match the payload.
    #[error("checksum mismatch")]
    ChecksumMismatch,
    /// The input is not what the filter produces.
    #[error("corrupt {filter} payload: {reason}")]
    Corrupt {
        /// The filter's name.
        filter: &'static str,
        /// What was wrong.
        reason: String,
    },
}

/// One transformation of a frame's payload.
pub trait XferFilter: Send + Sync + 'static {
    /// The id written in the frame's pipe.
    fn id(&self) -> u8;
    /// A name for logs.
    fn name(&self) -> &'static str;
    /// Transforms a payload for sending.
    fn pack(&self, src: Bytes) -> Result<Bytes, XferError>;
    /// Undoes [`XferFilter::pack`]. Must fail with [`XferError::TooLarge`] rather than
    /// produce more than `max_len` bytes.
    fn unpack(&self, src: Bytes, max_len: usize) -> Result<Bytes, XferError>;
}

/// The filters known to a peer, by id.
#[derive(Clone)]
pub struct XferRegistry {
    filters: Vec<Option<Arc<dyn XferFilter>>>,
}

impl XferRegistry {
    /// A registry with no filters.
    pub fn empty() -> Self {
        XferRegistry { filters: vec![None; 256] }
    }

    /// Registers a filter under its id, replacing any filter with the same id.
    pub fn register(&mut self, filter: impl XferFilter) -> &mut Self {
        let id = usize::from(filter.id());
        self.filters[id] = Some(Arc::new(filter));
        self
    }

    /// The filter registered under `id`.
    pub fn get(&self, id: u8) -> Option<&Arc<dyn XferFilter>> {
        self.filters[usize::from(id)].as_ref()
    }

    /// The id of the filter registered under `name`.
    pub fn id_of(&self, name: &str) -> Option<u8> {
        self.filters.iter().flatten().find(|f| f.name() == name).map(|f| f.id())
    }
}

impl Default for XferRegistry {
    /// gzip (`g`, level 5) and md5 (`m`) when their features are on: the ids Go eRPC
    /// programs conventionally register.
    fn default() -> Self {
        #[allow(unused_mut)]
        let mut registry = XferRegistry::empty();
        #[cfg(feature = "gzip")]
        registry.register(Gzip::new(b'g', 5));
        #[cfg(feature = "md5")]
        registry.register(Md5::new(b'm'));
        registry
    }
}

impl fmt::Debug for XferRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.filters.iter().flatten().map(|x| (x.id() as char, x.name())))
            .finish()
    }
}

/// The filter ids of one frame, at most 255.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct XferPipe {
    ids: Vec<u8>,
}

impl XferPipe {
    /// An empty pipe: the payload travels as is.
    pub const fn new() -> Self {
        XferPipe { ids: Vec::new() }
    }

    /// A pipe of the given ids.
    pub fn from_ids(ids: &[u8]) -> Result<Self, XferError> {
        if ids.len() > 255 {
            return Err(XferError::TooManyFilters);
        }
        Ok(XferPipe { ids: ids.to_vec() })
    }

    /// Appends a filter id.
    pub fn push(&mut self, id: u8) -> Result<(), XferError> {
        if self.ids.len() == 255 {
            return Err(XferError::TooManyFilters);
        }
        self.ids.push(id);
        Ok(())
    }

    /// The ids, in pipe order.
    pub fn ids(&self) -> &[u8] {
        &self.ids
    }

    /// Whether the pipe is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The number of filters.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Checks that every id is registered.
    pub fn check(&self, registry: &XferRegistry) -> Result<(), XferError> {
        match self.ids.iter().find(|&&id| registry.get(id).is_none()) {
            Some(&id) => Err(XferError::UnknownFilter(id)),
            None => Ok(()),
        }
    }

    /// Applies the filters from the last to the first.
    pub fn pack(&self, registry: &XferRegistry, mut data: Bytes) -> Result<Bytes, XferError> {
        for &id in self.ids.iter().rev() {
            let filter = registry.get(id).ok_or(XferError::UnknownFilter(id))?;
            data = filter.pack(data)?;
        }
        Ok(data)
    }

    /// Undoes the filters from the first to the last; no stage may exceed `max_len` bytes.
    pub fn unpack(
        &self,
        registry: &XferRegistry,
        mut data: Bytes,
        max_len: usize,
    ) -> Result<Bytes, XferError> {
        self.check(registry)?;
        for &id in &self.ids {
            let filter = registry.get(id).ok_or(XferError::UnknownFilter(id))?;
            data = filter.unpack(data, max_len)?;
        }
        Ok(data)
    }
}

impl fmt::Debug for XferPipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.ids.iter().map(|&id| id as char)).finish()
    }
}

#[cfg(all(test, feature = "gzip", feature = "md5"))]
mod tests {
    use super::*;

    #[test]
    fn pack_runs_last_filter_first() {
        let registry = XferRegistry::default();
        let pipe = XferPipe::from_ids(b"gm").unwrap();
        let plain = Bytes::from_static(b"hello hello hello hello");
        let packed = pipe.pack(&registry, plain.clone()).unwrap();
        // The outer layer is gzip, so gunzip alone gives the payload plus its digest.
        let inner = registry.get(b'g').unwrap().unpack(packed.clone(), 1 << 20).unwrap();
        assert_eq!(inner.len(), plain.len() + 16);
        assert_eq!(&inner[..plain.len()], &plain[..]);
        assert_eq!(pipe.unpack(&registry, packed, 1 << 20).unwrap(), plain);
    }

    #[test]
    fn unknown_ids_and_long_pipes_are_errors() {
        let registry = XferRegistry::default();
        let pipe = XferPipe::from_ids(b"z").unwrap();
        assert_eq!(pipe.unpack(&registry, Bytes::new(), 10), Err(XferError::UnknownFilter(b'z')));
        assert_eq!(XferPipe::from_ids(&[b'm'; 256]), Err(XferError::TooManyFilters));
        let mut full = XferPipe::from_ids(&[b'm'; 255]).unwrap();
        assert_eq!(full.push(b'm'), Err(XferError::TooManyFilters));
    }

    #[test]
    fn registry_finds_by_name() {
        let registry = XferRegistry::default();
        assert_eq!(registry.id_of("gzip"), Some(b'g'));
        assert_eq!(registry.id_of("md5"), Some(b'm'));
        assert_eq!(registry.id_of("zstd"), None);
    }
}
