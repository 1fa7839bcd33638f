//! The sessions of a peer, by id.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::session::Session;

/// Sessions by id. An id names one session; a newcomer with a taken id closes the older.
#[derive(Default)]
pub(crate) struct Hub {
    sessions: Mutex<Sessions>,
}

#[derive(Default)]
struct Sessions {
    by_id: HashMap<Arc<str>, Session>,
    /// The last `#n` suffix given under an id, while that id is taken: the next newcomer
    /// starts its search there, so a client with thousands of sessions to one server does
    /// not try every suffix already in use.
    suffixes: HashMap<Arc<str>, u32>,
}

impl Hub {
    /// Adds a new session under its default id (its remote address). Two sessions can have
    /// the same remote address (a client dialing one server twice): the newer then gets a
    /// `#n` suffix rather than closing the older, which only an explicit `set_id` does.
    pub(crate) fn insert(&self, session: &Session) {
        let mut sessions = self.sessions.lock();
        let base = session.id();
        if sessions.by_id.get(&base).is_some_and(|s| s.same(session)) {
            return; // already there, under an id a connect plugin set
        }
        if !sessions.by_id.contains_key(&base) {
            sessions.suffixes.remove(&base);
            sessions.by_id.insert(base, session.clone());
            return;
        }
        let mut n = sessions.suffixes.get(&base).copied().unwrap_or(1);
        let id: Arc<str> = loop {
            n += 1;
            let id: Arc<str> = format!("{base}#{n}").into();
            if !sessions.by_id.contains_key(&id) {
                break id;
            }
        };
        sessions.suffixes.insert(base, n);
        session.replace_id(id.clone());
        sessions.by_id.insert(id, session.clone());
    }

    /// Moves `session` from `old` to `new`, closing whatever session held `new`.
    pub(crate) fn rename(&self, old: &str, new: Arc<str>, session: &Session) {
        let older = {
            let mut sessions = self.sessions.lock();
            if sessions.by_id.get(old).is_some_and(|s| s.same(session)) {
                sessions.by_id.remove(old);
            }
            sessions.by_id.insert(new, session.clone())
        };
        close_older(older, session);
    }

    /// Removes `session` if `id` still names it.
    pub(crate) fn remove(&self, id: &str, session: &Session) {
        let mut sessions = self.sessions.lock();
        if sessions.by_id.get(id).is_some_and(|s| s.same(session)) {
            sessions.by_id.remove(id);
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        self.sessions.lock().by_id.get(id).cloned()
    }

    pub(crate) fn all(&self) -> Vec<Session> {
        self.sessions.lock().by_id.values().cloned().collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.sessions.lock().by_id.len()
    }
}

fn close_older(older: Option<Session>, newer: &Session) {
    if let Some(older) = older.filter(|s| !s.same(newer)) {
        tracing::info!(id = %newer.id(), "session id taken over; closing the older session");
        tokio::spawn(async move { older.close().await });
    }
}
