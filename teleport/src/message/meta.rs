//! [`Meta`]: the ordered key/value pairs that travel with a message.

use bytes::BufMut;
use smallvec::SmallVec;

use crate::urlenc::{self, MetaError};

/// Metadata of a message: an ordered, case-sensitive multi-map of text keys and values.
///
/// Keys may repeat; order is kept as added. On the wire it is written `k=v&k2=v2` with
/// percent-encoded keys and values.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Meta {
    // Every key and value, one after the other, in one buffer: a meta of a few pairs (the
    // usual one carries the caller's time left) costs one allocation, not two per pair.
    text: String,
    /// Where each pair's key and value end in `text`; a key starts where the value before
    /// it ends.
    ends: SmallVec<[(usize, usize); 2]>,
}

impl Meta {
    /// An empty meta.
    pub const fn new() -> Self {
        Meta { text: String::new(), ends: SmallVec::new_const() }
    }

    /// Appends a pair, keeping any earlier value of the key.
    pub fn add(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.push(&key.into(), &value.into());
        self
    }

    /// Replaces the first value of `key`, or appends the pair when the key is absent.
    /// Later values of the same key are left alone.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.set_str(&key.into(), &value.into());
        self
    }

    /// [`set`](Self::set) without taking ownership: nothing is allocated when the text fits.
    pub(crate) fn set_str(&mut self, key: &str, value: &str) {
        let Some(at) = self.position(key) else {
            self.push(key, value);
            return;
        };
        let (start, end) = (self.ends[at].0, self.ends[at].1);
        self.text.replace_range(start..end, value);
        let grown = value.len().wrapping_sub(end - start);
        self.ends[at].1 = start + value.len();
        for (k, v) in &mut self.ends[at + 1..] {
            *k = k.wrapping_add(grown);
            *v = v.wrapping_add(grown);
        }
    }

    fn push(&mut self, key: &str, value: &str) {
        self.text.reserve(key.len() + value.len());
        self.text.push_str(key);
        let key_end = self.text.len();
        self.text.push_str(value);
        self.ends.push((key_end, self.text.len()));
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position(key).map(|at| self.pair(at).1)
    }

    fn position(&self, key: &str) -> Option<usize> {
        let (text, key) = (self.text.as_bytes(), key.as_bytes());
        let mut start = 0;
        for (at, &(key_end, end)) in self.ends.iter().enumerate() {
            if text.get(start..key_end) == Some(key) {
                return Some(at);
            }
            start = end;
        }
        None
    }

    fn pair(&self, at: usize) -> (&str, &str) {
        let start = at.checked_sub(1).map_or(0, |before| self.ends[before].1);
        let (key_end, end) = self.ends[at];
        (&self.text[start..key_end], &self.text[key_end..end])
    }

    /// Every value of `key`, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.iter().filter(move |(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Removes every value of `key`, returning how many were removed.
    pub fn remove(&mut self, key: &str) -> usize {
        if self.position(key).is_none() {
            return 0;
        }
        let before = self.ends.len();
        let mut kept = Meta::new();
        for (k, v) in self.iter().filter(|(k, _)| *k != key) {
            kept.push(k, v);
        }
        *self = kept;
        before - self.ends.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// All pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.ends.len()).map(|at| self.pair(at))
    }

    /// Appends every pair of `other`.
    pub fn extend_from(&mut self, other: &Meta) {
        for (k, v) in other.iter() {
            self.push(k, v);
        }
    }

    /// Writes `k=v&k2=v2`, percent-encoded.
    pub fn encode_into(&self, dst: &mut impl BufMut) {
        for (i, (k, v)) in self.iter().enumerate() {
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
        if src.is_empty() {
            return Ok(meta);
        }
        // Decoded text is never longer than its encoding.
        meta.text.reserve(src.len());
        for (k, v) in urlenc::pairs(src) {
            urlenc::decode_into(k, &mut meta.text)?;
            let key_end = meta.text.len();
            urlenc::decode_into(v, &mut meta.text)?;
            meta.ends.push((key_end, meta.text.len()));
        }
        Ok(meta)
    }
}

impl std::fmt::Debug for Meta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Meta {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut meta = Meta::new();
        for (k, v) in iter {
            meta.push(&k.into(), &v.into());
        }
        meta
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
        assert_eq!(meta.remove("nothing"), 0);
    }

    #[test]
    fn set_resizes_a_value_in_the_middle() {
        let mut meta: Meta = [("a", "1"), ("b", "22"), ("c", "333")].into_iter().collect();
        meta.set("b", "a longer value");
        assert_eq!(
            meta.iter().collect::<Vec<_>>(),
            [("a", "1"), ("b", "a longer value"), ("c", "333")]
        );
        meta.set("b", "");
        meta.set("a", "x");
        assert_eq!(meta.iter().collect::<Vec<_>>(), [("a", "x"), ("b", ""), ("c", "333")]);
        // The same pairs built another way are equal, and hash the same.
        let same: Meta = [("a", "x"), ("b", ""), ("c", "333")].into_iter().collect();
        assert_eq!(meta, same);
        assert_eq!(format!("{meta:?}"), r#"{"a": "x", "b": "", "c": "333"}"#);
        let mut more = Meta::new();
        more.extend_from(&meta);
        more.extend_from(&meta);
        assert_eq!(more.get_all("c").collect::<Vec<_>>(), ["333", "333"]);
    }

    #[test]
    fn a_bad_pair_fails_the_whole_decode() {
        assert_eq!(Meta::decode(b"a=1&b=%zz"), Err(MetaError::BadEscape));
        assert_eq!(Meta::decode(b"").unwrap(), Meta::new());
        assert_eq!(
            Meta::decode(b"k&=v").unwrap().iter().collect::<Vec<_>>(),
            [("k", ""), ("", "v")]
        );
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
