//! [`Meta`]: the ordered key/value pairs that travel with a message.

use bytes::BufMut;

use crate::urlenc::{self, MetaError};

/// Metadata of a message: an ordered, case-sensitive multi-map of text keys and values.
///
/// Keys may repeat; order is kept as added. On the wire it is written `k=v&k2=v2` with
/// percent-encoded keys and values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Meta {
    pairs: Vec<(String, String)>,
}

impl Meta {
    /// An empty meta.
    pub const fn new() -> Self {
        Meta { pairs: Vec::new() }
    }

    /// Appends a pair, keeping any earlier value of the key.
    pub fn add(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.pairs.push((key.into(), value.into()));
        self
    }

    /// Replaces the first value of `key`, or appends the pair when the key is absent.
    /// Later values of the same key are left alone.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let key = key.into();
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value.into(),
            None => self.pairs.push((key, value.into())),
        }
        self
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Removes every value of `key`, returning how many were removed.
    pub fn remove(&mut self, key: &str) -> usize {
        let before = self.pairs.len();
        self.pairs.retain(|(k, _)| k != key);
        before - self.pairs.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// All pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Appends every pair of `other`.
    pub fn extend_from(&mut self, other: &Meta) {
        self.pairs.extend(other.pairs.iter().cloned());
    }

    /// Writes `k=v&k2=v2`, percent-encoded.
    pub fn encode_into(&self, dst: &mut impl BufMut) {
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                dst.put_u8(b'&');
            }
            urlenc::encode_into(k.as_bytes(), dst);
            dst.put_u8(b'=');
            urlenc::encode_into(v.as_bytes(), dst);
        }
    }

    /// Reads what [`Meta::encode_into`] (or Go) wrote.
    pub fn decode(src: &[u8]) -> Result<Meta, MetaError> {
        let mut meta = Meta::new();
        for (k, v) in urlenc::pairs(src) {
            meta.pairs.push((urlenc::decode(k)?, urlenc::decode(v)?));
        }
        Ok(meta)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Meta {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Meta { pairs: iter.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_set_get_remove() {
        let mut meta = Meta::new();
        meta.add("a", "1").add("A", "2").add("a", "3");
        assert_eq!(meta.get("a"), Some("1"));
        assert_eq!(meta.get("A"), Some("2"));
        assert_eq!(meta.get_all("a").collect::<Vec<_>>(), ["1", "3"]);
        meta.set("a", "x");
        assert_eq!(meta.get_all("a").collect::<Vec<_>>(), ["x", "3"]);
        meta.set("b", "y");
        assert_eq!(meta.iter().last(), Some(("b", "y")));
        assert_eq!(meta.remove("a"), 2);
        assert_eq!(meta.get("a"), None);
        assert_eq!(meta.len(), 2);
    }

    #[test]
    fn round_trips_with_repeats_and_escapes() {
        let meta: Meta = [("k", "a b"), ("k", "&="), ("x y", "")].into_iter().collect();
        let mut out = Vec::new();
        meta.encode_into(&mut out);
        assert_eq!(out, b"k=a%20b&k=%26%3D&x%20y=");
        assert_eq!(Meta::decode(&out).unwrap(), meta);
    }
}
