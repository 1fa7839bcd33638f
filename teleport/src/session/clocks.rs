//! A session's clocks: when it was created, last read and written, and the ages that bound
//! it (the session age closes the connection; the context age bounds each handler).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Session;

impl Session {
    /// When the session was created.
    pub fn created_at(&self) -> Instant {
        self.inner.created_at
    }

    /// When bytes last arrived on the session (its creation before any did).
    pub fn last_read(&self) -> Instant {
        let ms = self.inner.last_read_ms.load(Ordering::Relaxed);
        (self.inner.clock + Duration::from_millis(ms)).into_std()
    }

    /// When a message was last queued for writing (the creation before any was).
    pub fn last_write(&self) -> Instant {
        let ms = self.inner.last_write_ms.load(Ordering::Relaxed);
        (self.inner.clock + Duration::from_millis(ms)).into_std()
    }

    /// Notes a read at `at` (the read loop reads the clock once per read and passes it on).
    pub(crate) fn touch_read_at(&self, at: tokio::time::Instant) {
        let ms = at.saturating_duration_since(self.inner.clock).as_millis() as u64;
        self.inner.last_read_ms.store(ms, Ordering::Relaxed);
    }

    pub(crate) fn touch_write(&self) {
        let ms = self.inner.clock.elapsed().as_millis() as u64;
        self.inner.last_write_ms.store(ms, Ordering::Relaxed);
    }

    /// The session's maximum age: once it has passed (counted from when the session was
    /// created, or from the last [`set_session_age`](Self::set_session_age)), the connection
    /// is closed, as Go eRPC's read deadline does. Zero for no limit.
    pub fn session_age(&self) -> Duration {
        self.inner.session_age.lock().0
    }

    /// Sets the session's maximum age, counted from now; it applies from the next read on.
    pub fn set_session_age(&self, age: Duration) {
        let mut current = self.inner.session_age.lock();
        *current = age_deadline(age);
        let ns = nanos_from(self.inner.created_at, current.1);
        self.inner.age_deadline_ns.store(ns, Ordering::Release);
    }

    pub(crate) fn session_deadline(&self) -> Option<Instant> {
        match self.inner.age_deadline_ns.load(Ordering::Acquire) {
            u64::MAX => None,
            ns => Some(self.inner.created_at + Duration::from_nanos(ns)),
        }
    }

    /// How long a handler of this session may run before its call is answered 408; zero
    /// for no limit.
    pub fn context_age(&self) -> Duration {
        Duration::from_nanos(self.inner.context_age_ns.load(Ordering::Relaxed))
    }

    /// Sets the context age for handlers started from now on.
    pub fn set_context_age(&self, age: Duration) {
        self.inner.context_age_ns.store(duration_ns(age), Ordering::Relaxed);
    }
}

pub(super) fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `at` in nanoseconds from `origin`, `u64::MAX` for none.
pub(super) fn nanos_from(origin: Instant, at: Option<Instant>) -> u64 {
    at.map_or(u64::MAX, |at| duration_ns(at.saturating_duration_since(origin)).min(u64::MAX - 1))
}

pub(super) fn age_deadline(age: Duration) -> (Duration, Option<Instant>) {
    (age, (!age.is_zero()).then(|| Instant::now() + age))
}
