//! A typed store of per-session values.

use std::any::{Any, TypeId};
use std::collections::HashMap;

use parking_lot::Mutex;

/// Values attached to a session, one per type (for example the authenticated user).
#[derive(Default)]
pub struct Store {
    values: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl Store {
    /// Stores `value`, returning the previous value of its type.
    pub fn insert<T: Any + Send + Sync>(&self, value: T) -> Option<T> {
        let old = self.values.lock().insert(TypeId::of::<T>(), Box::new(value));
        old.and_then(|b| b.downcast().ok()).map(|b| *b)
    }

    /// A clone of the value of type `T`.
    pub fn get<T: Any + Send + Sync + Clone>(&self) -> Option<T> {
        self.values.lock().get(&TypeId::of::<T>()).and_then(|b| b.downcast_ref::<T>()).cloned()
    }

    /// Runs `f` on the value of type `T`, in place.
    pub fn with<T: Any + Send + Sync, R>(&self, f: impl FnOnce(Option<&mut T>) -> R) -> R {
        let mut values = self.values.lock();
        f(values.get_mut(&TypeId::of::<T>()).and_then(|b| b.downcast_mut::<T>()))
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: Any + Send + Sync>(&self) -> Option<T> {
        let old = self.values.lock().remove(&TypeId::of::<T>());
        old.and_then(|b| b.downcast().ok()).map(|b| *b)
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("len", &self.values.lock().len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_per_type() {
        let store = Store::default();
        assert_eq!(store.insert(1u32), None);
        assert_eq!(store.insert(2u32), Some(1));
        store.insert("user".to_string());
        assert_eq!(store.get::<u32>(), Some(2));
        store.with::<u32, _>(|v| *v.unwrap() += 1);
        assert_eq!(store.remove::<u32>(), Some(3));
        assert_eq!(store.get::<u32>(), None);
        assert_eq!(store.get::<String>().as_deref(), Some("user"));
    }
}
