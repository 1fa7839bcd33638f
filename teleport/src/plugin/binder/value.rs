//! What the rules know how to measure: zero values, lengths, numbers and text.

use std::collections::{BTreeMap, HashMap};

/// A value that can be zero or empty (the `required` rule).
pub trait Zero {
    /// Whether it is zero, empty, `false` or `None`.
    fn is_zero(&self) -> bool;
}

/// A value with a length (the `len` rule).
pub trait Length {
    /// Its length, or `None` when absent (the rule then passes).
    fn length(&self) -> Option<usize>;
}

/// A number (the `range` rule).
pub trait Number {
    /// The number's type.
    type Num: PartialOrd + Copy;
    /// Its value, or `None` when absent (the rule then passes).
    fn number(&self) -> Option<Self::Num>;
}

/// Text (the `regex` rule).
pub trait Text {
    /// The text, or `None` when absent (the rule then passes).
    fn text(&self) -> Option<&str>;
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl Zero for $t {
            fn is_zero(&self) -> bool {
                *self == (0 as $t)
            }
        }
        impl Number for $t {
            type Num = $t;
            fn number(&self) -> Option<$t> {
                Some(*self)
            }
        }
    )*};
}

numbers!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

impl Zero for bool {
    fn is_zero(&self) -> bool {
        !*self
    }
}

impl Zero for String {
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl Length for String {
    fn length(&self) -> Option<usize> {
        Some(self.chars().count())
    }
}

impl Text for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T> Zero for Vec<T> {
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl<T> Length for Vec<T> {
    fn length(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<K, V, S> Zero for HashMap<K, V, S> {
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V, S> Length for HashMap<K, V, S> {
    fn length(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl<K, V> Zero for BTreeMap<K, V> {
    fn is_zero(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> Length for BTreeMap<K, V> {
    fn length(&self) -> Option<usize> {
        Some(self.len())
    }
}

/// `None` is zero; `Some(v)` is zero when `v` is: a present empty string is still empty.
impl<T: Zero> Zero for Option<T> {
    fn is_zero(&self) -> bool {
        self.as_ref().is_none_or(Zero::is_zero)
    }
}

impl<T: Length> Length for Option<T> {
    fn length(&self) -> Option<usize> {
        self.as_ref()?.length()
    }
}

impl<T: Number> Number for Option<T> {
    type Num = T::Num;
    fn number(&self) -> Option<T::Num> {
        self.as_ref()?.number()
    }
}

impl<T: Text> Text for Option<T> {
    fn text(&self) -> Option<&str> {
        self.as_ref()?.text()
    }
}
